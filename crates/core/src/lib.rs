//! medaudit-core: the pure heart of medaudit.
//!
//! Taxonomy, items, prompt rendering, answer extraction, scoring and statistics. Nothing in
//! this crate touches the file system, the network or the clock, so every function here can
//! be tested with plain values and gives the same answer on every machine.

pub mod bank;
pub mod extract;
pub mod gate;
pub mod hash;
pub mod item;
pub mod lint;
pub mod minhash;
pub mod prompt;
pub mod redact;
pub mod rng;
pub mod score;
pub mod splits;
pub mod stats;
pub mod taxonomy;

pub use item::{Item, Kind, Lang, Severity, Split};
pub use taxonomy::{Dimension, Group, DIMENSIONS};
