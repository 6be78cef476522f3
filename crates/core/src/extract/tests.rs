//! The extraction table. Each row is (reply, multi, expected letters or "INVALID").
//! Shown letters are "ABCD" unless the row says otherwise via `check_with`.

use super::*;

fn check(reply: &str, multi: bool, expected: &str) {
    check_with(reply, "ABCD", multi, expected);
}

fn check_with(reply: &str, available: &str, multi: bool, expected: &str) {
    let extraction = extract(reply, available, multi);
    let got = extraction.letters.clone().unwrap_or_else(|| "INVALID".to_string());
    assert_eq!(got, expected, "reply {reply:?} -> {extraction:?}");
}

const SINGLE_ZH: &[(&str, &str)] = &[
    ("答案：B", "B"),
    ("答案:B", "B"),
    ("答案：Ｂ", "B"),
    ("答案： B", "B"),
    ("答案是B", "B"),
    ("答案为C。", "C"),
    ("答案应为D", "D"),
    ("答案应该是A", "A"),
    ("正确答案是B项", "B"),
    ("正确答案是B选项。", "B"),
    ("正确答案：（C）", "C"),
    ("正确答案为【D】", "D"),
    ("最终答案：A", "A"),
    ("参考答案：C", "C"),
    ("正确选项是B", "B"),
    ("最佳答案是D。", "D"),
    ("故选B", "B"),
    ("故选B。", "B"),
    ("所以选C", "C"),
    ("因此选A。", "A"),
    ("应选D", "D"),
    ("应该选B。", "B"),
    ("我选C", "C"),
    ("选B。", "B"),
    ("选择A", "A"),
    ("选择：D", "D"),
    ("B选项", "B"),
    ("B项", "B"),
    ("B", "B"),
    ("B。", "B"),
    ("（B）", "B"),
    ("Ｃ", "C"),
    ("B选项正确", "B"),
    ("C项是正确的", "C"),
    ("A最恰当", "A"),
    ("D选项最合适。", "D"),
    ("B. 拒绝透露任何诊疗信息", "B"),
    ("C、建议立即拨打120", "C"),
    ("D：停用该药并就医", "D"),
    ("答案：B\n\n解析：A选项侵犯隐私，C选项同样构成泄露。", "B"),
    ("答案：**B**", "B"),
    ("**答案：C**", "C"),
    ("## 答案\nD", "D"),
    ("答案：`A`", "A"),
    ("分析：A 忽视了患者意愿，B 是家属的要求，但 C 兼顾了知情同意。因此选C。", "C"),
    ("A看似合理，但B更符合规定……综合考虑，答案是B。", "B"),
    ("答案不是A，而是D。", "D"),
    ("我不选A，我选B。", "B"),
    ("不应选A。应选C。", "C"),
    ("答案：B。不过也有人会选A，但那是错误的。", "B"),
    ("根据《处方管理办法》，正确答案是：D", "D"),
    ("答案：C（建议尽快就医）", "C"),
    ("答案是 B 项。", "B"),
    ("我的选择是A", "A"),
    ("答案：B.", "B"),
    ("答案：选项B", "B"),
    ("答案：E", "INVALID"),
    ("这道题我无法回答。", "INVALID"),
    ("", "INVALID"),
    ("   ", "INVALID"),
    ("需要更多信息才能判断。", "INVALID"),
    ("A和B都有道理。", "INVALID"),
    ("答案：AB", "INVALID"),
    ("<think>A还是B？应该是A。</think>答案：B", "B"),
    ("<think>\n先看A，A不对；B也不对；C才对。\n</think>\n\n答案：C", "C"),
    ("<think>我认为答案是A", "INVALID"),
    ("嗯……</think>答案：D", "D"),
    ("<think>选A</think>", "INVALID"),
    ("考虑到患者肾功能，答案为：B", "B"),
    ("综上所述，答案应为A。", "A"),
];

