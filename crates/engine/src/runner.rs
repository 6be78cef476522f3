//! The async runner: bounded concurrency, retries with jittered exponential backoff, 429
//! handling that honours Retry-After and slows the whole run down, the response cache, and a
//! single writer that journals each task the moment it finishes.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use medaudit_core::extract::{extract, split_reasoning, EXTRACTOR_VERSION};
use medaudit_core::prompt::{PromptError, LETTERS};
use medaudit_core::rng::SplitMix64;
use medaudit_core::score::Status;
use medaudit_core::{Item, Kind};
use medaudit_model::{ChatReply, ChatRequest, Model, ModelError};
use tokio::sync::{mpsc, Notify, Semaphore};
use tokio::task::JoinSet;

use crate::cache::ResponseCache;
use crate::journal::{read_journal, JournalError, JournalRecord, JournalWriter, RunDir};
use crate::plan::{count_tasks, model_hash, plan_item, Task};
use crate::settings::RunSettings;

/// Asks a run to stop: no new task starts, tasks in flight are abandoned (they are not
/// journaled, so a resume redoes them), everything journaled stays.
#[derive(Default)]
pub struct StopSignal {
    stopped: AtomicBool,
    notify: Notify,
}

impl StopSignal {
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }
    pub fn is_stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }
    async fn wait(&self) {
        loop {
            let notified = self.notify.notified();
            if self.is_stopped() {
                return;
            }
            notified.await;
        }
    }
}

/// Live counters for a progress display.
#[derive(Default)]
pub struct Progress {
    pub total: AtomicU64,
    pub skipped: AtomicU64,
    pub done: AtomicU64,
    pub errors: AtomicU64,
    pub invalid: AtomicU64,
    pub cached: AtomicU64,
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub rate_limited: AtomicU64,
}

#[derive(Debug, Default)]
pub struct RunOutcome {
    pub n_tasks: u64,
    /// Already finished in the journal before this invocation.
    pub n_skipped: u64,
    pub n_done: u64,
    pub n_errors: u64,
    pub n_cached: u64,
    pub n_requests: u64,
    pub interrupted: bool,
    /// Why the run stopped early (bad credentials, unreachable server, full disk).
    pub fatal: Option<String>,
    /// A cache that could not be written (the run itself went on).
    pub cache_warning: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Prompt(#[from] PromptError),
}

pub struct RunInputs {
    pub settings: RunSettings,
    /// The selected items (the run's snapshot), shared with the caller.
    pub items: Arc<Vec<Item>>,
    /// Dev items for few-shot exemplars.
    pub dev_items: Vec<Item>,
    pub run_dir: PathBuf,
    /// None disables the response cache.
    pub cache_dir: Option<PathBuf>,
    pub model: Arc<dyn Model>,
}

struct Shared {
    model: Arc<dyn Model>,
    items: Arc<Vec<Item>>,
    model_hash: String,
    max_retries: u32,
    timeout: Duration,
    seed: u64,
    progress: Arc<Progress>,
    stop: Arc<StopSignal>,
    fatal: Mutex<Option<String>>,
    pause_until: Mutex<Option<Instant>>,
    semaphore: Arc<Semaphore>,
    concurrency: usize,
    active_limit: AtomicUsize,
    successes_since_cut: AtomicUsize,
    ever_succeeded: AtomicBool,
}

impl Shared {
    fn set_fatal(&self, message: String) {
        if let Ok(mut fatal) = self.fatal.lock() {
            if fatal.is_none() {
                *fatal = Some(message);
            }
        }
        self.stop.stop();
    }

    /// Halve the number of requests allowed in flight (never below one).
    fn slow_down(&self, delay: Duration) {
        if let Ok(mut pause) = self.pause_until.lock() {
            let until = Instant::now() + delay;
            if pause.is_none_or(|current| current < until) {
                *pause = Some(until);
            }
        }
        let current = self.active_limit.load(Ordering::SeqCst);
        let target = (current / 2).max(1);
        if target < current && self.active_limit.compare_exchange(current, target, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
            self.semaphore.forget_permits(current - target);
            self.successes_since_cut.store(0, Ordering::SeqCst);
        }
    }

