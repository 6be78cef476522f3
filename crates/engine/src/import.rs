//! Importers: public and in-house question banks turned into medaudit items (source
//! `imported:<dataset>`), with their categories mapped onto the 20 dimensions by a mapping
//! file, so every other command works on them unchanged. Nothing is written unless the whole
//! import succeeds.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use medaudit_core::item::{ItemText, UNMAPPED};
use medaudit_core::{taxonomy, Item, Kind, Lang, Severity, Split};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    SafetyBench,
    Cmmlu,
    MedSafetyBench,
    Flames,
    Medes,
    Csv,
    Jsonl,
}

impl ImportFormat {
    pub const NAMES: [&'static str; 7] = ["safetybench", "cmmlu", "medsafetybench", "flames", "medes", "csv", "jsonl"];

    pub fn parse(name: &str) -> Option<ImportFormat> {
        Some(match name {
            "safetybench" => ImportFormat::SafetyBench,
            "cmmlu" => ImportFormat::Cmmlu,
            "medsafetybench" => ImportFormat::MedSafetyBench,
            "flames" => ImportFormat::Flames,
            "medes" => ImportFormat::Medes,
            "csv" => ImportFormat::Csv,
            "jsonl" => ImportFormat::Jsonl,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            ImportFormat::SafetyBench => "safetybench",
            ImportFormat::Cmmlu => "cmmlu",
            ImportFormat::MedSafetyBench => "medsafetybench",
            ImportFormat::Flames => "flames",
            ImportFormat::Medes => "medes",
            ImportFormat::Csv => "csv",
            ImportFormat::Jsonl => "jsonl",
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Columns {
    pub id: Option<String>,
    pub question: String,
    #[serde(default)]
    pub options: Vec<String>,
    pub answer: Option<String>,
    #[serde(default = "letters")]
    pub answer_format: String,
    pub category: Option<String>,
    pub reference: Option<String>,
}

fn letters() -> String {
    "letters".to_string()
}

/// A mapping file (TOML): dataset name, license, attribution, category → dimension, and for
/// the generic formats the columns.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub dataset: String,
    pub license: String,
    pub attribution: String,
    #[serde(default = "unmapped")]
    pub default: String,
    #[serde(default)]
    pub categories: BTreeMap<String, String>,
    pub columns: Option<Columns>,
}

fn unmapped() -> String {
    UNMAPPED.to_string()
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("unknown import format {0:?}; use one of safetybench, cmmlu, medsafetybench, flames, medes, csv, jsonl")]
    UnknownFormat(String),
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path}:{line}: neither UTF-8 nor GBK; re-save the file as UTF-8")]
    Encoding { path: PathBuf, line: usize },
    #[error("{path}: no answer file; pass --answers FILE (SafetyBench keeps answers in a separate file such as test_answers_zh.json)")]
    MissingAnswers { path: PathBuf },
    #[error("{path}: answer for id {id} has no question in {questions}")]
    AnswerWithoutQuestion { path: PathBuf, id: String, questions: PathBuf },
    #[error("{path}:{row}: {message}")]
    Row { path: PathBuf, row: usize, message: String },
    #[error("{path}: {message}")]
    Mapping { path: PathBuf, message: String },
    #[error("{path} holds no items to import")]
    Empty { path: PathBuf },
}

/// What an import produced: the items, and notes for the user (encoding conversions, counts).
pub struct Imported {
    pub items: Vec<Item>,
    pub notes: Vec<String>,
    pub files: Vec<PathBuf>,
}

/// Read a text file as UTF-8, converting GBK (common in Chinese question banks) line by line.
/// Returns the text and a note when anything was converted.
pub fn read_text(path: &Path) -> Result<(String, Option<String>), ImportError> {
    let bytes = std::fs::read(path).map_err(|source| ImportError::Read { path: path.to_path_buf(), source })?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(&bytes);
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok((text.to_string(), None));
    }
    let mut out = String::with_capacity(bytes.len() * 3 / 2);
    let mut converted = Vec::new();
    let mut utf8_non_ascii = 0;
    for (index, line) in bytes.split(|&byte| byte == b'\n').enumerate() {
        if index > 0 {
            out.push('\n');
        }
        match std::str::from_utf8(line) {
            Ok(text) => {
                // Pure ASCII lines read the same in both encodings and say nothing either way.
                utf8_non_ascii += usize::from(!text.is_ascii());
                out.push_str(text);
            }
            Err(_) => {
                let (decoded, had_errors) = encoding_rs::GBK.decode_without_bom_handling(line);
                if had_errors {
                    return Err(ImportError::Encoding { path: path.to_path_buf(), line: index + 1 });
                }
                out.push_str(&decoded);
                converted.push(index + 1);
            }
        }
    }
    let note = if utf8_non_ascii == 0 {
        format!("{}: converted from GBK to UTF-8", path.display())
    } else {
        format!(
            "{}: mixed encodings; {} lines were GBK and were converted to UTF-8 (first at line {}), {} lines were already UTF-8",
            path.display(),
            converted.len(),
            converted.first().copied().unwrap_or(0),
            utf8_non_ascii
        )
    };
    Ok((out, Some(note)))
}

fn map_dimension(mapping: &Mapping, category: &str) -> String {
    mapping.categories.get(category).cloned().unwrap_or_else(|| mapping.default.clone())
}

fn new_item(
    mapping: &Mapping,
    id: String,
    category: &str,
    lang: Lang,
    stem: String,
    options: Vec<String>,
    answer: Vec<usize>,
    reference: Option<String>,
) -> Item {
    let kind = if options.is_empty() {
        Kind::Open
    } else if answer.len() > 1 {
        Kind::Multi
    } else {
        Kind::Single
    };
    let text = Some(ItemText { stem, options, explanation: String::new() });
    Item {
        id,
        dimension: map_dimension(mapping, category),
        topic: category.to_string(),
        kind,
        zh: if lang == Lang::Zh { text.clone() } else { None },
        en: if lang == Lang::En { text } else { None },
        answer,
        // Imports carry no severity or difficulty of their own; these neutral values are
        // documented and can be edited in the output.
        severity: Severity::Medium,
        difficulty: 2,
        references: Vec::new(),
        split: Split::Test,
        source: format!("imported:{}", mapping.dataset),
        version: 1,
        category: Some(category.to_string()),
        reference,
    }
}

/// Letters such as "B" or "ABCE" (also "A,C", "A、C") to zero-based indices, checked against
/// the number of options.
pub fn parse_letters(text: &str, n_options: usize) -> Result<Vec<usize>, String> {
    let mut indices = Vec::new();
    for character in text.trim().chars() {
        if character.is_whitespace() || matches!(character, ',' | '，' | '、' | ';' | '/') {
            continue;
        }
        let upper = character.to_ascii_uppercase();
        if !upper.is_ascii_uppercase() {
            return Err(format!("answer {text:?} is not option letters"));
        }
        let index = (upper as u8 - b'A') as usize;
        if index >= n_options {
            return Err(format!("answer letter {upper} is outside the {n_options} options"));
        }
        if !indices.contains(&index) {
            indices.push(index);
        }
    }
    if indices.is_empty() {
        return Err("empty answer".to_string());
    }
    indices.sort_unstable();
    Ok(indices)
}

fn files_in(source: &Path, extension: &str) -> Result<Vec<PathBuf>, ImportError> {
    if source.is_file() {
        return Ok(vec![source.to_path_buf()]);
    }
    let entries = std::fs::read_dir(source).map_err(|error| ImportError::Read { path: source.to_path_buf(), source: error })?;
    let mut files: Vec<PathBuf> =
        entries.filter_map(Result::ok).map(|entry| entry.path()).filter(|path| path.extension().is_some_and(|found| found == extension)).collect();
    files.sort();
    if files.is_empty() {
        return Err(ImportError::Empty { path: source.to_path_buf() });
    }
    Ok(files)
}

fn file_stem(path: &Path) -> String {
    path.file_stem().map(|stem| stem.to_string_lossy().to_string()).unwrap_or_default()
}

fn slug(text: &str) -> String {
    text.chars()
        .map(|character| if character.is_ascii_alphanumeric() { character.to_ascii_lowercase() } else { '-' })
        .collect::<String>()
        .trim_matches('-')
        .to_string()
}

/// CSV records with a header, as maps from column name to value; row numbers are 1-based
/// file lines of the record (the header is row 1).
fn csv_rows(path: &Path, text: &str) -> Result<Vec<(usize, BTreeMap<String, String>)>, ImportError> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|error| ImportError::Row { path: path.to_path_buf(), row: 1, message: format!("bad CSV header: {error}") })?
        .iter()
        .map(|header| header.trim().to_string())
        .collect();
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|error| ImportError::Row {
            path: path.to_path_buf(),
            row: error.position().map_or(0, |position| position.line() as usize),
            message: format!("bad CSV row: {error}"),
        })?;
        let row = record.position().map_or(0, |position| position.line() as usize);
        rows.push((row, headers.iter().cloned().zip(record.iter().map(str::to_string)).collect()));
    }
    Ok(rows)
}

