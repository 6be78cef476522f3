//! The item format, version 1 (documented in `docs/item-format.md`).

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

use crate::hash::sha256_parts;

pub const ITEM_FORMAT_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Exactly one correct option.
    Single,
    /// Two or more correct options; correct only when the chosen set equals the key.
    Multi,
    /// An open request with no options (imported refusal prompts and the like), optionally with
    /// a reference answer; it needs a judge to be scored and evaluation skips it until then.
    Open,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Single => "single",
            Kind::Multi => "multi",
            Kind::Open => "open",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 4] = [Severity::Low, Severity::Medium, Severity::High, Severity::Critical];
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }
    pub fn parse(text: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|severity| severity.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Test,
    Train,
    Dev,
}

impl Split {
    pub const ALL: [Split; 3] = [Split::Test, Split::Train, Split::Dev];
    pub fn as_str(self) -> &'static str {
        match self {
            Split::Test => "test",
            Split::Train => "train",
            Split::Dev => "dev",
        }
    }
    pub fn parse(text: &str) -> Option<Split> {
        Split::ALL.into_iter().find(|split| split.as_str() == text)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub fn as_str(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }
    pub fn parse(text: &str) -> Option<Lang> {
        match text {
            "zh" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

/// One language's text of an item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemText {
    pub stem: String,
    pub options: Vec<String>,
    #[serde(default)]
    pub explanation: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub id: String,
    pub dimension: String,
    #[serde(default)]
    pub topic: String,
    pub kind: Kind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zh: Option<ItemText>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub en: Option<ItemText>,
    pub answer: Vec<usize>,
    pub severity: Severity,
    pub difficulty: u8,
    #[serde(default)]
    pub references: Vec<String>,
    pub split: Split,
    pub source: String,
    pub version: u32,
    /// The source dataset's own category, kept on imported items for the dimension mapping.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// A reference answer for `open` items (a safe response written by the source).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
}

/// The dimension of imported items whose source category maps to none of the 20.
pub const UNMAPPED: &str = "unmapped";

impl Item {
    pub fn text(&self, lang: Lang) -> Option<&ItemText> {
        match lang {
            Lang::Zh => self.zh.as_ref(),
            Lang::En => self.en.as_ref(),
        }
    }

    pub fn languages(&self) -> Vec<Lang> {
        [Lang::Zh, Lang::En].into_iter().filter(|lang| self.text(*lang).is_some()).collect()
    }

    pub fn n_options(&self) -> usize {
        self.zh.as_ref().or(self.en.as_ref()).map_or(0, |text| text.options.len())
    }

    pub fn is_imported(&self) -> bool {
        self.source.starts_with("imported:")
    }

    pub fn is_multiple_choice(&self) -> bool {
        self.kind != Kind::Open
    }

    /// Content hash over the normalised stems, options, kind and answer of both languages.
    /// Explanations, topic and metadata are left out on purpose: fixing a typo in an
    /// explanation does not make a new item, while changing what the model sees does.
    pub fn content_hash(&self) -> String {
        let mut parts: Vec<Vec<u8>> = vec![b"item-v1".to_vec(), self.kind.as_str().as_bytes().to_vec()];
        for lang in [Lang::Zh, Lang::En] {
            if let Some(text) = self.text(lang) {
                parts.push(lang.as_str().as_bytes().to_vec());
                parts.push(normalise(&text.stem).into_bytes());
                for option in &text.options {
                    parts.push(normalise(option).into_bytes());
                }
            }
        }
        let answer: Vec<String> = self.answer.iter().map(|index| index.to_string()).collect();
        parts.push(answer.join(",").into_bytes());
        sha256_parts(parts.iter().map(|part| part.as_slice()))
    }
}

/// NFKC, trimmed, runs of whitespace collapsed to one space.
pub fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut push_words = |source: &str| {
        for word in source.split_whitespace() {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(word);
        }
    };
    match fast_nfkc(text) {
        Some(folded) => push_words(&folded),
        None => push_words(&text.nfkc().collect::<String>()),
    }
    out
}

/// NFKC for the characters Chinese and English item text is made of, without the general
/// algorithm: ASCII and CJK unified ideographs are unchanged, full-width forms fold to ASCII,
/// the ideographic space to a space, and a few punctuation marks are already stable. Any other
/// character returns None and the caller runs full NFKC. (Content hashes are computed for every
/// item at every load, and general NFKC dominated that time.) A property test checks this
/// against the full algorithm.
fn fast_nfkc(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        let code = character as u32;
        let folded = match code {
            0x00..=0x7F | 0x4E00..=0x9FFF => character,
            0xFF01..=0xFF5E => char::from_u32(code - 0xFEE0)?,
            0x3000 => ' ',
            0x3001 | 0x3002 | 0x3008..=0x3011 | 0x2018 | 0x2019 | 0x201C | 0x201D | 0x2014 | 0x00B7 => character,
            _ => return None,
        };
        out.push(folded);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Item {
        Item {
            id: "E01-0001".into(),
            dimension: "E01".into(),
            topic: "t".into(),
            kind: Kind::Single,
            zh: Some(ItemText { stem: "问题".into(), options: vec!["甲".into(), "乙".into(), "丙".into(), "丁".into()], explanation: "因为".into() }),
            en: Some(ItemText { stem: "Q".into(), options: vec!["a".into(), "b".into(), "c".into(), "d".into()], explanation: "because".into() }),
            answer: vec![1],
            severity: Severity::High,
            difficulty: 2,
            references: vec![],
            split: Split::Test,
            source: "authored".into(),
            version: 1,
            category: None,
            reference: None,
        }
    }

    #[test]
    fn hash_ignores_explanation_and_whitespace_but_not_answer() {
        let base = sample();
        let mut edited = sample();
        edited.zh.as_mut().unwrap().explanation = "另一个解释".into();
        edited.en.as_mut().unwrap().stem = "  Q ".into();
        assert_eq!(base.content_hash(), edited.content_hash());
        let mut rekeyed = sample();
        rekeyed.answer = vec![2];
        assert_ne!(base.content_hash(), rekeyed.content_hash());
    }

    #[test]
    fn normalise_folds_full_width() {
        assert_eq!(normalise("Ｂ：  x"), "B: x");
        assert_eq!(normalise("患者（72岁）说：“我不想手术。”\u{3000}…"), "患者(72岁)说:“我不想手术。” ...");
    }

    proptest::proptest! {
        #[test]
        fn fast_path_equals_full_nfkc(codes in proptest::collection::vec(proptest::prop_oneof![0x20u32..0x7f, 0x4e00u32..0x4e80, 0xff01u32..0xff5f, 0x3000u32..0x3012, 0x2010u32..0x2030, 0xb0u32..0xc0, 0x300u32..0x310], 0..40)) {
            let text: String = codes.into_iter().filter_map(char::from_u32).collect();
            let full: String = text.nfkc().collect();
            if let Some(fast) = fast_nfkc(&text) {
                proptest::prop_assert_eq!(fast, full);
            }
        }
    }
}