    /// Additive increase: one more slot after a limit's worth of successes.
    fn speed_up(&self) {
        self.ever_succeeded.store(true, Ordering::SeqCst);
        let current = self.active_limit.load(Ordering::SeqCst);
        if current >= self.concurrency {
            return;
        }
        let successes = self.successes_since_cut.fetch_add(1, Ordering::SeqCst) + 1;
        if successes >= current && self.active_limit.compare_exchange(current, current + 1, Ordering::SeqCst, Ordering::SeqCst).is_ok() {
            self.successes_since_cut.store(0, Ordering::SeqCst);
            self.semaphore.add_permits(1);
        }
    }

    async fn wait_for_pause(&self) {
        let until = self.pause_until.lock().ok().and_then(|pause| *pause);
        if let Some(until) = until {
            let now = Instant::now();
            if until > now {
                tokio::time::sleep(until - now).await;
            }
        }
    }
}

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_millis() as u64)
}

fn backoff(attempt: u32, task_key: &str, seed: u64) -> Duration {
    let base = 0.25 * 2f64.powi(attempt as i32);
    let capped = base.min(20.0);
    let mut rng = SplitMix64::for_key(seed ^ attempt as u64, task_key);
    // Jitter in [0.5, 1.0] of the capped delay, so a fleet of retries does not stampede.
    Duration::from_secs_f64(capped * (0.5 + 0.5 * rng.unit()))
}

fn request_for(task: &Task, item: &Item) -> ChatRequest {
    ChatRequest {
        messages: task.prompt.messages.clone(),
        shown_options: task.prompt.shown_options.clone(),
        letters: task.prompt.letters.clone(),
        multi: item.kind == Kind::Multi,
        task_key: task.task_key.clone(),
    }
}

struct Finished {
    record: JournalRecord,
    cache_entry: Option<(String, ChatReply)>,
}

fn base_record(task: &Task, item: &Item, model_hash: &str) -> JournalRecord {
    JournalRecord {
        v: crate::journal::JOURNAL_FORMAT_VERSION,
        task_key: task.task_key.clone(),
        item_id: item.id.clone(),
        item_hash: task.item_hash.clone(),
        dimension: item.dimension.clone(),
        severity: item.severity,
        kind: item.kind,
        lang: task.lang,
        rotation: task.rotation,
        order: task.prompt.order.clone(),
        prompt_hash: task.prompt.prompt_hash.clone(),
        model_hash: model_hash.to_string(),
        status: Status::Error,
        correct: false,
        extracted: None,
        chosen: Vec::new(),
        key: task.key.clone(),
        rule: String::new(),
        extractor: EXTRACTOR_VERSION.to_string(),
        response: None,
        reasoning: None,
        finish_reason: None,
        error: None,
        error_kind: None,
        attempts: 0,
        latency_ms: 0,
        cached: false,
        prompt_tokens: None,
        completion_tokens: None,
        finished_at_ms: now_ms(),
    }
}

/// Score one reply: extraction on the final text, reasoning kept apart.
pub fn record_from_reply(task: &Task, item: &Item, model_hash: &str, reply: &ChatReply) -> JournalRecord {
    let mut record = base_record(task, item, model_hash);
    let (_, inline_reasoning) = split_reasoning(&reply.content);
    let extraction = extract(&reply.content, &task.prompt.letters, item.kind == Kind::Multi);
    record.rule = extraction.rule;
    record.response = Some(reply.content.clone());
    record.reasoning = reply.reasoning.clone().or(inline_reasoning);
    record.finish_reason = reply.finish_reason.clone();
    record.prompt_tokens = reply.prompt_tokens;
    record.completion_tokens = reply.completion_tokens;
    match extraction.letters {
        Some(letters) => {
            record.chosen = letters
                .chars()
                .filter_map(|letter| LETTERS.iter().position(|&known| known == letter))
                .filter_map(|position| task.prompt.order.get(position).copied())
                .collect();
            record.chosen.sort_unstable();
            record.correct = letters == task.key;
            record.extracted = Some(letters);
            record.status = Status::Ok;
        }
        None => record.status = Status::Invalid,
    }
    record
}