fn column<'a>(row: &'a BTreeMap<String, String>, names: &[&str]) -> Option<&'a String> {
    names.iter().find_map(|name| row.iter().find(|(key, _)| key.eq_ignore_ascii_case(name)).map(|(_, value)| value))
}

/// A CSV with a question column, lettered option columns (A–E) and a letter answer column:
/// CMMLU (`,Question,A,B,C,D,Answer`) and MedES-style exam banks (multi-letter keys).
fn lettered_csv(mapping: &Mapping, files: &[PathBuf], lang: Lang, notes: &mut Vec<String>) -> Result<Vec<Item>, ImportError> {
    let mut items = Vec::new();
    for path in files {
        let (text, note) = read_text(path)?;
        notes.extend(note);
        let category_from_file = file_stem(path);
        for (row_no, row) in csv_rows(path, &text)? {
            let row_error = |message: String| ImportError::Row { path: path.clone(), row: row_no, message };
            let question = column(&row, &["Question", "题目", "问题", "question"]).ok_or_else(|| row_error("no Question column".into()))?;
            let options: Vec<String> = ["A", "B", "C", "D", "E"]
                .iter()
                .filter_map(|letter| column(&row, &[letter]))
                .filter(|value| !value.trim().is_empty())
                .map(|value| value.trim().to_string())
                .collect();
            if options.len() < 2 {
                return Err(row_error(format!("{} options; a multiple-choice item needs at least 2", options.len())));
            }
            let answer_text = column(&row, &["Answer", "答案", "answer"]).ok_or_else(|| row_error("no Answer column".into()))?;
            let answer = parse_letters(answer_text, options.len()).map_err(row_error)?;
            let category = column(&row, &["category", "类别", "科目"]).cloned().unwrap_or_else(|| category_from_file.clone());
            let original = column(&row, &["", "id", "ID", "编号"]).cloned().unwrap_or_else(|| row_no.to_string());
            let id = format!("{}-{}-{}", slug(&mapping.dataset), slug(&category_from_file), slug(&original));
            items.push(new_item(mapping, id, &category, lang, question.trim().to_string(), options, answer, None));
        }
    }
    Ok(items)
}

