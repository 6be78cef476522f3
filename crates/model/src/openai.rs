//! Any OpenAI-compatible chat-completions server: vLLM, SGLang, Ollama, llama.cpp server,
//! DeepSeek, Qwen/DashScope compatible mode. Several base URLs for one model are spread by
//! least-in-flight, so a fleet of replicas is used evenly even when one is slower.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use medaudit_core::prompt::Role;
use serde_json::{json, Value};

use crate::{BoxFuture, ChatReply, ChatRequest, Model, ModelError, ModelIdentity};

#[derive(Debug, Clone, PartialEq)]
pub struct OpenAiSettings {
    pub model: String,
    pub base_urls: Vec<String>,
    /// The key itself (read by the caller from the variable it names); never logged.
    pub api_key: Option<String>,
    pub extra_headers: Vec<(String, String)>,
    pub temperature: f64,
    pub max_tokens: u32,
    pub seed: Option<u64>,
    pub timeout: Duration,
}

struct Endpoint {
    url: String,
    in_flight: AtomicUsize,
}

pub struct OpenAiModel {
    settings: OpenAiSettings,
    endpoints: Vec<Endpoint>,
    client: reqwest::Client,
    next: AtomicUsize,
}

#[derive(Debug, thiserror::Error)]
pub enum OpenAiSetupError {
    #[error("openai backend needs at least one --base-url (for example http://127.0.0.1:8000/v1)")]
    NoBaseUrl,
    #[error("--base-url {url:?} is not an http:// or https:// URL")]
    BadUrl { url: String },
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    #[error("header {name:?} is not a valid HTTP header")]
    BadHeader { name: String },
}

/// `http://host:8000/v1` → `http://host:8000/v1/chat/completions`; a URL that already ends
/// with `/chat/completions` is kept.
pub fn completions_url(base_url: &str) -> String {
    let trimmed = base_url.trim().trim_end_matches('/');
    if trimmed.ends_with("/chat/completions") {
        trimmed.to_string()
    } else {
        format!("{trimmed}/chat/completions")
    }
}

struct InFlight<'a>(&'a AtomicUsize);
impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl OpenAiModel {
    pub fn new(settings: OpenAiSettings) -> Result<Self, OpenAiSetupError> {
        if settings.base_urls.is_empty() {
            return Err(OpenAiSetupError::NoBaseUrl);
        }
        for url in &settings.base_urls {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(OpenAiSetupError::BadUrl { url: url.clone() });
            }
        }
        let mut headers = reqwest::header::HeaderMap::new();
        for (name, value) in &settings.extra_headers {
            let header_name = reqwest::header::HeaderName::from_bytes(name.as_bytes()).map_err(|_| OpenAiSetupError::BadHeader { name: name.clone() })?;
            let header_value = reqwest::header::HeaderValue::from_str(value).map_err(|_| OpenAiSetupError::BadHeader { name: name.clone() })?;
            headers.insert(header_name, header_value);
        }
        let client = reqwest::Client::builder()
            .default_headers(headers)
            .timeout(settings.timeout)
            .connect_timeout(Duration::from_secs(10))
            .pool_max_idle_per_host(256)
            .build()
            .map_err(|error| OpenAiSetupError::Client(error.to_string()))?;
        let endpoints = settings.base_urls.iter().map(|url| Endpoint { url: completions_url(url), in_flight: AtomicUsize::new(0) }).collect();
        Ok(Self { settings, endpoints, client, next: AtomicUsize::new(0) })
    }

    /// The endpoint with the fewest requests in flight, starting the scan at a rotating offset
    /// so ties are shared round-robin.
    fn pick_endpoint(&self) -> &Endpoint {
        let n = self.endpoints.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed) % n;
        let mut best = &self.endpoints[start];
        for step in 1..n {
            let candidate = &self.endpoints[(start + step) % n];
            if candidate.in_flight.load(Ordering::Relaxed) < best.in_flight.load(Ordering::Relaxed) {
                best = candidate;
            }
        }
        best
    }

    fn body(&self, request: &ChatRequest) -> Value {
        let messages: Vec<Value> = request
            .messages
            .iter()
            .map(|message| {
                let role = match message.role {
                    Role::System => "system",
                    Role::User => "user",
                    Role::Assistant => "assistant",
                };
                json!({ "role": role, "content": message.content })
            })
            .collect();
        let mut body = json!({
            "model": self.settings.model,
            "messages": messages,
            "temperature": self.settings.temperature,
            "max_tokens": self.settings.max_tokens,
            "stream": false,
        });
        if let (Some(seed), Some(object)) = (self.settings.seed, body.as_object_mut()) {
            object.insert("seed".into(), json!(seed));
        }
        body
    }

    async fn send(&self, request: &ChatRequest) -> Result<ChatReply, ModelError> {
        let endpoint = self.pick_endpoint();
        endpoint.in_flight.fetch_add(1, Ordering::Relaxed);
        let _guard = InFlight(&endpoint.in_flight);
        let url = endpoint.url.clone();
        let mut builder = self.client.post(&url).header("content-type", "application/json");
        if let Some(key) = &self.settings.api_key {
            builder = builder.bearer_auth(key);
        }
        let body = serde_json::to_vec(&self.body(request)).map_err(|error| ModelError::BadResponse { endpoint: url.clone(), message: error.to_string() })?;
        let response = builder.body(body).send().await.map_err(|error| classify_transport(&url, &error, self.settings.timeout))?;
        let status = response.status().as_u16();
        let retry_after = response.headers().get("retry-after").and_then(|value| value.to_str().ok()).and_then(parse_retry_after);
        let bytes = response.bytes().await.map_err(|error| classify_transport(&url, &error, self.settings.timeout))?;
        match status {
            200..=299 => parse_reply(&url, &bytes),
            429 => Err(ModelError::RateLimited { endpoint: url, retry_after }),
            401 | 403 => Err(ModelError::Auth { endpoint: url, status }),
            400 | 404 | 405 | 422 => Err(ModelError::Rejected { endpoint: url, status, body: excerpt(&bytes) }),
            _ => Err(ModelError::Server { endpoint: url, status, body: excerpt(&bytes) }),
        }
    }
}

