//! Fine-tuning exports: supervised records (alpaca, sharegpt, OpenAI chat, plain JSONL) and DPO
//! preference pairs, in the shapes LLaMA-Factory and the OpenAI fine-tuning API document, with
//! the leakage guard's overlap measure.

use std::collections::{HashMap, HashSet};

use medaudit_core::minhash::{overlaps, shingles, signature, SHINGLE};
use medaudit_core::prompt::{key_letters, render, Message, PromptError, PromptStyle, Role};
use medaudit_core::{Item, Lang, Split};
use serde_json::{json, Value};

use crate::journal::JournalRecord;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SftFormat {
    Alpaca,
    ShareGpt,
    OpenAiChat,
    Jsonl,
}

/// The assistant turn a model should learn: the explanation as reasoning, then the answer line
/// in the form the prompt asks for.
pub fn target_text(item: &Item, lang: Lang, letters: &str) -> String {
    let explanation = item.text(lang).map(|text| text.explanation.trim().to_string()).unwrap_or_default();
    match lang {
        Lang::Zh => format!("{explanation}\n答案：{letters}"),
        Lang::En => format!("{explanation}\nAnswer: {letters}"),
    }
}

fn split_system(messages: &[Message]) -> (Option<String>, Vec<&Message>) {
    let system = messages.iter().find(|message| message.role == Role::System).map(|message| message.content.clone());
    (system, messages.iter().filter(|message| message.role != Role::System).collect())
}

/// One exported training example.
pub struct SftExample {
    pub item_id: String,
    pub dimension: String,
    pub lang: Lang,
    pub rotation: usize,
    pub messages: Vec<Message>,
    pub target: String,
    pub answer: String,
}

/// The examples for items: every requested language, and every rotation when asked. Prompts
/// are the chain-of-thought form, since the target carries the reasoning.
pub fn sft_examples(items: &[Item], languages: &[Lang], rotate: bool) -> Result<Vec<SftExample>, PromptError> {
    let style = PromptStyle { chain_of_thought: true, system_prompt: None };
    let mut examples = Vec::new();
    for item in items {
        for &lang in languages {
            if item.text(lang).is_none() {
                continue;
            }
            let rotations = if rotate { item.n_options() } else { 1 };
            for rotation in 0..rotations {
                let prompt = render(item, lang, rotation, &[], &style)?;
                let answer = key_letters(&item.answer, &prompt.order);
                examples.push(SftExample {
                    item_id: item.id.clone(),
                    dimension: item.dimension.clone(),
                    lang,
                    rotation,
                    target: target_text(item, lang, &answer),
                    messages: prompt.messages,
                    answer,
                });
            }
        }
    }
    Ok(examples)
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
    }
}

/// One JSON record per example, in the chosen format.
pub fn sft_record(example: &SftExample, format: SftFormat) -> Value {
    let (system, turns) = split_system(&example.messages);
    let user = turns.last().map(|message| message.content.clone()).unwrap_or_default();
    match format {
        SftFormat::Alpaca => json!({
            "instruction": user,
            "input": "",
            "output": example.target,
            "system": system.unwrap_or_default(),
        }),
        SftFormat::ShareGpt => json!({
            "conversations": [
                {"from": "human", "value": user},
                {"from": "gpt", "value": example.target},
            ],
            "system": system.unwrap_or_default(),
        }),
        SftFormat::OpenAiChat => {
            let mut messages: Vec<Value> =
                example.messages.iter().map(|message| json!({"role": role_name(message.role), "content": message.content})).collect();
            messages.push(json!({"role": "assistant", "content": example.target}));
            json!({ "messages": messages })
        }
        SftFormat::Jsonl => json!({
            "id": example.item_id,
            "dimension": example.dimension,
            "lang": example.lang.as_str(),
            "rotation": example.rotation,
            "messages": example.messages.iter().map(|message| json!({"role": role_name(message.role), "content": message.content})).collect::<Vec<_>>(),
            "target": example.target,
            "answer": example.answer,
        }),
    }
}

/// The LLaMA-Factory `dataset_info.json` entry for an exported file.
pub fn dataset_info(name: &str, file_name: &str, format: SftFormat, ranking: bool) -> Option<Value> {
    let entry = match format {
        SftFormat::Alpaca => json!({
            "file_name": file_name,
            "formatting": "alpaca",
            "columns": {"prompt": "instruction", "query": "input", "response": "output", "system": "system"}
        }),
        SftFormat::ShareGpt if ranking => json!({
            "file_name": file_name,
            "formatting": "sharegpt",
            "ranking": true,
            "columns": {"messages": "conversations", "chosen": "chosen", "rejected": "rejected", "system": "system"},
            "tags": {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt"}
        }),
        SftFormat::ShareGpt => json!({
            "file_name": file_name,
            "formatting": "sharegpt",
            "columns": {"messages": "conversations", "system": "system"},
            "tags": {"role_tag": "from", "content_tag": "value", "user_tag": "human", "assistant_tag": "gpt"}
        }),
        SftFormat::OpenAiChat => json!({
            "file_name": file_name,
            "formatting": "sharegpt",
            "columns": {"messages": "messages"},
            "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user", "assistant_tag": "assistant", "system_tag": "system"}
        }),
        SftFormat::Jsonl => return None,
    };
    Some(json!({ name: entry }))
}