async fn run_task(shared: Arc<Shared>, task: Task) -> Option<Finished> {
    let item = shared.items.get(task.item_index)?;
    let request = request_for(&task, item);
    let started = Instant::now();
    let mut attempts = 0u32;
    let mut rate_limited = 0u32;
    loop {
        shared.wait_for_pause().await;
        if shared.stop.is_stopped() {
            return None;
        }
        attempts += 1;
        shared.progress.requests.fetch_add(1, Ordering::Relaxed);
        // The backend's own timeout normally fires first; this guards backends without one.
        let result = match tokio::time::timeout(shared.timeout + Duration::from_secs(5), shared.model.complete(&request)).await {
            Ok(result) => result,
            Err(_) => Err(ModelError::Timeout { endpoint: "model".into(), seconds: shared.timeout.as_secs() }),
        };
        match result {
            Ok(reply) => {
                shared.speed_up();
                let mut record = record_from_reply(&task, item, &shared.model_hash, &reply);
                record.attempts = attempts;
                record.latency_ms = started.elapsed().as_millis() as u64;
                let cache_entry = shared.model.uses_cache().then(|| (task.cache_key.clone(), reply));
                return Some(Finished { record, cache_entry });
            }
            Err(error) if error.is_fatal() => {
                shared.set_fatal(error.to_string());
                return None;
            }
            Err(error) => {
                let rate_limit_wait = match &error {
                    ModelError::RateLimited { retry_after, .. } => {
                        rate_limited += 1;
                        shared.progress.rate_limited.fetch_add(1, Ordering::Relaxed);
                        let wait = retry_after.unwrap_or_else(|| backoff(rate_limited, &task.task_key, shared.seed)).min(Duration::from_secs(300));
                        shared.slow_down(wait);
                        Some(wait)
                    }
                    _ => None,
                };
                let retries_used = attempts - rate_limited;
                let may_retry =
                    error.is_retryable() && if rate_limit_wait.is_some() { rate_limited <= shared.max_retries + 6 } else { retries_used <= shared.max_retries };
                if may_retry {
                    shared.progress.retries.fetch_add(1, Ordering::Relaxed);
                    let wait = rate_limit_wait.unwrap_or_else(|| backoff(retries_used, &task.task_key, shared.seed));
                    tokio::select! {
                        _ = tokio::time::sleep(wait) => {}
                        _ = shared.stop.wait() => return None,
                    }
                    continue;
                }
                if matches!(error, ModelError::Connect { .. }) && !shared.ever_succeeded.load(Ordering::SeqCst) {
                    // Nothing has ever got through: the server is down or the URL is wrong,
                    // and every other item would fail the same way.
                    shared.set_fatal(error.to_string());
                    return None;
                }
                let mut record = base_record(&task, item, &shared.model_hash);
                record.status = Status::Error;
                record.error_kind = Some(error.kind().to_string());
                record.error = Some(error.to_string());
                record.rule = "not_extracted".into();
                record.attempts = attempts;
                record.latency_ms = started.elapsed().as_millis() as u64;
                return Some(Finished { record, cache_entry: None });
            }
        }
    }
}

