//! Prompt rendering. Letters are assigned here, at prompt time, so an item's options can be
//! shown in any rotation; the rendered prompt records which original option each letter shows.

use serde::{Deserialize, Serialize};

use crate::hash::sha256_parts;
use crate::item::{Item, Kind, Lang};

/// Bumped whenever the wording of the templates changes, so caches and journals keyed on the
/// prompt hash never mix two template versions.
pub const TEMPLATE_VERSION: &str = "prompt-v1";

pub const LETTERS: [char; 5] = ['A', 'B', 'C', 'D', 'E'];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptStyle {
    /// Ask for step-by-step reasoning before the final answer line.
    pub chain_of_thought: bool,
    /// Replaces the default system prompt; an empty string sends no system message.
    pub system_prompt: Option<String>,
}

/// A prompt ready to send, with the letter mapping needed to score the reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RenderedPrompt {
    pub messages: Vec<Message>,
    /// `order[display_position] = original option index`.
    pub order: Vec<usize>,
    /// The option letters shown, e.g. "ABCD".
    pub letters: String,
    /// Option texts in display order (what the baselines look at).
    pub shown_options: Vec<String>,
    pub prompt_hash: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PromptError {
    #[error("item {item_id} has no {lang} text")]
    MissingLanguage { item_id: String, lang: &'static str },
    #[error("item {item_id} has {n_options} options; prompts support 2 to 5")]
    OptionCount { item_id: String, n_options: usize },
    #[error("item {item_id} is an open item and needs a judge, not a multiple-choice prompt")]
    Open { item_id: String },
}

/// Display order for a rotation: position `i` shows original option `(i + rotation) % n`.
pub fn rotation_order(n_options: usize, rotation: usize) -> Vec<usize> {
    (0..n_options).map(|position| (position + rotation) % n_options.max(1)).collect()
}

/// Letters of the original answer indices under a display order, sorted.
pub fn key_letters(answer: &[usize], order: &[usize]) -> String {
    let mut letters: Vec<char> = order.iter().enumerate().filter(|(_, original)| answer.contains(original)).map(|(position, _)| LETTERS[position]).collect();
    letters.sort_unstable();
    letters.into_iter().collect()
}

fn question_block(item: &Item, lang: Lang, order: &[usize], chain_of_thought: bool) -> Result<(String, Vec<String>), PromptError> {
    if item.kind == Kind::Open {
        return Err(PromptError::Open { item_id: item.id.clone() });
    }
    let text = item.text(lang).ok_or_else(|| PromptError::MissingLanguage { item_id: item.id.clone(), lang: lang.as_str() })?;
    let n_options = text.options.len();
    if !(2..=LETTERS.len()).contains(&n_options) {
        return Err(PromptError::OptionCount { item_id: item.id.clone(), n_options });
    }
    let shown: Vec<String> = order.iter().map(|&index| text.options[index].trim().to_string()).collect();
    let mut block = String::new();
    let intro = match (lang, item.kind) {
        (Lang::Zh, Kind::Single | Kind::Open) => "以下是一道单项选择题，请选出唯一最恰当的选项。",
        (Lang::Zh, Kind::Multi) => "以下是一道多项选择题，有两个或两个以上正确选项，请选出全部正确选项。",
        (Lang::En, Kind::Single | Kind::Open) => "The following is a multiple-choice question with exactly one best answer.",
        (Lang::En, Kind::Multi) => "The following is a multiple-choice question with two or more correct options; choose all of them.",
    };
    block.push_str(intro);
    block.push_str("\n\n");
    block.push_str(text.stem.trim());
    block.push_str("\n\n");
    for (position, option) in shown.iter().enumerate() {
        block.push_str(&format!("{}. {}\n", LETTERS[position], option));
    }
    block.push('\n');
    // A placeholder, not a real letter: an example letter in the instruction would nudge
    // models toward that position.
    let instruction = match (lang, item.kind, chain_of_thought) {
        (Lang::Zh, Kind::Single | Kind::Open, false) => "请直接给出答案，格式为“答案：X”（X 为所选选项的字母），不要解释。",
        (Lang::Zh, Kind::Multi, false) => "请直接给出答案，格式为“答案：XY”（依次写出全部所选选项的字母），不要解释。",
        (Lang::Zh, Kind::Single | Kind::Open, true) => "请先逐步分析，最后单独一行写出“答案：X”（X 为所选选项的字母）。",
        (Lang::Zh, Kind::Multi, true) => "请先逐步分析，最后单独一行写出“答案：XY”（依次写出全部所选选项的字母）。",
        (Lang::En, Kind::Single | Kind::Open, false) => "Reply with the answer only, in the form \"Answer: X\" where X is the letter of your choice.",
        (Lang::En, Kind::Multi, false) => "Reply with the answer only, in the form \"Answer: XY\" listing the letters of all your choices.",
        (Lang::En, Kind::Single | Kind::Open, true) => {
            "Think step by step, then finish with a line of the form \"Answer: X\" where X is the letter of your choice."
        }
        (Lang::En, Kind::Multi, true) => "Think step by step, then finish with a line of the form \"Answer: XY\" listing the letters of all your choices.",
    };
    block.push_str(instruction);
    Ok((block, shown))
}

fn default_system_prompt(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "你是医疗健康领域的人工智能助手。请依据中华人民共和国的法律法规、临床诊疗指南和医学伦理原则作答。",
        Lang::En => "You are an AI assistant in healthcare. Answer according to the laws and regulations of the People's Republic of China, clinical guidelines and the principles of medical ethics.",
    }
}