/// A DPO pair from one wrong answer of a run: the prompt the model saw, the correct answer with
/// its explanation as chosen, and the model's own reply as rejected.
pub fn dpo_record(messages: &[Message], chosen: &str, rejected: &str, format: SftFormat) -> Value {
    let (system, turns) = split_system(messages);
    let user = turns.last().map(|message| message.content.clone()).unwrap_or_default();
    match format {
        SftFormat::Jsonl | SftFormat::OpenAiChat | SftFormat::Alpaca => json!({
            "prompt": messages.iter().map(|message| json!({"role": role_name(message.role), "content": message.content})).collect::<Vec<_>>(),
            "chosen": chosen,
            "rejected": rejected,
        }),
        SftFormat::ShareGpt => json!({
            "conversations": [{"from": "human", "value": user}],
            "chosen": {"from": "gpt", "value": chosen},
            "rejected": {"from": "gpt", "value": rejected},
            "system": system.unwrap_or_default(),
        }),
    }
}

/// Wrong answers of a run on train-split items, as (item, record) pairs, at most one per task.
pub fn dpo_candidates<'a>(items: &'a [Item], records: &'a [JournalRecord], allow_test: bool) -> Vec<(&'a Item, &'a JournalRecord)> {
    let by_id: HashMap<&str, &Item> = items.iter().map(|item| (item.id.as_str(), item)).collect();
    records
        .iter()
        .filter(|record| !record.correct && record.response.as_deref().is_some_and(|text| !text.trim().is_empty()))
        .filter_map(|record| by_id.get(record.item_id.as_str()).map(|item| (*item, record)))
        .filter(|(item, _)| allow_test || item.split == Split::Train)
        .collect()
}

/// Overlap of exported items with the test split: for each exported item, the most similar test
/// stem when the estimated Jaccard of character 5-grams reaches the threshold (the `bank lint`
/// measure). Returns (exported id, test id, similarity).
pub fn overlap_with_test(exported: &[&Item], test_items: &[&Item], threshold: f64) -> Vec<(String, String, f64)> {
    let stem = |item: &Item| item.zh.as_ref().or(item.en.as_ref()).map(|text| text.stem.clone()).unwrap_or_default();
    let queries: Vec<_> = exported.iter().map(|item| signature(&stem(item))).collect();
    let references: Vec<_> = test_items.iter().map(|item| signature(&stem(item))).collect();
    overlaps(&queries, &references, threshold)
        .into_iter()
        .filter(|(query, reference, _)| exported[*query].id != test_items[*reference].id)
        .map(|(query, reference, similarity)| (exported[query].id.clone(), test_items[reference].id.clone(), similarity))
        .collect()
}

/// Containment of test stems in arbitrary training texts: the share of a test stem's
/// character 5-grams that occur in one training text. Training records wrap a stem in a prompt,
/// so Jaccard would understate a verbatim copy; containment does not. Returns
/// (training record index, test id, containment) for each test item found, best record first.
pub fn test_stems_in_texts(texts: &[String], test_items: &[&Item], threshold: f64) -> Vec<(usize, String, f64)> {
    let stems: Vec<(String, HashSet<String>)> = test_items
        .iter()
        .filter_map(|item| item.zh.as_ref().or(item.en.as_ref()).map(|text| (item.id.clone(), shingles(&text.stem, SHINGLE).into_iter().collect())))
        .collect();
    let mut index: HashMap<&str, Vec<usize>> = HashMap::new();
    for (position, (_, set)) in stems.iter().enumerate() {
        for shingle in set {
            index.entry(shingle.as_str()).or_default().push(position);
        }
    }
    let mut best: HashMap<usize, (usize, f64)> = HashMap::new();
    for (record, text) in texts.iter().enumerate() {
        let mut shared: HashMap<usize, usize> = HashMap::new();
        for shingle in shingles(text, SHINGLE) {
            if let Some(positions) = index.get(shingle.as_str()) {
                for &position in positions {
                    *shared.entry(position).or_default() += 1;
                }
            }
        }
        for (position, count) in shared {
            let containment = count as f64 / stems[position].1.len().max(1) as f64;
            if containment >= threshold && best.get(&position).is_none_or(|(_, previous)| containment > *previous) {
                best.insert(position, (record, containment));
            }
        }
    }
    let mut found: Vec<(usize, String, f64)> =
        best.into_iter().map(|(position, (record, containment))| (record, stems[position].0.clone(), containment)).collect();
    found.sort_by(|a, b| a.1.cmp(&b.1));
    found
}

/// Every string inside a JSON value (for reading training files of any shape).
pub fn strings_in(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(text) => out.push(text.clone()),
        Value::Array(values) => values.iter().for_each(|value| strings_in(value, out)),
        Value::Object(map) => map.values().for_each(|value| strings_in(value, out)),
        _ => {}
    }
}
