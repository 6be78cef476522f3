//! medaudit-report: `results.json` and comparisons, derived from a run's journal, and their
//! renderings (terminal, Markdown, one self-contained offline HTML file).

pub mod html;
pub mod results;
pub mod text;

pub use results::{build_results, compare_runs, ComparisonReport, RunResults};
