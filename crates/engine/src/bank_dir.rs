//! Reading a bank directory: `DIR/items/*.jsonl` when `items/` exists, else `DIR/*.jsonl`,
//! in file-name order, so the same bank always loads in the same order.

use std::path::{Path, PathBuf};

use std::io::{BufRead, BufReader};

use medaudit_core::bank::{parse_line, ParsedBank};
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
    let mut files: Vec<PathBuf> =
        entries.filter_map(Result::ok).map(|entry| entry.path()).filter(|path| path.extension().is_some_and(|extension| extension == "jsonl")).collect();
    files.sort();
    if files.is_empty() {
        return Err(BankDirError::Empty { path: folder });
    }
    Ok(files)
}

/// Parse every file of a bank, line by line (a bank may be larger than memory would like to
/// hold twice); problems are returned, not raised.
pub fn load_bank(dir: &Path) -> Result<ParsedBank, BankDirError> {
    let files = bank_files(dir)?;
    let mut bank = ParsedBank::default();
    for path in &files {
        let read_error = |source| BankDirError::Read { path: path.clone(), source };
        let file = std::fs::File::open(path).map_err(read_error)?;
        let mut reader = BufReader::with_capacity(1 << 16, file);
        let label = path.display().to_string();
        let mut line = Vec::new();
        let mut line_no = 0;
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line).map_err(read_error)? == 0 {
                break;
            }
            line_no += 1;
            if line.last() == Some(&b'\n') {
                line.pop();
            }
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            parse_line(&label, line_no, &line, &mut bank.items, &mut bank.problems);
        }
    }
    bank.check_duplicate_ids();
    Ok(bank)
}

/// A hash naming a bank version: over the sorted content hashes of its items.
pub fn bank_hash(items: &[Item]) -> String {
    let mut hashes: Vec<String> = items.iter().map(Item::content_hash).collect();
    hashes.sort();
    sha256_parts(hashes.iter().map(|hash| hash.as_bytes()))
}
