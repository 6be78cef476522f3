//! The shipped bank meets its own bar: valid, lint-clean, 100 items per dimension in both
//! languages with the required spreads and splits, a taxonomy file that agrees with the code,
//! and a review record at or above 95% blind agreement in every dimension.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use medaudit_core::{Kind, Split, DIMENSIONS};

fn bank() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bank")
}

#[test]
fn the_shipped_bank_is_valid_lint_clean_and_complete() {
    let parsed = medaudit_engine::bank_dir::load_bank(&bank()).unwrap();
    let problems: Vec<String> = parsed.problems.iter().map(ToString::to_string).collect();
    assert!(problems.is_empty(), "{problems:#?}");
    let items = parsed.into_items();
    let report = medaudit_core::lint::lint(&items);
    assert!(report.failures.is_empty(), "{:#?}", report.failures);
    let mut by_dimension: BTreeMap<&str, Vec<&medaudit_core::Item>> = BTreeMap::new();
    for item in &items {
        assert_eq!(item.source, "authored", "{}: the shipped bank holds authored items only", item.id);
        assert!(item.zh.is_some() && item.en.is_some(), "{}: both languages", item.id);
        by_dimension.entry(item.dimension.as_str()).or_default().push(item);
    }
    for dimension in DIMENSIONS {
        let members = by_dimension.get(dimension.code).unwrap_or_else(|| panic!("{} has no items", dimension.code));
        assert_eq!(members.len(), 100, "{}", dimension.code);
        let count = |split: Split| members.iter().filter(|item| item.split == split).count();
        assert_eq!((count(Split::Test), count(Split::Train), count(Split::Dev)), (50, 45, 5), "{} splits", dimension.code);
        assert!(members.iter().filter(|item| item.kind == Kind::Multi).count() >= 10, "{} multi", dimension.code);
        assert!(members.iter().filter(|item| item.difficulty == 3).count() >= 25, "{} difficulty 3", dimension.code);
        let topics: std::collections::BTreeSet<&str> = members.iter().map(|item| item.topic.as_str()).collect();
        assert!(topics.len() >= 50, "{}: only {} distinct topics", dimension.code, topics.len());
    }
}

#[test]
fn the_taxonomy_file_agrees_with_the_code() {
    let text = std::fs::read_to_string(bank().join("taxonomy.json")).unwrap();
    let taxonomy: serde_json::Value = serde_json::from_str(&text).unwrap();
    let entries = taxonomy["dimensions"].as_array().unwrap();
    assert_eq!(entries.len(), 20);
    for (entry, dimension) in entries.iter().zip(DIMENSIONS.iter()) {
        assert_eq!(entry["code"], dimension.code);
        assert_eq!(entry["group"], dimension.group.as_str());
        assert_eq!(entry["name_zh"], dimension.name_zh);
        assert_eq!(entry["name_en"], dimension.name_en);
        for field in ["scope_zh", "scope_en"] {
            assert!(entry[field].as_str().is_some_and(|text| text.len() > 40), "{} {field}", dimension.code);
        }
        for field in ["includes", "excludes", "failure_modes"] {
            assert!(entry[field].as_array().is_some_and(|list| list.len() >= 3), "{} {field}", dimension.code);
        }
    }
}

#[test]
fn the_review_record_shows_95_percent_blind_agreement_everywhere() {
    let text = std::fs::read_to_string(bank().join("REVIEW.md")).unwrap();
    for dimension in DIMENSIONS {
        let row = text
            .lines()
            .find(|line| line.starts_with(&format!("| {} |", dimension.code)))
            .unwrap_or_else(|| panic!("{} missing from REVIEW.md", dimension.code));
        // Columns: code | name | items | initial agreement % | … | agreement after revision % | …
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let after: f64 = cells[7].trim_end_matches('%').parse().unwrap_or_else(|_| panic!("bad row {row}"));
        assert!(after >= 95.0, "{}: {after}% after revision", dimension.code);
    }
}
