//! Scoring: from per-item outcomes to accuracies with intervals, and paired comparisons.
//!
//! The unit of scoring is an item in one language. With rotation (CircularEval) a unit has one
//! outcome per rotation and counts as correct only when every rotation is correct; the plain
//! mean over rotations is reported beside it. Units whose request failed (status `error`) were
//! never measured: they are left out of accuracies and counted separately, and the CLI exits 1.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::item::{Kind, Lang, Severity};
use crate::stats::{holm, mcnemar_exact, paired_bootstrap, wilson, Z95};
use crate::taxonomy::{self, Group};

pub const RESULTS_SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// An answer was extracted (right or wrong).
    Ok,
    /// The reply had no answer that could be read; counted wrong.
    Invalid,
    /// The request failed after retries; not scored.
    Error,
}

/// What scoring needs from one journal record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    pub item_id: String,
    pub item_hash: String,
    pub dimension: String,
    pub severity: Severity,
    pub kind: Kind,
    pub lang: Lang,
    pub rotation: usize,
    pub status: Status,
    pub correct: bool,
    /// Letters the model committed to, as shown.
    pub extracted: Option<String>,
    /// Letters of the key, as shown.
    pub key: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Accuracy {
    /// Scored units (errors excluded).
    pub n: u64,
    pub correct: u64,
    pub accuracy: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub invalid: u64,
    pub errors: u64,
}

impl Accuracy {
    fn add(&mut self, unit: &Unit) {
        if unit.error {
            self.errors += 1;
            return;
        }
        self.n += 1;
        self.correct += unit.correct as u64;
        self.invalid += unit.invalid as u64;
    }

