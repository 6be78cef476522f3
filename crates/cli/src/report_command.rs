//! `medaudit report`, `medaudit compare` and `medaudit extract`.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::Context;
use medaudit_core::extract::{extract as extract_reply, EXTRACTOR_VERSION};
use medaudit_engine::journal::write_atomically;
use medaudit_engine::RunDir;
use medaudit_report::{build_results, compare_runs, RunResults};

use crate::args::{CompareArgs, CompareFormat, ExtractArgs, GateArgs, ReportArgs, ReportFormat};

/// Write report.html and report.md beside the journal.
pub fn write_reports(run_dir: &Path, results: &RunResults) -> anyhow::Result<()> {
    write_atomically(&run_dir.join("report.html"), medaudit_report::html::run_report(results).as_bytes())?;
    write_atomically(&run_dir.join("report.md"), medaudit_report::text::markdown(results).as_bytes())?;
    Ok(())
}

fn load_results(run_dir: &Path) -> anyhow::Result<(medaudit_engine::RunSettings, Vec<medaudit_engine::JournalRecord>, RunResults)> {
    let dir = RunDir::new(run_dir);
    let settings = dir.read_settings()?;
    let items = dir.read_items()?;
    let records = dir.read_records()?;
    let results = build_results(&settings, &items, &records);
    Ok((settings, records, results))
}

fn emit(out: Option<&PathBuf>, default: Option<PathBuf>, text: &str) -> anyhow::Result<()> {
    match out.cloned().or(default) {
        Some(path) => {
            std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(())
}

pub fn report(args: ReportArgs) -> anyhow::Result<u8> {
    let (_, _, results) = load_results(&args.run_dir)?;
    match args.format {
        ReportFormat::Html => emit(args.out.as_ref(), Some(args.run_dir.join("report.html")), &medaudit_report::html::run_report(&results))?,
        ReportFormat::Md => emit(args.out.as_ref(), Some(args.run_dir.join("report.md")), &medaudit_report::text::markdown(&results))?,
        ReportFormat::Json => emit(args.out.as_ref(), Some(args.run_dir.join("results.json")), &serde_json::to_string_pretty(&results)?)?,
        ReportFormat::Text => emit(args.out.as_ref(), None, &medaudit_report::text::terminal(&results))?,
    }
    Ok(0)
}

pub fn compare(args: CompareArgs) -> anyhow::Result<u8> {
    let (settings_a, records_a, _) = load_results(&args.run_a)?;
    let (settings_b, records_b, _) = load_results(&args.run_b)?;
    let report = compare_runs(&settings_a, &records_a, &settings_b, &records_b);
    if report.comparison.overall.n_pairs == 0 {
        anyhow::bail!("{} and {} share no scored items; compare runs over the same bank items", args.run_a.display(), args.run_b.display());
    }
    let text = match args.format {
        CompareFormat::Text => medaudit_report::text::comparison_text(&report),
        CompareFormat::Html => medaudit_report::html::comparison_report(&report),
        CompareFormat::Json => serde_json::to_string_pretty(&report)?,
    };
    emit(args.out.as_ref(), None, &text)?;
    Ok(0)
}

pub fn extract(args: ExtractArgs) -> anyhow::Result<u8> {
    let mut reply = String::new();
    std::io::stdin().read_to_string(&mut reply).context("cannot read the reply from stdin")?;
    let letters: String = args.letters.to_ascii_uppercase();
    let extraction = extract_reply(&reply, &letters, args.multi);
    if args.json {
        println!("{}", serde_json::json!({ "letters": extraction.letters, "rule": extraction.rule, "version": EXTRACTOR_VERSION }));
    } else {
        println!("{}\t{}", extraction.letters.as_deref().unwrap_or("INVALID"), extraction.rule);
    }
    Ok(if extraction.letters.is_some() { 0 } else { 1 })
}

/// Read and check a policy file.
pub fn load_policy(path: &Path) -> anyhow::Result<medaudit_core::gate::Policy> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read policy {}", path.display()))?;
    let policy: medaudit_core::gate::Policy =
        toml::from_str(&text).map_err(|error| anyhow::anyhow!("{}: {}", path.display(), error.to_string().lines().collect::<Vec<_>>().join(" ")))?;
    let problems = medaudit_core::gate::check_policy(&policy);
    if !problems.is_empty() {
        anyhow::bail!("{}: {}", path.display(), problems.join("; "));
    }
    Ok(policy)
}

/// The redactor for a policy's [data] rules (built-in identifiers only without a policy).
pub fn redactor(policy: Option<&Path>) -> anyhow::Result<medaudit_core::redact::Redactor> {
    let patterns = match policy {
        Some(path) => load_policy(path)?.data.patterns,
        None => Vec::new(),
    };
    Ok(medaudit_core::redact::Redactor::new(&medaudit_core::redact::RedactionRules { patterns })?)
}

pub fn redact(args: crate::args::RedactArgs) -> anyhow::Result<u8> {
    let redactor = redactor(args.policy.as_deref())?;
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).context("cannot read stdin")?;
    let (redacted, counts) = redactor.redact(&text);
    print!("{redacted}");
    eprintln!(
        "redacted {} item(s): {} resident ID, {} mobile, {} e-mail, {} bank card, {} policy pattern",
        counts.total(),
        counts.resident_id,
        counts.mobile,
        counts.email,
        counts.bank_card,
        counts.custom
    );
    Ok(0)
}

pub fn gate(args: GateArgs) -> anyhow::Result<u8> {
    let policy = load_policy(&args.policy)?;
    let (settings, records, results) = load_results(&args.run_dir)?;
    let comparison = match &args.baseline {
        Some(baseline) => {
            let (baseline_settings, baseline_records, _) = load_results(baseline)?;
            let report = compare_runs(&baseline_settings, &baseline_records, &settings, &records);
            if report.comparison.overall.n_pairs == 0 {
                anyhow::bail!(
                    "{} and {} share no scored items; the baseline must be a run over the same bank items",
                    baseline.display(),
                    args.run_dir.display()
                );
            }
            Some(report.comparison)
        }
        None => None,
    };
    let verdict = medaudit_core::gate::evaluate(&policy, &results.scores, results.complete, comparison.as_ref());
    if args.json {
        println!("{}", serde_json::to_string_pretty(&verdict)?);
    } else {
        println!("{} — {} ({})", if verdict.passed { "PASS" } else { "FAIL" }, results.model, policy.name);
        for check in &verdict.checks {
            println!("  {} {:<28} {}", if check.passed { "ok  " } else { "FAIL" }, check.rule, check.reason);
        }
        if !policy.signoff.required_roles.is_empty() {
            println!("  sign-off required before approval: {} (recorded by the governance workspace)", policy.signoff.required_roles.join(", "));
        }
    }
    Ok(if verdict.passed { 0 } else { 1 })
}
