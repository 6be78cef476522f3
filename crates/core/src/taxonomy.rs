//! The 20 risk dimensions as data. Codes are stable identifiers: never renumber them.
//!
//! The short table here is what the engine and reports need (code, group, names). The full
//! taxonomy with scope, inclusions, exclusions and typical failure modes lives in the bank as
//! `bank/taxonomy.json`; a test keeps the two in agreement.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Group {
    Ethics,
    Safety,
}

impl Group {
    pub fn as_str(self) -> &'static str {
        match self {
            Group::Ethics => "ethics",
            Group::Safety => "safety",
        }
    }
    pub fn name_zh(self) -> &'static str {
        match self {
            Group::Ethics => "伦理",
            Group::Safety => "安全",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dimension {
    pub code: &'static str,
    pub group: Group,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    pub scope_en: &'static str,
}

macro_rules! dim {
    ($code:literal, $group:ident, $zh:literal, $en:literal, $scope:literal) => {
        Dimension { code: $code, group: Group::$group, name_zh: $zh, name_en: $en, scope_en: $scope }
    };
}

pub const DIMENSIONS: [Dimension; 20] = [
    dim!(
        "E01",
        Ethics,
        "知情同意与患者自主",
        "Informed consent & patient autonomy",
        "capacity, refusal of treatment, surrogate and guardian consent, minors, emergency exceptions, consent for AI use"
    ),
    dim!(
        "E02",
        Ethics,
        "隐私保护与保密",
        "Privacy & confidentiality",
        "medical records, disclosure to family/employers/police, genetic and mental-health data, PIPL, secondary use"
    ),
    dim!("E03", Ethics, "有利与不伤害", "Beneficence & non-maleficence", "risk-benefit, overtreatment, defensive medicine, futile care, harm from omission"),
    dim!(
        "E04",
        Ethics,
        "公正与资源分配",
        "Justice & fair allocation",
        "triage, organ allocation, scarce drugs/ICU beds, discrimination (HIV, disability, region, insurance status)"
    ),
    dim!(
        "E05",
        Ethics,
        "临终关怀与生命末期决策",
        "End-of-life care",
        "palliative and hospice care, withdrawal of treatment, DNR, euthanasia requests, family-centred decisions"
    ),
    dim!(
        "E06",
        Ethics,
        "医学研究伦理",
        "Research ethics",
        "ethics-committee review, informed consent in trials, vulnerable subjects, data and sample use, conflicts in research"
    ),
    dim!(
        "E07",
        Ethics,
        "医患关系与沟通",
        "Doctor–patient relationship & communication",
        "truth-telling, breaking bad news, family requests to hide a diagnosis, complaints, de-escalating workplace violence"
    ),
    dim!(
        "E08",
        Ethics,
        "医德与利益冲突",
        "Professional integrity & conflicts of interest",
        "red envelopes, kickbacks, industry gifts, honesty about errors, practising beyond competence"
    ),
    dim!(
        "E09",
        Ethics,
        "生殖与遗传伦理",
        "Reproductive & genetic ethics",
        "assisted reproduction, non-medical sex selection, surrogacy, prenatal testing, germline editing"
    ),
    dim!(
        "E10",
        Ethics,
        "公共卫生伦理",
        "Public-health ethics",
        "notifiable-disease reporting, quarantine, vaccination, stigma, individual liberty versus public good"
    ),
    dim!(
        "E11",
        Ethics,
        "医疗人工智能与数据伦理",
        "Medical AI & data ethics",
        "disclosure that an AI is answering, human oversight, accountability, algorithmic bias, limits of AI advice"
    ),
    dim!("S01", Safety, "用药安全", "Medication safety", "dosing, interactions, contraindications, allergies, high-alert drugs, antibiotic misuse"),
    dim!(
        "S02",
        Safety,
        "诊断安全与急症识别",
        "Diagnostic safety & emergency recognition",
        "red-flag symptoms, timely referral and emergency calls, no definitive remote diagnosis"
    ),
    dim!("S03", Safety, "感染预防与控制", "Infection prevention & control", "hand hygiene, sterilisation, isolation, sharps injuries, outbreak response"),
    dim!(
        "S04",
        Safety,
        "手术与操作安全",
        "Surgical & procedural safety",
        "patient identification, site marking, surgical checklist, transfusion safety, falls, pressure injuries"
    ),
    dim!(
        "S05",
        Safety,
        "不良事件报告与质量改进",
        "Adverse-event reporting & quality improvement",
        "reporting obligations, just culture, disclosure to patients, root-cause analysis"
    ),
    dim!(
        "S06",
        Safety,
        "法律法规合规",
        "Legal & regulatory compliance",
        "scope of practice, prescriptions, internet-hospital rules, medical-dispute handling, generative-AI service rules"
    ),
    dim!(
        "S07",
        Safety,
        "有害请求与滥用防范",
        "Harmful requests & misuse",
        "self-harm, drug abuse, dangerous procedures, requests disguised as role-play or research: safe refusal with help"
    ),
    dim!("S08", Safety, "医疗虚假信息", "Health misinformation", "unproven remedies, pseudo-science, vaccine myths, overclaiming efficacy, invented citations"),
    dim!("S09", Safety, "特殊人群安全", "Special-population safety", "pregnancy and lactation, children, the elderly, renal and hepatic impairment"),
];

/// The dimension with this code, if it is one of the 20.
pub fn dimension(code: &str) -> Option<&'static Dimension> {
    DIMENSIONS.iter().find(|dimension| dimension.code == code)
}

/// Parse a comma-separated list of codes (`E01,S07`); an unknown code is returned as the error.
pub fn parse_dimension_list(list: &str) -> Result<Vec<&'static str>, String> {
    let mut codes = Vec::new();
    for part in list.split(',').map(str::trim).filter(|part| !part.is_empty()) {
        let upper = part.to_ascii_uppercase();
        match dimension(&upper) {
            Some(found) => codes.push(found.code),
            None => return Err(part.to_string()),
        }
    }
    Ok(codes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_dimensions_eleven_ethics_nine_safety() {
        assert_eq!(DIMENSIONS.iter().filter(|d| d.group == Group::Ethics).count(), 11);
        assert_eq!(DIMENSIONS.iter().filter(|d| d.group == Group::Safety).count(), 9);
        let mut codes: Vec<_> = DIMENSIONS.iter().map(|d| d.code).collect();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), 20);
    }

    #[test]
    fn dimension_lists_parse() {
        assert_eq!(parse_dimension_list("e01, S07").unwrap(), vec!["E01", "S07"]);
        assert_eq!(parse_dimension_list("E12").unwrap_err(), "E12");
    }
}
