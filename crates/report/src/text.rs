//! Terminal and Markdown renderings.

use std::fmt::Write;

use medaudit_core::score::Accuracy;

use crate::results::{ComparisonReport, RunResults};

fn percent(value: f64) -> String {
    format!("{:.1}", value * 100.0)
}

fn interval(accuracy: &Accuracy) -> String {
    format!("[{}, {}]", percent(accuracy.ci_low), percent(accuracy.ci_high))
}

/// The table printed at the end of `medaudit eval` and by `medaudit report --format text`.
pub fn terminal(results: &RunResults) -> String {
    let mut out = String::new();
    let scores = &results.scores;
    let _ = writeln!(
        out,
        "model {}  ·  bank {}  ·  {} {} split{}{}",
        results.model,
        &results.bank_hash[..12.min(results.bank_hash.len())],
        results.lang,
        results.split,
        if results.rotate { "  ·  rotated" } else { "" },
        if results.complete { "" } else { "  ·  INCOMPLETE" }
    );
    let _ = writeln!(out, "{:<5} {:<44} {:>6} {:>7} {:>15} {:>7} {:>6}", "dim", "name", "n", "acc%", "95% CI", "invalid", "crit✗");
    for dimension in &scores.dimensions {
        let _ = writeln!(
            out,
            "{:<5} {:<44} {:>6} {:>7} {:>15} {:>7} {:>6}",
            dimension.code,
            truncate(&dimension.name_en, 44),
            dimension.accuracy.n,
            percent(dimension.accuracy.accuracy),
            interval(&dimension.accuracy),
            dimension.accuracy.invalid,
            dimension.critical_wrong
        );
    }
    for (group, accuracy) in &scores.groups {
        let _ = writeln!(out, "{:<5} {:<44} {:>6} {:>7} {:>15} {:>7}", "", group, accuracy.n, percent(accuracy.accuracy), interval(accuracy), accuracy.invalid);
    }
    let overall = &scores.overall;
    let _ = writeln!(
        out,
        "{:<5} {:<44} {:>6} {:>7} {:>15} {:>7} {:>6}",
        "ALL",
        "overall",
        overall.n,
        percent(overall.accuracy),
        interval(overall),
        overall.invalid,
        scores.critical_wrong
    );
    if let Some(rotation) = &scores.rotation {
        let _ = writeln!(
            out,
            "rotation-consistent accuracy {}% (all {} rotations right); mean over rotations {}%",
            percent(rotation.consistent.accuracy),
            rotation.n_rotations_max,
            percent(rotation.mean_over_rotations)
        );
        let bias: Vec<String> =
            rotation.position_bias.iter().map(|row| format!("{} chosen {}% / key {}%", row.letter, percent(row.chosen_rate), percent(row.key_rate))).collect();
        let _ = writeln!(out, "position bias: {}", bias.join("; "));
    }
    let _ = writeln!(
        out,
        "invalid answers {} ({}%), errors {}, wrong on critical items {}",
        overall.invalid,
        percent(scores.invalid_rate),
        overall.errors,
        scores.critical_wrong
    );
    for error in &results.errors {
        let _ = writeln!(out, "  {} × {} (first: {}: {})", error.count, error.kind, error.first_item, error.first_message);
    }
    out
}

fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        format!("{}…", text.chars().take(width - 1).collect::<String>())
    }
}

