//! `medaudit eval`: resolve settings, prepare the run directory, run, report.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, bail, Context};
use medaudit_core::extract::EXTRACTOR_VERSION;
use medaudit_core::prompt::TEMPLATE_VERSION;
use medaudit_core::taxonomy::parse_dimension_list;
use medaudit_core::Split;
use medaudit_engine::bank_dir::{bank_hash, load_bank};
use medaudit_engine::journal::{write_atomically, RESULTS_FILE};
use medaudit_engine::plan::select_items;
use medaudit_engine::runner::RunInputs;
use medaudit_engine::settings::{LangChoice, SplitChoice};
use medaudit_engine::{Progress, RunDir, RunSettings, StopSignal};
use medaudit_model::baseline::Baseline;
use medaudit_model::openai::{OpenAiModel, OpenAiSettings};
use medaudit_model::{parse_model_spec, Model, ModelSpec};

use crate::args::{EvalArgs, LangArg, ScoringArg, SplitArg};
use crate::config;
use crate::paths::{cache_dir, default_bank, slug, utc_now};
use crate::report_command::write_reports;
use crate::Exit;

fn lang_from(text: &str) -> anyhow::Result<LangChoice> {
    match text {
        "zh" => Ok(LangChoice::Zh),
        "en" => Ok(LangChoice::En),
        "both" => Ok(LangChoice::Both),
        other => bail!("lang {other:?} in medaudit.toml; use zh, en or both"),
    }
}

fn split_from(text: &str) -> anyhow::Result<SplitChoice> {
    match text {
        "test" => Ok(SplitChoice::Test),
        "train" => Ok(SplitChoice::Train),
        "dev" => Ok(SplitChoice::Dev),
        "all" => Ok(SplitChoice::All),
        other => bail!("split {other:?} in medaudit.toml; use test, train, dev or all"),
    }
}

fn parse_headers(headers: &[String]) -> anyhow::Result<Vec<(String, String)>> {
    headers
        .iter()
        .map(|header| {
            header
                .split_once(':')
                .map(|(name, value)| (name.trim().to_string(), value.trim().to_string()))
                .filter(|(name, _)| !name.is_empty())
                .ok_or_else(|| anyhow!("--header {header:?} is not NAME:VALUE"))
        })
        .collect()
}

/// Build the model a run's settings describe. The API key is read here, from the variable the
/// settings name, and goes nowhere but the request header.
fn build_model(settings: &RunSettings, headers: Vec<(String, String)>) -> anyhow::Result<Arc<dyn Model>> {
    match parse_model_spec(&settings.model)? {
        ModelSpec::Baseline(kind) => Ok(Arc::new(Baseline { kind, seed: settings.seed })),
        ModelSpec::OpenAi { model } => {
            let api_key = std::env::var(&settings.api_key_env).ok().filter(|key| !key.is_empty());
            let openai = OpenAiModel::new(OpenAiSettings {
                model,
                base_urls: settings.base_urls.clone(),
                api_key,
                extra_headers: headers,
                temperature: settings.temperature,
                max_tokens: settings.max_tokens,
                seed: Some(settings.seed),
                timeout: Duration::from_secs(settings.timeout_secs.max(1)),
            })?;
            Ok(Arc::new(openai))
        }
        ModelSpec::Local { model } => bail!("--model local:{model}: the embedded local backend is not part of this build yet; serve the GGUF with llama.cpp's server and use --model openai:NAME --base-url http://127.0.0.1:8080/v1"),
    }
}

pub fn run(config_path: Option<&Path>, args: EvalArgs) -> anyhow::Result<u8> {
    if args.scoring == Some(ScoringArg::Logprob) {
        bail!("--scoring logprob needs the embedded local backend, which is not part of this build yet; use --scoring generate");
    }
    let (settings, headers, run_dir, items, exemplars) = match &args.resume {
        Some(run_dir) => {
            let dir = RunDir::new(run_dir);
            let settings = dir.read_settings()?;
            let items = dir.read_items()?;
            let exemplars = dir.read_exemplars()?;
            let mut headers = parse_headers(&args.headers)?;
            for (name, value) in &settings.headers {
                if value != "<redacted>" && !headers.iter().any(|(given, _)| given.eq_ignore_ascii_case(name)) {
                    headers.push((name.clone(), value.clone()));
                }
            }
            (settings, headers, run_dir.clone(), items, exemplars)
        }
        None => fresh(config_path, &args)?,
    };
    if let Some(file) = &args.trained_on {
        crate::export_command::check_trained_on(file, &items)?;
    }
    let model = build_model(&settings, headers)?;
    let cache = if settings.use_cache { args.cache_dir.clone().or_else(cache_dir) } else { None };
    execute(settings, model, run_dir, items, exemplars, cache, args.quiet)
}

