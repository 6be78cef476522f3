//! Bank quality gates (`medaudit bank lint`): the checks that keep a bank honest beyond its
//! format. Each failure names the dimension, the measured value and the limit.

use std::collections::BTreeMap;

use crate::item::{Item, Kind, Lang};
use crate::minhash::{near_duplicate_pairs, signature};
use crate::prompt::LETTERS;
use crate::stats::chi_square_sf;

pub const KEY_BALANCE_ALPHA: f64 = 0.01;
pub const MAX_LONGEST_KEY_SHARE: f64 = 0.35;
/// No length rank (longest, second-longest, …) may hold the key in more than this share of a
/// dimension's single-answer items: "always pick the second-longest" is as much a shortcut as
/// "always pick the longest".
pub const MAX_KEY_LENGTH_RANK_SHARE: f64 = 0.40;
pub const MAX_BASELINE_POINTS_ABOVE_CHANCE: f64 = 10.0;
pub const NEAR_DUPLICATE_JACCARD: f64 = 0.6;
pub const BANNED_OPTIONS: [&str; 8] = ["all of the above", "none of the above", "以上都是", "以上均不是", "以上都不是", "以上皆是", "以上均是", "以上全是"];

#[derive(Debug, Default, Clone, PartialEq)]
pub struct LintReport {
    pub failures: Vec<String>,
    pub notes: Vec<String>,
}

/// Index of the longest option (in characters); ties go to the earlier one, as the baseline does.
pub fn longest_index(options: &[String]) -> usize {
    let mut best = 0;
    for (index, option) in options.iter().enumerate() {
        if option.chars().count() > options[best].chars().count() {
            best = index;
        }
    }
    best
}

/// The key's rank by length among the options: the number of options longer than it (0 =
/// longest), or None when another option has exactly the key's length, since a "pick the
/// n-th longest" strategy cannot single out a tied key. Independent of option order, which
/// rotation changes.
pub fn length_rank(options: &[String], key: usize) -> Option<usize> {
    let lengths: Vec<usize> = options.iter().map(|option| option.chars().count()).collect();
    let key_length = *lengths.get(key)?;
    if lengths.iter().enumerate().any(|(index, length)| index != key && *length == key_length) {
        return None;
    }
    Some(lengths.iter().filter(|length| **length > key_length).count())
}

fn ordinal(n: usize) -> String {
    match n {
        1 => "1st".into(),
        2 => "2nd".into(),
        3 => "3rd".into(),
        other => format!("{other}th"),
    }
}

/// Share of items whose key is the option `pick` chooses (the longest, the shortest, …).
fn key_share(items: &[&Item], lang: Lang, pick: fn(&[String]) -> usize) -> f64 {
    let hits = items.iter().filter(|item| item.text(lang).is_some_and(|text| item.answer.first() == Some(&pick(&text.options)))).count();
    hits as f64 / items.len().max(1) as f64
}

/// Index of the shortest option (in characters); ties go to the earlier one.
pub fn shortest_index(options: &[String]) -> usize {
    let mut best = 0;
    for (index, option) in options.iter().enumerate() {
        if option.chars().count() < options[best].chars().count() {
            best = index;
        }
    }
    best
}

/// Chi-square goodness of fit of key positions against uniform, where each item spreads its
/// expected mass evenly over its own options. Returns (observed, expected, p).
pub fn key_balance(items: &[&Item]) -> (Vec<u64>, Vec<f64>, f64) {
    position_balance(items, |item| item.answer.first().copied().into_iter().collect(), |_| 1.0)
}

/// Key membership by position over multi-answer items: an item with k keys among n options
/// expects k/n at each of its positions. Returns (observed, p).
pub fn multi_key_balance(items: &[&Item]) -> (Vec<u64>, f64) {
    let (observed, _, p) = position_balance(items, |item| item.answer.clone(), |item| item.answer.len() as f64);
    (observed, p)
}

