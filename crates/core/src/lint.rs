//! Bank quality gates (filled in by the bank issue).