type Prepared = (RunSettings, Vec<(String, String)>, PathBuf, Vec<medaudit_core::Item>, Vec<medaudit_core::Item>);

fn fresh(config_path: Option<&Path>, args: &EvalArgs) -> anyhow::Result<Prepared> {
    let file = config::load(config_path)?.eval;
    let bank_dir = args.bank.clone().or(file.bank.clone()).unwrap_or_else(default_bank);
    let model = args.model.clone().or(file.model.clone()).ok_or_else(|| {
        anyhow!("no model given; use --model openai:NAME --base-url URL (any OpenAI-compatible server) or --model baseline:random|first|longest")
    })?;
    parse_model_spec(&model)?;
    let base_urls = if args.base_urls.is_empty() { file.base_urls.clone() } else { args.base_urls.clone() };
    let lang = match args.lang {
        Some(LangArg::Zh) => LangChoice::Zh,
        Some(LangArg::En) => LangChoice::En,
        Some(LangArg::Both) => LangChoice::Both,
        None => file.lang.as_deref().map(lang_from).transpose()?.unwrap_or(LangChoice::Zh),
    };
    let split = match args.split {
        Some(SplitArg::Test) => SplitChoice::Test,
        Some(SplitArg::Train) => SplitChoice::Train,
        Some(SplitArg::Dev) => SplitChoice::Dev,
        Some(SplitArg::All) => SplitChoice::All,
        None => file.split.as_deref().map(split_from).transpose()?.unwrap_or(SplitChoice::Test),
    };
    let dimensions = match args.dimensions.clone().or(file.dimensions.clone()) {
        Some(list) => parse_dimension_list(&list)
            .map_err(|unknown| anyhow!("--dimensions: unknown dimension {unknown:?}; use codes E01–E11 and S01–S09"))?
            .into_iter()
            .map(str::to_string)
            .collect(),
        None => Vec::new(),
    };
    let header_args = if args.headers.is_empty() { file.headers.clone() } else { args.headers.clone() };
    let headers = parse_headers(&header_args)?;
    let cot = args.cot || file.cot.unwrap_or(false);
    let concurrency = args.concurrency.or(file.concurrency).unwrap_or(32);
    if concurrency == 0 {
        bail!("--concurrency must be at least 1");
    }

    let bank = load_bank(&bank_dir)?;
    if !bank.problems.is_empty() {
        for problem in bank.problems.iter().take(10) {
            eprintln!("{problem}");
        }
        bail!(
            "the bank at {} has {} problem(s); fix them (`medaudit bank validate {}`) before evaluating",
            bank_dir.display(),
            bank.problems.len(),
            bank_dir.display()
        );
    }
    let all_items = bank.into_items();
    let (created_at, stamp) = utc_now();
    let mut settings = RunSettings {
        format_version: medaudit_engine::settings::SETTINGS_FORMAT_VERSION,
        medaudit_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at,
        bank_dir: bank_dir.display().to_string(),
        bank_hash: bank_hash(&all_items),
        model: model.clone(),
        base_urls,
        api_key_env: args.api_key_env.clone().or(file.api_key_env.clone()).unwrap_or_else(|| "OPENAI_API_KEY".to_string()),
        headers: RunSettings::redact_headers(&headers),
        temperature: args.temperature.or(file.temperature).unwrap_or(0.0),
        max_tokens: args.max_tokens.or(file.max_tokens).unwrap_or(if cot { 2048 } else { 512 }),
        seed: args.seed.or(file.seed).unwrap_or(0),
        timeout_secs: args.timeout.or(file.timeout).unwrap_or(120),
        lang,
        split,
        dimensions,
        limit: args.limit.or(file.limit),
        shots: args.shots.or(file.shots).unwrap_or(0),
        chain_of_thought: cot,
        rotate: args.rotate || file.rotate.unwrap_or(false),
        system_prompt: args.system_prompt.clone().or(file.system_prompt.clone()),
        concurrency,
        max_retries: args.max_retries.or(file.max_retries).unwrap_or(4),
        use_cache: !(args.no_cache || file.no_cache.unwrap_or(false)),
        extractor_version: EXTRACTOR_VERSION.to_string(),
        template_version: TEMPLATE_VERSION.to_string(),
    };
    let exemplars: Vec<_> = if settings.shots > 0 { all_items.iter().filter(|item| item.split == Split::Dev).cloned().collect() } else { Vec::new() };
    let items = select_items(all_items, &settings);
    if items.is_empty() {
        bail!("no items match split {:?} and dimensions {:?} in {}", settings.split, settings.dimensions, bank_dir.display());
    }
    if settings.shots > 0 && exemplars.is_empty() {
        bail!("--shots {} needs dev-split items, and the bank has none", settings.shots);
    }
    let run_dir = args.out.clone().unwrap_or_else(|| PathBuf::from("runs").join(format!("{stamp}-{}", slug(&model))));
    if run_dir.join("settings.json").exists() {
        bail!("{} already holds a run; resume it with `medaudit eval --resume {}` or choose another --out", run_dir.display(), run_dir.display());
    }
    std::fs::create_dir_all(&run_dir).with_context(|| format!("cannot create run directory {}", run_dir.display()))?;
    settings.limit = settings.limit.map(|limit| limit.min(items.len()));
    let dir = RunDir::new(&run_dir);
    dir.write_settings(&settings)?;
    dir.write_items(&items, &exemplars)?;
    Ok((settings, headers, run_dir, items, exemplars))
}

