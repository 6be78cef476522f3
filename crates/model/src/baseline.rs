//! Baselines that need no server. They are the bank's shortcut detectors: if picking the
//! longest or the first option scores well above chance, the bank leaks its keys.

use medaudit_core::rng::SplitMix64;

use crate::{BoxFuture, ChatReply, ChatRequest, Model, ModelError, ModelIdentity};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BaselineKind {
    /// A seeded uniformly random letter (a random set of two or more for multi items).
    Random,
    /// Always the first option shown.
    First,
    /// The longest option shown (in characters); ties go to the earlier one.
    Longest,
}

impl BaselineKind {
    pub fn parse(name: &str) -> Option<BaselineKind> {
        match name {
            "random" => Some(BaselineKind::Random),
            "first" => Some(BaselineKind::First),
            "longest" => Some(BaselineKind::Longest),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            BaselineKind::Random => "random",
            BaselineKind::First => "first",
            BaselineKind::Longest => "longest",
        }
    }
}

pub struct Baseline {
    pub kind: BaselineKind,
    pub seed: u64,
}

impl Baseline {
    pub fn choose(&self, request: &ChatRequest) -> String {
        let letters: Vec<char> = request.letters.chars().collect();
        if letters.is_empty() {
            return String::new();
        }
        match self.kind {
            BaselineKind::First => letters[0].to_string(),
            BaselineKind::Longest => {
                let mut best = 0;
                for (index, option) in request.shown_options.iter().enumerate() {
                    if option.chars().count() > request.shown_options[best].chars().count() {
                        best = index;
                    }
                }
                letters.get(best).copied().unwrap_or(letters[0]).to_string()
            }
            BaselineKind::Random => {
                let mut rng = SplitMix64::for_key(self.seed, &request.task_key);
                if request.multi && letters.len() >= 2 {
                    loop {
                        let chosen: String = letters.iter().filter(|_| rng.below(2) == 1).collect();
                        if chosen.len() >= 2 {
                            return chosen;
                        }
                    }
                }
                letters[rng.below(letters.len() as u64) as usize].to_string()
            }
        }
    }
}

impl Model for Baseline {
    fn identity(&self) -> ModelIdentity {
        ModelIdentity { spec: format!("baseline:{}", self.kind.name()), params: serde_json::json!({ "seed": self.seed }) }
    }

    fn complete<'a>(&'a self, request: &'a ChatRequest) -> BoxFuture<'a, Result<ChatReply, ModelError>> {
        Box::pin(async move { Ok(ChatReply { content: format!("Answer: {}", self.choose(request)), ..ChatReply::default() }) })
    }

    fn uses_cache(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(options: &[&str], key: &str, multi: bool) -> ChatRequest {
        ChatRequest {
            messages: vec![],
            shown_options: options.iter().map(|option| option.to_string()).collect(),
            letters: "ABCD".chars().take(options.len()).collect(),
            multi,
            task_key: key.into(),
        }
    }

    #[test]
    fn first_and_longest() {
        let request = request(&["短", "最长的一个选项", "中等长度", "短"], "k", false);
        assert_eq!(Baseline { kind: BaselineKind::First, seed: 0 }.choose(&request), "A");
        assert_eq!(Baseline { kind: BaselineKind::Longest, seed: 0 }.choose(&request), "B");
    }

    #[test]
    fn random_is_seeded_per_task_and_roughly_uniform() {
        let baseline = Baseline { kind: BaselineKind::Random, seed: 42 };
        let first = baseline.choose(&request(&["a", "b", "c", "d"], "task-1", false));
        assert_eq!(first, baseline.choose(&request(&["a", "b", "c", "d"], "task-1", false)));
        let mut counts = std::collections::HashMap::new();
        for index in 0..4000 {
            *counts.entry(baseline.choose(&request(&["a", "b", "c", "d"], &format!("t{index}"), false))).or_insert(0) += 1;
        }
        assert!(counts.values().all(|&count| (800..1200).contains(&count)), "{counts:?}");
        let multi = baseline.choose(&request(&["a", "b", "c", "d"], "m", true));
        assert!(multi.len() >= 2);
    }
}
