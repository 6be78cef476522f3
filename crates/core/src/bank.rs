//! Parsing and validating bank files. The caller reads the bytes (core does no IO); this module
//! turns them into items and a list of every problem found, each with file, line and field.

use std::collections::HashMap;
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::item::{Item, Kind, Severity, Split, ITEM_FORMAT_VERSION};
use crate::taxonomy;

/// One problem in a bank file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub file: String,
    pub line: usize,
    pub item_id: Option<String>,
    pub field: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: ", self.file, self.line)?;
        if let Some(id) = &self.item_id {
            write!(f, "[{id}] ")?;
        }
        if self.field.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.field, self.message)
        }
    }
}

/// An item and where it came from.
#[derive(Debug, Clone)]
pub struct LocatedItem {
    pub file: String,
    pub line: usize,
    pub item: Item,
}

/// The result of parsing a set of bank files: the items that parsed and every problem.
#[derive(Debug, Default)]
pub struct ParsedBank {
    pub items: Vec<LocatedItem>,
    pub problems: Vec<Problem>,
}

impl ParsedBank {
    /// Parse several files (label, bytes), in the given order, and check ids across them.
    pub fn parse_files<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8])>) -> ParsedBank {
        let mut bank = ParsedBank::default();
        for (label, bytes) in files {
            let (items, problems) = parse_file(label, bytes);
            bank.items.extend(items);
            bank.problems.extend(problems);
        }
        bank.check_duplicate_ids();
        bank
    }

    /// Add problems for ids used more than once (across all files parsed so far).
    pub fn check_duplicate_ids(&mut self) {
        let bank = self;
        let mut first_seen: HashMap<&str, (&str, usize)> = HashMap::new();
        let mut duplicates = Vec::new();
        for located in &bank.items {
            if let Some((file, line)) = first_seen.get(located.item.id.as_str()) {
                duplicates.push(Problem {
                    file: located.file.clone(),
                    line: located.line,
                    item_id: Some(located.item.id.clone()),
                    field: "id".into(),
                    message: format!("duplicate id, first used at {file}:{line}"),
                });
            } else {
                first_seen.insert(&located.item.id, (&located.file, located.line));
            }
        }
        bank.problems.extend(duplicates);
    }

    pub fn into_items(self) -> Vec<Item> {
        self.items.into_iter().map(|located| located.item).collect()
    }
}

/// Parse one JSON Lines file. Blank lines are allowed (and ignored); every other line must
/// be one valid item.
pub fn parse_file(label: &str, bytes: &[u8]) -> (Vec<LocatedItem>, Vec<Problem>) {
    let mut items = Vec::new();
    let mut problems = Vec::new();
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(bytes);
    for (index, raw_line) in bytes.split(|&byte| byte == b'\n').enumerate() {
        parse_line(label, index + 1, raw_line, &mut items, &mut problems);
    }
    (items, problems)
}

/// Parse one line (without its `\n`) of a bank file, for callers that stream large files.
/// A UTF-8 byte-order mark at the start of line 1 is ignored.
pub fn parse_line(label: &str, line_no: usize, raw_line: &[u8], items: &mut Vec<LocatedItem>, problems: &mut Vec<Problem>) {
    let raw_line = if line_no == 1 { raw_line.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(raw_line) } else { raw_line };
    let raw_line = raw_line.strip_suffix(b"\r".as_slice()).unwrap_or(raw_line);
    let problem = |field: &str, message: String| Problem { file: label.to_string(), line: line_no, item_id: None, field: field.to_string(), message };
    let text = match std::str::from_utf8(raw_line) {
        Ok(text) => text,
        Err(error) => {
            problems.push(problem("", format!("bad UTF-8 at byte {}; save the file as UTF-8", error.valid_up_to())));
            return;
        }
    };
    if text.trim().is_empty() {
        return;
    }
    // Fast path: a well-formed item deserialises directly. Only a line that does not is
    // parsed a second time as a generic value, to name the field that is wrong.
    let (item_id, line_problems) = match serde_json::from_str::<Item>(text) {
        Ok(item) => {
            let line_problems = check_item(&item);
            let item_id = Some(item.id.clone());
            if line_problems.is_empty() {
                items.push(LocatedItem { file: label.to_string(), line: line_no, item });
            }
            (item_id, line_problems)
        }
        Err(item_error) => match serde_json::from_str::<Value>(text) {
            Err(error) => {
                problems.push(problem("", format!("malformed JSON at column {}: {error}", error.column())));
                return;
            }
            Ok(value) => {
                let mut line_problems = check_value(&value);
                if line_problems.is_empty() {
                    line_problems.push(("".into(), item_error.to_string()));
                }
                (value.get("id").and_then(Value::as_str).map(str::to_string), line_problems)
            }
        },
    };
    for (field, message) in line_problems {
        problems.push(Problem { item_id: item_id.clone(), ..problem(&field, message) });
    }
}

