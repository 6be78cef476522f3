//! Answer extraction: from a model's reply to the option letters it committed to.
//!
//! Versioned (`EXTRACTOR_VERSION`): any change to the rules bumps it, and the journal records
//! the version and the rule that fired for every item, so a score can always be traced back to
//! the exact reading of the reply.
//!
//! The reply is read in this order:
//! 1. reasoning is removed (`<think>…</think>`; text before a lone `</think>`), so letters the
//!    model weighed while thinking never count;
//! 2. NFKC folds full-width letters and punctuation (`Ｂ`, `：`); markdown emphasis is dropped;
//! 3. commitment rules are tried from the most explicit to the least, and within a rule the
//!    *last* match wins, because a model that discusses several letters commits at the end;
//! 4. if nothing fires, the reply is INVALID (counted wrong, reported separately).

use std::sync::OnceLock;

use regex::Regex;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

pub const EXTRACTOR_VERSION: &str = "extract-v1";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extraction {
    /// The letters committed to, sorted and deduplicated; `None` when INVALID.
    pub letters: Option<String>,
    /// Which rule fired (or why none did).
    pub rule: String,
}

impl Extraction {
    fn found(letters: String, rule: &str) -> Self {
        Extraction { letters: Some(letters), rule: rule.to_string() }
    }
    fn invalid(rule: &str) -> Self {
        Extraction { letters: None, rule: rule.to_string() }
    }
}

/// Split reasoning from the final text. Returns (final_text, reasoning).
pub fn split_reasoning(reply: &str) -> (String, Option<String>) {
    let lower = reply.to_ascii_lowercase();
    if let Some(end) = lower.rfind("</think>") {
        let reasoning_start = lower.find("<think>").map_or(0, |start| start + "<think>".len());
        let reasoning = if reasoning_start <= end { reply[reasoning_start..end].trim().to_string() } else { String::new() };
        let final_text = reply[end + "</think>".len()..].to_string();
        return (final_text, Some(reasoning).filter(|text| !text.is_empty()));
    }
    if let Some(start) = lower.find("<think>") {
        // Thinking that never closed (cut off by max tokens): there is no final text.
        return (reply[..start].to_string(), Some(reply[start + "<think>".len()..].trim().to_string()));
    }
    (reply.to_string(), None)
}

fn normalise(text: &str) -> String {
    let folded: String = text.nfkc().collect();
    folded
        .chars()
        .map(|character| match character {
            '*' | '`' | '#' | '_' | '~' | '"' | '“' | '”' | '\'' | '‘' | '’' => ' ',
            '【' | '〔' | '［' | '「' | '『' | '〈' | '《' | '[' | '{' => '(',
            '】' | '〕' | '］' | '」' | '』' | '〉' | '》' | ']' | '}' => ')',
            '。' => '.',
            other => other,
        })
        .collect()
}

struct Rule {
    name: &'static str,
    regex: Regex,
    /// Skip matches preceded by a negation (不选A, "not A").
    negatable: bool,
}

// One letter, optionally wrapped in brackets; a sequence of them joined by the separators
// models use for multi-answer replies (ACD, A、C、D, A,C, A and C).
const SEQ: &str = r"\(?[ \t]*([A-E](?:[ \t]*\)?[ \t]*(?:[、,，;；/&+和与及]|\band\b)?[ \t]*\(?[ \t]*[A-E])*)[ \t]*\)?";

fn rules() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| {
        let build = |name: &'static str, pattern: String, negatable: bool| -> Option<Rule> {
            // The patterns are constants; a failure here is a programming error caught by the
            // unit tests, and the rule is simply absent rather than a panic in library code.
            Regex::new(&pattern).ok().map(|regex| Rule { name, regex, negatable })
        };
        let label = r"(?i:final\s+answer|correct\s+answer|correct\s+option|best\s+answer|best\s+option|the\s+answer|answer|答案|正确答案|最终答案|正确选项|最佳答案|最佳选项|参考答案)(?i:s)?";
        let copula = r"(?i:\s*(?:is|would\s+be|should\s+be|will\s+be|are|:|-|—|是|为|应为|应该是|应当是|选|选择|就是|即)\s*)*";
        [
            build("answer_label", format!(r"{label}{copula}(?:选项|(?i:option)s?)?\s*{SEQ}"), false),
            build("choice_verb", format!(r"(?i:故选|所以选|因此选|应选|应该选|应当选|我选|我会选|我的选择是|选择|选|i\s+choose|i\s+would\s+choose|i'd\s+choose|i\s+pick|i\s+would\s+pick|i'll\s+go\s+with|go\s+with|choose|select|pick)\s*(?::)?\s*(?:选项|(?i:option)s?)?\s*{SEQ}"), true),
            build("letter_is_correct", format!(r"(?:(?i:option)s?\s*)?{SEQ}\s*(?:选项|项)?\s*(?i:是正确的|正确|最恰当|最合适|最佳|最正确|为正确答案|是正确答案|是最佳答案|是答案|is\s+correct|is\s+the\s+correct|is\s+the\s+best|is\s+right|are\s+correct|is\s+the\s+answer)"), false),
            build("rather_than", format!(r"(?i:而是|应是|rather|instead\s+it\s+is)\s*(?:选项)?\s*{SEQ}"), false),
            build("bare_letters", format!(r"^\s*(?:选项|(?i:option)s?)?\s*{SEQ}\s*(?:选项|项)?\s*[.。!！:：)]?\s*$"), false),
            build("leading_letter", r"^\s*\(?\s*([A-E])\s*(?:[.．、:：)]|\s+-)".to_string(), false),
        ]
        .into_iter()
        .flatten()
        .collect()
    })
}

