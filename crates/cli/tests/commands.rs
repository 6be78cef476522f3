//! Bank commands, baselines, reports, compare, extract and bad input.

mod common;

use common::*;

#[test]
fn bank_validate_names_file_line_and_field() {
    let temp = tempfile::tempdir().unwrap();
    let bank = write_bank(temp.path(), 3);
    let file = bank.join("items").join("E01.jsonl");
    let mut text = std::fs::read_to_string(&file).unwrap();
    text = text.replacen("\"answer\":[1]", "\"answer\":[7]", 1);
    text.push_str("{not json\n");
    std::fs::write(&file, text).unwrap();
    let output = medaudit(&["bank", "validate", bank.to_str().unwrap()], temp.path());
    assert_eq!(output.status.code(), Some(1));
    let report = stdout(&output).replace(&bank.display().to_string(), "BANK");
    insta::assert_snapshot!(report);
}

#[test]
fn bank_stats_counts_dimensions_and_key_positions() {
    let temp = tempfile::tempdir().unwrap();
    let bank = write_bank(temp.path(), 8);
    let output = medaudit(&["bank", "stats", bank.to_str().unwrap(), "--json"], temp.path());
    assert_eq!(output.status.code(), Some(0));
    let stats: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(stats["total"]["items"], 32);
    assert_eq!(stats["dimensions"]["E01"]["kinds"]["multi"], 1);
    assert_eq!(stats["dimensions"]["E01"]["key_positions"]["A"], 2);
    assert_eq!(stats["dimensions"]["E01"]["languages"]["en"], 8);
}

#[test]
fn bad_input_gets_one_clear_line_and_exit_2() {
    let temp = tempfile::tempdir().unwrap();
    let missing = temp.path().join("nope");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["eval", "--bank", missing.to_str().unwrap(), "--model", "baseline:first"], "does not exist; pass --bank DIR"),
        (vec!["eval", "--model", "hf:gpt2"], "unknown model backend \"hf\""),
        (vec!["eval", "--model", "baseline:first", "--dimensions", "E42"], "unknown dimension \"E42\""),
        (vec!["eval", "--model", "openai:m", "--base-url", "ftp://x"], "is not an http:// or https:// URL"),
        (vec!["report", missing.to_str().unwrap()], "is not a run directory"),
    ];
    for (args, expected) in cases {
        let output = medaudit(&args, temp.path());
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", stderr(&output));
        let message = stderr(&output);
        assert!(message.contains(expected), "{args:?}: {message}");
        assert_eq!(message.trim().lines().count(), 1, "{args:?}: more than one line: {message}");
    }
}

#[test]
fn baselines_rotation_report_and_compare() {
    let temp = tempfile::tempdir().unwrap();
    let bank = write_bank(temp.path(), 20);
    let first = temp.path().join("first");
    let random = temp.path().join("random");
    for (model, out) in [("baseline:first", &first), ("baseline:random", &random)] {
        let output = medaudit(
            &["eval", "--bank", bank.to_str().unwrap(), "--model", model, "--out", out.to_str().unwrap(), "--quiet", "--rotate", "--shots", "1"],
            temp.path(),
        );
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    }
    let results_first = results(&first);
    // Always "A" under four rotations is right in exactly one rotation: never rotation-consistent.
    assert_eq!(results_first["scores"]["overall"]["correct"], 0);
    let bias = &results_first["scores"]["rotation"]["position_bias"];
    assert_eq!(bias[0]["letter"], "A");
    assert_eq!(bias[0]["chosen_rate"], 1.0);

    for format in ["md", "html", "json"] {
        let target = temp.path().join(format!("report.{format}"));
        let output = medaudit(&["report", first.to_str().unwrap(), "--format", format, "--out", target.to_str().unwrap()], temp.path());
        assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
        let text = std::fs::read_to_string(&target).unwrap();
        assert!(text.contains("E01"), "{format}");
        if format == "html" {
            // Offline: no external resource is referenced (the SVG namespace is not a fetch).
            assert!(!text.contains("src=\"http") && !text.contains("href=\"http"), "external resource in the report");
            assert!(!text.contains("<script"), "the report must work without scripts");
            assert!(text.contains("<svg"));
        }
    }

    let output = medaudit(&["compare", first.to_str().unwrap(), random.to_str().unwrap(), "--format", "json"], temp.path());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let comparison: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(comparison["overall"]["n_pairs"], 72);
    assert_eq!(comparison["dimensions"].as_array().unwrap().len(), 4);
    for row in comparison["dimensions"].as_array().unwrap() {
        assert!(row["p_holm"].as_f64().unwrap() >= row["p_value"].as_f64().unwrap());
    }
    let output = medaudit(&["compare", first.to_str().unwrap(), random.to_str().unwrap()], temp.path());
    assert!(stdout(&output).contains("significant after Holm correction"));
}