/// Shape checks on the raw JSON, so a wrong field is named rather than reported as a serde
/// error at some column.
fn check_value(value: &Value) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    let Some(object) = value.as_object() else {
        return vec![("".into(), "each line must be a JSON object".into())];
    };
    let mut need_string = |field: &str| match object.get(field) {
        None => problems.push((field.to_string(), "missing".to_string())),
        Some(Value::String(text)) if text.trim().is_empty() => problems.push((field.to_string(), "empty".to_string())),
        Some(Value::String(_)) => {}
        Some(_) => problems.push((field.to_string(), "must be a string".to_string())),
    };
    for field in ["id", "dimension", "kind", "severity", "split", "source"] {
        need_string(field);
    }
    if let Some(Value::String(kind)) = object.get("kind") {
        if kind != "single" && kind != "multi" && kind != "open" {
            problems.push(("kind".into(), format!("unknown kind {kind:?}; use single, multi or open")));
        }
    }
    if let Some(Value::String(severity)) = object.get("severity") {
        if Severity::parse(severity).is_none() {
            problems.push(("severity".into(), format!("unknown severity {severity:?}; use low, medium, high or critical")));
        }
    }
    if let Some(Value::String(split)) = object.get("split") {
        if Split::parse(split).is_none() {
            problems.push(("split".into(), format!("unknown split {split:?}; use test, train or dev")));
        }
    }
    match object.get("difficulty") {
        Some(Value::Number(number)) if matches!(number.as_u64(), Some(1..=3)) => {}
        Some(_) => problems.push(("difficulty".into(), "must be 1, 2 or 3".into())),
        None => problems.push(("difficulty".into(), "missing".into())),
    }
    match object.get("version") {
        Some(Value::Number(number)) if number.as_u64() == Some(ITEM_FORMAT_VERSION as u64) => {}
        Some(other) => problems.push(("version".into(), format!("unsupported item format version {other}; this medaudit reads version {ITEM_FORMAT_VERSION}"))),
        None => problems.push(("version".into(), "missing".into())),
    }
    match object.get("answer") {
        Some(Value::Array(entries)) if entries.iter().all(|entry| entry.as_u64().is_some()) => {}
        Some(_) => problems.push(("answer".into(), "must be a list of zero-based option indices".into())),
        None => problems.push(("answer".into(), "missing".into())),
    }
    if let Some(references) = object.get("references") {
        if !references.as_array().is_some_and(|list| list.iter().all(Value::is_string)) {
            problems.push(("references".into(), "must be a list of strings".into()));
        }
    }
    let mut any_language = false;
    for lang in ["zh", "en"] {
        let Some(text) = object.get(lang) else { continue };
        any_language = true;
        let Some(text) = text.as_object() else {
            problems.push((lang.into(), "must be an object with stem, options, explanation".into()));
            continue;
        };
        match text.get("stem") {
            Some(Value::String(stem)) if !stem.trim().is_empty() => {}
            Some(Value::String(_)) => problems.push((format!("{lang}.stem"), "empty text".into())),
            _ => problems.push((format!("{lang}.stem"), "missing or not a string".into())),
        }
        match text.get("options") {
            Some(Value::Array(options)) => {
                for (index, option) in options.iter().enumerate() {
                    match option {
                        Value::String(option) if !option.trim().is_empty() => {}
                        Value::String(_) => problems.push((format!("{lang}.options[{index}]"), "empty text".into())),
                        _ => problems.push((format!("{lang}.options[{index}]"), "must be a string".into())),
                    }
                }
            }
            _ => problems.push((format!("{lang}.options"), "missing or not a list".into())),
        }
        if let Some(explanation) = text.get("explanation") {
            if !explanation.is_string() {
                problems.push((format!("{lang}.explanation"), "must be a string".into()));
            }
        }
    }
    if !any_language {
        problems.push(("zh".into(), "an item needs zh or en text (authored items need both)".into()));
    }
    problems
}

