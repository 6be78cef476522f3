//! Command-line arguments: plain clap structs with no IO. `settings.rs` resolves them (with
//! `medaudit.toml` and the environment) into what the commands take.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Parser, Debug)]
#[command(name = "medaudit", version, about = "Benchmark and audit the ethical and patient-safety risks of healthcare LLMs (Chinese first, English too)", long_about = None)]
pub struct Cli {
    /// Settings file (default: ./medaudit.toml when present).
    #[arg(long, global = true, env = "MEDAUDIT_CONFIG")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check, lint and describe an item bank.
    #[command(subcommand)]
    Bank(BankCommand),
    /// Evaluate a model on the bank (or resume a run).
    Eval(EvalArgs),
    /// Render a run's results as HTML, Markdown, JSON or a terminal table.
    Report(ReportArgs),
    /// Paired comparison of two runs (McNemar with Holm correction, paired bootstrap).
    Compare(CompareArgs),
    /// Read one model reply on stdin and print the letters it committed to, or INVALID.
    Extract(ExtractArgs),
    /// Judge a run against a release-gate policy: PASS (exit 0) or FAIL (exit 1) with every reason.
    Gate(GateArgs),
    /// Redact personal data (resident ID, mobile, e-mail, bank card, policy patterns) from stdin to stdout.
    Redact(RedactArgs),
    /// Training data for fine-tuning, with a guard against test-split leakage.
    #[command(subcommand)]
    Export(ExportCommand),
}

