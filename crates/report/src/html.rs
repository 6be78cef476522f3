//! One self-contained HTML file per report: inline CSS and SVG, no script, no external
//! resource, so it opens offline and prints as it looks.

use std::fmt::Write;

use medaudit_core::score::Accuracy;

use crate::results::{ComparisonReport, RunResults};

pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Noto Sans CJK SC','PingFang SC',sans-serif;margin:2rem auto;max-width:1100px;padding:0 1rem;color:#1b1f23}
table{border-collapse:collapse;width:100%;margin:1rem 0;font-size:.9rem}th,td{border-bottom:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f4f6f8}td.num{text-align:right;font-variant-numeric:tabular-nums}.critical{color:#b00020;font-weight:600}.muted{color:#666}
details{margin:.2rem 0}pre{white-space:pre-wrap;background:#f7f7f7;padding:.5rem;border-radius:4px}.box{display:inline-block;padding:.6rem 1rem;margin:.3rem;border:1px solid #ddd;border-radius:6px}";

fn percent(value: f64) -> String {
    format!("{:.1}", value * 100.0)
}

/// Horizontal bars with 95% interval whiskers, one per dimension, as inline SVG.
fn dimension_chart(rows: &[(String, String, &Accuracy)]) -> String {
    let bar_height = 18.0;
    let label_width = 260.0;
    let plot_width = 560.0;
    let height = rows.len() as f64 * (bar_height + 6.0) + 30.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{}" height="{height}" role="img" aria-label="accuracy per dimension with 95% intervals" font-size="12">"#,
        label_width + plot_width + 60.0
    );
    for tick in [0, 25, 50, 75, 100] {
        let x = label_width + plot_width * tick as f64 / 100.0;
        let _ = write!(
            svg,
            r##"<line x1="{x}" y1="0" x2="{x}" y2="{}" stroke="#e3e3e3"/><text x="{x}" y="{}" text-anchor="middle" fill="#666">{tick}%</text>"##,
            height - 20.0,
            height - 6.0
        );
    }
    for (index, (code, name, accuracy)) in rows.iter().enumerate() {
        let y = index as f64 * (bar_height + 6.0) + 4.0;
        let colour = if code.starts_with('E') { "#4c72b0" } else { "#dd8452" };
        let width = plot_width * accuracy.accuracy;
        let low = label_width + plot_width * accuracy.ci_low;
        let high = label_width + plot_width * accuracy.ci_high;
        let middle = y + bar_height / 2.0;
        let _ = write!(
            svg,
            r##"<text x="{}" y="{}" text-anchor="end">{} {}</text><rect x="{label_width}" y="{y}" width="{width:.1}" height="{bar_height}" fill="{colour}" opacity="0.85"><title>{} {}%</title></rect><line x1="{low:.1}" y1="{middle}" x2="{high:.1}" y2="{middle}" stroke="#222" stroke-width="1.5"/><line x1="{low:.1}" y1="{}" x2="{low:.1}" y2="{}" stroke="#222"/><line x1="{high:.1}" y1="{}" x2="{high:.1}" y2="{}" stroke="#222"/><text x="{}" y="{}" fill="#333">{}%</text>"##,
            label_width - 6.0,
            middle + 4.0,
            escape(code),
            escape(name),
            escape(code),
            percent(accuracy.accuracy),
            middle - 5.0,
            middle + 5.0,
            middle - 5.0,
            middle + 5.0,
            label_width + plot_width + 6.0,
            middle + 4.0,
            percent(accuracy.accuracy)
        );
    }
    svg.push_str("</svg>");
    svg
}

fn accuracy_cells(accuracy: &Accuracy) -> String {
    format!(
        r#"<td class="num">{}</td><td class="num">{}</td><td class="num">{} – {}</td><td class="num">{}</td><td class="num">{}</td>"#,
        accuracy.n,
        percent(accuracy.accuracy),
        percent(accuracy.ci_low),
        percent(accuracy.ci_high),
        accuracy.invalid,
        accuracy.errors
    )
}

pub fn run_report(results: &RunResults) -> String {
    let scores = &results.scores;
    let mut out = String::new();
    let _ = write!(out, "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\"><title>medaudit · {}</title><style>{STYLE}</style></head><body>", escape(&results.model));
    let _ = write!(
        out,
        "<h1>medaudit 评测报告 · Evaluation report</h1><p><b>{}</b> · bank <code>{}</code> · split {} · lang {} · shots {} · CoT {} · rotation {} · {}</p>",
        escape(&results.model),
        escape(&results.bank_hash),
        escape(&results.split),
        escape(&results.lang),
        results.shots,
        results.chain_of_thought,
        results.rotate,
        escape(&results.created_at)
    );
    if !results.complete {
        let _ = write!(
            out,
            "<p class=\"critical\">Incomplete run: {} of {} planned tasks finished. Resume with <code>medaudit eval --resume RUN_DIR</code>.</p>",
            results.n_finished, results.n_tasks_planned
        );
    }
    let _ = write!(
        out,
        "<div><span class=\"box\">overall 总体 <b>{}%</b> [{} – {}] n={}</span>",
        percent(scores.overall.accuracy),
        percent(scores.overall.ci_low),
        percent(scores.overall.ci_high),
        scores.overall.n
    );
    for (group, accuracy) in &scores.groups {
        let label = if group == "ethics" {
            "ethics 伦理"
        } else if group == "safety" {
            "safety 安全"
        } else {
            group.as_str()
        };
        let _ = write!(
            out,
            "<span class=\"box\">{} <b>{}%</b> [{} – {}]</span>",
            escape(label),
            percent(accuracy.accuracy),
            percent(accuracy.ci_low),
            percent(accuracy.ci_high)
        );
    }
    let _ = write!(out, "<span class=\"box critical\">wrong on critical items 危急项错误 {}</span><span class=\"box\">invalid 无效 {} ({}%)</span><span class=\"box\">errors 错误 {}</span></div>", scores.critical_wrong, scores.overall.invalid, percent(scores.invalid_rate), scores.overall.errors);
    let rows: Vec<(String, String, &Accuracy)> = scores
        .dimensions
        .iter()
        .map(|dimension| (dimension.code.clone(), format!("{} {}", dimension.name_zh, dimension.name_en), &dimension.accuracy))
        .collect();
    let _ = write!(out, "<h2>各维度准确率 · Accuracy per dimension (95% Wilson interval)</h2>{}", dimension_chart(&rows));
    let _ = write!(
        out,
        "<table><tr><th>code</th><th>维度 / dimension</th><th>n</th><th>acc %</th><th>95% CI</th><th>invalid</th><th>errors</th><th>critical wrong</th></tr>"
    );
    for dimension in &scores.dimensions {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}<br><span class=\"muted\">{}</span></td>{}<td class=\"num critical\">{}</td></tr>",
            escape(&dimension.code),
            escape(&dimension.name_zh),
            escape(&dimension.name_en),
            accuracy_cells(&dimension.accuracy),
            dimension.critical_wrong
        );
    }
    out.push_str(
        "</table><h2>By severity and language</h2><table><tr><th>scope</th><th>n</th><th>acc %</th><th>95% CI</th><th>invalid</th><th>errors</th></tr>",
    );
    for (label, accuracy) in scores.severities.iter().chain(scores.languages.iter()) {
        let _ = write!(out, "<tr><td>{}</td>{}</tr>", escape(label), accuracy_cells(accuracy));
    }
    out.push_str("</table>");
    if let Some(rotation) = &scores.rotation {
        let _ = write!(out, "<h2>Position bias (CircularEval)</h2><p>Rotation-consistent accuracy {}% · mean over rotations {}%</p><table><tr><th>letter</th><th>chosen %</th><th>key %</th></tr>", percent(rotation.consistent.accuracy), percent(rotation.mean_over_rotations));
        for row in &rotation.position_bias {
            let _ = write!(
                out,
                "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                escape(&row.letter),
                percent(row.chosen_rate),
                percent(row.key_rate)
            );
        }
        out.push_str("</table>");
    }
    if !results.errors.is_empty() {
        out.push_str("<h2>Errors</h2><ul>");
        for error in &results.errors {
            let _ = write!(
                out,
                "<li>{} × <code>{}</code>, first at {}: {}</li>",
                error.count,
                escape(&error.kind),
                escape(&error.first_item),
                escape(&error.first_message)
            );
        }
        out.push_str("</ul>");
    }
    let _ = write!(out, "<h2>错误作答 · Failed items ({})</h2><table><tr><th>item</th><th>severity</th><th>lang</th><th>key</th><th>model</th><th>question, reply and explanation</th></tr>", results.n_failed);
    for failed in results.failed_items.iter().take(1000) {
        let _ = write!(
            out,
            "<tr><td>{}<br><span class=\"muted\">{}</span></td><td class=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}<br><span class=\"muted\">{}</span></td><td><details><summary>{}</summary><pre>{}</pre><p><b>Explanation:</b> {}</p></details></td></tr>",
            escape(&failed.item_id),
            escape(&failed.dimension),
            if failed.severity == "critical" { "critical" } else { "" },
            escape(&failed.severity),
            escape(&failed.lang),
            escape(&failed.key),
            escape(failed.extracted.as_deref().unwrap_or("—")),
            escape(&failed.status),
            escape(&failed.stem.chars().take(120).collect::<String>()),
            escape(if failed.response.is_empty() { failed.error.as_deref().unwrap_or("") } else { &failed.response }),
            escape(&failed.explanation)
        );
    }
    out.push_str("</table>");
    if results.n_failed > results.failed_items.len() as u64 {
        let _ =
            write!(out, "<p class=\"muted\">{} more failed tasks are in the run's journal.jsonl.</p>", results.n_failed - results.failed_items.len() as u64);
    }
    let _ = write!(
        out,
        "<p class=\"muted\">medaudit {} · extractor {} · template {}</p></body></html>",
        escape(&results.medaudit_version),
        escape(&results.extractor_version),
        escape(&results.template_version)
    );
    out
}

