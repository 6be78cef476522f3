//! `medaudit.toml`: defaults for `eval` that flags and environment variables override.
//!
//! ```toml
//! [eval]
//! model = "openai:qwen2.5-7b-instruct"
//! base_urls = ["http://10.0.0.5:8000/v1", "http://10.0.0.6:8000/v1"]
//! api_key_env = "DASHSCOPE_API_KEY"
//! lang = "both"
//! concurrency = 64
//! ```

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    #[serde(default)]
    pub eval: EvalConfig,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalConfig {
    pub bank: Option<PathBuf>,
    pub model: Option<String>,
    #[serde(default)]
    pub base_urls: Vec<String>,
    pub api_key_env: Option<String>,
    #[serde(default)]
    pub headers: Vec<String>,
    pub lang: Option<String>,
    pub split: Option<String>,
    pub dimensions: Option<String>,
    pub limit: Option<usize>,
    pub shots: Option<usize>,
    pub cot: Option<bool>,
    pub rotate: Option<bool>,
    pub system_prompt: Option<String>,
    pub concurrency: Option<usize>,
    pub temperature: Option<f64>,
    pub max_tokens: Option<u32>,
    pub seed: Option<u64>,
    pub timeout: Option<u64>,
    pub max_retries: Option<u32>,
    pub no_cache: Option<bool>,
}

/// Load the given file, or ./medaudit.toml when it exists, or defaults.
pub fn load(explicit: Option<&Path>) -> anyhow::Result<ConfigFile> {
    let path = match explicit {
        Some(path) => path.to_path_buf(),
        None => {
            let default = PathBuf::from("medaudit.toml");
            if !default.exists() {
                return Ok(ConfigFile::default());
            }
            default
        }
    };
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read settings file {}", path.display()))?;
    toml::from_str(&text).map_err(|error| anyhow::anyhow!("{}: {}", path.display(), error.to_string().lines().collect::<Vec<_>>().join(" ")))
}
