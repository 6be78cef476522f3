//! MinHash over character n-grams (filled in by the bank issue).
