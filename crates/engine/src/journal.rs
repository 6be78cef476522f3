//! The run journal: `journal.jsonl` in the run directory, one JSON record per finished task,
//! appended as each task finishes (format version 1, documented in `docs/run-directory.md`).
//!
//! Crash safety: each record is one `write` of a whole line to a file opened for appending,
//! so a process killed with SIGKILL leaves at worst one torn last line. Opening a journal for
//! more appends cuts such a line off first, so it can never glue onto the next record.
//! Later records for the same task key replace earlier ones (an errored task retried on resume).

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use medaudit_core::score::{Outcome, Status};
use medaudit_core::{Item, Kind, Lang, Severity};
use serde::{Deserialize, Serialize};

use crate::settings::RunSettings;

pub const JOURNAL_FORMAT_VERSION: u32 = 1;
pub const JOURNAL_FILE: &str = "journal.jsonl";
pub const SETTINGS_FILE: &str = "settings.json";
pub const ITEMS_FILE: &str = "items.jsonl";
pub const EXEMPLARS_FILE: &str = "exemplars.jsonl";
pub const RESULTS_FILE: &str = "results.json";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalRecord {
    pub v: u32,
    pub task_key: String,
    pub item_id: String,
    pub item_hash: String,
    pub dimension: String,
    pub severity: Severity,
    pub kind: Kind,
    pub lang: Lang,
    pub rotation: usize,
    /// `order[display_position] = original option index`.
    pub order: Vec<usize>,
    pub prompt_hash: String,
    pub model_hash: String,
    pub status: Status,
    pub correct: bool,
    /// Letters the model committed to, as shown.
    pub extracted: Option<String>,
    /// Original option indices of `extracted`.
    #[serde(default)]
    pub chosen: Vec<usize>,
    /// Letters of the key, as shown.
    pub key: String,
    pub rule: String,
    pub extractor: String,
    pub response: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<String>,
    pub attempts: u32,
    pub latency_ms: u64,
    pub cached: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens: Option<u64>,
    pub finished_at_ms: u64,
}

impl JournalRecord {
    pub fn outcome(&self) -> Outcome {
        Outcome {
            item_id: self.item_id.clone(),
            item_hash: self.item_hash.clone(),
            dimension: self.dimension.clone(),
            severity: self.severity,
            kind: self.kind,
            lang: self.lang,
            rotation: self.rotation,
            status: self.status,
            correct: self.correct,
            extracted: self.extracted.clone(),
            key: self.key.clone(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("{path} is not a run directory ({missing} is missing); give the directory `medaudit eval --out` wrote")]
    NotARunDir { path: PathBuf, missing: &'static str },
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write {path}: {source}; nothing already journaled is lost, free space or fix permissions and resume with `medaudit eval --resume`")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{path}:{line}: {message}")]
    Corrupt { path: PathBuf, line: usize, message: String },
}

/// Read a journal. Returns the records (last one per task key wins, in first-seen order) and
/// the byte length of the well-formed prefix (a torn final line is excluded).
pub fn read_journal(path: &Path) -> Result<(Vec<JournalRecord>, u64), JournalError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
        Err(source) => return Err(JournalError::Read { path: path.to_path_buf(), source }),
    };
    let mut records: Vec<JournalRecord> = Vec::new();
    let mut position: HashMap<String, usize> = HashMap::new();
    let mut good_length = 0u64;
    let mut offset = 0usize;
    let mut line_no = 0usize;
    while offset < bytes.len() {
        line_no += 1;
        let Some(newline) = bytes[offset..].iter().position(|&byte| byte == b'\n') else {
            // No newline: a torn last line from a killed process. Ignored and cut on append.
            break;
        };
        let line = &bytes[offset..offset + newline];
        offset += newline + 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            good_length = offset as u64;
            continue;
        }
        let record: JournalRecord = match serde_json::from_slice(line) {
            Ok(record) => record,
            Err(error) if offset >= bytes.len() => {
                // A complete but unreadable last line can only be a torn write too.
                let _ = error;
                break;
            }
            Err(error) => return Err(JournalError::Corrupt { path: path.to_path_buf(), line: line_no, message: error.to_string() }),
        };
        if record.v != JOURNAL_FORMAT_VERSION {
            return Err(JournalError::Corrupt {
                path: path.to_path_buf(),
                line: line_no,
                message: format!("journal format version {} is not supported (this medaudit reads {JOURNAL_FORMAT_VERSION})", record.v),
            });
        }
        good_length = offset as u64;
        match position.get(&record.task_key) {
            Some(&index) => records[index] = record,
            None => {
                position.insert(record.task_key.clone(), records.len());
                records.push(record);
            }
        }
    }
    Ok((records, good_length))
}

/// Appends records, one whole line per write.
pub struct JournalWriter {
    path: PathBuf,
    file: File,
    buffer: Vec<u8>,
}