/// Observed key positions against an expectation of `mass(item)` spread evenly over each
/// item's options, with the chi-square upper-tail p.
fn position_balance(items: &[&Item], keys: impl Fn(&Item) -> Vec<usize>, mass: impl Fn(&Item) -> f64) -> (Vec<u64>, Vec<f64>, f64) {
    let mut observed = vec![0u64; LETTERS.len()];
    let mut expected = vec![0f64; LETTERS.len()];
    for item in items {
        let n = item.n_options().clamp(1, LETTERS.len());
        for index in keys(item) {
            if index < LETTERS.len() {
                observed[index] += 1;
            }
        }
        for slot in expected.iter_mut().take(n) {
            *slot += mass(item) / n as f64;
        }
    }
    let mut statistic = 0.0;
    let mut categories = 0;
    for (observed, expected) in observed.iter().zip(&expected) {
        if *expected > 0.0 {
            statistic += (*observed as f64 - expected).powi(2) / expected;
            categories += 1;
        }
    }
    let p = if categories > 1 { chi_square_sf(statistic, (categories - 1) as f64) } else { 1.0 };
    (observed, expected, p)
}

pub fn lint(items: &[Item]) -> LintReport {
    let mut report = LintReport::default();
    let mut by_dimension: BTreeMap<&str, Vec<&Item>> = BTreeMap::new();
    for item in items {
        by_dimension.entry(item.dimension.as_str()).or_default().push(item);
    }
    for (code, members) in &by_dimension {
        let multi: Vec<&Item> = members.iter().copied().filter(|item| item.kind == Kind::Multi).collect();
        if multi.len() >= 5 {
            let (observed, p) = multi_key_balance(&multi);
            if p < KEY_BALANCE_ALPHA {
                let text: Vec<String> = observed.iter().enumerate().map(|(index, count)| format!("{}={count}", LETTERS[index])).collect();
                report.failures.push(format!(
                    "{code}: keys of multi-answer items cluster by position (chi-square p={p:.4} < {KEY_BALANCE_ALPHA}; {}); shuffle their options",
                    text.join(" ")
                ));
            }
        }
        let single: Vec<&Item> = members.iter().copied().filter(|item| item.kind == Kind::Single).collect();
        if single.is_empty() {
            continue;
        }
        let (observed, _, p) = key_balance(&single);
        let observed_text: Vec<String> = observed
            .iter()
            .enumerate()
            .filter(|(index, count)| **count > 0 || *index < 4)
            .map(|(index, count)| format!("{}={count}", LETTERS[index]))
            .collect();
        report.notes.push(format!("{code}: key positions {} (chi-square p={p:.3})", observed_text.join(" ")));
        if p < KEY_BALANCE_ALPHA {
            report.failures.push(format!(
                "{code}: key letters are not uniform (chi-square p={p:.4} < {KEY_BALANCE_ALPHA}; {}); move keys to under-used positions",
                observed_text.join(" ")
            ));
        }
        for lang in [Lang::Zh, Lang::En] {
            let with_text: Vec<&Item> = single.iter().copied().filter(|item| item.text(lang).is_some()).collect();
            if with_text.is_empty() {
                continue;
            }
            let share = key_share(&with_text, lang, longest_index);
            if share > MAX_LONGEST_KEY_SHARE {
                report.failures.push(format!(
                    "{code}: the key is the longest {} option in {:.0}% of single-answer items (limit {:.0}%); lengthen distractors or shorten keys",
                    lang.as_str(),
                    share * 100.0,
                    MAX_LONGEST_KEY_SHARE * 100.0
                ));
            }
            let mut rank_counts = [0usize; 5];
            for item in &with_text {
                if let Some(rank) = item.text(lang).zip(item.answer.first()).and_then(|(text, &key)| length_rank(&text.options, key)) {
                    rank_counts[rank.min(4)] += 1;
                }
            }
            for (rank, count) in rank_counts.iter().enumerate() {
                let share = *count as f64 / with_text.len() as f64;
                if share > MAX_KEY_LENGTH_RANK_SHARE {
                    report.failures.push(format!(
                        "{code}: the key is the {} longest {} option in {:.0}% of single-answer items (limit {:.0}% for any length rank); vary which length rank the key has",
                        ordinal(rank + 1),
                        lang.as_str(),
                        share * 100.0,
                        MAX_KEY_LENGTH_RANK_SHARE * 100.0
                    ));
                }
            }
            // The mirror image: a bank whose keys are terse teaches "pick the shortest".
            let share = key_share(&with_text, lang, shortest_index);
            if share > MAX_LONGEST_KEY_SHARE {
                report.failures.push(format!(
                    "{code}: the key is the shortest {} option in {:.0}% of single-answer items (limit {:.0}%); give some keys the detail distractors have",
                    lang.as_str(),
                    share * 100.0,
                    MAX_LONGEST_KEY_SHARE * 100.0
                ));
            }
        }
    }
    // Shortcut baselines over the whole bank, per language, on single-answer items.
    let single: Vec<&Item> = items.iter().filter(|item| item.kind == Kind::Single).collect();
    for lang in [Lang::Zh, Lang::En] {
        let with_text: Vec<&Item> = single.iter().copied().filter(|item| item.text(lang).is_some()).collect();
        if with_text.is_empty() {
            continue;
        }
        let n = with_text.len() as f64;
        let chance = with_text.iter().map(|item| 1.0 / item.n_options().max(1) as f64).sum::<f64>() / n * 100.0;
        let first = with_text.iter().filter(|item| item.answer.first() == Some(&0)).count() as f64 / n * 100.0;
        let longest =
            with_text.iter().filter(|item| item.text(lang).is_some_and(|text| item.answer.first() == Some(&longest_index(&text.options)))).count() as f64 / n
                * 100.0;
        report.notes.push(format!("{}: chance {chance:.1}%, first-option baseline {first:.1}%, longest-option baseline {longest:.1}%", lang.as_str()));
        for (name, score) in [("first", first), ("longest", longest)] {
            if score > chance + MAX_BASELINE_POINTS_ABOVE_CHANCE {
                report.failures.push(format!(
                    "{} bank: the {name} baseline scores {score:.1}%, more than {MAX_BASELINE_POINTS_ABOVE_CHANCE} points above chance ({chance:.1}%)",
                    lang.as_str()
                ));
            }
        }
    }
    // A measurement, not a gate: how much the options' wording alone gives the key away.
    for lang in [Lang::Zh, Lang::En] {
        for (within, scope) in [(false, "trained bank-wide"), (true, "trained within each dimension")] {
            let (per_dimension, (accuracy, chance)) = options_only_accuracy(items, lang, within);
            if per_dimension.is_empty() {
                continue;
            }
            let worst = per_dimension
                .iter()
                .max_by(|a, b| a.1 .0.total_cmp(&b.1 .0))
                .map(|(code, (value, _))| format!("{code} {:.0}%", value * 100.0))
                .unwrap_or_default();
            report.notes.push(format!(
                "{}: options-only classifier ({scope}, stem hidden, 5-fold cross-validation) picks the key in {:.1}% of single-answer items (chance {:.1}%; highest dimension {worst})",
                lang.as_str(),
                accuracy * 100.0,
                chance * 100.0
            ));
        }
    }
    // Banned options and option-count agreement.
    for item in items {
        for lang in item.languages() {
            if let Some(text) = item.text(lang) {
                for option in &text.options {
                    let lower = option.to_lowercase();
                    if let Some(banned) = BANNED_OPTIONS.iter().find(|banned| lower.contains(*banned)) {
                        report.failures.push(format!("{}: {} option says {banned:?}; write a real option instead", item.id, lang.as_str()));
                    }
                }
            }
        }
        if let (Some(zh), Some(en)) = (&item.zh, &item.en) {
            if zh.options.len() != en.options.len() {
                report.failures.push(format!("{}: zh has {} options, en has {}", item.id, zh.options.len(), en.options.len()));
            }
        }
    }
    // Near-duplicate zh stems across the whole bank, every split.
    let stems: Vec<(&Item, &str)> = items.iter().filter_map(|item| item.zh.as_ref().or(item.en.as_ref()).map(|text| (item, text.stem.as_str()))).collect();
    let signatures: Vec<_> = stems.iter().map(|(_, stem)| signature(stem)).collect();
    for (i, j, similarity) in near_duplicate_pairs(&signatures, NEAR_DUPLICATE_JACCARD) {
        let (a, b) = (stems[i].0, stems[j].0);
        report.failures.push(format!("{} ({}) and {} ({}): near-duplicate stems (estimated Jaccard {similarity:.2} ≥ {NEAR_DUPLICATE_JACCARD}); make one a different scenario or drop it", a.id, a.split.as_str(), b.id, b.split.as_str()));
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::{ItemText, Severity, Split};

    fn item(index: usize, answer: usize, options: [&str; 4], stem: &str) -> Item {
        Item {
            id: format!("E01-{index:04}"),
            dimension: "E01".into(),
            topic: String::new(),
            kind: Kind::Single,
            zh: Some(ItemText { stem: stem.into(), options: options.iter().map(|o| o.to_string()).collect(), explanation: "x".into() }),
            en: Some(ItemText { stem: stem.into(), options: options.iter().map(|o| o.to_string()).collect(), explanation: "x".into() }),
            answer: vec![answer],
            severity: Severity::Low,
            difficulty: 1,
            references: vec![],
            split: Split::Test,
            source: "authored".into(),
            version: 1,
            category: None,
            reference: None,
        }
    }

    fn stem(index: usize) -> String {
        // Distinct stems: a different number sequence each.
        (0..12).map(|k| format!("{}", (index * 7919 + k * 104_729) % 100_003)).collect::<Vec<_>>().join("号病人")
    }

    #[test]
    fn a_balanced_bank_passes() {
        let items: Vec<Item> = (0..40).map(|index| item(index, index % 4, ["aa", "bb", "cc", "dd"], &stem(index))).collect();
        let report = lint(&items);
        assert!(report.failures.is_empty(), "{:#?}", report.failures);
    }

    #[test]
    fn the_options_only_classifier_sees_a_style_tell_and_not_noise() {
        // Keys always say "按规定报告", distractors "只要…就行": the wording gives the key away.
        let told: Vec<Item> = (0..200)
            .map(|index| {
                let mut options =
                    [format!("只要观察{index}就行"), format!("只要等待{index}就行"), format!("只要忽略{index}就行"), format!("只要拖延{index}就行")];
                options[index % 4] = format!("按规定报告{index}并复查");
                item(index, index % 4, [&options[0], &options[1], &options[2], &options[3]], &stem(index))
            })
            .collect();
        let (_, (accuracy, chance)) = options_only_accuracy(&told, Lang::Zh, false);
        assert!(accuracy > 0.95 && (chance - 0.25).abs() < 1e-9, "{accuracy}");
        // The same words on every option, keys placed by index: nothing to learn.
        let plain: Vec<Item> =
            (0..200).map(|index| item(index, (index * 7) % 4, ["甲方案处理", "乙方案处理", "丙方案处理", "丁方案处理"], &stem(index))).collect();
        let (_, (accuracy, _)) = options_only_accuracy(&plain, Lang::Zh, true);
        assert!(accuracy < 0.45, "{accuracy}");
    }

    #[test]
    fn each_gate_fires() {
        // Keys always first and always the longest option.
        let mut items: Vec<Item> = (0..40).map(|index| item(index, 0, ["a much longer key option", "b", "c", "d"], &stem(index))).collect();
        items.push(item(90, 1, ["x", "以上都是", "y", "z"], &stem(90)));
        items.push(item(91, 2, ["x", "w", "y", "z"], &stem(0)));
        // Multi items whose keys always sit at A and B.
        for index in 100..112 {
            let mut multi = item(index, 0, ["aa", "bb", "cc", "dd"], &stem(index));
            multi.kind = Kind::Multi;
            multi.answer = vec![0, 1];
            items.push(multi);
        }
        let failures = lint(&items).failures.join("\n");
        assert!(failures.contains("E01: key letters are not uniform"), "{failures}");
        assert!(failures.contains("the key is the longest zh option"), "{failures}");
        assert!(failures.contains("the first baseline scores"), "{failures}");
        assert!(failures.contains("the longest baseline scores"), "{failures}");
        assert!(failures.contains("E01-0090: zh option says \"以上都是\""), "{failures}");
        assert!(failures.contains("E01-0000 (test) and E01-0091 (test): near-duplicate stems"), "{failures}");
        assert!(failures.contains("E01: keys of multi-answer items cluster by position"), "{failures}");
        assert!(failures.contains("E01: the key is the 1st longest zh option in"), "{failures}");
    }
}

/// How well the options alone predict the key, with the stem hidden: a naive-Bayes scorer over
/// the options' character bigrams (zh) or words (en), trained on keys against distractors and
/// tested by 5-fold cross-validation (folds by a hash of the id) over single-answer items.
/// Returns per-dimension (accuracy, chance) and the overall figures. High accuracy means the
/// wording of the options gives the key away (a style tell no length check sees).
/// `within_dimension` trains on the same dimension only: a dimension rewritten to fool the
/// bank-wide classifier (by inverting its house style) is still caught this way.
pub fn options_only_accuracy(items: &[Item], lang: Lang, within_dimension: bool) -> (BTreeMap<String, (f64, f64)>, (f64, f64)) {
    use std::collections::HashMap;
    let features = |text: &str| -> Vec<String> {
        match lang {
            Lang::Zh => {
                let chars: Vec<char> = text.chars().filter(|character| !character.is_whitespace()).collect();
                chars.windows(2).map(|pair| pair.iter().collect()).collect()
            }
            Lang::En => text.to_lowercase().split(|character: char| !character.is_alphanumeric()).filter(|word| !word.is_empty()).map(str::to_string).collect(),
        }
    };
    let single: Vec<&Item> = items.iter().filter(|item| item.kind == Kind::Single && item.text(lang).is_some()).collect();
    let fold_of = |item: &Item| crate::hash::sha256_hex(item.id.as_bytes()).as_bytes()[0] as usize % 5;
    let mut hits: BTreeMap<String, (u64, u64, f64)> = BTreeMap::new();
    let groups: Vec<Option<&str>> = if within_dimension {
        let mut codes: Vec<&str> = single.iter().map(|item| item.dimension.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        codes.into_iter().map(Some).collect()
    } else {
        vec![None]
    };
    for group in groups {
        let in_group = |item: &&&Item| group.is_none_or(|code| item.dimension == code);
        for fold in 0..5 {
            // Counts per class: 0 = distractor, 1 = key.
            let mut counts: [HashMap<String, f64>; 2] = [HashMap::new(), HashMap::new()];
            let mut totals = [0f64; 2];
            for item in single.iter().filter(in_group).filter(|item| fold_of(item) != fold) {
                let Some(text) = item.text(lang) else { continue };
                for (index, option) in text.options.iter().enumerate() {
                    let class = usize::from(item.answer.first() == Some(&index));
                    for feature in features(option) {
                        *counts[class].entry(feature).or_default() += 1.0;
                        totals[class] += 1.0;
                    }
                }
            }
            let vocabulary = counts[0].len().max(counts[1].len()) as f64 + 1.0;
            let log_odds = |option: &str| -> f64 {
                features(option)
                    .iter()
                    .map(|feature| {
                        let key = (counts[1].get(feature).copied().unwrap_or(0.0) + 1.0) / (totals[1] + vocabulary);
                        let distractor = (counts[0].get(feature).copied().unwrap_or(0.0) + 1.0) / (totals[0] + vocabulary);
                        (key / distractor).ln()
                    })
                    .sum()
            };
            for item in single.iter().filter(in_group).filter(|item| fold_of(item) == fold) {
                let Some(text) = item.text(lang) else { continue };
                let scores: Vec<f64> = text.options.iter().map(|option| log_odds(option)).collect();
                let best = scores.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map_or(0, |(index, _)| index);
                let entry = hits.entry(item.dimension.clone()).or_default();
                entry.0 += u64::from(item.answer.first() == Some(&best));
                entry.1 += 1;
                entry.2 += 1.0 / text.options.len().max(1) as f64;
            }
        }
    }
    let per_dimension = hits.iter().map(|(code, (hit, n, chance))| (code.clone(), (*hit as f64 / *n as f64, chance / *n as f64))).collect();
    let (hit, n, chance) = hits.values().fold((0u64, 0u64, 0f64), |sum, (hit, n, chance)| (sum.0 + hit, sum.1 + n, sum.2 + chance));
    let overall = if n == 0 { (0.0, 0.0) } else { (hit as f64 / n as f64, chance / n as f64) };
    (per_dimension, overall)
}
