//! `medaudit bank validate | lint | stats`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use medaudit_core::bank::ParsedBank;
use medaudit_core::{Item, Kind, Lang, Severity, Split, DIMENSIONS};
use medaudit_engine::bank_dir::load_bank;

use crate::args::BankCommand;
use crate::paths::default_bank;

pub fn run(command: BankCommand) -> anyhow::Result<u8> {
    match command {
        BankCommand::Validate(args) => validate(args.dir.unwrap_or_else(default_bank)),
        BankCommand::Lint(args) => lint(args.dir.unwrap_or_else(default_bank)),
        BankCommand::Stats(args) => stats(args.dir.unwrap_or_else(default_bank), args.json),
        BankCommand::AssignSplits(args) => assign_splits(args.dir.unwrap_or_else(default_bank)),
        BankCommand::Import(args) => crate::import_command::run(args),
    }
}

/// Rewrite every item file with the deterministic split assignment. Meant to be run once on a
/// new tranche before it is published: after that an item never changes split.
fn assign_splits(dir: PathBuf) -> anyhow::Result<u8> {
    let bank = load(&dir)?;
    if !bank.problems.is_empty() {
        for problem in &bank.problems {
            println!("{problem}");
        }
        anyhow::bail!("{} has {} problem(s); fix them before assigning splits", dir.display(), bank.problems.len());
    }
    let items: Vec<Item> = bank.items.iter().map(|located| located.item.clone()).collect();
    let assigned = medaudit_core::splits::assign_splits(&items);
    let mut by_file: BTreeMap<String, Vec<Item>> = BTreeMap::new();
    for located in bank.items {
        let mut item = located.item;
        if let Some(split) = assigned.get(&item.id) {
            item.split = *split;
        }
        by_file.entry(located.file).or_default().push(item);
    }
    for (file, items) in &by_file {
        let mut text = String::new();
        for item in items {
            text.push_str(&serde_json::to_string(item)?);
            text.push('\n');
        }
        medaudit_engine::journal::write_atomically(std::path::Path::new(file), text.as_bytes())?;
    }
    println!("assigned splits to {} items in {} files", assigned.len(), by_file.len());
    Ok(0)
}

fn load(dir: &PathBuf) -> anyhow::Result<ParsedBank> {
    Ok(load_bank(dir)?)
}

fn validate(dir: PathBuf) -> anyhow::Result<u8> {
    let bank = load(&dir)?;
    for problem in &bank.problems {
        println!("{problem}");
    }
    if bank.problems.is_empty() {
        println!("ok: {} items in {} are valid", bank.items.len(), dir.display());
        Ok(0)
    } else {
        println!("{} problem(s) in {} ({} items valid)", bank.problems.len(), dir.display(), bank.items.len());
        Ok(1)
    }
}

fn lint(dir: PathBuf) -> anyhow::Result<u8> {
    let bank = load(&dir)?;
    if !bank.problems.is_empty() {
        for problem in &bank.problems {
            println!("{problem}");
        }
        println!("{} format problem(s); fix them (see `medaudit bank validate`) before linting", bank.problems.len());
        return Ok(1);
    }
    let items = bank.into_items();
    let report = medaudit_core::lint::lint(&items);
    for line in &report.notes {
        println!("  {line}");
    }
    for failure in &report.failures {
        println!("FAIL {failure}");
    }
    if report.failures.is_empty() {
        println!("ok: {} items in {} pass every lint gate", items.len(), dir.display());
        Ok(0)
    } else {
        println!("{} lint failure(s) in {}", report.failures.len(), dir.display());
        Ok(1)
    }
}

#[derive(serde::Serialize, Default)]
struct DimensionStats {
    items: usize,
    splits: BTreeMap<String, usize>,
    kinds: BTreeMap<String, usize>,
    severities: BTreeMap<String, usize>,
    difficulties: BTreeMap<String, usize>,
    languages: BTreeMap<String, usize>,
    /// Key letter in stored order → count, over single-answer items.
    key_positions: BTreeMap<String, usize>,
    sources: BTreeMap<String, usize>,
}

