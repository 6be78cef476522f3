//! A run killed with SIGKILL mid-way resumes without asking for any finished item again and
//! ends with exactly the results of an uninterrupted run.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use medaudit_fakeserver::{start_in_background, Behaviour};

#[test]
fn sigkill_then_resume_equals_an_uninterrupted_run() {
    let temp = tempfile::tempdir().unwrap();
    let bank = write_bank(temp.path(), 30);
    let server = start_in_background(Behaviour { latency: Duration::from_millis(40), ..Default::default() }).unwrap();
    let base_url = server.base_url();
    let killed = temp.path().join("killed");
    let common_args =
        ["--bank", bank.to_str().unwrap(), "--model", "openai:m", "--base-url", &base_url, "--quiet", "--lang", "both", "--concurrency", "4", "--no-cache"];

    let mut child = Command::new(env!("CARGO_BIN_EXE_medaudit"))
        .arg("eval")
        .args(common_args)
        .args(["--out", killed.to_str().unwrap()])
        .env("MEDAUDIT_CACHE_DIR", temp.path().join("cache"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until a good part, but not all, of the journal is written, then kill without warning.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let written = std::fs::read(killed.join("journal.jsonl")).map(|bytes| bytes.iter().filter(|&&byte| byte == b'\n').count()).unwrap_or(0);
        if written >= 60 || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let before_kill = journal_lines(&killed);
    assert!(before_kill.len() >= 60 && before_kill.len() < 216, "killed at {} records", before_kill.len());
    let requests_before = server.requests();

    let output = medaudit(&["eval", "--resume", killed.to_str().unwrap(), "--quiet"], &temp.path().join("cache"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let after = journal_lines(&killed);
    assert_eq!(after.len(), 216, "4 dimensions × 27 test items × 2 languages");
    // Every task finished before the kill was asked exactly once in total.
    let per_prompt = server.per_prompt();
    let resumed_requests = server.requests() - requests_before;
    assert!(resumed_requests <= 216 - before_kill.len() as u64 + 4, "resume asked {resumed_requests} for {} missing", 216 - before_kill.len());
    let asked_twice: Vec<_> = per_prompt.values().filter(|&&count| count > 1).collect();
    assert!(asked_twice.len() <= 4, "only the items in flight at the kill may be asked twice: {asked_twice:?}");

    // The same run without interruption gives the same results.
    let clean = temp.path().join("clean");
    let output = Command::new(env!("CARGO_BIN_EXE_medaudit"))
        .arg("eval")
        .args(common_args)
        .args(["--out", clean.to_str().unwrap()])
        .env("MEDAUDIT_CACHE_DIR", temp.path().join("cache"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(results(&killed)["scores"], results(&clean)["scores"]);
    assert_eq!(results(&killed)["complete"], true);
}

#[test]
fn a_torn_last_line_is_cut_before_resuming() {
    let temp = tempfile::tempdir().unwrap();
    let bank = write_bank(temp.path(), 5);
    let out = temp.path().join("run");
    let output = medaudit(
        &["eval", "--bank", bank.to_str().unwrap(), "--model", "baseline:first", "--out", out.to_str().unwrap(), "--quiet"],
        &temp.path().join("cache"),
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // Drop the last record and leave half of it, as a kill in the middle of a write would.
    let text = std::fs::read_to_string(out.join("journal.jsonl")).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let last = lines.pop().unwrap();
    let torn = format!("{}\n{}", lines.join("\n"), &last[..last.len() / 2]);
    std::fs::write(out.join("journal.jsonl"), torn).unwrap();
    let output = medaudit(&["eval", "--resume", out.to_str().unwrap(), "--quiet"], &temp.path().join("cache"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let records = journal_lines(&out);
    assert_eq!(records.len(), 20);
    assert_eq!(std::fs::read_to_string(out.join("journal.jsonl")).unwrap().lines().count(), 20);
}

#[test]
fn ctrl_c_stops_cleanly_keeps_everything_and_resumes() {
    let temp = tempfile::tempdir().unwrap();
    let bank = write_bank(temp.path(), 30);
    let server = start_in_background(Behaviour { latency: Duration::from_millis(40), ..Default::default() }).unwrap();
    let base_url = server.base_url();
    let out = temp.path().join("run");
    let child = Command::new(env!("CARGO_BIN_EXE_medaudit"))
        .args([
            "eval",
            "--bank",
            bank.to_str().unwrap(),
            "--model",
            "openai:m",
            "--base-url",
            &base_url,
            "--quiet",
            "--concurrency",
            "4",
            "--out",
            out.to_str().unwrap(),
        ])
        .env("MEDAUDIT_CACHE_DIR", temp.path().join("cache"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while journal_lines(&out).len() < 20 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(130), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8_lossy(&output.stderr).contains("resume with `medaudit eval --resume"));
    let partial = results(&out);
    assert_eq!(partial["complete"], false);
    let kept = journal_lines(&out).len();
    assert!((20..108).contains(&kept), "{kept}");

    let output = medaudit(&["eval", "--resume", out.to_str().unwrap(), "--quiet"], &temp.path().join("cache"));
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert_eq!(results(&out)["complete"], true);
    assert_eq!(journal_lines(&out).len(), 108);
}
