//! medaudit-engine: everything between a bank on disk and a finished run directory.
//!
//! It reads bank files, plans the tasks (item × language × rotation), sends them through a
//! `Model` with bounded concurrency, retries and rate-limit backoff, serves repeats from the
//! response cache, and appends each finished task to the run's journal as it completes. The
//! journal is the single source of truth: scores and reports are derived from it.

pub mod bank_dir;
pub mod cache;
pub mod export;
pub mod import;
pub mod journal;
pub mod plan;
pub mod runner;
pub mod settings;

pub use journal::{JournalRecord, RunDir};
pub use runner::{run, Progress, RunOutcome, StopSignal};
pub use settings::RunSettings;