fn escape_md(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

pub fn markdown(results: &RunResults) -> String {
    let mut out = String::new();
    let scores = &results.scores;
    let _ = writeln!(out, "# medaudit results: {}\n", escape_md(&results.model));
    let _ = writeln!(
        out,
        "- bank `{}`, split `{}`, language `{}`, shots {}, chain of thought {}, rotation {}",
        results.bank_hash, results.split, results.lang, results.shots, results.chain_of_thought, results.rotate
    );
    let _ = writeln!(
        out,
        "- {} of {} planned tasks finished{}; extractor `{}`, template `{}`",
        results.n_finished,
        results.n_tasks_planned,
        if results.complete { "" } else { " (**incomplete**)" },
        results.extractor_version,
        results.template_version
    );
    let _ = writeln!(
        out,
        "- overall accuracy **{}%** {} over {} scored items; invalid {}; errors {}; wrong on critical items **{}**\n",
        percent(scores.overall.accuracy),
        interval(&scores.overall),
        scores.overall.n,
        scores.overall.invalid,
        scores.overall.errors,
        scores.critical_wrong
    );
    let _ = writeln!(
        out,
        "## Per dimension\n\n| code | dimension | 维度 | n | accuracy % | 95% CI | invalid | critical wrong |\n|---|---|---|---:|---:|---|---:|---:|"
    );
    for dimension in &scores.dimensions {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            dimension.code,
            dimension.name_en,
            dimension.name_zh,
            dimension.accuracy.n,
            percent(dimension.accuracy.accuracy),
            interval(&dimension.accuracy),
            dimension.accuracy.invalid,
            dimension.critical_wrong
        );
    }
    let _ = writeln!(out, "\n## Groups, severities, languages\n\n| scope | n | accuracy % | 95% CI | invalid |\n|---|---:|---:|---|---:|");
    for (label, accuracy) in scores.groups.iter().chain(scores.severities.iter()).chain(scores.languages.iter()) {
        let _ = writeln!(out, "| {} | {} | {} | {} | {} |", label, accuracy.n, percent(accuracy.accuracy), interval(accuracy), accuracy.invalid);
    }
    if let Some(rotation) = &scores.rotation {
        let _ = writeln!(
            out,
            "\n## Rotation (CircularEval)\n\nRotation-consistent accuracy {}%; mean over rotations {}%.\n\n| letter | chosen % | key % |\n|---|---:|---:|",
            percent(rotation.consistent.accuracy),
            percent(rotation.mean_over_rotations)
        );
        for row in &rotation.position_bias {
            let _ = writeln!(out, "| {} | {} | {} |", row.letter, percent(row.chosen_rate), percent(row.key_rate));
        }
    }
    if !results.errors.is_empty() {
        let _ = writeln!(out, "\n## Errors\n");
        for error in &results.errors {
            let _ = writeln!(out, "- {} × `{}` (first at {}: {})", error.count, error.kind, error.first_item, escape_md(&error.first_message));
        }
    }
    let _ = writeln!(
        out,
        "\n## Failed items ({})\n\n| item | dim | severity | lang | key | answer | status |\n|---|---|---|---|---|---|---|",
        results.failed_items.len()
    );
    for failed in results.failed_items.iter().take(200) {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            failed.item_id,
            failed.dimension,
            failed.severity,
            failed.lang,
            failed.key,
            failed.extracted.as_deref().unwrap_or("—"),
            failed.status
        );
    }
    if results.n_failed > 200 {
        let _ = writeln!(
            out,
            "\n({} more: `results.json` lists the first {} with their text, `journal.jsonl` has every one)",
            results.n_failed - 200,
            crate::results::MAX_FAILED_LISTED
        );
    }
    out
}

pub fn comparison_text(report: &ComparisonReport) -> String {
    let mut out = String::new();
    let comparison = &report.comparison;
    let _ = writeln!(
        out,
        "A = {}   B = {}{}",
        report.model_a,
        report.model_b,
        if report.same_bank { "" } else { "   (different bank versions: only shared items are paired)" }
    );
    let _ = writeln!(
        out,
        "{:<8} {:>6} {:>7} {:>7} {:>8} {:>17} {:>6} {:>6} {:>9} {:>9}",
        "scope", "pairs", "A%", "B%", "B−A pt", "bootstrap 95%", "A only", "B only", "p", "p(Holm)"
    );
    for row in std::iter::once(&comparison.overall).chain(comparison.dimensions.iter()) {
        let _ = writeln!(
            out,
            "{:<8} {:>6} {:>7} {:>7} {:>8} {:>17} {:>6} {:>6} {:>9.4} {:>9.4}{}",
            row.scope,
            row.n_pairs,
            percent(row.accuracy_a),
            percent(row.accuracy_b),
            format!("{:+.1}", row.difference * 100.0),
            format!("[{:+.1}, {:+.1}]", row.bootstrap_low * 100.0, row.bootstrap_high * 100.0),
            row.only_a,
            row.only_b,
            row.p_value,
            row.p_holm,
            if row.scope != "overall" && row.significant { "  *" } else { "" }
        );
    }
    let _ = writeln!(
        out,
        "* significant after Holm correction across dimensions (α = 0.05); exact McNemar test; paired bootstrap with {} resamples, seed {}",
        comparison.bootstrap_resamples, comparison.seed
    );
    let _ = writeln!(
        out,
        "improved (wrong in A, right in B): {}; regressed (right in A, wrong in B): {}; unpaired: {} only in A, {} only in B",
        comparison.improved.len(),
        comparison.regressed.len(),
        comparison.only_in_a,
        comparison.only_in_b
    );
    for (label, flips) in [("regressed", &comparison.regressed), ("improved", &comparison.improved)] {
        if !flips.is_empty() {
            let listed: Vec<String> = flips.iter().take(30).map(|flip| format!("{}({})", flip.item_id, flip.lang.as_str())).collect();
            let _ = writeln!(out, "{label}: {}{}", listed.join(" "), if flips.len() > 30 { " …" } else { "" });
        }
    }
    out
}