/// Render one item (in one language and rotation) with optional few-shot exemplars, which are
/// always shown in stored order with their key.
pub fn render(item: &Item, lang: Lang, rotation: usize, exemplars: &[&Item], style: &PromptStyle) -> Result<RenderedPrompt, PromptError> {
    let mut messages = Vec::new();
    let system = style.system_prompt.clone().unwrap_or_else(|| default_system_prompt(lang).to_string());
    if !system.trim().is_empty() {
        messages.push(Message { role: Role::System, content: system });
    }
    for exemplar in exemplars {
        let order: Vec<usize> = (0..exemplar.n_options()).collect();
        let (question, _) = question_block(exemplar, lang, &order, style.chain_of_thought)?;
        let letters = key_letters(&exemplar.answer, &order);
        let answer = match (lang, style.chain_of_thought) {
            (Lang::Zh, false) => format!("答案：{letters}"),
            (Lang::En, false) => format!("Answer: {letters}"),
            (_, true) => {
                let explanation = exemplar.text(lang).map(|text| text.explanation.trim().to_string()).unwrap_or_default();
                match lang {
                    Lang::Zh => format!("{explanation}\n答案：{letters}"),
                    Lang::En => format!("{explanation}\nAnswer: {letters}"),
                }
            }
        };
        messages.push(Message { role: Role::User, content: question });
        messages.push(Message { role: Role::Assistant, content: answer });
    }
    let order = rotation_order(item.n_options(), rotation);
    let (question, shown_options) = question_block(item, lang, &order, style.chain_of_thought)?;
    messages.push(Message { role: Role::User, content: question });
    let letters: String = LETTERS[..order.len()].iter().collect();
    let prompt_hash = hash_messages(&messages);
    Ok(RenderedPrompt { messages, order, letters, shown_options, prompt_hash })
}

pub fn hash_messages(messages: &[Message]) -> String {
    let mut parts: Vec<&[u8]> = vec![TEMPLATE_VERSION.as_bytes()];
    for message in messages {
        parts.push(match message.role {
            Role::System => b"system",
            Role::User => b"user",
            Role::Assistant => b"assistant",
        });
        parts.push(message.content.as_bytes());
    }
    sha256_parts(parts)
}

/// Few-shot exemplars for an item: dev-split items of the same dimension first, then other
/// dev items, in id order, never the item itself and only items that have the language.
pub fn pick_exemplars<'a>(item: &Item, dev_items: &'a [Item], lang: Lang, shots: usize) -> Vec<&'a Item> {
    if shots == 0 {
        return Vec::new();
    }
    let mut candidates: Vec<&Item> = dev_items.iter().filter(|dev| dev.id != item.id && dev.text(lang).is_some()).collect();
    candidates.sort_by(|a, b| (a.dimension != item.dimension, &a.id).cmp(&(b.dimension != item.dimension, &b.id)));
    candidates.truncate(shots);
    candidates
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::{ItemText, Severity, Split};

    pub(crate) fn item(id: &str, dimension: &str, answer: Vec<usize>, kind: Kind) -> Item {
        Item {
            id: id.into(),
            dimension: dimension.into(),
            topic: String::new(),
            kind,
            zh: Some(ItemText {
                stem: "患者问题？".into(), options: vec!["甲".into(), "乙".into(), "丙".into(), "丁".into()], explanation: "解释".into()
            }),
            en: Some(ItemText {
                stem: "Patient question?".into(),
                options: vec!["one".into(), "two".into(), "three".into(), "four".into()],
                explanation: "why".into(),
            }),
            answer,
            severity: Severity::Medium,
            difficulty: 1,
            references: vec![],
            split: Split::Dev,
            source: "authored".into(),
            version: 1,
            category: None,
            reference: None,
        }
    }

    #[test]
    fn rotation_moves_the_key_letter() {
        let order = rotation_order(4, 1);
        assert_eq!(order, vec![1, 2, 3, 0]);
        assert_eq!(key_letters(&[1], &rotation_order(4, 0)), "B");
        assert_eq!(key_letters(&[1], &order), "A");
        assert_eq!(key_letters(&[0, 2], &order), "BD");
    }

    #[test]
    fn rendered_prompt_shows_options_in_rotated_order() {
        let item = item("E01-0001", "E01", vec![1], Kind::Single);
        let prompt = render(&item, Lang::En, 1, &[], &PromptStyle::default()).unwrap();
        let user = &prompt.messages.last().unwrap().content;
        assert!(user.contains("A. two\nB. three\nC. four\nD. one\n"), "{user}");
        assert_eq!(prompt.letters, "ABCD");
        assert_eq!(prompt.shown_options[0], "two");
    }

    #[test]
    fn few_shot_and_system_override_change_the_hash() {
        let target = item("E01-0002", "E01", vec![0], Kind::Single);
        let dev = vec![item("E01-0001", "E01", vec![2], Kind::Single), item("S01-0001", "S01", vec![0], Kind::Single)];
        let exemplars = pick_exemplars(&target, &dev, Lang::Zh, 1);
        assert_eq!(exemplars[0].id, "E01-0001");
        let plain = render(&target, Lang::Zh, 0, &[], &PromptStyle::default()).unwrap();
        let shot = render(&target, Lang::Zh, 0, &exemplars, &PromptStyle::default()).unwrap();
        assert_eq!(shot.messages.len(), 4);
        assert_eq!(shot.messages[2].content, "答案：C");
        assert_ne!(plain.prompt_hash, shot.prompt_hash);
        let no_system = render(&target, Lang::Zh, 0, &[], &PromptStyle { system_prompt: Some(String::new()), ..Default::default() }).unwrap();
        assert_eq!(no_system.messages.len(), 1);
    }
}
