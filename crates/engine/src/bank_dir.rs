//! Reading a bank directory: `DIR/items/*.jsonl` when `items/` exists, else `DIR/*.jsonl`,
//! in file-name order, so the same bank always loads in the same order.

use std::path::{Path, PathBuf};

use medaudit_core::bank::ParsedBank;
use medaudit_core::hash::sha256_parts;
use medaudit_core::Item;

#[derive(Debug, thiserror::Error)]
pub enum BankDirError {
    #[error("bank directory {path} does not exist; pass --bank DIR (the shipped bank is bank/ in the project)")]
    Missing { path: PathBuf },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("bank directory {path} holds no .jsonl item files")]
    Empty { path: PathBuf },
}

/// The `.jsonl` files of a bank, sorted.
pub fn bank_files(dir: &Path) -> Result<Vec<PathBuf>, BankDirError> {
    if !dir.is_dir() {
        return Err(BankDirError::Missing { path: dir.to_path_buf() });
    }
    let items_dir = dir.join("items");
    let folder = if items_dir.is_dir() { items_dir } else { dir.to_path_buf() };
    let entries = std::fs::read_dir(&folder).map_err(|source| BankDirError::Read { path: folder.clone(), source })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "jsonl"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(BankDirError::Empty { path: folder });
    }
    Ok(files)
}

/// Parse every file of a bank; problems are returned, not raised.
pub fn load_bank(dir: &Path) -> Result<ParsedBank, BankDirError> {
    let files = bank_files(dir)?;
    let mut contents = Vec::with_capacity(files.len());
    for path in &files {
        let bytes = std::fs::read(path).map_err(|source| BankDirError::Read { path: path.clone(), source })?;
        contents.push((path.display().to_string(), bytes));
    }
    Ok(ParsedBank::parse_files(contents.iter().map(|(label, bytes)| (label.as_str(), bytes.as_slice()))))
}

/// A hash naming a bank version: over the sorted content hashes of its items.
pub fn bank_hash(items: &[Item]) -> String {
    let mut hashes: Vec<String> = items.iter().map(Item::content_hash).collect();
    hashes.sort();
    sha256_parts(hashes.iter().map(|hash| hash.as_bytes()))
}
