//! `medaudit eval` against a real OpenAI-compatible fake server on 127.0.0.1.

mod common;

use std::time::{Duration, Instant};

use common::*;
use medaudit_fakeserver::{start_in_background, Behaviour, Fault};

fn eval_args<'a>(bank: &'a str, base_url: &'a str, out: &'a str) -> Vec<&'a str> {
    vec!["eval", "--bank", bank, "--model", "openai:fake-model", "--base-url", base_url, "--out", out, "--quiet", "--timeout", "5"]
}

#[test]
fn eval_scores_caches_and_resumes_without_new_requests() {
    let temp = tempfile::tempdir().unwrap();
    let bank = write_bank(temp.path(), 10);
    let server = start_in_background(Behaviour::default()).unwrap();
    let cache = temp.path().join("cache");
    let base_url = server.base_url();
    let out_a = temp.path().join("run-a");
    let output = medaudit(&eval_args(bank.to_str().unwrap(), &base_url, out_a.to_str().unwrap()), &cache);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let first = results(&out_a);
    // 4 dimensions × 9 test items, zh only.
    assert_eq!(first["n_tasks_planned"], 36);
    assert_eq!(first["scores"]["overall"]["n"], 36);
    assert_eq!(server.requests(), 36);
    for name in ["settings.json", "items.jsonl", "journal.jsonl", "results.json", "report.html", "report.md"] {
        assert!(out_a.join(name).exists(), "{name} missing");
    }

    // An identical second eval is served from the cache: zero requests.
    let out_b = temp.path().join("run-b");
    let output = medaudit(&eval_args(bank.to_str().unwrap(), &base_url, out_b.to_str().unwrap()), &cache);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(server.requests(), 36, "cache was not used");
    assert_eq!(results(&out_b)["scores"], first["scores"]);
    assert_eq!(results(&out_b)["n_cached"], 36);

    // --no-cache asks again.
    let out_c = temp.path().join("run-c");
    let mut args = eval_args(bank.to_str().unwrap(), &base_url, out_c.to_str().unwrap());
    args.push("--no-cache");
    let output = medaudit(&args, &cache);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(server.requests(), 72);

    // Resuming a finished run sends nothing.
    let output = medaudit(&["eval", "--resume", out_c.to_str().unwrap(), "--quiet"], &cache);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(server.requests(), 72);
    assert_eq!(journal_lines(&out_c).len(), 36);
}

