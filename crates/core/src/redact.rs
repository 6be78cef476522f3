//! Personal-data redaction for transcripts before they are stored or exported: PRC resident ID
//! numbers (checked with their ISO 7064 MOD 11-2 check digit), mainland mobile numbers, e-mail
//! addresses, bank card numbers (checked with the Luhn algorithm) and configurable patterns such
//! as medical record numbers. The checksums keep ordinary long numbers (dates, amounts, lab
//! values) from being mistaken for identifiers.

use regex::Regex;
use serde::{Deserialize, Serialize};

/// A site-specific pattern, e.g. `{ label = "病历号", pattern = "MRN[0-9]{8}" }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomPattern {
    pub label: String,
    pub pattern: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RedactionRules {
    #[serde(default)]
    pub patterns: Vec<CustomPattern>,
}

#[derive(Debug, thiserror::Error)]
#[error("redaction pattern {label:?} is not a valid regular expression: {message}")]
pub struct PatternError {
    pub label: String,
    pub message: String,
}

/// What was found, for the audit record (never the value itself).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedactionCounts {
    pub resident_id: usize,
    pub mobile: usize,
    pub email: usize,
    pub bank_card: usize,
    pub custom: usize,
}

impl RedactionCounts {
    pub fn total(&self) -> usize {
        self.resident_id + self.mobile + self.email + self.bank_card + self.custom
    }
}

pub struct Redactor {
    resident_id: Regex,
    mobile: Regex,
    email: Regex,
    bank_card: Regex,
    custom: Vec<(String, Regex)>,
}

fn compile(label: &str, pattern: &str) -> Result<Regex, PatternError> {
    Regex::new(pattern).map_err(|error| PatternError { label: label.to_string(), message: error.to_string() })
}

/// ISO 7064 MOD 11-2 check of an 18-character PRC resident ID number.
pub fn valid_resident_id(id: &str) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    let characters: Vec<char> = id.chars().collect();
    if characters.len() != 18 {
        return false;
    }
    let mut sum = 0;
    for (character, weight) in characters[..17].iter().zip(WEIGHTS) {
        match character.to_digit(10) {
            Some(digit) => sum += digit * weight,
            None => return false,
        }
    }
    CHECK[(sum % 11) as usize] == characters[17].to_ascii_uppercase()
}

/// Luhn check over the digits of a card number.
pub fn valid_luhn(digits: &str) -> bool {
    let digits: Vec<u32> = digits.chars().filter_map(|character| character.to_digit(10)).collect();
    if !(13..=19).contains(&digits.len()) {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(position, &digit)| {
            if position % 2 == 1 {
                let doubled = digit * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                digit
            }
        })
        .sum();
    sum % 10 == 0
}

/// True when the match is not glued to more digits or ID characters on either side.
fn standalone(text: &str, start: usize, end: usize) -> bool {
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    !before.is_some_and(|character| character.is_ascii_alphanumeric()) && !after.is_some_and(|character| character.is_ascii_alphanumeric())
}

impl Redactor {
    pub fn new(rules: &RedactionRules) -> Result<Self, PatternError> {
        let mut custom = Vec::new();
        for pattern in &rules.patterns {
            custom.push((pattern.label.clone(), compile(&pattern.label, &pattern.pattern)?));
        }
        Ok(Self {
            resident_id: compile("resident id", r"[0-9]{17}[0-9Xx]")?,
            mobile: compile("mobile", r"(?:\+?86[- ]?)?1[3-9][0-9](?:[- ]?[0-9]{4}){2}")?,
            email: compile("email", r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")?,
            bank_card: compile("bank card", r"[0-9](?:[ -]?[0-9]){12,18}")?,
            custom,
        })
    }

    /// The text with every identifier replaced by `[label]`, and what was found.
    pub fn redact(&self, text: &str) -> (String, RedactionCounts) {
        let mut counts = RedactionCounts::default();
        // Custom patterns first: a site's own record-number format wins over the generic ones.
        let mut current = text.to_string();
        for (label, regex) in &self.custom {
            let found = regex.find_iter(&current).count();
            if found > 0 {
                counts.custom += found;
                current = regex.replace_all(&current, format!("[{label}]").as_str()).into_owned();
            }
        }
        let replace = |text: &str, regex: &Regex, label: &str, accept: &dyn Fn(&str) -> bool, count: &mut usize| -> String {
            let mut out = String::with_capacity(text.len());
            let mut last = 0;
            for found in regex.find_iter(text) {
                if standalone(text, found.start(), found.end()) && accept(found.as_str()) {
                    out.push_str(&text[last..found.start()]);
                    out.push_str(label);
                    last = found.end();
                    *count += 1;
                }
            }
            out.push_str(&text[last..]);
            out
        };
        current = replace(&current, &self.resident_id, "[身份证号]", &valid_resident_id, &mut counts.resident_id);
        current = replace(&current, &self.bank_card, "[银行卡号]", &valid_luhn, &mut counts.bank_card);
        current = replace(&current, &self.mobile, "[手机号]", &|_| true, &mut counts.mobile);
        current = replace(&current, &self.email, "[邮箱]", &|_| true, &mut counts.email);
        (current, counts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: &str) {
        let redactor = Redactor::new(&RedactionRules { patterns: vec![CustomPattern { label: "病历号".into(), pattern: "MRN[0-9]{8}".into() }] }).unwrap();
        assert_eq!(redactor.redact(input).0, expected, "{input}");
    }

    #[test]
    fn identifiers_are_redacted_and_look_alikes_are_not() {
        // 11010519491231002X is the standard's worked example of a valid number.
        check("患者身份证11010519491231002X，请核对", "患者身份证[身份证号]，请核对");
        check("号码110105194912310021无效", "号码110105194912310021无效");
        check("电话13812345678或+86 139-1234-5678", "电话[手机号]或[手机号]");
        check("联系 zhang.san@example.com 即可", "联系 [邮箱] 即可");
        check("卡号 4111 1111 1111 1111 已冻结", "卡号 [银行卡号] 已冻结");
        check("卡号 4111 1111 1111 1112 无效", "卡号 4111 1111 1111 1112 无效");
        check("病历号MRN12345678复诊", "病历号[病历号]复诊");
        check("血糖7.8 mmol/L，2026年11月25日复查，剂量500 mg", "血糖7.8 mmol/L，2026年11月25日复查，剂量500 mg");
    }

    #[test]
    fn counts_never_carry_values() {
        let redactor = Redactor::new(&RedactionRules::default()).unwrap();
        let (text, counts) = redactor.redact("13812345678 13912345678 a@b.cn");
        assert_eq!(text, "[手机号] [手机号] [邮箱]");
        assert_eq!((counts.mobile, counts.email, counts.total()), (2, 1, 3));
    }

    #[test]
    fn a_bad_custom_pattern_is_named() {
        let error = Redactor::new(&RedactionRules { patterns: vec![CustomPattern { label: "病历号".into(), pattern: "MRN[".into() }] }).err().unwrap();
        assert!(error.to_string().starts_with("redaction pattern \"病历号\" is not a valid regular expression"));
    }
}
