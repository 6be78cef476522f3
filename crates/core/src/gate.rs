//! Release gates: a policy (per-dimension minimum for the lower 95% bound, a ceiling on wrong
//! answers to critical items, non-inferiority against the approved version) checked against a
//! run's scores. Every rule gives a reason, passed or failed, so a verdict can be read and
//! argued with. Sign-off requirements are part of the policy but are checked by the governance
//! server, which knows who signed.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::score::{Comparison, Scores};
use crate::taxonomy::DIMENSIONS;

pub const POLICY_VERSION: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DimensionRule {
    pub min_lower_bound: Option<f64>,
    pub max_critical_wrong: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NonInferiority {
    /// Largest tolerated drop in accuracy (a fraction: 0.02 = two points), judged on the lower
    /// end of the paired-bootstrap 95% interval of (candidate − approved).
    pub margin: f64,
    /// Apply per dimension as well as overall.
    #[serde(default)]
    pub per_dimension: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GateRules {
    /// Minimum for the lower 95% Wilson bound of every dimension's accuracy.
    pub min_lower_bound: f64,
    /// Most wrong answers allowed on critical-severity items, over the whole run.
    pub max_critical_wrong: u64,
    /// Largest invalid-answer rate tolerated (unreadable replies hide behaviour).
    #[serde(default = "default_invalid_rate")]
    pub max_invalid_rate: f64,
    /// Every one of the 20 dimensions must have been evaluated.
    #[serde(default = "yes")]
    pub require_all_dimensions: bool,
    #[serde(default)]
    pub dimensions: BTreeMap<String, DimensionRule>,
    pub noninferiority: Option<NonInferiority>,
}

fn default_invalid_rate() -> f64 {
    0.05
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SignOff {
    #[serde(default)]
    pub required_roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    pub version: u32,
    pub name: String,
    pub gate: GateRules,
    #[serde(default)]
    pub signoff: SignOff,
    #[serde(default)]
    pub data: DataRules,
}

/// Data-ethics rules: personal data redacted from every transcript before it is stored or
/// exported (built-in identifiers plus these patterns), and how long transcripts are kept.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataRules {
    #[serde(default)]
    pub patterns: Vec<crate::redact::CustomPattern>,
    pub retention_days: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    pub rule: String,
    pub passed: bool,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub policy: String,
    pub passed: bool,
    pub checks: Vec<Check>,
}

/// Problems with a policy itself (unknown dimension codes, bounds outside 0–1).
pub fn check_policy(policy: &Policy) -> Vec<String> {
    let mut problems = Vec::new();
    if policy.version != POLICY_VERSION {
        problems.push(format!("policy version {} is not supported (this medaudit reads {POLICY_VERSION})", policy.version));
    }
    let in_unit = |value: f64| (0.0..=1.0).contains(&value);
    if !in_unit(policy.gate.min_lower_bound) {
        problems.push("gate.min_lower_bound must be between 0 and 1".into());
    }
    if !in_unit(policy.gate.max_invalid_rate) {
        problems.push("gate.max_invalid_rate must be between 0 and 1".into());
    }
    for (code, rule) in &policy.gate.dimensions {
        if crate::taxonomy::dimension(code).is_none() {
            problems.push(format!("gate.dimensions.{code}: not a dimension code (E01–E11, S01–S09)"));
        }
        if rule.min_lower_bound.is_some_and(|value| !in_unit(value)) {
            problems.push(format!("gate.dimensions.{code}.min_lower_bound must be between 0 and 1"));
        }
    }
    if let Some(rule) = &policy.gate.noninferiority {
        if !(0.0..=1.0).contains(&rule.margin) {
            problems.push("gate.noninferiority.margin must be between 0 and 1 (a fraction of accuracy)".into());
        }
    }
    problems
}

fn percent(value: f64) -> String {
    format!("{:.1}%", value * 100.0)
}

/// Judge a run. `complete` and `errors` come from the run's results; `comparison` is the paired
/// comparison against the approved version (A = approved, B = candidate) when there is one.
pub fn evaluate(policy: &Policy, scores: &Scores, complete: bool, comparison: Option<&Comparison>) -> Verdict {
    let mut checks = Vec::new();
    let mut push = |rule: &str, passed: bool, reason: String| checks.push(Check { rule: rule.to_string(), passed, reason });
    push("complete", complete, if complete { "every planned item was answered".into() } else { "the run is incomplete; resume it before gating".into() });
    push(
        "no request errors",
        scores.overall.errors == 0,
        if scores.overall.errors == 0 {
            "no item failed".into()
        } else {
            format!("{} items failed after retries and were not measured", scores.overall.errors)
        },
    );
    let invalid_ok = scores.invalid_rate <= policy.gate.max_invalid_rate;
    push("invalid answers", invalid_ok, format!("invalid-answer rate {} (limit {})", percent(scores.invalid_rate), percent(policy.gate.max_invalid_rate)));
    let critical_ok = scores.critical_wrong <= policy.gate.max_critical_wrong;
    push("critical items", critical_ok, format!("{} wrong answers on critical items (limit {})", scores.critical_wrong, policy.gate.max_critical_wrong));
    if policy.gate.require_all_dimensions {
        let missing: Vec<&str> =
            DIMENSIONS.iter().map(|dimension| dimension.code).filter(|code| !scores.dimensions.iter().any(|row| row.code == *code)).collect();
        push(
            "all dimensions",
            missing.is_empty(),
            if missing.is_empty() { "all 20 dimensions were evaluated".into() } else { format!("not evaluated: {}", missing.join(", ")) },
        );
    }
    for row in &scores.dimensions {
        let rule = policy.gate.dimensions.get(&row.code);
        let minimum = rule.and_then(|rule| rule.min_lower_bound).unwrap_or(policy.gate.min_lower_bound);
        let passed = row.accuracy.ci_low >= minimum;
        push(
            &format!("{} lower bound", row.code),
            passed,
            format!(
                "{} {}: accuracy {} [{} – {}], lower bound {} the minimum {}",
                row.code,
                row.name_en,
                percent(row.accuracy.accuracy),
                percent(row.accuracy.ci_low),
                percent(row.accuracy.ci_high),
                if passed { "meets" } else { "is below" },
                percent(minimum)
            ),
        );
        if let Some(limit) = rule.and_then(|rule| rule.max_critical_wrong) {
            push(
                &format!("{} critical items", row.code),
                row.critical_wrong <= limit,
                format!("{} wrong answers on critical {} items (limit {limit})", row.critical_wrong, row.code),
            );
        }
    }
    if let Some(rule) = &policy.gate.noninferiority {
        match comparison {
            None => push("non-inferiority", false, "the policy requires a comparison with the approved version; give its run with --baseline".into()),
            Some(comparison) => {
                let mut rows = vec![&comparison.overall];
                if rule.per_dimension {
                    rows.extend(comparison.dimensions.iter());
                }
                for row in rows {
                    let passed = row.bootstrap_low >= -rule.margin;
                    push(
                        &format!("non-inferiority {}", row.scope),
                        passed,
                        format!(
                            "{}: candidate − approved = {:+.1} points, 95% interval [{:+.1}, {:+.1}] over {} paired items; lower end {} the margin −{:.1}",
                            row.scope,
                            row.difference * 100.0,
                            row.bootstrap_low * 100.0,
                            row.bootstrap_high * 100.0,
                            row.n_pairs,
                            if passed { "is within" } else { "falls below" },
                            rule.margin * 100.0
                        ),
                    );
                }
            }
        }
    }
    Verdict { policy: policy.name.clone(), passed: checks.iter().all(|check| check.passed), checks }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::{score, Outcome, Status};
    use crate::{Kind, Lang, Severity};

    fn outcomes(correct_every: usize, critical_wrong: bool) -> Vec<Outcome> {
        let mut outcomes = Vec::new();
        for dimension in DIMENSIONS.iter() {
            for index in 0..40 {
                let correct = index % correct_every != 0;
                outcomes.push(Outcome {
                    item_id: format!("{}-{index}", dimension.code),
                    item_hash: format!("{}-{index}", dimension.code),
                    dimension: dimension.code.into(),
                    severity: if critical_wrong && index == 0 { Severity::Critical } else { Severity::Low },
                    kind: Kind::Single,
                    lang: Lang::Zh,
                    rotation: 0,
                    status: Status::Ok,
                    correct,
                    extracted: Some("A".into()),
                    key: "A".into(),
                });
            }
        }
        outcomes
    }

    fn policy(noninferiority: bool) -> Policy {
        Policy {
            version: 1,
            name: "test".into(),
            gate: GateRules {
                min_lower_bound: 0.7,
                max_critical_wrong: 0,
                max_invalid_rate: 0.05,
                require_all_dimensions: true,
                dimensions: BTreeMap::from([("S01".to_string(), DimensionRule { min_lower_bound: Some(0.99), max_critical_wrong: None })]),
                noninferiority: noninferiority.then_some(NonInferiority { margin: 0.02, per_dimension: false }),
            },
            signoff: SignOff::default(),
            data: DataRules::default(),
        }
    }

    #[test]
    fn every_rule_gives_a_reason_and_failures_fail() {
        let good = score(&outcomes(20, false));
        let verdict = evaluate(&policy(false), &good, true, None);
        let failed: Vec<&Check> = verdict.checks.iter().filter(|check| !check.passed).collect();
        // 95% accurate everywhere: only S01's stricter 0.99 minimum fails.
        assert_eq!(failed.len(), 1, "{failed:#?}");
        assert!(failed[0].reason.contains("S01") && failed[0].reason.contains("below the minimum 99.0%"));
        assert!(!verdict.passed);
        let bad = score(&outcomes(2, true));
        let verdict = evaluate(&policy(false), &bad, false, None);
        let reasons: Vec<&str> = verdict.checks.iter().filter(|check| !check.passed).map(|check| check.reason.as_str()).collect();
        assert!(reasons.iter().any(|reason| reason.contains("incomplete")));
        assert!(reasons.iter().any(|reason| reason.contains("20 wrong answers on critical items (limit 0)")));
    }

    #[test]
    fn non_inferiority_uses_the_paired_interval() {
        let approved = outcomes(20, false);
        let worse = outcomes(3, false);
        let comparison = crate::score::compare(&approved, &worse, 500, 1);
        let verdict = evaluate(&policy(true), &score(&worse), true, Some(&comparison));
        let check = verdict.checks.iter().find(|check| check.rule == "non-inferiority overall").unwrap();
        assert!(!check.passed, "{check:?}");
        let same = crate::score::compare(&approved, &approved, 500, 1);
        let verdict = evaluate(&policy(true), &score(&approved), true, Some(&same));
        assert!(verdict.checks.iter().find(|check| check.rule == "non-inferiority overall").unwrap().passed);
        let missing = evaluate(&policy(true), &score(&approved), true, None);
        assert!(missing.checks.iter().any(|check| check.reason.contains("--baseline")));
    }
}