#[derive(Args, Debug)]
pub struct GateArgs {
    pub run_dir: PathBuf,
    /// Policy file (TOML), e.g. governance/policy.toml.
    #[arg(long)]
    pub policy: PathBuf,
    /// Run of the currently approved version, for the non-inferiority rule.
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// Print the verdict as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum ExportCommand {
    /// Supervised fine-tuning records (one per item, per rotation with --rotate).
    Sft(ExportSftArgs),
    /// Preference pairs from a run's wrong answers on train-split items.
    Dpo(ExportDpoArgs),
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ExportFormat {
    Alpaca,
    Sharegpt,
    OpenaiChat,
    Jsonl,
}

#[derive(Args, Debug)]
pub struct ExportSftArgs {
    /// Bank directory (default: the shipped bank).
    #[arg(long)]
    pub bank: Option<PathBuf>,
    #[arg(long, value_enum, default_value = "train")]
    pub split: SplitArg,
    /// Comma-separated dimension codes, e.g. E01,S07.
    #[arg(long)]
    pub dimensions: Option<String>,
    #[arg(long, value_enum)]
    pub format: ExportFormat,
    #[arg(long, value_enum, default_value = "both")]
    pub lang: LangArg,
    /// One record per rotation of the options.
    #[arg(long)]
    pub rotate: bool,
    /// Allow test-split items (they are the benchmark: training on them voids its results).
    #[arg(long)]
    pub allow_test: bool,
    /// Output JSON Lines file; a LLaMA-Factory dataset_info.json snippet is written beside it.
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct ExportDpoArgs {
    pub run_dir: PathBuf,
    #[arg(long, value_enum, default_value = "sharegpt")]
    pub format: ExportFormat,
    /// Allow pairs from test-split items.
    #[arg(long)]
    pub allow_test: bool,
    /// Policy file whose [data] patterns are redacted too (built-in identifiers always are).
    #[arg(long)]
    pub policy: Option<PathBuf>,
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(Args, Debug)]
pub struct RedactArgs {
    /// Policy file whose [data] patterns are redacted too (built-in identifiers always are).
    #[arg(long)]
    pub policy: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
pub enum BankCommand {
    /// Check every item against the format; exit 1 on any problem.
    Validate(BankDirArgs),
    /// Quality gates beyond the format (key balance, length tells, shortcuts, near-duplicates); exit 1 on any failure.
    Lint(BankDirArgs),
    /// Counts per dimension, split, kind, severity and language, and the key-position distribution.
    Stats(BankStatsArgs),
    /// Assign test/train/dev splits (50/45/5 per 100, by a hash of the id) to a new tranche and rewrite its files.
    AssignSplits(BankDirArgs),
    /// Import a public or in-house question bank into medaudit's item format.
    Import(BankImportArgs),
}

#[derive(Args, Debug)]
pub struct BankImportArgs {
    /// safetybench, cmmlu, medsafetybench, flames, medes, csv or jsonl.
    pub format: String,
    /// The source file or folder.
    pub source: PathBuf,
    /// Output bank directory (created; must not exist yet).
    #[arg(long)]
    pub out: PathBuf,
    /// Mapping file: dataset, license, category → dimension, and columns for csv/jsonl (default: import/mappings/FORMAT.toml).
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// Language of the source text (default: zh; medsafetybench is en).
    #[arg(long, value_enum)]
    pub lang: Option<LangArg>,
    /// SafetyBench answer file (default: test_answers_*.json beside the questions).
    #[arg(long)]
    pub answers: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct BankDirArgs {
    /// Bank directory (default: the shipped bank).
    pub dir: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct BankStatsArgs {
    /// Bank directory (default: the shipped bank).
    pub dir: Option<PathBuf>,
    /// Print JSON instead of tables.
    #[arg(long)]
    pub json: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum LangArg {
    Zh,
    En,
    Both,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum SplitArg {
    Test,
    Train,
    Dev,
    All,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ScoringArg {
    Generate,
    Logprob,
}

#[derive(Args, Debug, Default)]
pub struct EvalArgs {
    /// Resume the run in this directory: finished items are not sent again.
    #[arg(long, value_name = "RUN_DIR", conflicts_with_all = ["bank", "model", "out"])]
    pub resume: Option<PathBuf>,
    /// Bank directory (default: the shipped bank).
    #[arg(long, env = "MEDAUDIT_BANK")]
    pub bank: Option<PathBuf>,
    /// openai:NAME, baseline:random|first|longest, local:smollm2 or local:/path/file.gguf.
    #[arg(long, env = "MEDAUDIT_MODEL")]
    pub model: Option<String>,
    /// Base URL of an OpenAI-compatible server (repeat to load-balance replicas).
    #[arg(long = "base-url", env = "MEDAUDIT_BASE_URL", value_delimiter = ',')]
    pub base_urls: Vec<String>,
    /// Name of the environment variable that holds the API key (the key is never written anywhere).
    #[arg(long, env = "MEDAUDIT_API_KEY_ENV")]
    pub api_key_env: Option<String>,
    /// Extra HTTP header, NAME:VALUE (repeatable).
    #[arg(long = "header", value_name = "NAME:VALUE")]
    pub headers: Vec<String>,
    #[arg(long, value_enum)]
    pub lang: Option<LangArg>,
    #[arg(long, value_enum)]
    pub split: Option<SplitArg>,
    /// Comma-separated dimension codes, e.g. E01,S07.
    #[arg(long)]
    pub dimensions: Option<String>,
    /// At most N items, taken round-robin across dimensions.
    #[arg(long)]
    pub limit: Option<usize>,
    /// Few-shot exemplars from the dev split.
    #[arg(long)]
    pub shots: Option<usize>,
    /// Ask for step-by-step reasoning before the answer.
    #[arg(long)]
    pub cot: bool,
    /// Run every item once per rotation of its options (CircularEval).
    #[arg(long)]
    pub rotate: bool,
    /// Replace the default system prompt ("" sends none).
    #[arg(long)]
    pub system_prompt: Option<String>,
    #[arg(long, value_enum)]
    pub scoring: Option<ScoringArg>,
    /// Requests in flight at once (default 32).
    #[arg(long, env = "MEDAUDIT_CONCURRENCY")]
    pub concurrency: Option<usize>,
    /// CPU threads for the local backend.
    #[arg(long)]
    pub threads: Option<usize>,
    #[arg(long)]
    pub temperature: Option<f64>,
    #[arg(long)]
    pub max_tokens: Option<u32>,
    /// Seed sent to the server and used by the random baseline (default 0).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Seconds before a request counts as timed out (default 120).
    #[arg(long)]
    pub timeout: Option<u64>,
    /// Retries per item on 5xx, connection errors and timeouts (default 4).
    #[arg(long)]
    pub max_retries: Option<u32>,
    /// Do not read or write the response cache.
    #[arg(long)]
    pub no_cache: bool,
    /// Response cache directory (default: the user cache dir).
    #[arg(long, env = "MEDAUDIT_CACHE_DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Run directory to create (default: runs/<time>-<model>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The model's training data (JSON Lines, any shape): warn when it contains test-split stems.
    #[arg(long, value_name = "FILE")]
    pub trained_on: Option<PathBuf>,
    /// No progress bar and no table.
    #[arg(long, short)]
    pub quiet: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum ReportFormat {
    Html,
    Md,
    Json,
    Text,
}

#[derive(Args, Debug)]
pub struct ReportArgs {
    pub run_dir: PathBuf,
    #[arg(long, value_enum, default_value = "html")]
    pub format: ReportFormat,
    /// Output file (default: RUN_DIR/report.html|md, results.json, or stdout for text).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum CompareFormat {
    Text,
    Html,
    Json,
}

#[derive(Args, Debug)]
pub struct CompareArgs {
    pub run_a: PathBuf,
    pub run_b: PathBuf,
    #[arg(long, value_enum, default_value = "text")]
    pub format: CompareFormat,
    /// Output file (default: stdout).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct ExtractArgs {
    /// Letters shown to the model.
    #[arg(long, default_value = "ABCD")]
    pub letters: String,
    /// The item allows several answers.
    #[arg(long)]
    pub multi: bool,
    /// Print JSON ({"letters":…, "rule":…, "version":…}).
    #[arg(long)]
    pub json: bool,
}
