//! medaudit-model: the `Model` trait and its backends.
//!
//! A backend turns a chat request into a reply or a typed error. It never retries, sleeps or
//! journals: the engine owns those policies, so every backend gets the same retry, rate-limit
//! and crash-safety behaviour for free.

pub mod baseline;
pub mod openai;
pub mod spec;

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use medaudit_core::prompt::Message;
use serde::{Deserialize, Serialize};

pub use spec::{parse_model_spec, ModelSpec};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a backend is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatRequest {
    pub messages: Vec<Message>,
    /// Option texts in display order; the baselines decide from these alone.
    pub shown_options: Vec<String>,
    /// Letters shown, e.g. "ABCD".
    pub letters: String,
    pub multi: bool,
    /// Stable key of this task; seeds the random baseline per item.
    pub task_key: String,
}

/// What a backend answered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatReply {
    pub content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    #[error("{endpoint} answered 429 Too Many Requests")]
    RateLimited { endpoint: String, retry_after: Option<Duration> },
    #[error("{endpoint} answered HTTP {status}: {body}")]
    Server { endpoint: String, status: u16, body: String },
    #[error("cannot connect to {endpoint}: {message}; is the server running and the --base-url right?")]
    Connect { endpoint: String, message: String },
    #[error("{endpoint} did not answer within {seconds} s (raise --timeout if the model is slow)")]
    Timeout { endpoint: String, seconds: u64 },
    #[error("{endpoint} refused the credentials (HTTP {status}); check the API key in the variable named by --api-key-env")]
    Auth { endpoint: String, status: u16 },
    #[error("{endpoint} answered HTTP {status}: {body}; check the model name and the --base-url")]
    Rejected { endpoint: String, status: u16, body: String },
    #[error("{endpoint} sent a reply medaudit cannot read: {message}")]
    BadResponse { endpoint: String, message: String },
}

impl ModelError {
    /// Worth another try after a pause.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ModelError::RateLimited { .. }
                | ModelError::Server { .. }
                | ModelError::Connect { .. }
                | ModelError::Timeout { .. }
                | ModelError::BadResponse { .. }
        )
    }

    /// No item can succeed while this holds: the run stops with this as its one line.
    pub fn is_fatal(&self) -> bool {
        matches!(self, ModelError::Auth { .. } | ModelError::Rejected { .. })
    }

    /// A short category name for the journal and error counts.
    pub fn kind(&self) -> &'static str {
        match self {
            ModelError::RateLimited { .. } => "rate_limited",
            ModelError::Server { .. } => "server_error",
            ModelError::Connect { .. } => "connect",
            ModelError::Timeout { .. } => "timeout",
            ModelError::Auth { .. } => "auth",
            ModelError::Rejected { .. } => "rejected",
            ModelError::BadResponse { .. } => "bad_response",
        }
    }
}

/// The settings that decide what a model answers (and so key the cache). Endpoints, keys and
/// headers are left out: replicas of one model answer alike and secrets never enter a hash.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelIdentity {
    pub spec: String,
    pub params: serde_json::Value,
}

pub trait Model: Send + Sync {
    fn identity(&self) -> ModelIdentity;

    fn complete<'a>(&'a self, request: &'a ChatRequest) -> BoxFuture<'a, Result<ChatReply, ModelError>>;

    /// Whether replies may be served from and stored in the response cache. Baselines answer
    /// instantly and deterministically, so caching them would only fill the disk.
    fn uses_cache(&self) -> bool {
        true
    }
}