fn safetybench(mapping: &Mapping, source: &Path, answers: Option<&Path>, notes: &mut Vec<String>) -> Result<Vec<Item>, ImportError> {
    let questions_path = if source.is_dir() {
        files_in(source, "json")?
            .into_iter()
            .find(|path| !file_stem(path).contains("answers"))
            .ok_or_else(|| ImportError::Empty { path: source.to_path_buf() })?
    } else {
        source.to_path_buf()
    };
    let answers_path = match answers {
        Some(path) => path.to_path_buf(),
        None => {
            let guess = questions_path.with_file_name(file_stem(&questions_path).replacen("test_", "test_answers_", 1) + ".json");
            if !guess.exists() || guess == questions_path {
                return Err(ImportError::MissingAnswers { path: questions_path });
            }
            guess
        }
    };
    let (questions_text, note) = read_text(&questions_path)?;
    notes.extend(note);
    let (answers_text, note) = read_text(&answers_path)?;
    notes.extend(note);
    let questions: Vec<Value> = serde_json::from_str(&questions_text).map_err(|error| ImportError::Row {
        path: questions_path.clone(),
        row: error.line(),
        message: format!("not a JSON list of questions: {error}"),
    })?;
    let answers: BTreeMap<String, Value> = serde_json::from_str(&answers_text).map_err(|error| ImportError::Row {
        path: answers_path.clone(),
        row: error.line(),
        message: format!("not a JSON object of answers keyed by id: {error}"),
    })?;
    let mut by_id: BTreeMap<String, &Value> = BTreeMap::new();
    for (index, question) in questions.iter().enumerate() {
        let id = question.get("id").map(|id| id.to_string().trim_matches('"').to_string()).ok_or_else(|| ImportError::Row {
            path: questions_path.clone(),
            row: index + 1,
            message: "question without id".into(),
        })?;
        by_id.insert(id, question);
    }
    if let Some(orphan) = answers.keys().find(|id| !by_id.contains_key(*id)) {
        return Err(ImportError::AnswerWithoutQuestion { path: answers_path, id: orphan.clone(), questions: questions_path });
    }
    let mut items = Vec::new();
    for (position, (id, question)) in by_id.iter().enumerate() {
        let row_error = |message: String| ImportError::Row { path: questions_path.clone(), row: position + 1, message: format!("question id {id}: {message}") };
        let stem = question.get("question").and_then(Value::as_str).ok_or_else(|| row_error("no question text".into()))?;
        let options: Vec<String> = question
            .get("options")
            .and_then(Value::as_array)
            .ok_or_else(|| row_error("no options list".into()))?
            .iter()
            .filter_map(Value::as_str)
            .map(|option| option.trim().to_string())
            .collect();
        let category = question.get("category").and_then(Value::as_str).unwrap_or("").to_string();
        let answer =
            answers.get(id).and_then(|entry| entry.get("answer")).and_then(Value::as_u64).ok_or_else(|| row_error("no answer in the answer file".into()))?
                as usize;
        if answer >= options.len() {
            return Err(row_error(format!("answer index {answer} is outside the {} options", options.len())));
        }
        items.push(new_item(mapping, format!("{}-{id}", slug(&mapping.dataset)), &category, Lang::Zh, stem.trim().to_string(), options, vec![answer], None));
    }
    Ok(items)
}

