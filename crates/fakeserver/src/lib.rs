//! A real OpenAI-compatible HTTP server on 127.0.0.1 for tests and benchmarks. It answers
//! `POST /v1/chat/completions` with a letter chosen deterministically from the prompt (so two
//! runs agree), and can be told to be slow, to fail the next requests in given ways, or to
//! hang. It counts requests per prompt, so tests can assert nothing was asked twice.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use medaudit_core::hash::sha256_hex;
use serde_json::{json, Value};

/// What the next request gets instead of a normal answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// 429 with this Retry-After (seconds) header, or none.
    RateLimit(Option<f64>),
    /// This HTTP status with a short text body.
    Status(u16),
    /// 200 with a body that is not JSON.
    Malformed,
    /// 200 with `"choices": []`.
    EmptyChoices,
    /// Never answer (until the client gives up).
    Hang,
}

#[derive(Debug, Clone)]
pub struct Behaviour {
    pub latency: Duration,
    /// Faults served to the next requests, in order; normal answers after that.
    pub faults: VecDeque<Fault>,
    /// Fault served to every request (after `faults` run out).
    pub always: Option<Fault>,
    /// Require `Authorization: Bearer <key>`.
    pub api_key: Option<String>,
    /// Wrap answers in reasoning (`<think>` inline and a `reasoning_content` field).
    pub reasoning: bool,
}

impl Default for Behaviour {
    fn default() -> Self {
        Self { latency: Duration::ZERO, faults: VecDeque::new(), always: None, api_key: None, reasoning: false }
    }
}

#[derive(Default)]
pub struct Counters {
    pub requests: u64,
    pub answered: u64,
    /// Requests per hash of the last user message.
    pub per_prompt: HashMap<String, u64>,
}

pub struct FakeServer {
    pub addr: SocketAddr,
    pub behaviour: Arc<Mutex<Behaviour>>,
    pub counters: Arc<Mutex<Counters>>,
}

impl FakeServer {
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }
    pub fn requests(&self) -> u64 {
        self.counters.lock().map(|counters| counters.requests).unwrap_or(0)
    }
    pub fn per_prompt(&self) -> HashMap<String, u64> {
        self.counters.lock().map(|counters| counters.per_prompt.clone()).unwrap_or_default()
    }
}

#[derive(Clone)]
struct AppState {
    behaviour: Arc<Mutex<Behaviour>>,
    counters: Arc<Mutex<Counters>>,
}

/// The letter the fake model picks: a hash of the question, over the options shown.
pub fn fake_answer(user_message: &str) -> String {
    let letters: Vec<char> = ['A', 'B', 'C', 'D', 'E'].into_iter().filter(|letter| user_message.contains(&format!("\n{letter}. "))).collect();
    if letters.is_empty() {
        return "A".to_string();
    }
    let digest = sha256_hex(user_message.as_bytes());
    let value = u64::from_str_radix(&digest[..8], 16).unwrap_or(0);
    letters[(value % letters.len() as u64) as usize].to_string()
}

async fn completions(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let request: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let user = request["messages"]
        .as_array()
        .and_then(|messages| messages.iter().rev().find(|message| message["role"] == "user"))
        .and_then(|message| message["content"].as_str())
        .unwrap_or("")
        .to_string();
    let prompt_key = sha256_hex(user.as_bytes());
    let (fault, behaviour) = {
        let mut counters = state.counters.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        counters.requests += 1;
        *counters.per_prompt.entry(prompt_key).or_default() += 1;
        let mut behaviour = state.behaviour.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let fault = behaviour.faults.pop_front().or_else(|| behaviour.always.clone());
        (fault, behaviour.clone())
    };
    if let Some(expected) = &behaviour.api_key {
        let given = headers.get("authorization").and_then(|value| value.to_str().ok()).unwrap_or("");
        if given != format!("Bearer {expected}") {
            return (StatusCode::UNAUTHORIZED, axum::Json(json!({"error": {"message": "invalid api key"}}))).into_response();
        }
    }
    if !behaviour.latency.is_zero() {
        tokio::time::sleep(behaviour.latency).await;
    }
    match fault {
        Some(Fault::RateLimit(retry_after)) => {
            let mut response = (StatusCode::TOO_MANY_REQUESTS, "slow down").into_response();
            if let Some(seconds) = retry_after {
                if let Ok(value) = seconds.to_string().parse() {
                    response.headers_mut().insert("retry-after", value);
                }
            }
            return response;
        }
        Some(Fault::Status(code)) => return (StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), "injected failure").into_response(),
        Some(Fault::Malformed) => return (StatusCode::OK, "<html>upstream proxy error</html>").into_response(),
        Some(Fault::EmptyChoices) => return axum::Json(json!({"id": "x", "choices": []})).into_response(),
        Some(Fault::Hang) => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return StatusCode::GATEWAY_TIMEOUT.into_response();
        }
        None => {}
    }
    if let Ok(mut counters) = state.counters.lock() {
        counters.answered += 1;
    }
    let letter = fake_answer(&user);
    let (content, reasoning) = if behaviour.reasoning {
        (format!("<think>Option A looks tempting, but let me check B.</think>\n答案：{letter}"), Some("Weighing A against B and C.".to_string()))
    } else {
        (format!("答案：{letter}"), None)
    };
    let mut message = json!({"role": "assistant", "content": content});
    if let Some(reasoning) = reasoning {
        message["reasoning_content"] = json!(reasoning);
    }
    axum::Json(json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "model": request["model"],
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": user.len() / 4, "completion_tokens": 4, "total_tokens": user.len() / 4 + 4}
    }))
    .into_response()
}

/// Start a server on 127.0.0.1 (port 0 picks a free one) in the current tokio runtime.
pub async fn start(port: u16, behaviour: Behaviour) -> std::io::Result<FakeServer> {
    let behaviour = Arc::new(Mutex::new(behaviour));
    let counters = Arc::new(Mutex::new(Counters::default()));
    let state = AppState { behaviour: behaviour.clone(), counters: counters.clone() };
    let app = Router::new().route("/v1/chat/completions", post(completions)).with_state(state);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(FakeServer { addr, behaviour, counters })
}

/// Start a server on its own background runtime, for synchronous tests.
pub fn start_in_background(behaviour: Behaviour) -> std::io::Result<FakeServer> {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
            Ok(runtime) => runtime,
            Err(error) => {
                let _ = sender.send(Err(error));
                return;
            }
        };
        runtime.block_on(async move {
            let _ = sender.send(start(0, behaviour).await);
            std::future::pending::<()>().await;
        });
    });
    receiver.recv().map_err(std::io::Error::other)?
}