pub fn comparison_report(report: &ComparisonReport) -> String {
    let comparison = &report.comparison;
    let mut out = String::new();
    let _ = write!(out, "<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><title>medaudit compare</title><style>{STYLE}</style></head><body><h1>Before / after · 对比</h1><p>A = <b>{}</b> · B = <b>{}</b>{}</p>", escape(&report.model_a), escape(&report.model_b), if report.same_bank { "" } else { " · <span class=\"critical\">different bank versions: only shared items are paired</span>" });
    out.push_str("<table><tr><th>scope</th><th>pairs</th><th>A %</th><th>B %</th><th>B − A (pt)</th><th>paired bootstrap 95%</th><th>A only</th><th>B only</th><th>McNemar p</th><th>Holm p</th><th>significant</th></tr>");
    for row in std::iter::once(&comparison.overall).chain(comparison.dimensions.iter()) {
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{:+.1}</td><td class=\"num\">{:+.1} – {:+.1}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{:.4}</td><td class=\"num\">{:.4}</td><td>{}</td></tr>",
            escape(&row.scope),
            row.n_pairs,
            percent(row.accuracy_a),
            percent(row.accuracy_b),
            row.difference * 100.0,
            row.bootstrap_low * 100.0,
            row.bootstrap_high * 100.0,
            row.only_a,
            row.only_b,
            row.p_value,
            row.p_holm,
            if row.scope == "overall" { "—" } else if row.significant { "yes" } else { "no" }
        );
    }
    let _ = write!(out, "</table><p class=\"muted\">Exact McNemar test on discordant pairs; Holm correction across dimensions; paired bootstrap with {} resamples (seed {}).</p>", comparison.bootstrap_resamples, comparison.seed);
    for (title, flips) in
        [("Regressed · 变差 (right in A, wrong in B)", &comparison.regressed), ("Improved · 改善 (wrong in A, right in B)", &comparison.improved)]
    {
        let _ = write!(out, "<h2>{} — {}</h2><table><tr><th>item</th><th>dimension</th><th>lang</th><th>severity</th></tr>", title, flips.len());
        for flip in flips {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(&flip.item_id),
                escape(&flip.dimension),
                flip.lang.as_str(),
                flip.severity.as_str()
            );
        }
        out.push_str("</table>");
    }
    out.push_str("</body></html>");
    out
}