impl JournalWriter {
    /// Open for appending after cutting any torn tail beyond `good_length`.
    pub fn open(path: &Path, good_length: u64) -> Result<Self, JournalError> {
        let write_error = |source| JournalError::Write { path: path.to_path_buf(), source };
        let file = OpenOptions::new().create(true).append(true).open(path).map_err(write_error)?;
        let length = file.metadata().map_err(write_error)?.len();
        if length > good_length {
            file.set_len(good_length).map_err(write_error)?;
        }
        Ok(Self { path: path.to_path_buf(), file, buffer: Vec::with_capacity(4096) })
    }

    pub fn append(&mut self, record: &JournalRecord) -> Result<(), JournalError> {
        self.buffer.clear();
        serde_json::to_writer(&mut self.buffer, record)
            .map_err(|error| JournalError::Write { path: self.path.clone(), source: std::io::Error::other(error) })?;
        self.buffer.push(b'\n');
        self.file.write_all(&self.buffer).map_err(|source| JournalError::Write { path: self.path.clone(), source })
    }

    pub fn sync(&mut self) -> Result<(), JournalError> {
        self.file.sync_data().map_err(|source| JournalError::Write { path: self.path.clone(), source })
    }
}

/// A run directory on disk.
pub struct RunDir {
    pub path: PathBuf,
}

impl RunDir {
    pub fn new(path: &Path) -> Self {
        Self { path: path.to_path_buf() }
    }

    pub fn journal_path(&self) -> PathBuf {
        self.path.join(JOURNAL_FILE)
    }

    pub fn read_settings(&self) -> Result<RunSettings, JournalError> {
        let path = self.path.join(SETTINGS_FILE);
        if !path.exists() {
            return Err(JournalError::NotARunDir { path: self.path.clone(), missing: SETTINGS_FILE });
        }
        let bytes = std::fs::read(&path).map_err(|source| JournalError::Read { path: path.clone(), source })?;
        serde_json::from_slice(&bytes).map_err(|error| JournalError::Corrupt { path, line: error.line(), message: error.to_string() })
    }

    pub fn write_settings(&self, settings: &RunSettings) -> Result<(), JournalError> {
        let text = serde_json::to_string_pretty(settings)
            .map_err(|error| JournalError::Write { path: self.path.join(SETTINGS_FILE), source: std::io::Error::other(error) })?;
        write_atomically(&self.path.join(SETTINGS_FILE), text.as_bytes())
    }

    /// The items the run evaluates.
    pub fn read_items(&self) -> Result<Vec<Item>, JournalError> {
        if !self.path.join(ITEMS_FILE).exists() {
            return Err(JournalError::NotARunDir { path: self.path.clone(), missing: ITEMS_FILE });
        }
        self.read_item_file(ITEMS_FILE)
    }

    /// The dev items available as few-shot exemplars (none when the file is absent).
    pub fn read_exemplars(&self) -> Result<Vec<Item>, JournalError> {
        if !self.path.join(EXEMPLARS_FILE).exists() {
            return Ok(Vec::new());
        }
        self.read_item_file(EXEMPLARS_FILE)
    }

    fn read_item_file(&self, name: &str) -> Result<Vec<Item>, JournalError> {
        let path = self.path.join(name);
        let bytes = std::fs::read(&path).map_err(|source| JournalError::Read { path: path.clone(), source })?;
        let mut items = Vec::new();
        for (index, line) in bytes.split(|&byte| byte == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            items.push(serde_json::from_slice(line).map_err(|error| JournalError::Corrupt {
                path: path.clone(),
                line: index + 1,
                message: error.to_string(),
            })?);
        }
        Ok(items)
    }

    pub fn write_items(&self, items: &[Item], exemplars: &[Item]) -> Result<(), JournalError> {
        self.write_item_file(ITEMS_FILE, items)?;
        self.write_item_file(EXEMPLARS_FILE, exemplars)
    }

    fn write_item_file(&self, name: &str, items: &[Item]) -> Result<(), JournalError> {
        let path = self.path.join(name);
        let temporary = path.with_extension("tmp");
        let write_error = |source| JournalError::Write { path: path.clone(), source };
        let file = File::create(&temporary).map_err(write_error)?;
        let mut writer = std::io::BufWriter::new(file);
        for item in items {
            serde_json::to_writer(&mut writer, item).map_err(|error| JournalError::Write { path: path.clone(), source: std::io::Error::other(error) })?;
            writer.write_all(b"\n").map_err(write_error)?;
        }
        writer.flush().map_err(write_error)?;
        drop(writer);
        std::fs::rename(&temporary, &path).map_err(write_error)
    }

    pub fn read_records(&self) -> Result<Vec<JournalRecord>, JournalError> {
        let path = self.journal_path();
        if !path.exists() {
            return Err(JournalError::NotARunDir { path: self.path.clone(), missing: JOURNAL_FILE });
        }
        Ok(read_journal(&path)?.0)
    }
}

/// Write via a temporary file and rename, so a reader never sees half a file.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), JournalError> {
    let temporary = path.with_extension("tmp");
    let write_error = |source| JournalError::Write { path: path.to_path_buf(), source };
    std::fs::write(&temporary, bytes).map_err(write_error)?;
    std::fs::rename(&temporary, path).map_err(write_error)
}
