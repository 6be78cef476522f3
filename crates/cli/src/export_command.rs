//! `medaudit export sft | dpo`, and the leakage check behind `eval --trained-on`.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use medaudit_core::lint::NEAR_DUPLICATE_JACCARD;
use medaudit_core::taxonomy::parse_dimension_list;
use medaudit_core::{Item, Lang, Split};
use medaudit_engine::bank_dir::load_bank;
use medaudit_engine::export::{
    dataset_info, dpo_candidates, dpo_record, overlap_with_test, sft_examples, sft_record, strings_in, target_text, test_stems_in_texts, SftFormat,
};
use medaudit_engine::plan::plan_item;
use medaudit_engine::RunDir;

use crate::args::{ExportCommand, ExportDpoArgs, ExportFormat, ExportSftArgs, LangArg, SplitArg};
use crate::paths::default_bank;

pub fn run(command: ExportCommand) -> anyhow::Result<u8> {
    match command {
        ExportCommand::Sft(args) => sft(args),
        ExportCommand::Dpo(args) => dpo(args),
    }
}

fn format_of(format: ExportFormat) -> SftFormat {
    match format {
        ExportFormat::Alpaca => SftFormat::Alpaca,
        ExportFormat::Sharegpt => SftFormat::ShareGpt,
        ExportFormat::OpenaiChat => SftFormat::OpenAiChat,
        ExportFormat::Jsonl => SftFormat::Jsonl,
    }
}

fn load_items(bank: &Path) -> anyhow::Result<Vec<Item>> {
    let parsed = load_bank(bank)?;
    if !parsed.problems.is_empty() {
        bail!("the bank at {} has {} problem(s); run `medaudit bank validate {}`", bank.display(), parsed.problems.len(), bank.display());
    }
    Ok(parsed.into_items())
}

