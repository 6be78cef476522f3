//! Snapshots of the reports for a small fixed run: the terminal table, the Markdown report and
//! the comparison text. Any change to what a reader sees shows up in review.

use medaudit_core::item::ItemText;
use medaudit_core::score::Status;
use medaudit_core::{Item, Kind, Lang, Severity, Split};
use medaudit_engine::settings::{LangChoice, SplitChoice};
use medaudit_engine::{JournalRecord, RunSettings};
use medaudit_report::{build_results, compare_runs, text};

fn settings(model: &str) -> RunSettings {
    RunSettings {
        format_version: 1,
        medaudit_version: "0.1.0".into(),
        created_at: "2026-11-25T00:00:00Z".into(),
        bank_dir: "bank".into(),
        bank_hash: "0123456789abcdef".into(),
        model: model.into(),
        base_urls: vec![],
        api_key_env: "OPENAI_API_KEY".into(),
        headers: vec![],
        temperature: 0.0,
        max_tokens: 512,
        seed: 0,
        timeout_secs: 120,
        lang: LangChoice::Zh,
        split: SplitChoice::Test,
        dimensions: vec![],
        limit: None,
        shots: 0,
        chain_of_thought: false,
        rotate: false,
        system_prompt: None,
        concurrency: 32,
        max_retries: 4,
        use_cache: true,
        extractor_version: "extract-v1".into(),
        template_version: "prompt-v1".into(),
    }
}

fn item(index: usize, dimension: &str) -> Item {
    Item {
        id: format!("{dimension}-{index:04}"),
        dimension: dimension.into(),
        topic: "t".into(),
        kind: Kind::Single,
        zh: Some(ItemText {
            stem: format!("第{index}题：助手应当如何回应？"),
            options: vec!["甲".into(), "乙".into(), "丙".into(), "丁".into()],
            explanation: "因为乙保护患者。".into(),
        }),
        en: None,
        answer: vec![1],
        severity: if index % 3 == 0 { Severity::Critical } else { Severity::High },
        difficulty: 2,
        references: vec![],
        split: Split::Test,
        source: "authored".into(),
        version: 1,
        category: None,
        reference: None,
    }
}

fn record(item: &Item, correct: bool, status: Status) -> JournalRecord {
    JournalRecord {
        v: 1,
        task_key: format!("task-{}", item.id),
        item_id: item.id.clone(),
        item_hash: format!("hash-{}", item.id),
        dimension: item.dimension.clone(),
        severity: item.severity,
        kind: item.kind,
        lang: Lang::Zh,
        rotation: 0,
        order: vec![0, 1, 2, 3],
        prompt_hash: "p".into(),
        model_hash: "m".into(),
        status,
        correct,
        extracted: match status {
            Status::Ok => Some(if correct { "B".into() } else { "A".into() }),
            _ => None,
        },
        chosen: vec![],
        key: "B".into(),
        rule: if status == Status::Ok { "answer_label".into() } else { "no_rule_matched".into() },
        extractor: "extract-v1".into(),
        response: (status != Status::Error).then(|| if correct { "答案：B".to_string() } else { "我认为应该告知家属。".to_string() }),
        reasoning: None,
        finish_reason: None,
        error: (status == Status::Error).then(|| "http://127.0.0.1:9/v1/chat/completions answered HTTP 503: injected failure".to_string()),
        error_kind: (status == Status::Error).then(|| "server_error".to_string()),
        attempts: 1,
        latency_ms: 5,
        cached: false,
        prompt_tokens: None,
        completion_tokens: None,
        finished_at_ms: 0,
    }
}

fn run(correct_every: usize) -> (Vec<Item>, Vec<JournalRecord>) {
    let items: Vec<Item> = ["E01", "E02", "S01"].iter().flat_map(|dimension| (1..=6).map(move |index| item(index, dimension))).collect();
    let records = items
        .iter()
        .enumerate()
        .map(|(position, item)| {
            let status = if position == 4 {
                Status::Invalid
            } else if position == 7 {
                Status::Error
            } else {
                Status::Ok
            };
            record(item, status == Status::Ok && position % correct_every != 0, status)
        })
        .collect();
    (items, records)
}

#[test]
fn terminal_and_markdown_reports() {
    let (items, records) = run(3);
    let results = build_results(&settings("openai:model-a"), &items, &records);
    insta::assert_snapshot!("terminal", text::terminal(&results));
    insta::assert_snapshot!("markdown", text::markdown(&results));
    let html = medaudit_report::html::run_report(&results);
    assert!(html.contains("<svg") && !html.contains("<script"));
    assert!(html.contains("我认为应该告知家属。"), "the failed item's reply is shown");
}

#[test]
fn comparison_text() {
    let (items, before) = run(2);
    let (_, after) = run(5);
    let report = compare_runs(&settings("openai:base"), &before, &settings("openai:tuned"), &after);
    let _ = items;
    insta::assert_snapshot!("comparison", text::comparison_text(&report));
}