#[test]
fn extract_reads_stdin() {
    use std::io::Write;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_medaudit"))
        .args(["extract", "--json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all("<think>A?</think>故选Ｃ。".as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(value["letters"], "C");
    assert_eq!(value["rule"], "choice_verb");
}

#[test]
fn settings_come_from_medaudit_toml_and_flags_win() {
    let temp = tempfile::tempdir().unwrap();
    let bank = write_bank(temp.path(), 5);
    std::fs::write(
        temp.path().join("medaudit.toml"),
        format!("[eval]\nbank = {:?}\nmodel = \"baseline:first\"\nlang = \"en\"\nlimit = 6\n", bank.display().to_string()),
    )
    .unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_medaudit"))
            .args(args)
            .current_dir(temp.path())
            .env("MEDAUDIT_CACHE_DIR", temp.path().join("cache"))
            .env_remove("MEDAUDIT_CONFIG")
            .output()
            .unwrap()
    };
    let output = run(&["eval", "--out", "from-file", "--quiet"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let settings: serde_json::Value = serde_json::from_slice(&std::fs::read(temp.path().join("from-file/settings.json")).unwrap()).unwrap();
    assert_eq!(settings["model"], "baseline:first");
    assert_eq!(settings["lang"], "en");
    assert_eq!(results(&temp.path().join("from-file"))["n_tasks_planned"], 6);
    let output = run(&["eval", "--out", "flags-win", "--quiet", "--model", "baseline:longest", "--limit", "4"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let settings: serde_json::Value = serde_json::from_slice(&std::fs::read(temp.path().join("flags-win/settings.json")).unwrap()).unwrap();
    assert_eq!(settings["model"], "baseline:longest");
    assert_eq!(results(&temp.path().join("flags-win"))["n_tasks_planned"], 4);
    std::fs::write(temp.path().join("medaudit.toml"), "[eval]\nmodle = \"x\"\n").unwrap();
    let output = run(&["eval", "--quiet"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("medaudit.toml") && stderr(&output).contains("unknown field"), "{}", stderr(&output));
}

#[test]
fn gate_passes_and_fails_with_reasons_and_exit_codes() {
    let temp = tempfile::tempdir().unwrap();
    let bank = write_bank(temp.path(), 10);
    let run = temp.path().join("run");
    let output = medaudit(&["eval", "--bank", bank.to_str().unwrap(), "--model", "baseline:first", "--out", run.to_str().unwrap(), "--quiet"], temp.path());
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let lenient = temp.path().join("lenient.toml");
    std::fs::write(&lenient, "version = 1\nname = \"lenient\"\n[gate]\nmin_lower_bound = 0.0\nmax_critical_wrong = 1000\nrequire_all_dimensions = false\n[gate.noninferiority]\nmargin = 0.02\n").unwrap();
    let output = medaudit(&["gate", run.to_str().unwrap(), "--policy", lenient.to_str().unwrap(), "--baseline", run.to_str().unwrap()], temp.path());
    assert_eq!(output.status.code(), Some(0), "{}{}", stdout(&output), stderr(&output));
    assert!(stdout(&output).starts_with("PASS"), "{}", stdout(&output));
    assert!(stdout(&output).contains("non-inferiority overall"));

    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../governance/policy.toml");
    let output = medaudit(&["gate", run.to_str().unwrap(), "--policy", shipped.to_str().unwrap(), "--json"], temp.path());
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let verdict: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
    assert_eq!(verdict["passed"], false);
    let reasons: Vec<&str> =
        verdict["checks"].as_array().unwrap().iter().filter(|check| check["passed"] == false).map(|check| check["reason"].as_str().unwrap()).collect();
    assert!(reasons.iter().any(|reason| reason.contains("not evaluated: E03")), "{reasons:?}");
    assert!(reasons.iter().any(|reason| reason.contains("give its run with --baseline")), "{reasons:?}");

    let broken = temp.path().join("broken.toml");
    std::fs::write(&broken, "version = 1\nname = \"x\"\n[gate]\nmin_lower_bound = 1.5\nmax_critical_wrong = 0\n[gate.dimensions.E99]\nmin_lower_bound = 0.5\n")
        .unwrap();
    let output = medaudit(&["gate", run.to_str().unwrap(), "--policy", broken.to_str().unwrap()], temp.path());
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("min_lower_bound must be between 0 and 1") && stderr(&output).contains("E99"), "{}", stderr(&output));
}

#[test]
fn redact_uses_builtin_identifiers_and_policy_patterns() {
    use std::io::Write;
    let policy = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../governance/policy.toml");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_medaudit"))
        .args(["redact", "--policy", policy.to_str().unwrap()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all("患者11010519491231002X，手机13812345678，住院号：12345678，血钾5.8 mmol/L\n".as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "患者[身份证号]，手机[手机号]，[病历号]，血钾5.8 mmol/L\n");
    assert!(String::from_utf8_lossy(&output.stderr).contains("redacted 3 item(s)"));
}
