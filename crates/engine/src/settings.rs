//! The resolved settings of a run, stored as `settings.json` in the run directory. Secrets are
//! never part of it: the API key is named by its environment variable only, and extra headers
//! whose names look like credentials keep their name but not their value.

use serde::{Deserialize, Serialize};

pub const SETTINGS_FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LangChoice {
    Zh,
    En,
    Both,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SplitChoice {
    Test,
    Train,
    Dev,
    All,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunSettings {
    pub format_version: u32,
    pub medaudit_version: String,
    pub created_at: String,
    pub bank_dir: String,
    pub bank_hash: String,
    pub model: String,
    #[serde(default)]
    pub base_urls: Vec<String>,
    pub api_key_env: String,
    /// Extra headers; values of credential-like headers are replaced by "<redacted>".
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    pub temperature: f64,
    pub max_tokens: u32,
    pub seed: u64,
    pub timeout_secs: u64,
    pub lang: LangChoice,
    pub split: SplitChoice,
    #[serde(default)]
    pub dimensions: Vec<String>,
    pub limit: Option<usize>,
    pub shots: usize,
    pub chain_of_thought: bool,
    pub rotate: bool,
    pub system_prompt: Option<String>,
    pub concurrency: usize,
    pub max_retries: u32,
    pub use_cache: bool,
    pub extractor_version: String,
    pub template_version: String,
}

/// Header names whose values must never be written down.
pub fn is_secret_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ["authorization", "key", "token", "secret", "cookie", "password"].iter().any(|word| lower.contains(word))
}

impl RunSettings {
    /// The headers as stored: credential values redacted.
    pub fn redact_headers(headers: &[(String, String)]) -> Vec<(String, String)> {
        headers.iter().map(|(name, value)| (name.clone(), if is_secret_header(name) { "<redacted>".to_string() } else { value.clone() })).collect()
    }
}