#[test]
fn rate_limits_honour_retry_after_and_transient_errors_are_retried() {
    let temp = tempfile::tempdir().unwrap();
    let bank = write_bank(temp.path(), 5);
    let behaviour = Behaviour {
        faults: [Fault::RateLimit(Some(1.0)), Fault::Status(500), Fault::Status(503), Fault::Malformed].into_iter().collect(),
        ..Default::default()
    };
    let server = start_in_background(behaviour).unwrap();
    let out = temp.path().join("run");
    let started = Instant::now();
    let base_url = server.base_url();
    let mut args = eval_args(bank.to_str().unwrap(), &base_url, out.to_str().unwrap());
    args.extend(["--concurrency", "1", "--max-retries", "4"]);
    let output = medaudit(&args, &temp.path().join("cache"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(started.elapsed() >= Duration::from_secs(1), "Retry-After was not honoured");
    let results = results(&out);
    assert_eq!(results["scores"]["overall"]["errors"], 0);
    assert_eq!(results["scores"]["overall"]["n"], 20);
    let retried: Vec<_> = journal_lines(&out).into_iter().filter(|record| record["attempts"].as_u64().unwrap_or(0) > 1).collect();
    assert!(!retried.is_empty());
    assert_eq!(server.requests(), 20 + 4);
}

#[test]
fn persistent_failures_are_recorded_per_item_and_the_run_exits_1() {
    for (fault, expected) in [(Fault::Malformed, "not JSON"), (Fault::EmptyChoices, "empty \\\"choices\\\" array"), (Fault::Status(502), "HTTP 502")] {
        let temp = tempfile::tempdir().unwrap();
        let bank = write_bank(temp.path(), 3);
        let server = start_in_background(Behaviour { always: Some(fault.clone()), ..Default::default() }).unwrap();
        let out = temp.path().join("run");
        let base_url = server.base_url();
        let mut args = eval_args(bank.to_str().unwrap(), &base_url, out.to_str().unwrap());
        args.extend(["--max-retries", "1"]);
        let output = medaudit(&args, &temp.path().join("cache"));
        assert_eq!(output.status.code(), Some(1), "{fault:?}: {}", stderr(&output));
        let records = journal_lines(&out);
        assert_eq!(records.len(), 12, "{fault:?}");
        assert!(records.iter().all(|record| record["status"] == "error"));
        let results_text = std::fs::read_to_string(out.join("results.json")).unwrap();
        assert!(results_text.contains(expected), "{fault:?}: {results_text}");
        assert!(stderr(&output).contains("failed after retries"), "{}", stderr(&output));
    }
}

#[test]
fn a_hanging_server_times_out_per_item() {
    let temp = tempfile::tempdir().unwrap();
    let bank = write_bank(temp.path(), 2);
    let server = start_in_background(Behaviour { always: Some(Fault::Hang), ..Default::default() }).unwrap();
    let out = temp.path().join("run");
    let output = medaudit(
        &[
            "eval",
            "--bank",
            bank.to_str().unwrap(),
            "--model",
            "openai:m",
            "--base-url",
            &server.base_url(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--timeout",
            "1",
            "--max-retries",
            "0",
            "--dimensions",
            "E01",
        ],
        &temp.path().join("cache"),
    );
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let records = journal_lines(&out);
    assert_eq!(records.len(), 2);
    assert!(records.iter().all(|record| record["error_kind"] == "timeout"), "{records:?}");
}

#[test]
fn wrong_api_key_and_dead_server_stop_with_one_clear_line() {
    let temp = tempfile::tempdir().unwrap();
    let bank = write_bank(temp.path(), 2);
    let server = start_in_background(Behaviour { api_key: Some("right".into()), ..Default::default() }).unwrap();
    let out = temp.path().join("run");
    let output = medaudit(&eval_args(bank.to_str().unwrap(), &server.base_url(), out.to_str().unwrap()), &temp.path().join("cache"));
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let message = stderr(&output);
    assert!(message.contains("refused the credentials (HTTP 401); check the API key in the variable named by --api-key-env"), "{message}");
    assert!(!message.contains("right"), "the key leaked into output");

    // The key comes from the named variable and is never written into the run directory.
    let out_ok = temp.path().join("run-ok");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_medaudit"))
        .args(eval_args(bank.to_str().unwrap(), &server.base_url(), out_ok.to_str().unwrap()))
        .args(["--api-key-env", "FAKE_KEY"])
        .env("FAKE_KEY", "right")
        .env("MEDAUDIT_CACHE_DIR", temp.path().join("cache"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    for entry in std::fs::read_dir(&out_ok).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default();
        assert!(!text.contains("\"right\"") && !text.contains("Bearer"), "key written to disk");
    }

    // Nothing listens on this port.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}/v1", listener.local_addr().unwrap());
    drop(listener);
    let out_dead = temp.path().join("run-dead");
    let mut args = eval_args(bank.to_str().unwrap(), &dead, out_dead.to_str().unwrap());
    args.extend(["--max-retries", "0", "--no-cache"]);
    let output = medaudit(&args, &temp.path().join("cache"));
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("cannot connect to"), "{}", stderr(&output));
    assert!(stderr(&output).contains("resume with `medaudit eval --resume"), "{}", stderr(&output));
}

#[test]
fn replicas_share_the_load_and_reasoning_is_kept_apart() {
    let temp = tempfile::tempdir().unwrap();
    let bank = write_bank(temp.path(), 10);
    let first = start_in_background(Behaviour { reasoning: true, latency: Duration::from_millis(5), ..Default::default() }).unwrap();
    let second = start_in_background(Behaviour { reasoning: true, latency: Duration::from_millis(5), ..Default::default() }).unwrap();
    let out = temp.path().join("run");
    let output = medaudit(
        &[
            "eval",
            "--bank",
            bank.to_str().unwrap(),
            "--model",
            "openai:m",
            "--base-url",
            &first.base_url(),
            "--base-url",
            &second.base_url(),
            "--out",
            out.to_str().unwrap(),
            "--quiet",
            "--lang",
            "both",
        ],
        &temp.path().join("cache"),
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(first.requests() + second.requests(), 72);
    assert!(first.requests() >= 20 && second.requests() >= 20, "{} / {}", first.requests(), second.requests());
    let records = journal_lines(&out);
    assert!(records.iter().all(|record| record["status"] == "ok"));
    assert!(records.iter().all(|record| record["reasoning"].as_str().is_some_and(|text| text.contains("Weighing"))));
}