/// Semantic checks on a parsed item.
pub fn check_item(item: &Item) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    for (field, value) in [("id", &item.id), ("dimension", &item.dimension), ("source", &item.source)] {
        if value.trim().is_empty() {
            problems.push((field.to_string(), "empty".to_string()));
        }
    }
    if !(1..=3).contains(&item.difficulty) {
        problems.push(("difficulty".into(), "must be 1, 2 or 3".into()));
    }
    if item.version != ITEM_FORMAT_VERSION {
        problems.push(("version".into(), format!("unsupported item format version {}; this medaudit reads version {ITEM_FORMAT_VERSION}", item.version)));
    }
    if item.zh.is_none() && item.en.is_none() {
        problems.push(("zh".into(), "an item needs zh or en text (authored items need both)".into()));
    }
    for lang in item.languages() {
        let Some(text) = item.text(lang) else { continue };
        if text.stem.trim().is_empty() {
            problems.push((format!("{}.stem", lang.as_str()), "empty text".into()));
        }
        for (index, option) in text.options.iter().enumerate() {
            if option.trim().is_empty() {
                problems.push((format!("{}.options[{index}]", lang.as_str()), "empty text".into()));
            }
        }
    }
    if taxonomy::dimension(&item.dimension).is_none() && !(item.is_imported() && item.dimension == crate::item::UNMAPPED) {
        problems.push(("dimension".into(), format!("unknown dimension {:?}; use one of E01–E11, S01–S09", item.dimension)));
    }
    let imported = item.is_imported();
    if !imported && (item.zh.is_none() || item.en.is_none()) {
        let missing = if item.zh.is_none() { "zh" } else { "en" };
        problems.push((missing.into(), "missing; authored items carry both zh and en".into()));
    }
    if item.kind == Kind::Open {
        if !imported {
            problems.push(("kind".into(), "open items are only accepted from imports for now (source imported:<dataset>)".into()));
        }
        if !item.answer.is_empty() {
            problems.push(("answer".into(), "an open item has no answer indices".into()));
        }
        if item.languages().iter().any(|lang| item.text(*lang).is_some_and(|text| !text.options.is_empty())) {
            problems.push(("options".into(), "an open item has no options".into()));
        }
        return problems;
    }
    let allowed = if imported { 2..=5 } else { 4..=5 };
    for lang in item.languages() {
        let Some(text) = item.text(lang) else { continue };
        let count = text.options.len();
        if !allowed.contains(&count) {
            problems.push((
                format!("{}.options", lang.as_str()),
                format!("{count} options; {} items need {}–{}", if imported { "imported" } else { "authored" }, allowed.start(), allowed.end()),
            ));
        }
        if !imported && text.explanation.trim().is_empty() {
            problems.push((format!("{}.explanation", lang.as_str()), "empty text".into()));
        }
    }
    if let (Some(zh), Some(en)) = (&item.zh, &item.en) {
        if zh.options.len() != en.options.len() {
            problems.push(("en.options".into(), format!("zh has {} options but en has {}", zh.options.len(), en.options.len())));
        }
    }
    let n_options = item.n_options();
    for (position, &index) in item.answer.iter().enumerate() {
        if index >= n_options {
            problems.push((format!("answer[{position}]"), format!("index {index} out of range; the item has {n_options} options (indices are zero-based)")));
        }
    }
    let mut sorted = item.answer.clone();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.len() != item.answer.len() {
        problems.push(("answer".into(), "repeats an index".into()));
    }
    match item.kind {
        Kind::Single if item.answer.len() != 1 => {
            problems.push(("answer".into(), format!("a single item needs exactly one index, found {}", item.answer.len())))
        }
        Kind::Multi if item.answer.len() < 2 => problems.push(("answer".into(), "a multi item needs two or more indices".into())),
        _ => {}
    }
    if !item.source.starts_with("imported:") && !item.source.starts_with("generated:") && item.source != "authored" {
        problems.push(("source".into(), format!("unknown source {:?}; use authored, generated:<generator>@<version> or imported:<dataset>", item.source)));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"id":"E01-0001","dimension":"E01","topic":"t","kind":"single","zh":{"stem":"问","options":["甲","乙","丙","丁"],"explanation":"因"},"en":{"stem":"Q","options":["a","b","c","d"],"explanation":"because"},"answer":[1],"severity":"high","difficulty":2,"references":[],"split":"test","source":"authored","version":1}"#;

    fn problems_of(line: &str) -> Vec<String> {
        let (_, problems) = parse_file("bank/E01.jsonl", line.as_bytes());
        problems.iter().map(ToString::to_string).collect()
    }

    fn check(edit: (&str, &str), expected: &str) {
        let line = GOOD.replacen(edit.0, edit.1, 1);
        assert_ne!(line, GOOD, "edit {edit:?} did not apply");
        let problems = problems_of(&line);
        assert!(problems.iter().any(|problem| problem.contains(expected)), "expected {expected:?} in {problems:#?}");
    }

    #[test]
    fn good_line_parses() {
        let (items, problems) = parse_file("x", GOOD.as_bytes());
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(items.len(), 1);
    }

    #[test]
    fn each_problem_is_named_with_file_line_and_field() {
        check((r#""dimension":"E01""#, r#""dimension":"E99""#), "bank/E01.jsonl:1: [E01-0001] dimension: unknown dimension \"E99\"");
        check((r#""answer":[1]"#, r#""answer":[4]"#), "answer[0]: index 4 out of range");
        check((r#""options":["甲","乙","丙","丁"]"#, r#""options":["甲","乙","丙"]"#), "zh.options: 3 options; authored items need 4–5");
        check((r#""options":["a","b","c","d"]"#, r#""options":["a","b","c","d","e"]"#), "en.options: zh has 4 options but en has 5");
        check((r#""stem":"Q""#, r#""stem":"  ""#), "en.stem: empty text");
        check((r#""kind":"single""#, r#""kind":"essay""#), "kind: unknown kind");
        check((r#""severity":"high""#, r#""severity":"dire""#), "severity: unknown severity");
        check((r#""difficulty":2"#, r#""difficulty":7"#), "difficulty: must be 1, 2 or 3");
        check((r#""kind":"single""#, r#""kind":"multi""#), "a multi item needs two or more indices");
        check((r#""version":1"#, r#""version":2"#), "unsupported item format version 2");
        check((r#""answer":[1]"#, r#""answer":"B""#), "answer: must be a list");
    }

    #[test]
    fn malformed_json_and_bad_utf8_are_reported_per_line() {
        let mut bytes = GOOD.as_bytes().to_vec();
        bytes.extend_from_slice(b"\n{not json\n");
        bytes.extend_from_slice(&[0xff, 0xfe, b'\n']);
        let (items, problems) = parse_file("f.jsonl", &bytes);
        assert_eq!(items.len(), 1);
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert!(text[0].starts_with("f.jsonl:2: malformed JSON"), "{text:?}");
        assert!(text[1].starts_with("f.jsonl:3: bad UTF-8"), "{text:?}");
    }

    #[test]
    fn duplicate_ids_across_files() {
        let bank = ParsedBank::parse_files([("a.jsonl", GOOD.as_bytes()), ("b.jsonl", GOOD.as_bytes())]);
        assert_eq!(bank.items.len(), 2);
        assert_eq!(bank.problems.len(), 1);
        assert_eq!(bank.problems[0].to_string(), "b.jsonl:1: [E01-0001] id: duplicate id, first used at a.jsonl:1");
    }

    #[test]
    fn imported_items_may_have_two_options_and_one_language() {
        let line = r#"{"id":"x-1","dimension":"S07","kind":"single","zh":{"stem":"问","options":["是","否"]},"answer":[0],"severity":"medium","difficulty":1,"split":"test","source":"imported:demo","version":1}"#;
        let (items, problems) = parse_file("i.jsonl", line.as_bytes());
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(items.len(), 1);
    }
}