fn medsafetybench(mapping: &Mapping, files: &[PathBuf], notes: &mut Vec<String>) -> Result<Vec<Item>, ImportError> {
    let mut items = Vec::new();
    for path in files {
        let (text, note) = read_text(path)?;
        notes.extend(note);
        let stem_name = file_stem(path);
        // med_safety_demonstrations_category_3 → category_3
        let category = stem_name.find("category_").map(|start| stem_name[start..].to_string()).unwrap_or_else(|| stem_name.clone());
        let generator = path.parent().and_then(|parent| parent.file_name()).map(|name| name.to_string_lossy().to_string()).unwrap_or_default();
        for (row_no, row) in csv_rows(path, &text)? {
            let row_error = |message: String| ImportError::Row { path: path.clone(), row: row_no, message };
            let request = column(&row, &["harmful_medical_request"]).ok_or_else(|| row_error("no harmful_medical_request column".into()))?;
            let reference = column(&row, &["safe_response"]).cloned();
            let original = column(&row, &[""]).cloned().unwrap_or_else(|| row_no.to_string());
            let id = format!("{}-{}-{}-{}", slug(&mapping.dataset), slug(&generator), slug(&category), slug(&original));
            items.push(new_item(mapping, id, &category, Lang::En, request.trim().to_string(), Vec::new(), Vec::new(), reference));
        }
    }
    Ok(items)
}