/// Run (or resume) the tasks of a run directory. The directory must already hold the
/// settings and item snapshot; tasks whose key is finished in the journal are not sent again.
pub async fn run(inputs: RunInputs, progress: Arc<Progress>, stop: Arc<StopSignal>) -> Result<RunOutcome, RunError> {
    let RunInputs { settings, items, dev_items, run_dir, cache_dir, model } = inputs;
    let identity = model.identity();
    let model_hash = model_hash(&identity);
    let run_dir = RunDir::new(&run_dir);
    let journal_path = run_dir.journal_path();
    let (existing, good_length) = read_journal(&journal_path)?;
    let finished: std::collections::HashSet<String> =
        existing.iter().filter(|record| record.status != Status::Error).map(|record| record.task_key.clone()).collect();
    let mut writer = JournalWriter::open(&journal_path, good_length)?;

    let mut cache_warning = None;
    let cache = match (&cache_dir, settings.use_cache && model.uses_cache()) {
        (Some(dir), true) => match ResponseCache::open(dir, &model_hash) {
            Ok(cache) => cache,
            Err(error) => {
                cache_warning = Some(format!("response cache at {} is unusable ({error}); running without it", dir.display()));
                ResponseCache::disabled()
            }
        },
        _ => ResponseCache::disabled(),
    };
    let cache = Arc::new(Mutex::new(cache));

    let n_tasks = count_tasks(&items, &settings);
    progress.total.store(n_tasks, Ordering::Relaxed);

    let concurrency = settings.concurrency.max(1);
    let shared = Arc::new(Shared {
        model,
        items,
        model_hash: model_hash.clone(),
        max_retries: settings.max_retries,
        timeout: Duration::from_secs(settings.timeout_secs.max(1)),
        seed: settings.seed,
        progress: progress.clone(),
        stop: stop.clone(),
        fatal: Mutex::new(None),
        pause_until: Mutex::new(None),
        semaphore: Arc::new(Semaphore::new(concurrency)),
        concurrency,
        active_limit: AtomicUsize::new(concurrency),
        successes_since_cut: AtomicUsize::new(0),
        ever_succeeded: AtomicBool::new(false),
    });

    // The single writer: journal first, then cache, then counters.
    let (sender, mut receiver) = mpsc::channel::<Finished>(1024);
    let writer_shared = shared.clone();
    let writer_cache = cache.clone();
    let writer_task = tokio::task::spawn_blocking(move || {
        let mut cache_error: Option<String> = None;
        while let Some(finished) = receiver.blocking_recv() {
            if let Err(error) = writer.append(&finished.record) {
                writer_shared.set_fatal(error.to_string());
                break;
            }
            let progress = &writer_shared.progress;
            progress.done.fetch_add(1, Ordering::Relaxed);
            match finished.record.status {
                Status::Error => {
                    progress.errors.fetch_add(1, Ordering::Relaxed);
                }
                Status::Invalid => {
                    progress.invalid.fetch_add(1, Ordering::Relaxed);
                }
                Status::Ok => {}
            }
            if finished.record.cached {
                progress.cached.fetch_add(1, Ordering::Relaxed);
            }
            if let Some((key, reply)) = finished.cache_entry {
                if let Ok(mut cache) = writer_cache.lock() {
                    if let Err(error) = cache.put(key, reply) {
                        cache_error.get_or_insert_with(|| format!("cannot write the response cache {}: {error}", cache.path().display()));
                    }
                }
            }
        }
        let _ = writer.sync();
        cache_error
    });

    let mut in_flight = JoinSet::new();
    let mut n_skipped = 0u64;
    let all_items = shared.items.clone();
    'items: for (item_index, item) in all_items.iter().enumerate() {
        for task in plan_item(item_index, item, &dev_items, &settings, &model_hash)? {
            if stop.is_stopped() {
                break 'items;
            }
            if finished.contains(&task.task_key) {
                n_skipped += 1;
                progress.skipped.fetch_add(1, Ordering::Relaxed);
                progress.done.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            // Cache hits never touch the model or a concurrency slot.
            let hit = cache.lock().ok().and_then(|cache| cache.get(&task.cache_key).cloned());
            if let (Some(reply), Some(item)) = (hit, shared.items.get(task.item_index)) {
                let mut record = record_from_reply(&task, item, &model_hash, &reply);
                record.cached = true;
                if sender.send(Finished { record, cache_entry: None }).await.is_err() {
                    break 'items;
                }
                continue;
            }
            let permit = tokio::select! {
                permit = shared.semaphore.clone().acquire_owned() => permit,
                _ = stop.wait() => break 'items,
            };
            let Ok(permit) = permit else { break 'items };
            let task_shared = shared.clone();
            let task_sender = sender.clone();
            in_flight.spawn(async move {
                if let Some(finished) = run_task(task_shared, task).await {
                    let _ = task_sender.send(finished).await;
                }
                drop(permit);
            });
            // Reap finished tasks as we go so the set stays small.
            while let Some(joined) = in_flight.try_join_next() {
                drop(joined);
            }
        }
    }
    if stop.is_stopped() {
        in_flight.abort_all();
    }
    while in_flight.join_next().await.is_some() {}
    drop(sender);
    let cache_error = writer_task.await.ok().flatten();

    let fatal = shared.fatal.lock().ok().and_then(|fatal| fatal.clone());
    Ok(RunOutcome {
        n_tasks,
        n_skipped,
        n_done: progress.done.load(Ordering::Relaxed),
        n_errors: progress.errors.load(Ordering::Relaxed),
        n_cached: progress.cached.load(Ordering::Relaxed),
        n_requests: progress.requests.load(Ordering::Relaxed),
        interrupted: stop.is_stopped() && fatal.is_none(),
        fatal,
        cache_warning: cache_warning.or(cache_error),
    })
}
