//! Planning a run: which items, in which languages and rotations, with which prompts.

use std::collections::BTreeMap;

use medaudit_core::hash::sha256_parts;
use medaudit_core::prompt::{key_letters, pick_exemplars, render, PromptError, PromptStyle, RenderedPrompt};
use medaudit_core::{Item, Kind, Lang, Split};
use medaudit_model::ModelIdentity;

use crate::settings::{LangChoice, RunSettings, SplitChoice};

/// One request to make: an item in one language and rotation.
#[derive(Debug, Clone)]
pub struct Task {
    pub item_index: usize,
    pub lang: Lang,
    pub rotation: usize,
    pub prompt: RenderedPrompt,
    pub key: String,
    pub task_key: String,
    pub cache_key: String,
    pub item_hash: String,
}

pub fn model_hash(identity: &ModelIdentity) -> String {
    let params = identity.params.to_string();
    sha256_parts([b"model-v1".as_slice(), identity.spec.as_bytes(), params.as_bytes()])
}

/// The items a run evaluates, in a stable order: filtered by split and dimensions, then with
/// `limit` taken round-robin across dimensions (id order within each) so a small limit still
/// covers every dimension.
pub fn select_items(items: Vec<Item>, settings: &RunSettings) -> Vec<Item> {
    let mut by_dimension: BTreeMap<String, Vec<Item>> = BTreeMap::new();
    for item in items {
        let split_ok = match settings.split {
            SplitChoice::All => true,
            SplitChoice::Test => item.split == Split::Test,
            SplitChoice::Train => item.split == Split::Train,
            SplitChoice::Dev => item.split == Split::Dev,
        };
        let dimension_ok = settings.dimensions.is_empty() || settings.dimensions.iter().any(|code| code == &item.dimension);
        if split_ok && dimension_ok {
            by_dimension.entry(item.dimension.clone()).or_default().push(item);
        }
    }
    let total: usize = by_dimension.values().map(Vec::len).sum();
    let wanted = settings.limit.unwrap_or(total).min(total);
    let mut queues: Vec<std::vec::IntoIter<Item>> = by_dimension
        .into_values()
        .map(|mut members| {
            members.sort_by(|a, b| a.id.cmp(&b.id));
            members.into_iter()
        })
        .collect();
    let mut selected = Vec::with_capacity(wanted);
    while selected.len() < wanted {
        for queue in queues.iter_mut() {
            if selected.len() < wanted {
                if let Some(item) = queue.next() {
                    selected.push(item);
                }
            }
        }
    }
    selected
}

pub fn languages(choice: LangChoice) -> Vec<Lang> {
    match choice {
        LangChoice::Zh => vec![Lang::Zh],
        LangChoice::En => vec![Lang::En],
        LangChoice::Both => vec![Lang::Zh, Lang::En],
    }
}

/// How many tasks the settings make of these items, without rendering prompts.
pub fn count_tasks(items: &[Item], settings: &RunSettings) -> u64 {
    items
        .iter()
        .filter(|item| item.is_multiple_choice())
        .map(|item| {
            let n_langs = languages(settings.lang).into_iter().filter(|lang| item.text(*lang).is_some()).count() as u64;
            n_langs * if settings.rotate { item.n_options() as u64 } else { 1 }
        })
        .sum()
}

/// The tasks of one item. Items lacking a requested language are skipped for that language
/// (imported sets are often monolingual). Rendering happens here, item by item, so a run never
/// holds more than the prompts in flight.
pub fn plan_item(item_index: usize, item: &Item, dev_items: &[Item], settings: &RunSettings, model_hash: &str) -> Result<Vec<Task>, PromptError> {
    let style = PromptStyle { chain_of_thought: settings.chain_of_thought, system_prompt: settings.system_prompt.clone() };
    let mut tasks = Vec::new();
    if !item.is_multiple_choice() {
        // Open items need a judge; until judge scoring exists they are skipped and counted.
        return Ok(tasks);
    }
    let item_hash = item.content_hash();
    for lang in languages(settings.lang) {
        if item.text(lang).is_none() {
            continue;
        }
        let exemplars = pick_exemplars(item, dev_items, lang, settings.shots);
        let rotations = if settings.rotate { item.n_options() } else { 1 };
        for rotation in 0..rotations {
            let prompt = render(item, lang, rotation, &exemplars, &style)?;
            let key = key_letters(&item.answer, &prompt.order);
            let task_key = sha256_parts([item_hash.as_bytes(), prompt.prompt_hash.as_bytes(), model_hash.as_bytes()]);
            let cache_key = sha256_parts([
                model_hash.as_bytes(),
                prompt.prompt_hash.as_bytes(),
                if item.kind == Kind::Multi { b"multi".as_slice() } else { b"single".as_slice() },
            ]);
            tasks.push(Task { item_index, lang, rotation, prompt, key, task_key, cache_key, item_hash: item_hash.clone() });
        }
    }
    Ok(tasks)
}

/// All tasks for the selected items.
pub fn plan_tasks(selected: &[Item], dev_items: &[Item], settings: &RunSettings, model_hash: &str) -> Result<Vec<Task>, PromptError> {
    let mut tasks = Vec::new();
    for (item_index, item) in selected.iter().enumerate() {
        tasks.extend(plan_item(item_index, item, dev_items, settings, model_hash)?);
    }
    Ok(tasks)
}
