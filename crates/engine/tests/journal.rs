//! Journal invariants: what is written reads back; a torn tail is ignored and cut; a later
//! record for the same task replaces an earlier one.

use medaudit_core::score::Status;
use medaudit_core::{Kind, Lang, Severity};
use medaudit_engine::journal::{read_journal, JournalWriter, JOURNAL_FORMAT_VERSION};
use medaudit_engine::JournalRecord;
use proptest::prelude::*;

fn record(index: usize, response: String, status: Status) -> JournalRecord {
    JournalRecord {
        v: JOURNAL_FORMAT_VERSION,
        task_key: format!("task-{index}"),
        item_id: format!("E01-{index:04}"),
        item_hash: format!("hash-{index}"),
        dimension: "E01".into(),
        severity: Severity::High,
        kind: Kind::Single,
        lang: Lang::Zh,
        rotation: 0,
        order: vec![0, 1, 2, 3],
        prompt_hash: "p".into(),
        model_hash: "m".into(),
        status,
        correct: status == Status::Ok,
        extracted: Some("B".into()),
        chosen: vec![1],
        key: "B".into(),
        rule: "answer_label".into(),
        extractor: "extract-v1".into(),
        response: Some(response),
        reasoning: None,
        finish_reason: None,
        error: None,
        error_kind: None,
        attempts: 1,
        latency_ms: 3,
        cached: false,
        prompt_tokens: None,
        completion_tokens: None,
        finished_at_ms: 1,
    }
}

proptest! {
    #[test]
    fn write_then_read_round_trips(responses in proptest::collection::vec(".{0,40}", 1..30), cut in 1usize..200) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.jsonl");
        let records: Vec<JournalRecord> = responses.into_iter().enumerate().map(|(index, response)| record(index, response, Status::Ok)).collect();
        let mut writer = JournalWriter::open(&path, 0).unwrap();
        for record in &records {
            writer.append(record).unwrap();
        }
        drop(writer);
        let (read, good) = read_journal(&path).unwrap();
        prop_assert_eq!(&read, &records);
        // Tear the tail: append a partial copy of a record without its newline.
        let line = serde_json::to_string(&records[0]).unwrap();
        let torn = &line.as_bytes()[..cut.min(line.len() - 1)];
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend_from_slice(torn);
        std::fs::write(&path, &bytes).unwrap();
        let (after, good_after) = read_journal(&path).unwrap();
        prop_assert_eq!(&after, &records);
        prop_assert_eq!(good, good_after);
        // Appending again cuts the torn bytes first.
        let mut writer = JournalWriter::open(&path, good_after).unwrap();
        writer.append(&record(999, "x".into(), Status::Ok)).unwrap();
        drop(writer);
        let (final_records, _) = read_journal(&path).unwrap();
        prop_assert_eq!(final_records.len(), records.len() + 1);
    }
}

#[test]
fn a_later_record_replaces_an_errored_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.jsonl");
    let mut writer = JournalWriter::open(&path, 0).unwrap();
    writer.append(&record(1, String::new(), Status::Error)).unwrap();
    writer.append(&record(2, "答案：B".into(), Status::Ok)).unwrap();
    writer.append(&record(1, "答案：B".into(), Status::Ok)).unwrap();
    drop(writer);
    let (records, _) = read_journal(&path).unwrap();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].task_key, "task-1");
    assert_eq!(records[0].status, Status::Ok);
}