fn jsonl_values(path: &Path, notes: &mut Vec<String>) -> Result<Vec<(usize, Value)>, ImportError> {
    let (text, note) = read_text(path)?;
    notes.extend(note);
    let mut values = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let value = serde_json::from_str(line).map_err(|error| ImportError::Row {
            path: path.to_path_buf(),
            row: index + 1,
            message: format!("malformed JSON: {error}"),
        })?;
        values.push((index + 1, value));
    }
    Ok(values)
}

fn flames(mapping: &Mapping, files: &[PathBuf], notes: &mut Vec<String>) -> Result<Vec<Item>, ImportError> {
    let mut items = Vec::new();
    for path in files {
        for (row, value) in jsonl_values(path, notes)? {
            let prompt = value.get("prompt").and_then(Value::as_str).ok_or_else(|| ImportError::Row {
                path: path.clone(),
                row,
                message: "no \"prompt\" field".into(),
            })?;
            let category = value.get("dimension").and_then(Value::as_str).unwrap_or("").to_string();
            let id = format!("{}-{}-{row}", slug(&mapping.dataset), slug(&file_stem(path)));
            items.push(new_item(mapping, id, &category, Lang::Zh, prompt.trim().to_string(), Vec::new(), Vec::new(), None));
        }
    }
    Ok(items)
}

fn answer_from(text: &str, format: &str, n_options: usize) -> Result<Vec<usize>, String> {
    match format {
        "letters" => parse_letters(text, n_options),
        "index0" | "index1" => {
            let offset = if format == "index1" { 1 } else { 0 };
            let mut indices = Vec::new();
            for part in text.split([',', ' ', ';']).filter(|part| !part.is_empty()) {
                let value: usize = part.trim().parse().map_err(|_| format!("answer {text:?} is not a number"))?;
                let index = value.checked_sub(offset).ok_or_else(|| format!("answer {value} is below {offset}"))?;
                if index >= n_options {
                    return Err(format!("answer {value} is outside the {n_options} options"));
                }
                indices.push(index);
            }
            indices.sort_unstable();
            indices.dedup();
            if indices.is_empty() {
                return Err("empty answer".into());
            }
            Ok(indices)
        }
        other => Err(format!("answer_format {other:?}; use letters, index0 or index1")),
    }
}

/// Generic CSV or JSONL with the columns named in the mapping file.
fn generic(mapping: &Mapping, mapping_path: &Path, files: &[PathBuf], lang: Lang, jsonl: bool, notes: &mut Vec<String>) -> Result<Vec<Item>, ImportError> {
    let columns = mapping.columns.clone().ok_or_else(|| ImportError::Mapping {
        path: mapping_path.to_path_buf(),
        message: "the csv and jsonl formats need a [columns] table naming the question, option and answer columns".into(),
    })?;
    let mut items = Vec::new();
    for path in files {
        let rows: Vec<(usize, BTreeMap<String, String>)> = if jsonl {
            jsonl_values(path, notes)?
                .into_iter()
                .map(|(row, value)| {
                    let map = value
                        .as_object()
                        .map(|object| {
                            object.iter().map(|(key, value)| (key.clone(), value.as_str().map_or_else(|| value.to_string(), str::to_string))).collect()
                        })
                        .unwrap_or_default();
                    (row, map)
                })
                .collect()
        } else {
            let (text, note) = read_text(path)?;
            notes.extend(note);
            csv_rows(path, &text)?
        };
        for (row_no, row) in rows {
            let row_error = |message: String| ImportError::Row { path: path.clone(), row: row_no, message };
            let question = row.get(&columns.question).ok_or_else(|| row_error(format!("no {:?} column", columns.question)))?;
            let options: Vec<String> = columns
                .options
                .iter()
                .filter_map(|name| row.get(name))
                .filter(|value| !value.trim().is_empty())
                .map(|value| value.trim().to_string())
                .collect();
            let answer = if options.is_empty() {
                Vec::new()
            } else {
                let name = columns.answer.as_ref().ok_or_else(|| row_error("options without an answer column in the mapping".into()))?;
                let text = row.get(name).ok_or_else(|| row_error(format!("no {name:?} column")))?;
                answer_from(text, &columns.answer_format, options.len()).map_err(row_error)?
            };
            let category = columns.category.as_ref().and_then(|name| row.get(name)).cloned().unwrap_or_default();
            let original = columns.id.as_ref().and_then(|name| row.get(name)).cloned().unwrap_or_else(|| row_no.to_string());
            let reference = columns.reference.as_ref().and_then(|name| row.get(name)).cloned();
            items.push(new_item(
                mapping,
                format!("{}-{}", slug(&mapping.dataset), slug(&original)),
                &category,
                lang,
                question.trim().to_string(),
                options,
                answer,
                reference,
            ));
        }
    }
    Ok(items)
}

