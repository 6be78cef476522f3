//! Model specs on the command line: `openai:NAME`, `baseline:random|first|longest`,
//! `local:smollm2` or `local:/path/file.gguf`.

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSpec {
    OpenAi { model: String },
    Baseline(crate::baseline::BaselineKind),
    Local { model: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error("unknown model backend {backend:?} in --model {spec:?}; use openai:NAME, local:smollm2, local:/path.gguf or baseline:random|first|longest")]
    UnknownBackend { spec: String, backend: String },
    #[error("unknown baseline {name:?}; use baseline:random, baseline:first or baseline:longest")]
    UnknownBaseline { name: String },
    #[error("--model {spec:?} names no model after the colon")]
    Empty { spec: String },
}

pub fn parse_model_spec(spec: &str) -> Result<ModelSpec, SpecError> {
    let (backend, rest) = spec.split_once(':').unwrap_or((spec, ""));
    let rest = rest.trim();
    let empty = || SpecError::Empty { spec: spec.to_string() };
    match backend.trim() {
        "openai" => {
            if rest.is_empty() {
                return Err(empty());
            }
            Ok(ModelSpec::OpenAi { model: rest.to_string() })
        }
        "baseline" => crate::baseline::BaselineKind::parse(rest).map(ModelSpec::Baseline).ok_or(SpecError::UnknownBaseline { name: rest.to_string() }),
        "local" => {
            if rest.is_empty() {
                return Err(empty());
            }
            Ok(ModelSpec::Local { model: rest.to_string() })
        }
        other => Err(SpecError::UnknownBackend { spec: spec.to_string(), backend: other.to_string() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::BaselineKind;

    #[test]
    fn specs_parse() {
        assert_eq!(parse_model_spec("openai:qwen2.5-7b-instruct").unwrap(), ModelSpec::OpenAi { model: "qwen2.5-7b-instruct".into() });
        assert_eq!(parse_model_spec("baseline:longest").unwrap(), ModelSpec::Baseline(BaselineKind::Longest));
        assert_eq!(parse_model_spec("local:/m/x.gguf").unwrap(), ModelSpec::Local { model: "/m/x.gguf".into() });
        assert!(parse_model_spec("hf:gpt2").unwrap_err().to_string().starts_with("unknown model backend \"hf\""));
        assert!(matches!(parse_model_spec("baseline:oracle"), Err(SpecError::UnknownBaseline { .. })));
        assert!(matches!(parse_model_spec("openai:"), Err(SpecError::Empty { .. })));
    }
}
