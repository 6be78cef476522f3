//! The derived views of a run. `results.json` (schema version 1, documented in
//! `docs/run-directory.md`) is a pure function of the settings, the item snapshot and the
//! journal: deleting it and running `medaudit report` gives the same file.

use std::collections::{BTreeMap, HashMap};

use medaudit_core::score::{compare, score, Comparison, Scores, Status, RESULTS_SCHEMA_VERSION};
use medaudit_core::Item;
use medaudit_engine::plan::count_tasks;
use medaudit_engine::{JournalRecord, RunSettings};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailedItem {
    pub item_id: String,
    pub dimension: String,
    pub severity: String,
    pub lang: String,
    pub rotation: usize,
    pub status: String,
    pub key: String,
    pub extracted: Option<String>,
    pub rule: String,
    pub stem: String,
    pub response: String,
    pub explanation: String,
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorSummary {
    pub kind: String,
    pub count: u64,
    pub first_item: String,
    pub first_message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunResults {
    pub schema_version: u32,
    pub model: String,
    pub bank_hash: String,
    pub created_at: String,
    pub medaudit_version: String,
    pub extractor_version: String,
    pub template_version: String,
    pub lang: String,
    pub split: String,
    pub shots: usize,
    pub chain_of_thought: bool,
    pub rotate: bool,
    /// Tasks the settings call for; `finished` of them are in the journal.
    pub n_tasks_planned: u64,
    pub n_finished: u64,
    /// Open items in the run's selection: they need a judge and were not sent.
    #[serde(default)]
    pub n_needs_judge: u64,
    pub complete: bool,
    pub n_cached: u64,
    pub scores: Scores,
    pub errors: Vec<ErrorSummary>,
    /// Wrong, invalid and errored tasks; `failed_items` lists the first `MAX_FAILED_LISTED`.
    pub n_failed: u64,
    pub failed_items: Vec<FailedItem>,
}

/// How many failed tasks `results.json` lists with their text, most severe first.
pub const MAX_FAILED_LISTED: usize = 1000;

pub fn build_results(settings: &RunSettings, items: &[Item], records: &[JournalRecord]) -> RunResults {
    let outcomes: Vec<_> = records.iter().map(JournalRecord::outcome).collect();
    let scores = score(&outcomes);
    let by_id: HashMap<&str, &Item> = items.iter().map(|item| (item.id.as_str(), item)).collect();
    let mut errors: BTreeMap<String, ErrorSummary> = BTreeMap::new();
    for record in records.iter().filter(|record| record.status == Status::Error) {
        let kind = record.error_kind.clone().unwrap_or_else(|| "error".into());
        errors
            .entry(kind.clone())
            .or_insert_with(|| ErrorSummary { kind, count: 0, first_item: record.item_id.clone(), first_message: record.error.clone().unwrap_or_default() })
            .count += 1;
    }
    // Most severe first, then by dimension and id, so the list leads with what matters. Only
    // the first MAX_FAILED_LISTED carry their text here; the journal holds every one.
    let mut failed: Vec<&JournalRecord> = records.iter().filter(|record| !record.correct).collect();
    failed.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(a.dimension.cmp(&b.dimension))
            .then(a.item_id.cmp(&b.item_id))
            .then(a.lang.cmp(&b.lang))
            .then(a.rotation.cmp(&b.rotation))
    });
    let n_failed = failed.len() as u64;
    let failed_items = failed
        .into_iter()
        .take(MAX_FAILED_LISTED)
        .map(|record| {
            let text = by_id.get(record.item_id.as_str()).and_then(|item| item.text(record.lang));
            FailedItem {
                item_id: record.item_id.clone(),
                dimension: record.dimension.clone(),
                severity: record.severity.as_str().into(),
                lang: record.lang.as_str().into(),
                rotation: record.rotation,
                status: match record.status {
                    Status::Ok => "wrong",
                    Status::Invalid => "invalid",
                    Status::Error => "error",
                }
                .into(),
                key: record.key.clone(),
                extracted: record.extracted.clone(),
                rule: record.rule.clone(),
                stem: text.map(|text| text.stem.clone()).unwrap_or_default(),
                response: record.response.clone().unwrap_or_default(),
                explanation: text.map(|text| text.explanation.clone()).unwrap_or_default(),
                error: record.error.clone(),
            }
        })
        .collect();
    let n_tasks_planned = count_tasks(items, settings);
    let n_finished = records.iter().filter(|record| record.status != Status::Error).count() as u64;
    RunResults {
        schema_version: RESULTS_SCHEMA_VERSION,
        model: settings.model.clone(),
        bank_hash: settings.bank_hash.clone(),
        created_at: settings.created_at.clone(),
        medaudit_version: settings.medaudit_version.clone(),
        extractor_version: settings.extractor_version.clone(),
        template_version: settings.template_version.clone(),
        lang: format!("{:?}", settings.lang).to_lowercase(),
        split: format!("{:?}", settings.split).to_lowercase(),
        shots: settings.shots,
        chain_of_thought: settings.chain_of_thought,
        rotate: settings.rotate,
        n_tasks_planned,
        n_finished,
        n_needs_judge: items.iter().filter(|item| !item.is_multiple_choice()).count() as u64,
        complete: n_finished >= n_tasks_planned,
        n_cached: records.iter().filter(|record| record.cached).count() as u64,
        scores,
        errors: errors.into_values().collect(),
        n_failed,
        failed_items,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComparisonReport {
    pub schema_version: u32,
    pub model_a: String,
    pub model_b: String,
    pub same_bank: bool,
    #[serde(flatten)]
    pub comparison: Comparison,
}

pub const COMPARE_RESAMPLES: usize = 2000;
pub const COMPARE_SEED: u64 = 20_261_125;

pub fn compare_runs(settings_a: &RunSettings, records_a: &[JournalRecord], settings_b: &RunSettings, records_b: &[JournalRecord]) -> ComparisonReport {
    let outcomes_a: Vec<_> = records_a.iter().map(JournalRecord::outcome).collect();
    let outcomes_b: Vec<_> = records_b.iter().map(JournalRecord::outcome).collect();
    ComparisonReport {
        schema_version: RESULTS_SCHEMA_VERSION,
        model_a: settings_a.model.clone(),
        model_b: settings_b.model.clone(),
        same_bank: settings_a.bank_hash == settings_b.bank_hash,
        comparison: compare(&outcomes_a, &outcomes_b, COMPARE_RESAMPLES, COMPARE_SEED),
    }
}