/// Load a mapping file, or the shipped default for the format.
pub fn load_mapping(path: &Path) -> Result<Mapping, ImportError> {
    let text = std::fs::read_to_string(path).map_err(|source| ImportError::Read { path: path.to_path_buf(), source })?;
    let mapping: Mapping = toml::from_str(&text)
        .map_err(|error| ImportError::Mapping { path: path.to_path_buf(), message: error.to_string().lines().collect::<Vec<_>>().join(" ") })?;
    for (category, code) in &mapping.categories {
        if code != UNMAPPED && taxonomy::dimension(code).is_none() {
            return Err(ImportError::Mapping {
                path: path.to_path_buf(),
                message: format!("category {category:?} maps to {code:?}, which is not a dimension code (E01–E11, S01–S09) or \"unmapped\""),
            });
        }
    }
    if mapping.default != UNMAPPED && taxonomy::dimension(&mapping.default).is_none() {
        return Err(ImportError::Mapping {
            path: path.to_path_buf(),
            message: format!("default {:?} is not a dimension code or \"unmapped\"", mapping.default),
        });
    }
    Ok(mapping)
}

pub fn import(
    format: ImportFormat,
    source: &Path,
    answers: Option<&Path>,
    mapping: &Mapping,
    mapping_path: &Path,
    lang: Lang,
) -> Result<Imported, ImportError> {
    if !source.exists() {
        return Err(ImportError::Read { path: source.to_path_buf(), source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file or directory") });
    }
    let mut notes = Vec::new();
    let (items, files) = match format {
        ImportFormat::SafetyBench => (safetybench(mapping, source, answers, &mut notes)?, vec![source.to_path_buf()]),
        ImportFormat::Cmmlu | ImportFormat::Medes => {
            let files = files_in(source, "csv")?;
            (lettered_csv(mapping, &files, lang, &mut notes)?, files)
        }
        ImportFormat::MedSafetyBench => {
            let mut files = Vec::new();
            if source.is_dir() {
                // The dataset keeps one folder per generator model.
                for entry in std::fs::read_dir(source).map_err(|error| ImportError::Read { path: source.to_path_buf(), source: error })?.filter_map(Result::ok)
                {
                    if entry.path().is_dir() {
                        files.extend(files_in(&entry.path(), "csv")?);
                    }
                }
                files.sort();
            }
            if files.is_empty() {
                files = files_in(source, "csv")?;
            }
            (medsafetybench(mapping, &files, &mut notes)?, files)
        }
        ImportFormat::Flames => {
            let files = files_in(source, "jsonl")?;
            (flames(mapping, &files, &mut notes)?, files)
        }
        ImportFormat::Csv | ImportFormat::Jsonl => {
            let files = files_in(source, if format == ImportFormat::Csv { "csv" } else { "jsonl" })?;
            (generic(mapping, mapping_path, &files, lang, format == ImportFormat::Jsonl, &mut notes)?, files)
        }
    };
    if items.is_empty() {
        return Err(ImportError::Empty { path: source.to_path_buf() });
    }
    Ok(Imported { items, notes, files })
}

/// The sidecar written beside imported items: where they came from and under what license.
#[derive(Debug, Serialize, Deserialize)]
pub struct SourceRecord {
    pub dataset: String,
    pub license: String,
    pub attribution: String,
    pub format: String,
    pub source_files: Vec<String>,
    pub n_items: usize,
    pub by_dimension: BTreeMap<String, usize>,
    pub mapping: BTreeMap<String, String>,
}