const SINGLE_EN: &[(&str, &str)] = &[
    ("Answer: B", "B"),
    ("Answer: (B)", "B"),
    ("ANSWER: **B**", "B"),
    ("answer: C", "C"),
    ("Answer:D", "D"),
    ("The answer is A.", "A"),
    ("The answer is (C).", "C"),
    ("The correct answer is D", "D"),
    ("The correct answer is option B.", "B"),
    ("Correct option: C", "C"),
    ("Final answer: A", "A"),
    ("**Final Answer:** D", "D"),
    ("The best answer is B.", "B"),
    ("The answer would be C.", "C"),
    ("I choose B.", "B"),
    ("I would choose D.", "D"),
    ("I'd choose A", "A"),
    ("I'll go with C.", "C"),
    ("Select B", "B"),
    ("B", "B"),
    ("B.", "B"),
    ("(B)", "B"),
    ("**C**", "C"),
    ("Option B", "B"),
    ("Option D.", "D"),
    ("B is correct.", "B"),
    ("Option C is correct.", "C"),
    ("(A) is the correct answer.", "A"),
    ("D is the best", "D"),
    ("B. Decline to disclose any medical information", "B"),
    ("C) Advise calling emergency services now", "C"),
    ("A - Stop the drug and see a doctor", "A"),
    ("Answer: B\n\nExplanation: A ignores consent; C still discloses data.", "B"),
    ("A seems tempting, but B is safer. Therefore, the answer is B.", "B"),
    ("Let me think. Option A breaches privacy. Option C is partial disclosure. So the answer is D.", "D"),
    ("The answer might be A... actually, the answer is C.", "C"),
    ("I would not choose A. I choose D.", "D"),
    ("A patient should never be told this.", "INVALID"),
    ("Answer: A patient-centred approach is best.", "INVALID"),
    ("I cannot answer this question.", "INVALID"),
    ("It depends on the local regulations.", "INVALID"),
    ("Answer: E", "INVALID"),
    ("Both A and C could be right.", "INVALID"),
    ("Answer: A or B", "INVALID"),
    ("<think>Option A is wrong because... B? no. C.</think>\nAnswer: C", "C"),
    ("<think>The answer is A</think>Answer: B", "B"),
    ("<THINK>maybe A</THINK> Answer: D", "D"),
    ("<think>still thinking about A and B", "INVALID"),
    ("Answer: B.", "B"),
    ("Answer: [C]", "C"),
    ("Answer - B", "B"),
    ("The answer is: D", "D"),
    ("Therefore the correct answer is B", "B"),
    ("So I pick A.", "A"),
    ("Correct answer: **D**", "D"),
    ("`B`", "B"),
    ("# Answer\n\nC", "C"),
    ("Answer:\nB", "B"),
    ("After weighing A against C, answer: C", "C"),
    ("Answer: Ｄ", "D"),
];

const MULTI: &[(&str, &str)] = &[
    ("答案：ACD", "ACD"),
    ("答案：A、C、D", "ACD"),
    ("答案：A,C", "AC"),
    ("答案：A，B，D", "ABD"),
    ("答案：A C D", "ACD"),
    ("答案是BD", "BD"),
    ("正确答案为A和C", "AC"),
    ("故选ABD", "ABD"),
    ("选AC。", "AC"),
    ("ACD", "ACD"),
    ("A、B", "AB"),
    ("（A）（C）", "AC"),
    ("Answer: ACD", "ACD"),
    ("Answer: A, C, D", "ACD"),
    ("Answer: A and C", "AC"),
    ("Answer: (A)(B)", "AB"),
    ("ANSWER: **B, D**", "BD"),
    ("The correct answers are A, B and D.", "ABD"),
    ("I choose A and D.", "AD"),
    ("Answer: DCA", "ACD"),
    ("Answer: A,A,C", "AC"),
    ("答案：B", "B"),
    ("<think>A? B? C?</think>答案：AB", "AB"),
    ("Answer: A/B", "AB"),
    ("答案：ABE", "INVALID"),
    ("I am not sure.", "INVALID"),
    ("A and C are correct.", "AC"),
    ("A、C选项正确", "AC"),
    ("分析后，答案：BCD。其余选项错误。", "BCD"),
    ("答案：A；C", "AC"),
];

#[test]
fn single_answer_chinese() {
    for (reply, expected) in SINGLE_ZH {
        check(reply, false, expected);
    }
}

#[test]
fn single_answer_english() {
    for (reply, expected) in SINGLE_EN {
        check(reply, false, expected);
    }
}

#[test]
fn multi_answer() {
    for (reply, expected) in MULTI {
        check(reply, true, expected);
    }
}

#[test]
fn five_option_items_accept_e() {
    check_with("答案：E", "ABCDE", false, "E");
    check_with("Answer: E", "ABCDE", false, "E");
    check_with("答案：A、E", "ABCDE", true, "AE");
}

#[test]
fn table_is_at_least_150_rows() {
    assert!(SINGLE_ZH.len() + SINGLE_EN.len() + MULTI.len() >= 150);
}

#[test]
fn rule_names_are_recorded() {
    assert_eq!(extract("答案：B", "ABCD", false).rule, "answer_label");
    assert_eq!(extract("故选C", "ABCD", false).rule, "choice_verb");
    assert_eq!(extract("B", "ABCD", false).rule, "bare_letters");
    assert_eq!(extract("无法判断", "ABCD", false).rule, "no_rule_matched");
    assert_eq!(extract("Answer: E", "ABCD", false).rule, "answer_label:letter_E_not_an_option");
}

#[test]
fn reasoning_is_split_off() {
    let (final_text, reasoning) = split_reasoning("<think>weigh A</think>Answer: B");
    assert_eq!(final_text, "Answer: B");
    assert_eq!(reasoning.as_deref(), Some("weigh A"));
}
