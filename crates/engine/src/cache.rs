//! The response cache: replies keyed by (model identity, rendered prompt), shared by all runs
//! of a user. One append-only JSON Lines file per model identity under the cache directory,
//! loaded into memory when a run starts. A torn last line (a killed process) is ignored.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use medaudit_model::ChatReply;
use serde::{Deserialize, Serialize};

#[derive(Serialize, Deserialize)]
struct CacheLine {
    key: String,
    reply: ChatReply,
}

pub struct ResponseCache {
    entries: HashMap<String, ChatReply>,
    file: Option<File>,
    path: PathBuf,
}

impl ResponseCache {
    /// A cache that neither reads nor writes (for `--no-cache` and the baselines).
    pub fn disabled() -> Self {
        Self { entries: HashMap::new(), file: None, path: PathBuf::new() }
    }

    pub fn open(cache_dir: &Path, model_hash: &str) -> std::io::Result<Self> {
        let folder = cache_dir.join("responses");
        std::fs::create_dir_all(&folder)?;
        let path = folder.join(format!("{model_hash}.jsonl"));
        let mut entries = HashMap::new();
        if let Ok(bytes) = std::fs::read(&path) {
            for line in bytes.split(|&byte| byte == b'\n') {
                if let Ok(entry) = serde_json::from_slice::<CacheLine>(line) {
                    entries.insert(entry.key, entry.reply);
                }
            }
            // Make sure the next append starts on a fresh line even after a torn write.
            if bytes.last().is_some_and(|&byte| byte != b'\n') {
                let mut file = OpenOptions::new().append(true).open(&path)?;
                file.write_all(b"\n")?;
            }
        }
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        Ok(Self { entries, file: Some(file), path })
    }

    pub fn get(&self, key: &str) -> Option<&ChatReply> {
        self.entries.get(key)
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Store a reply. A cache that cannot be written is not a reason to fail a run: the error
    /// is returned for the caller to report once.
    pub fn put(&mut self, key: String, reply: ChatReply) -> std::io::Result<()> {
        if let Some(file) = &mut self.file {
            let mut line = serde_json::to_vec(&CacheLine { key: key.clone(), reply: reply.clone() }).map_err(std::io::Error::other)?;
            line.push(b'\n');
            file.write_all(&line)?;
        }
        if self.file.is_some() {
            self.entries.insert(key, reply);
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}