/// Write JSON Lines atomically (temp file, rename): a failed export leaves no partial file.
fn write_jsonl(path: &Path, records: &[serde_json::Value]) -> anyhow::Result<()> {
    let temporary = path.with_extension("partial");
    let file = std::fs::File::create(&temporary).with_context(|| format!("cannot write {}", temporary.display()))?;
    let mut writer = std::io::BufWriter::new(file);
    for record in records {
        serde_json::to_writer(&mut writer, record)?;
        writer.write_all(b"\n")?;
    }
    writer.flush().with_context(|| format!("cannot write {}", path.display()))?;
    drop(writer);
    std::fs::rename(&temporary, path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

fn write_dataset_info(out: &Path, format: SftFormat, ranking: bool) -> anyhow::Result<Option<PathBuf>> {
    let file_name = out.file_name().map(|name| name.to_string_lossy().to_string()).unwrap_or_default();
    let name = format!("medaudit_{}", file_name.trim_end_matches(".jsonl").trim_end_matches(".json").replace(['.', '-', ' '], "_"));
    let Some(info) = dataset_info(&name, &file_name, format, ranking) else { return Ok(None) };
    let path = out.with_file_name("dataset_info.json");
    std::fs::write(&path, serde_json::to_string_pretty(&info)? + "\n").with_context(|| format!("cannot write {}", path.display()))?;
    Ok(Some(path))
}

fn report_overlap(exported: &[&Item], all_items: &[Item]) -> usize {
    let test: Vec<&Item> = all_items.iter().filter(|item| item.split == Split::Test).collect();
    let found = overlap_with_test(exported, &test, NEAR_DUPLICATE_JACCARD);
    eprintln!(
        "leakage guard: {} of {} exported items are near-duplicates of test-split items (5-gram Jaccard ≥ {NEAR_DUPLICATE_JACCARD})",
        found.len(),
        exported.len()
    );
    for (exported_id, test_id, similarity) in found.iter().take(20) {
        eprintln!("  {exported_id} ~ {test_id} ({similarity:.2})");
    }
    found.len()
}

fn sft(args: ExportSftArgs) -> anyhow::Result<u8> {
    let bank = args.bank.clone().unwrap_or_else(default_bank);
    let items = load_items(&bank)?;
    let wanted_split = match args.split {
        SplitArg::Test => Some(Split::Test),
        SplitArg::Train => Some(Split::Train),
        SplitArg::Dev => Some(Split::Dev),
        SplitArg::All => None,
    };
    if matches!(args.split, SplitArg::Test | SplitArg::All) && !args.allow_test {
        bail!("--split {} includes test-split items, which are the benchmark; training on them voids every later score. Use --split train, or add --allow-test if you really mean it", if args.split == SplitArg::Test { "test" } else { "all" });
    }
    let dimensions = match &args.dimensions {
        Some(list) => {
            parse_dimension_list(list).map_err(|unknown| anyhow::anyhow!("--dimensions: unknown dimension {unknown:?}; use codes E01–E11 and S01–S09"))?
        }
        None => Vec::new(),
    };
    let selected: Vec<Item> = items
        .iter()
        .filter(|item| wanted_split.is_none_or(|split| item.split == split))
        .filter(|item| dimensions.is_empty() || dimensions.contains(&item.dimension.as_str()))
        .cloned()
        .collect();
    if selected.is_empty() {
        bail!("no items in {} match the split and dimensions given", bank.display());
    }
    let languages = match args.lang {
        LangArg::Zh => vec![Lang::Zh],
        LangArg::En => vec![Lang::En],
        LangArg::Both => vec![Lang::Zh, Lang::En],
    };
    let format = format_of(args.format);
    let examples = sft_examples(&selected, &languages, args.rotate)?;
    let records: Vec<_> = examples.iter().map(|example| sft_record(example, format)).collect();
    write_jsonl(&args.out, &records)?;
    let info = write_dataset_info(&args.out, format, false)?;
    eprintln!(
        "wrote {} records from {} items to {}{}",
        records.len(),
        selected.len(),
        args.out.display(),
        info.map(|path| format!(" (LLaMA-Factory entry: {})", path.display())).unwrap_or_default()
    );
    let exported: Vec<&Item> = selected.iter().filter(|item| item.split != Split::Test).collect();
    report_overlap(&exported, &items);
    Ok(0)
}

fn dpo(args: ExportDpoArgs) -> anyhow::Result<u8> {
    let dir = RunDir::new(&args.run_dir);
    let settings = dir.read_settings()?;
    let items = dir.read_items()?;
    let exemplars = dir.read_exemplars()?;
    let records = dir.read_records()?;
    let candidates = dpo_candidates(&items, &records, args.allow_test);
    let wrong_on_test = records
        .iter()
        .filter(|record| !record.correct)
        .filter(|record| items.iter().any(|item| item.id == record.item_id && item.split != Split::Train))
        .count();
    if candidates.is_empty() {
        if wrong_on_test > 0 && !args.allow_test {
            bail!("{} has {wrong_on_test} wrong answers, all on non-train items; pairs are only made from train-split items (run `medaudit eval --split train`), or add --allow-test", args.run_dir.display());
        }
        bail!("{} has no wrong answers with a reply to learn from", args.run_dir.display());
    }
    // Re-render each prompt exactly as the run sent it, found by task key.
    let model_hash = candidates.first().map(|(_, record)| record.model_hash.clone()).unwrap_or_default();
    let format = format_of(args.format);
    // Model replies are transcripts: personal data goes before anything is written.
    let redactor = crate::report_command::redactor(args.policy.as_deref())?;
    let mut n_redacted = 0;
    let mut pairs = Vec::new();
    for (item, record) in &candidates {
        let index = items.iter().position(|candidate| candidate.id == item.id).unwrap_or(0);
        let tasks = plan_item(index, item, &exemplars, &settings, &model_hash)?;
        let Some(task) = tasks.iter().find(|task| task.task_key == record.task_key) else { continue };
        let chosen = target_text(item, record.lang, &record.key);
        let (rejected, counts) = redactor.redact(record.response.as_deref().unwrap_or_default());
        n_redacted += counts.total();
        pairs.push(dpo_record(&task.prompt.messages, &chosen, &rejected, format));
    }
    if pairs.is_empty() {
        bail!("the prompts of {} could not be rebuilt (was the run made by another medaudit version?)", args.run_dir.display());
    }
    write_jsonl(&args.out, &pairs)?;
    let info = write_dataset_info(&args.out, format, true)?;
    eprintln!(
        "wrote {} preference pairs to {}{}",
        pairs.len(),
        args.out.display(),
        info.map(|path| format!(" (LLaMA-Factory entry: {})", path.display())).unwrap_or_default()
    );
    if wrong_on_test > 0 && !args.allow_test {
        eprintln!("leakage guard: skipped {wrong_on_test} wrong answers on non-train items");
    }
    if n_redacted > 0 {
        eprintln!("redacted {n_redacted} personal-data item(s) from model replies");
    }
    Ok(0)
}

/// `eval --trained-on FILE`: warn (on stderr) when the training file contains test-split stems.
/// Returns the number of test items found.
pub fn check_trained_on(file: &Path, items: &[Item]) -> anyhow::Result<usize> {
    let reader = std::io::BufReader::new(std::fs::File::open(file).with_context(|| format!("--trained-on: cannot read {}", file.display()))?);
    let mut texts = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("--trained-on: {}:{} is not UTF-8 text", file.display(), index + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let value: serde_json::Value =
            serde_json::from_str(&line).map_err(|error| anyhow::anyhow!("--trained-on: {}:{}: not a JSON line ({error})", file.display(), index + 1))?;
        let mut strings = Vec::new();
        strings_in(&value, &mut strings);
        texts.push(strings.join("\n"));
    }
    let test: Vec<&Item> = items.iter().filter(|item| item.split == Split::Test).collect();
    let found = test_stems_in_texts(&texts, &test, NEAR_DUPLICATE_JACCARD);
    if !found.is_empty() {
        eprintln!("medaudit: warning: {} test-split items of this run appear in the training data {} (≥ {:.0}% of their 5-grams in one record); their scores are not evidence:", found.len(), file.display(), NEAR_DUPLICATE_JACCARD * 100.0);
        for (record, test_id, containment) in found.iter().take(20) {
            eprintln!("  {test_id} in record {} ({:.0}%)", record + 1, containment * 100.0);
        }
    }
    Ok(found.len())
}