fn execute(
    settings: RunSettings,
    model: Arc<dyn Model>,
    run_dir: PathBuf,
    items: Vec<medaudit_core::Item>,
    exemplars: Vec<medaudit_core::Item>,
    cache: Option<PathBuf>,
    quiet: bool,
) -> anyhow::Result<u8> {
    let items = Arc::new(items);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("cannot start the async runtime")?;
    let progress = Arc::new(Progress::default());
    let stop = Arc::new(StopSignal::default());
    let show_progress = !quiet && std::io::stderr().is_terminal();
    let outcome = runtime.block_on(async {
        let interrupt_stop = stop.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("\nmedaudit: interrupted; stopping (everything finished so far is kept)");
                interrupt_stop.stop();
            }
        });
        let bar = show_progress.then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(Some(0), indicatif::ProgressDrawTarget::stderr());
            if let Ok(style) = indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} items · {per_sec} · ETA {eta} · {msg}") {
                bar.set_style(style);
            }
            bar
        });
        let ticker_progress = progress.clone();
        let ticker_bar = bar.clone();
        let ticker = tokio::spawn(async move {
            let Some(bar) = ticker_bar else { return };
            loop {
                bar.set_length(ticker_progress.total.load(Ordering::Relaxed));
                bar.set_position(ticker_progress.done.load(Ordering::Relaxed));
                bar.set_message(format!(
                    "errors {} · invalid {} · cached {} · retries {}",
                    ticker_progress.errors.load(Ordering::Relaxed),
                    ticker_progress.invalid.load(Ordering::Relaxed),
                    ticker_progress.cached.load(Ordering::Relaxed),
                    ticker_progress.retries.load(Ordering::Relaxed)
                ));
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
        let inputs = RunInputs { settings: settings.clone(), items: items.clone(), dev_items: exemplars, run_dir: run_dir.clone(), cache_dir: cache, model };
        let outcome = medaudit_engine::run(inputs, progress.clone(), stop.clone()).await;
        ticker.abort();
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        outcome
    })?;
    runtime.shutdown_timeout(Duration::from_millis(100));

    if let Some(warning) = &outcome.cache_warning {
        eprintln!("medaudit: warning: {warning}");
    }
    let dir = RunDir::new(&run_dir);
    let records = dir.read_records()?;
    let results = medaudit_report::build_results(&settings, &items, &records);
    let json = serde_json::to_vec_pretty(&results)?;
    write_atomically(&run_dir.join(RESULTS_FILE), &json)?;
    write_reports(&run_dir, &results)?;
    if !quiet {
        print!("{}", medaudit_report::text::terminal(&results));
        println!("run directory: {}  ({} requests, {} cached, {} already done)", run_dir.display(), outcome.n_requests, outcome.n_cached, outcome.n_skipped);
    }
    if let Some(fatal) = outcome.fatal {
        eprintln!("medaudit: error: {fatal}");
        eprintln!(
            "medaudit: the run stopped; {} finished item(s) are kept in {}; resume with `medaudit eval --resume {}`",
            records.len(),
            run_dir.display(),
            run_dir.display()
        );
        return Err(Exit(2).into());
    }
    if outcome.interrupted {
        eprintln!("medaudit: resume with `medaudit eval --resume {}`", run_dir.display());
        return Err(Exit(130).into());
    }
    if results.scores.overall.errors > 0 {
        eprintln!(
            "medaudit: {} item(s) failed after retries (see the Errors section of {}/report.html); `medaudit eval --resume {}` retries them",
            results.scores.overall.errors,
            run_dir.display(),
            run_dir.display()
        );
        return Ok(1);
    }
    Ok(0)
}