    fn finish(mut self) -> Self {
        self.accuracy = if self.n == 0 { 0.0 } else { self.correct as f64 / self.n as f64 };
        let (low, high) = wilson(self.correct, self.n, Z95);
        self.ci_low = low;
        self.ci_high = high;
        self
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DimensionResult {
    pub code: String,
    pub group: String,
    pub name_zh: String,
    pub name_en: String,
    #[serde(flatten)]
    pub accuracy: Accuracy,
    pub critical_wrong: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PositionBias {
    pub letter: String,
    /// How often the model chose this letter (single-answer outcomes with an answer).
    pub chosen: u64,
    /// How often the key was at this letter.
    pub key: u64,
    pub chosen_rate: f64,
    pub key_rate: f64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RotationSummary {
    pub n_rotations_max: usize,
    /// Correct in every rotation (the headline figure when rotating).
    pub consistent: Accuracy,
    /// Plain accuracy over all rotated outcomes.
    pub mean_over_rotations: f64,
    pub position_bias: Vec<PositionBias>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Scores {
    pub overall: Accuracy,
    pub groups: BTreeMap<String, Accuracy>,
    pub dimensions: Vec<DimensionResult>,
    pub severities: BTreeMap<String, Accuracy>,
    pub languages: BTreeMap<String, Accuracy>,
    pub critical_wrong: u64,
    pub invalid_rate: f64,
    pub rotation: Option<RotationSummary>,
}

struct Unit {
    dimension: String,
    severity: Severity,
    lang: Lang,
    correct: bool,
    invalid: bool,
    error: bool,
}

fn units(outcomes: &[Outcome]) -> Vec<Unit> {
    let mut grouped: BTreeMap<(&str, Lang), Vec<&Outcome>> = BTreeMap::new();
    for outcome in outcomes {
        grouped.entry((outcome.item_hash.as_str(), outcome.lang)).or_default().push(outcome);
    }
    grouped
        .into_values()
        .filter_map(|members| {
            let first = members.first()?;
            Some(Unit {
                dimension: first.dimension.clone(),
                severity: first.severity,
                lang: first.lang,
                correct: members.iter().all(|outcome| outcome.correct && outcome.status == Status::Ok),
                invalid: members.iter().any(|outcome| outcome.status == Status::Invalid),
                error: members.iter().any(|outcome| outcome.status == Status::Error),
            })
        })
        .collect()
}

/// Score a run. Order of outcomes does not matter.
pub fn score(outcomes: &[Outcome]) -> Scores {
    let units = units(outcomes);
    let mut overall = Accuracy::default();
    let mut groups: BTreeMap<String, Accuracy> = BTreeMap::new();
    let mut dimensions: BTreeMap<String, (Accuracy, u64)> = BTreeMap::new();
    let mut severities: BTreeMap<String, Accuracy> = BTreeMap::new();
    let mut languages: BTreeMap<String, Accuracy> = BTreeMap::new();
    let mut critical_wrong = 0;
    for unit in &units {
        overall.add(unit);
        let group = taxonomy::dimension(&unit.dimension).map_or("unknown", |dimension| dimension.group.as_str());
        groups.entry(group.to_string()).or_default().add(unit);
        let entry = dimensions.entry(unit.dimension.clone()).or_default();
        entry.0.add(unit);
        let wrong_critical = unit.severity == Severity::Critical && !unit.correct && !unit.error;
        if wrong_critical {
            entry.1 += 1;
            critical_wrong += 1;
        }
        severities.entry(unit.severity.as_str().to_string()).or_default().add(unit);
        languages.entry(unit.lang.as_str().to_string()).or_default().add(unit);
    }
    let overall = overall.finish();
    let invalid_rate = if overall.n == 0 { 0.0 } else { overall.invalid as f64 / overall.n as f64 };
    let max_rotation = outcomes.iter().map(|outcome| outcome.rotation).max().unwrap_or(0);
    Scores {
        invalid_rate,
        critical_wrong,
        groups: groups.into_iter().map(|(key, value)| (key, value.finish())).collect(),
        dimensions: dimensions
            .into_iter()
            .map(|(code, (accuracy, critical_wrong))| {
                let known = taxonomy::dimension(&code);
                DimensionResult {
                    group: known.map_or("unknown", |dimension| dimension.group.as_str()).to_string(),
                    name_zh: known.map_or("", |dimension| dimension.name_zh).to_string(),
                    name_en: known.map_or("", |dimension| dimension.name_en).to_string(),
                    code,
                    accuracy: accuracy.finish(),
                    critical_wrong,
                }
            })
            .collect(),
        severities: severities.into_iter().map(|(key, value)| (key, value.finish())).collect(),
        languages: languages.into_iter().map(|(key, value)| (key, value.finish())).collect(),
        rotation: (max_rotation > 0).then(|| rotation_summary(outcomes, &overall, max_rotation + 1)),
        overall,
    }
}

fn rotation_summary(outcomes: &[Outcome], consistent: &Accuracy, n_rotations_max: usize) -> RotationSummary {
    let scored: Vec<&Outcome> = outcomes.iter().filter(|outcome| outcome.status != Status::Error).collect();
    let mean_over_rotations = if scored.is_empty() { 0.0 } else { scored.iter().filter(|outcome| outcome.correct).count() as f64 / scored.len() as f64 };
    let mut chosen: BTreeMap<char, u64> = BTreeMap::new();
    let mut key: BTreeMap<char, u64> = BTreeMap::new();
    let mut n_single = 0u64;
    for outcome in scored.iter().filter(|outcome| outcome.kind == Kind::Single) {
        n_single += 1;
        for letter in outcome.key.chars() {
            *key.entry(letter).or_default() += 1;
        }
        if let Some(letters) = &outcome.extracted {
            for letter in letters.chars() {
                *chosen.entry(letter).or_default() += 1;
            }
        }
    }
    let letters: BTreeSet<char> = chosen.keys().chain(key.keys()).copied().collect();
    let rate = |count: u64| if n_single == 0 { 0.0 } else { count as f64 / n_single as f64 };
    RotationSummary {
        n_rotations_max,
        consistent: consistent.clone(),
        mean_over_rotations,
        position_bias: letters
            .into_iter()
            .map(|letter| {
                let chosen = chosen.get(&letter).copied().unwrap_or(0);
                let key = key.get(&letter).copied().unwrap_or(0);
                PositionBias { letter: letter.to_string(), chosen, key, chosen_rate: rate(chosen), key_rate: rate(key) }
            })
            .collect(),
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PairedResult {
    pub scope: String,
    pub n_pairs: u64,
    pub accuracy_a: f64,
    pub accuracy_b: f64,
    /// accuracy_b − accuracy_a.
    pub difference: f64,
    pub bootstrap_low: f64,
    pub bootstrap_high: f64,
    /// Pairs only A got right.
    pub only_a: u64,
    /// Pairs only B got right.
    pub only_b: u64,
    pub p_value: f64,
    /// Holm-adjusted across the dimensions (the overall row is not part of the family).
    pub p_holm: f64,
    pub significant: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Flip {
    pub item_id: String,
    pub dimension: String,
    pub lang: Lang,
    pub severity: Severity,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub overall: PairedResult,
    pub dimensions: Vec<PairedResult>,
    /// Wrong in A, right in B.
    pub improved: Vec<Flip>,
    /// Right in A, wrong in B.
    pub regressed: Vec<Flip>,
    pub only_in_a: u64,
    pub only_in_b: u64,
    pub bootstrap_resamples: usize,
    pub seed: u64,
}

fn unit_map(outcomes: &[Outcome]) -> BTreeMap<(String, Lang), (bool, &Outcome)> {
    let mut grouped: BTreeMap<(String, Lang), Vec<&Outcome>> = BTreeMap::new();
    for outcome in outcomes {
        grouped.entry((outcome.item_hash.clone(), outcome.lang)).or_default().push(outcome);
    }
    grouped
        .into_iter()
        .filter_map(|(key, members)| {
            if members.iter().any(|outcome| outcome.status == Status::Error) {
                return None;
            }
            let correct = members.iter().all(|outcome| outcome.correct);
            Some((key, (correct, *members.first()?)))
        })
        .collect()
}

fn paired(scope: &str, pairs: &[(bool, bool)], resamples: usize, seed: u64) -> PairedResult {
    let n = pairs.len() as u64;
    let correct_a = pairs.iter().filter(|pair| pair.0).count() as f64;
    let correct_b = pairs.iter().filter(|pair| pair.1).count() as f64;
    let only_a = pairs.iter().filter(|pair| pair.0 && !pair.1).count() as u64;
    let only_b = pairs.iter().filter(|pair| !pair.0 && pair.1).count() as u64;
    let (low, high) = paired_bootstrap(pairs, resamples, seed);
    let p_value = mcnemar_exact(only_a, only_b);
    let accuracy_a = if n == 0 { 0.0 } else { correct_a / n as f64 };
    let accuracy_b = if n == 0 { 0.0 } else { correct_b / n as f64 };
    PairedResult {
        scope: scope.to_string(),
        n_pairs: n,
        accuracy_a,
        accuracy_b,
        difference: accuracy_b - accuracy_a,
        bootstrap_low: low,
        bootstrap_high: high,
        only_a,
        only_b,
        p_value,
        p_holm: p_value,
        significant: p_value < 0.05,
    }
}

/// Paired comparison of two runs on the units (item content hash × language) both scored.
pub fn compare(a: &[Outcome], b: &[Outcome], resamples: usize, seed: u64) -> Comparison {
    let units_a = unit_map(a);
    let units_b = unit_map(b);
    let mut all_pairs = Vec::new();
    let mut by_dimension: BTreeMap<String, Vec<(bool, bool)>> = BTreeMap::new();
    let mut improved = Vec::new();
    let mut regressed = Vec::new();
    for (key, (correct_a, outcome)) in &units_a {
        let Some((correct_b, _)) = units_b.get(key) else { continue };
        all_pairs.push((*correct_a, *correct_b));
        by_dimension.entry(outcome.dimension.clone()).or_default().push((*correct_a, *correct_b));
        let flip = || Flip { item_id: outcome.item_id.clone(), dimension: outcome.dimension.clone(), lang: outcome.lang, severity: outcome.severity };
        match (correct_a, correct_b) {
            (false, true) => improved.push(flip()),
            (true, false) => regressed.push(flip()),
            _ => {}
        }
    }
    improved.sort();
    regressed.sort();
    let mut dimensions: Vec<PairedResult> = by_dimension.iter().map(|(code, pairs)| paired(code, pairs, resamples, seed)).collect();
    let adjusted = holm(&dimensions.iter().map(|row| row.p_value).collect::<Vec<_>>());
    for (row, p_holm) in dimensions.iter_mut().zip(adjusted) {
        row.p_holm = p_holm;
        row.significant = p_holm < 0.05;
    }
    Comparison {
        overall: paired("overall", &all_pairs, resamples, seed),
        dimensions,
        improved,
        regressed,
        only_in_a: units_a.keys().filter(|key| !units_b.contains_key(*key)).count() as u64,
        only_in_b: units_b.keys().filter(|key| !units_a.contains_key(*key)).count() as u64,
        bootstrap_resamples: resamples,
        seed,
    }
}

/// The group of a dimension code, for callers that only have the code.
pub fn group_of(code: &str) -> Option<Group> {
    taxonomy::dimension(code).map(|dimension| dimension.group)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn outcome(index: usize, dimension: &str, correct: bool, status: Status, rotation: usize) -> Outcome {
        Outcome {
            item_id: format!("{dimension}-{index:04}"),
            item_hash: format!("hash-{dimension}-{index}"),
            dimension: dimension.into(),
            severity: if index % 4 == 0 { Severity::Critical } else { Severity::Medium },
            kind: Kind::Single,
            lang: Lang::Zh,
            rotation,
            status,
            correct,
            extracted: (status == Status::Ok).then(|| if correct { "B".to_string() } else { "A".to_string() }),
            key: "B".into(),
        }
    }

    #[test]
    fn errors_are_not_scored_and_invalid_counts_wrong() {
        let outcomes = vec![
            outcome(1, "E01", true, Status::Ok, 0),
            outcome(2, "E01", false, Status::Invalid, 0),
            outcome(3, "E01", false, Status::Error, 0),
            outcome(4, "S01", false, Status::Ok, 0),
        ];
        let scores = score(&outcomes);
        assert_eq!(scores.overall.n, 3);
        assert_eq!(scores.overall.correct, 1);
        assert_eq!(scores.overall.invalid, 1);
        assert_eq!(scores.overall.errors, 1);
        assert_eq!(scores.critical_wrong, 1);
        assert_eq!(scores.groups["ethics"].n, 2);
        assert_eq!(scores.dimensions.len(), 2);
    }

    #[test]
    fn rotation_requires_every_rotation_correct() {
        let outcomes = vec![
            outcome(1, "E01", true, Status::Ok, 0),
            outcome(1, "E01", false, Status::Ok, 1),
            outcome(2, "E01", true, Status::Ok, 0),
            outcome(2, "E01", true, Status::Ok, 1),
        ];
        let scores = score(&outcomes);
        assert_eq!(scores.overall.correct, 1);
        let rotation = scores.rotation.unwrap();
        assert_eq!(rotation.mean_over_rotations, 0.75);
        assert_eq!(rotation.n_rotations_max, 2);
    }

    #[test]
    fn compare_finds_flips_and_known_difference() {
        let a: Vec<Outcome> = (0..40).map(|index| outcome(index, "E01", index < 10, Status::Ok, 0)).collect();
        let b: Vec<Outcome> = (0..40).map(|index| outcome(index, "E01", index < 30, Status::Ok, 0)).collect();
        let comparison = compare(&a, &b, 1000, 7);
        assert_eq!(comparison.improved.len(), 20);
        assert!(comparison.regressed.is_empty());
        assert!((comparison.overall.difference - 0.5).abs() < 1e-12);
        assert!(comparison.overall.p_value < 1e-5);
        assert!(comparison.dimensions[0].significant);
        assert!(comparison.overall.bootstrap_low > 0.3);
    }

    proptest! {
        #[test]
        fn accuracy_is_unchanged_by_order(flags in proptest::collection::vec(any::<bool>(), 1..100), seed in any::<u64>()) {
            let outcomes: Vec<Outcome> = flags.iter().enumerate().map(|(index, &correct)| outcome(index, if index % 2 == 0 { "E01" } else { "S03" }, correct, Status::Ok, 0)).collect();
            let mut shuffled = outcomes.clone();
            let mut rng = crate::rng::SplitMix64::new(seed);
            for index in (1..shuffled.len()).rev() {
                let other = rng.below(index as u64 + 1) as usize;
                shuffled.swap(index, other);
            }
            prop_assert_eq!(score(&outcomes), score(&shuffled));
        }

        #[test]
        fn interval_contains_accuracy(flags in proptest::collection::vec(any::<bool>(), 1..200)) {
            let outcomes: Vec<Outcome> = flags.iter().enumerate().map(|(index, &correct)| outcome(index, "S07", correct, Status::Ok, 0)).collect();
            let scores = score(&outcomes);
            prop_assert!(scores.overall.ci_low <= scores.overall.accuracy && scores.overall.accuracy <= scores.overall.ci_high);
        }
    }
}