fn add(stats: &mut DimensionStats, item: &Item) {
    stats.items += 1;
    *stats.splits.entry(item.split.as_str().into()).or_default() += 1;
    *stats.kinds.entry(item.kind.as_str().into()).or_default() += 1;
    *stats.severities.entry(item.severity.as_str().into()).or_default() += 1;
    *stats.difficulties.entry(item.difficulty.to_string()).or_default() += 1;
    for lang in item.languages() {
        *stats.languages.entry(lang.as_str().into()).or_default() += 1;
    }
    if item.kind == Kind::Single {
        if let Some(&index) = item.answer.first() {
            let letter = medaudit_core::prompt::LETTERS.get(index).map_or("?".to_string(), char::to_string);
            *stats.key_positions.entry(letter).or_default() += 1;
        }
    }
    let source = item.source.split(':').next().unwrap_or("").to_string();
    *stats.sources.entry(if item.is_imported() { item.source.clone() } else { source }).or_default() += 1;
}

fn stats(dir: PathBuf, json: bool) -> anyhow::Result<u8> {
    let bank = load(&dir)?;
    let n_problems = bank.problems.len();
    let items = bank.into_items();
    let mut per_dimension: BTreeMap<String, DimensionStats> = BTreeMap::new();
    let mut total = DimensionStats::default();
    for item in &items {
        add(per_dimension.entry(item.dimension.clone()).or_default(), item);
        add(&mut total, item);
    }
    if json {
        let value = serde_json::json!({ "bank": dir.display().to_string(), "total": total, "dimensions": per_dimension, "invalid_lines": n_problems });
        println!("{}", serde_json::to_string_pretty(&value)?);
        return Ok(0);
    }
    let count = |map: &BTreeMap<String, usize>, key: &str| map.get(key).copied().unwrap_or(0);
    println!(
        "bank {}: {} items{}",
        dir.display(),
        items.len(),
        if n_problems > 0 { format!(" ({n_problems} invalid lines skipped; run `medaudit bank validate`)") } else { String::new() }
    );
    println!(
        "{:<5} {:>5} | {:>4} {:>5} {:>3} | {:>6} {:>5} | {:>3} {:>3} {:>4} {:>4} | {:>3} {:>3} {:>3} | {:>4} {:>4} | key A/B/C/D/E",
        "dim", "items", "test", "train", "dev", "single", "multi", "low", "med", "high", "crit", "d1", "d2", "d3", "zh", "en"
    );
    let mut rows: Vec<(String, &DimensionStats)> = per_dimension.iter().map(|(code, stats)| (code.clone(), stats)).collect();
    rows.push(("ALL".to_string(), &total));
    for (code, stats) in rows {
        let keys: Vec<String> = ["A", "B", "C", "D", "E"].iter().map(|letter| count(&stats.key_positions, letter).to_string()).collect();
        println!(
            "{:<5} {:>5} | {:>4} {:>5} {:>3} | {:>6} {:>5} | {:>3} {:>3} {:>4} {:>4} | {:>3} {:>3} {:>3} | {:>4} {:>4} | {}",
            code,
            stats.items,
            count(&stats.splits, Split::Test.as_str()),
            count(&stats.splits, Split::Train.as_str()),
            count(&stats.splits, Split::Dev.as_str()),
            count(&stats.kinds, "single"),
            count(&stats.kinds, "multi"),
            count(&stats.severities, Severity::Low.as_str()),
            count(&stats.severities, Severity::Medium.as_str()),
            count(&stats.severities, Severity::High.as_str()),
            count(&stats.severities, Severity::Critical.as_str()),
            count(&stats.difficulties, "1"),
            count(&stats.difficulties, "2"),
            count(&stats.difficulties, "3"),
            count(&stats.languages, Lang::Zh.as_str()),
            count(&stats.languages, Lang::En.as_str()),
            keys.join("/")
        );
    }
    let missing: Vec<&str> = DIMENSIONS.iter().map(|dimension| dimension.code).filter(|code| !per_dimension.contains_key(*code)).collect();
    if !missing.is_empty() {
        println!("dimensions with no items: {}", missing.join(", "));
    }
    if total.sources.keys().any(|source| source.starts_with("imported:")) {
        println!("sources: {}", total.sources.iter().map(|(source, count)| format!("{source} {count}")).collect::<Vec<_>>().join(", "));
    }
    Ok(0)
}
