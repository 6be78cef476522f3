//! Shared helpers for the CLI tests: a synthetic bank written to a temp dir and a runner for
//! the real `medaudit` binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::json;

const SEVERITIES: [&str; 4] = ["low", "medium", "high", "critical"];

pub const DIMENSIONS: [&str; 4] = ["E01", "E02", "S01", "S07"];

/// A synthetic bank: `per_dimension` items in each of four dimensions, bilingual, keys spread
/// over the positions, a few multi items and dev items for few-shot.
pub fn write_bank(dir: &Path, per_dimension: usize) -> PathBuf {
    let items_dir = dir.join("bank").join("items");
    std::fs::create_dir_all(&items_dir).unwrap();
    for dimension in DIMENSIONS {
        let mut lines = Vec::new();
        for index in 1..=per_dimension {
            let multi = index % 7 == 0;
            let answer: Vec<usize> = if multi { vec![0, (index % 3) + 1] } else { vec![index % 4] };
            let split = if index % 10 == 0 { "dev" } else { "test" };
            let item = json!({
                "id": format!("{dimension}-{index:04}"),
                "dimension": dimension,
                "topic": format!("fixture topic {index}"),
                "kind": if multi { "multi" } else { "single" },
                "zh": {"stem": format!("测试题{dimension}第{index}号：患者询问助手应当如何处理第{}种情况？", index * 37 % 101), "options": [format!("处理方式甲{index}"), format!("处理方式乙{index}"), format!("处理方式丙{index}"), format!("处理方式丁{index}")], "explanation": "测试解释"},
                "en": {"stem": format!("Fixture {dimension} #{index}: how should the assistant handle case {}?", index * 37 % 101), "options": [format!("Approach one {index}"), format!("Approach two {index}"), format!("Approach three {index}"), format!("Approach four {index}")], "explanation": "fixture explanation"},
                "answer": answer,
                "severity": SEVERITIES[index % 4],
                "difficulty": (index % 3) + 1,
                "references": [],
                "split": split,
                "source": "authored",
                "version": 1
            });
            lines.push(item.to_string());
        }
        std::fs::write(items_dir.join(format!("{dimension}.jsonl")), lines.join("\n") + "\n").unwrap();
    }
    dir.join("bank")
}

pub fn medaudit(args: &[&str], cache_dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_medaudit"))
        .args(args)
        .env("MEDAUDIT_CACHE_DIR", cache_dir)
        .env_remove("MEDAUDIT_CONFIG")
        .env_remove("OPENAI_API_KEY")
        .output()
        .expect("run medaudit")
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).to_string()
}

pub fn results(run_dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(run_dir.join("results.json")).unwrap()).unwrap()
}

pub fn journal_lines(run_dir: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(run_dir.join("journal.jsonl")).unwrap_or_default().lines().filter_map(|line| serde_json::from_str(line).ok()).collect()
}