fn classify_transport(url: &str, error: &reqwest::Error, timeout: Duration) -> ModelError {
    if error.is_timeout() {
        ModelError::Timeout { endpoint: url.to_string(), seconds: timeout.as_secs() }
    } else if error.is_connect() {
        let mut message = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(inner) = source {
            message = inner.to_string();
            source = inner.source();
        }
        ModelError::Connect { endpoint: url.to_string(), message }
    } else {
        ModelError::BadResponse { endpoint: url.to_string(), message: error.to_string() }
    }
}

/// Retry-After as seconds (the HTTP-date form is rare from model servers and is ignored).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    value.trim().parse::<f64>().ok().filter(|seconds| seconds.is_finite() && *seconds >= 0.0).map(Duration::from_secs_f64)
}

fn excerpt(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let collapsed: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() > 200 {
        format!("{}…", collapsed.chars().take(200).collect::<String>())
    } else if collapsed.is_empty() {
        "(empty body)".to_string()
    } else {
        collapsed
    }
}

/// Read a chat-completions reply. Reasoning models put their thinking either in
/// `reasoning_content` (DeepSeek, Qwen) / `reasoning` (newer vLLM) or inline in `<think>`
/// tags; both are kept, and extraction later reads the final text only.
pub fn parse_reply(url: &str, bytes: &[u8]) -> Result<ChatReply, ModelError> {
    let bad = |message: String| ModelError::BadResponse { endpoint: url.to_string(), message };
    let value: Value =
        serde_json::from_slice(bytes).map_err(|_| bad(format!("not JSON (starts with {:?})", excerpt(bytes).chars().take(60).collect::<String>())))?;
    let choices = value.get("choices").and_then(Value::as_array).ok_or_else(|| bad("no \"choices\" array".to_string()))?;
    let choice = choices.first().ok_or_else(|| bad("empty \"choices\" array".to_string()))?;
    let message = choice.get("message").ok_or_else(|| bad("choice without \"message\"".to_string()))?;
    let content = message.get("content").and_then(Value::as_str).unwrap_or_default().to_string();
    let reasoning = ["reasoning_content", "reasoning"]
        .iter()
        .find_map(|field| message.get(*field).and_then(Value::as_str))
        .filter(|text| !text.is_empty())
        .map(str::to_string);
    let usage = value.get("usage");
    Ok(ChatReply {
        content,
        reasoning,
        finish_reason: choice.get("finish_reason").and_then(Value::as_str).map(str::to_string),
        prompt_tokens: usage.and_then(|usage| usage.get("prompt_tokens")).and_then(Value::as_u64),
        completion_tokens: usage.and_then(|usage| usage.get("completion_tokens")).and_then(Value::as_u64),
    })
}

impl Model for OpenAiModel {
    fn identity(&self) -> ModelIdentity {
        ModelIdentity {
            spec: format!("openai:{}", self.settings.model),
            params: json!({
                "temperature": self.settings.temperature,
                "max_tokens": self.settings.max_tokens,
                "seed": self.settings.seed,
            }),
        }
    }

    fn complete<'a>(&'a self, request: &'a ChatRequest) -> BoxFuture<'a, Result<ChatReply, ModelError>> {
        Box::pin(self.send(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_retry_after() {
        assert_eq!(completions_url("http://h:8000/v1/"), "http://h:8000/v1/chat/completions");
        assert_eq!(completions_url("http://h/v1/chat/completions"), "http://h/v1/chat/completions");
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after("0.5"), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
    }

    #[test]
    fn replies_parse_with_reasoning_and_bad_shapes_are_named() {
        let reply = parse_reply("u", br#"{"choices":[{"message":{"content":"Answer: B","reasoning_content":"A? no."},"finish_reason":"stop"}],"usage":{"prompt_tokens":10,"completion_tokens":3}}"#).unwrap();
        assert_eq!(reply.content, "Answer: B");
        assert_eq!(reply.reasoning.as_deref(), Some("A? no."));
        assert_eq!(reply.prompt_tokens, Some(10));
        let empty = parse_reply("u", br#"{"choices":[]}"#).unwrap_err();
        assert_eq!(empty.to_string(), "u sent a reply medaudit cannot read: empty \"choices\" array");
        let html = parse_reply("u", b"<html>502 Bad Gateway</html>").unwrap_err();
        assert!(html.to_string().contains("not JSON"), "{html}");
    }
}
