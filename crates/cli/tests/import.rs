//! Importers on the real public files under ../shared/datasets, and their bad input.

mod common;

use std::path::{Path, PathBuf};

use common::*;

fn datasets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/datasets")
}

fn import(temp: &Path, args: &[&str]) -> std::process::Output {
    let mut full = vec!["bank", "import"];
    full.extend_from_slice(args);
    medaudit(&full, temp)
}

#[test]
fn each_public_format_imports_validates_and_runs() {
    let temp = tempfile::tempdir().unwrap();
    let cases = [
        ("safetybench", "safetybench-zh-general", 1200, true),
        ("cmmlu", "cmmlu-medical-dev", 55, true),
        ("medsafetybench", "medsafetybench-train", 900, false),
        ("flames", "flames-1k", 1000, false),
    ];
    for (format, folder, expected, multiple_choice) in cases {
        let source = datasets().join(folder);
        let out = temp.path().join(format);
        let output = import(temp.path(), &[format, source.to_str().unwrap(), "--out", out.to_str().unwrap()]);
        assert_eq!(output.status.code(), Some(0), "{format}: {}", stderr(&output));
        assert!(stdout(&output).contains(&format!("imported {expected} items")), "{format}: {}", stdout(&output));
        let record: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("SOURCE.json")).unwrap()).unwrap();
        assert_eq!(record["n_items"], expected);
        assert!(record["license"].as_str().unwrap().len() > 2);
        assert!(out.join("LICENSE.source").exists() || out.join("LICENSE.txt.source").exists(), "{format}: license not carried");
        let output = medaudit(&["bank", "validate", out.to_str().unwrap()], temp.path());
        assert_eq!(output.status.code(), Some(0), "{format}: {}", stdout(&output));
        let output = medaudit(&["bank", "stats", out.to_str().unwrap(), "--json"], temp.path());
        let stats: serde_json::Value = serde_json::from_str(&stdout(&output)).unwrap();
        assert_eq!(stats["total"]["items"], expected);
        let run = temp.path().join(format!("run-{format}"));
        let lang = if format == "medsafetybench" { "en" } else { "zh" };
        let output = medaudit(
            &["eval", "--bank", out.to_str().unwrap(), "--model", "baseline:random", "--lang", lang, "--out", run.to_str().unwrap(), "--quiet"],
            temp.path(),
        );
        assert_eq!(output.status.code(), Some(0), "{format}: {}", stderr(&output));
        let results = results(&run);
        if multiple_choice {
            assert_eq!(results["scores"]["overall"]["n"], expected, "{format}");
        } else {
            assert_eq!(results["n_needs_judge"], expected, "{format}");
            assert_eq!(results["scores"]["overall"]["n"], 0);
        }
    }
}

#[test]
fn medes_multi_letter_keys_gbk_and_generic_csv() {
    let temp = tempfile::tempdir().unwrap();
    let source = temp.path().join("medes");
    std::fs::create_dir_all(&source).unwrap();
    let csv = "题目,A,B,C,D,E,答案,类别\n以下哪些属于知情同意的要素？,告知风险,告知替代方案,自愿,签字即可免责,医生代为决定,ABC,医学伦理\n医师的义务包括？,保护隐私,如实记录,收受红包,及时救治,拒绝急救,ABD,医学伦理\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(csv);
    std::fs::write(source.join("exam.csv"), &gbk).unwrap();
    let mapping = temp.path().join("medes.toml");
    std::fs::write(&mapping, "dataset = \"ethics-exam\"\nlicense = \"internal\"\nattribution = \"test\"\n[categories]\n\"医学伦理\" = \"E01\"\n").unwrap();
    let out = temp.path().join("out-medes");
    let output = import(temp.path(), &["medes", source.to_str().unwrap(), "--out", out.to_str().unwrap(), "--mapping", mapping.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).contains("converted from GBK to UTF-8"), "{}", stderr(&output));
    let text = std::fs::read_to_string(out.join("items/ethics-exam.jsonl")).unwrap();
    assert!(text.contains("\"kind\":\"multi\"") && text.contains("\"answer\":[0,1,2]") && text.contains("\"dimension\":\"E01\""), "{text}");

    let generic = temp.path().join("generic.csv");
    std::fs::write(&generic, "编号,题目,A,B,C,D,答案,科目\nq1,问题一？,甲,乙,丙,丁,B,卫生法规\nq2,问题二？,甲,乙,丙,,3,医学伦理\n").unwrap();
    let generic_mapping = temp.path().join("generic.toml");
    std::fs::write(&generic_mapping, "dataset = \"hospital\"\nlicense = \"internal\"\nattribution = \"test\"\n[columns]\nid = \"编号\"\nquestion = \"题目\"\noptions = [\"A\", \"B\", \"C\", \"D\"]\nanswer = \"答案\"\nanswer_format = \"letters\"\ncategory = \"科目\"\n[categories]\n\"卫生法规\" = \"S06\"\n").unwrap();
    let out = temp.path().join("out-generic");
    let output = import(temp.path(), &["csv", generic.to_str().unwrap(), "--out", out.to_str().unwrap(), "--mapping", generic_mapping.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2), "row 3 has answer 3, not a letter");
    assert!(stderr(&output).contains("generic.csv:3: answer \"3\" is not option letters"), "{}", stderr(&output));
    assert!(!out.exists(), "a failed import writes nothing");
}

#[test]
fn bad_input_names_the_file_and_row_and_writes_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let out = temp.path().join("out");
    let output = import(temp.path(), &["safetybenchx", "x", "--out", out.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("unknown import format \"safetybenchx\""));

    // Questions without their answer file.
    let lonely = temp.path().join("sb");
    std::fs::create_dir_all(&lonely).unwrap();
    std::fs::copy(datasets().join("safetybench-zh-general/test_zh_subset.json"), lonely.join("test_zh_subset.json")).unwrap();
    let output = import(temp.path(), &["safetybench", lonely.join("test_zh_subset.json").to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("no answer file; pass --answers FILE"), "{}", stderr(&output));

    // An answer whose id has no question.
    let answers = lonely.join("test_answers_zh_subset.json");
    std::fs::write(&answers, r#"{"999999": {"category": "Offensiveness", "answer": 0}}"#).unwrap();
    let output = import(temp.path(), &["safetybench", lonely.join("test_zh_subset.json").to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("answer for id 999999 has no question"), "{}", stderr(&output));

    // A letter outside the options.
    let cmmlu = temp.path().join("c");
    std::fs::create_dir_all(&cmmlu).unwrap();
    std::fs::write(cmmlu.join("x.csv"), ",Question,A,B,C,D,Answer\n0,问题？,甲,乙,丙,丁,F\n").unwrap();
    let output = import(temp.path(), &["cmmlu", cmmlu.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("x.csv:2: answer letter F is outside the 4 options"), "{}", stderr(&output));
    assert!(!out.exists());

    // Bytes that are neither UTF-8 nor GBK.
    std::fs::write(cmmlu.join("x.csv"), b",Question,A,B,C,D,Answer\n0,\xff\xff\xff,a,b,c,d,A\n").unwrap();
    let output = import(temp.path(), &["cmmlu", cmmlu.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("x.csv:2: neither UTF-8 nor GBK"), "{}", stderr(&output));
}