/// The letters of a matched sequence that really are option letters: a letter glued to a
/// Latin letter is part of a word, and a capital A followed by a lower-case word is usually the
/// article ("Answer: A patient-centred approach"). The sequence is cut at the first letter that
/// fails, so "B Explanation" yields B.
fn letters_of(text: &str, start: usize, end: usize) -> String {
    const CONNECTIVES: [&str; 12] = ["because", "since", "as", "is", "and", "or", "which", "it", "for", "given", "to", "was"];
    let mut letters = Vec::new();
    for (offset, character) in text[start..end].char_indices() {
        if !('A'..='E').contains(&character) {
            continue;
        }
        let at = start + offset;
        let before = text[..at].chars().next_back();
        let rest = &text[at + 1..];
        let is_word_letter = |other: char| other.is_ascii_alphabetic() && !('A'..='E').contains(&other);
        let glued_after = rest.chars().next().is_some_and(is_word_letter);
        let glued_before = before.is_some_and(is_word_letter);
        let article = character == 'A' && {
            let after_space = rest.strip_prefix(' ').unwrap_or("");
            let word: String = after_space.chars().take_while(|next| next.is_ascii_alphabetic()).collect();
            !word.is_empty() && word.chars().all(|next| next.is_ascii_lowercase()) && !CONNECTIVES.contains(&word.as_str())
        };
        if glued_after || glued_before || article {
            break;
        }
        letters.push(character);
    }
    letters.sort_unstable();
    letters.dedup();
    letters.into_iter().collect()
}

/// "A or B", "A还是B": the model did not commit.
fn hedge_regex() -> Option<&'static Regex> {
    static HEDGE: OnceLock<Option<Regex>> = OnceLock::new();
    HEDGE.get_or_init(|| Regex::new(r"^[ \t)]*(?:(?i:or)|或者|或|还是)[ \t(]*[A-E](?:[^A-Za-z]|$)").ok()).as_ref()
}

fn negated(text: &str, start: usize) -> bool {
    let before: String = text[..start].chars().rev().take(6).collect::<Vec<_>>().into_iter().rev().collect();
    let before_lower = before.to_ascii_lowercase();
    before.ends_with('不')
        || before.ends_with("不应")
        || before.ends_with("不能")
        || before.ends_with('别')
        || before.ends_with('非')
        || before_lower.trim_end().ends_with("not")
        || before_lower.trim_end().ends_with("n't")
        || before_lower.trim_end().ends_with("never")
}

/// Extract the committed letters from a reply. `available` are the letters shown (e.g.
/// "ABCD"); `multi` allows more than one letter.
pub fn extract(reply: &str, available: &str, multi: bool) -> Extraction {
    let (final_text, _) = split_reasoning(reply);
    let text = normalise(&final_text);
    if text.trim().is_empty() {
        return Extraction::invalid("empty_reply");
    }
    for rule in rules() {
        let mut chosen: Option<(usize, String)> = None;
        for captures in rule.regex.captures_iter(&text) {
            let (Some(whole), Some(sequence)) = (captures.get(0), captures.get(1)) else { continue };
            if rule.negatable && negated(&text, whole.start()) {
                continue;
            }
            let letters = letters_of(&text, sequence.start(), sequence.end());
            if hedge_regex().is_some_and(|hedge| hedge.is_match(&text[sequence.end()..])) {
                return Extraction::invalid(&format!("{}:hedged_between_letters", rule.name));
            }
            if !letters.is_empty() {
                chosen = Some((whole.start(), letters));
            }
        }
        if let Some((_, letters)) = chosen {
            if let Some(outside) = letters.chars().find(|letter| !available.contains(*letter)) {
                return Extraction::invalid(&format!("{}:letter_{outside}_not_an_option", rule.name));
            }
            if !multi && letters.len() > 1 {
                // Hedging across several letters on a single-answer item commits to none.
                return Extraction::invalid(&format!("{}:several_letters_for_single_answer", rule.name));
            }
            return Extraction::found(letters, rule.name);
        }
    }
    Extraction::invalid("no_rule_matched")
}

#[cfg(test)]
mod tests;
