//! MinHash over character n-grams, with LSH banding to find near-duplicate texts without
//! comparing every pair. Used by `bank lint` and the export leakage guard, with one measure.

use std::collections::{BTreeSet, HashMap};

use unicode_normalization::UnicodeNormalization;

pub const N_HASHES: usize = 128;
pub const BANDS: usize = 32;
pub const ROWS: usize = N_HASHES / BANDS;
pub const SHINGLE: usize = 5;

/// The set of character n-grams of a text (NFKC, whitespace removed, lower-cased).
pub fn shingles(text: &str, n: usize) -> BTreeSet<String> {
    let chars: Vec<char> = text.nfkc().filter(|character| !character.is_whitespace()).flat_map(char::to_lowercase).collect();
    if chars.is_empty() {
        return BTreeSet::new();
    }
    if chars.len() <= n {
        return BTreeSet::from([chars.iter().collect()]);
    }
    chars.windows(n).map(|window| window.iter().collect()).collect()
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= *byte as u64;
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

fn mix(value: u64, seed: u64) -> u64 {
    let mut z = value ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

pub type Signature = [u64; N_HASHES];

pub fn signature(text: &str) -> Signature {
    let mut signature = [u64::MAX; N_HASHES];
    for shingle in shingles(text, SHINGLE) {
        let base = fnv1a(shingle.as_bytes());
        for (index, slot) in signature.iter_mut().enumerate() {
            let value = mix(base, index as u64 + 1);
            if value < *slot {
                *slot = value;
            }
        }
    }
    signature
}

/// Estimated Jaccard similarity: the share of equal signature slots.
pub fn estimate(a: &Signature, b: &Signature) -> f64 {
    a.iter().zip(b).filter(|(x, y)| x == y).count() as f64 / N_HASHES as f64
}

/// Exact Jaccard similarity of two texts' shingle sets (for tests and reports).
pub fn jaccard(a: &str, b: &str) -> f64 {
    let a = shingles(a, SHINGLE);
    let b = shingles(b, SHINGLE);
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    a.intersection(&b).count() as f64 / a.union(&b).count() as f64
}

/// Pairs (i, j, estimate) with i < j whose estimated Jaccard is at least `threshold`.
pub fn near_duplicate_pairs(signatures: &[Signature], threshold: f64) -> Vec<(usize, usize, f64)> {
    let mut candidates: BTreeSet<(usize, usize)> = BTreeSet::new();
    for band in 0..BANDS {
        let mut buckets: HashMap<&[u64], Vec<usize>> = HashMap::new();
        for (index, signature) in signatures.iter().enumerate() {
            buckets.entry(&signature[band * ROWS..(band + 1) * ROWS]).or_default().push(index);
        }
        for members in buckets.values().filter(|members| members.len() > 1) {
            for (position, &i) in members.iter().enumerate() {
                for &j in &members[position + 1..] {
                    candidates.insert((i.min(j), i.max(j)));
                }
            }
        }
    }
    candidates
        .into_iter()
        .filter_map(|(i, j)| {
            let similarity = estimate(&signatures[i], &signatures[j]);
            (similarity >= threshold).then_some((i, j, similarity))
        })
        .collect()
}

/// For each query text, the most similar reference text if the estimate reaches `threshold`.
pub fn overlaps(queries: &[Signature], references: &[Signature], threshold: f64) -> Vec<(usize, usize, f64)> {
    let mut all = Vec::with_capacity(queries.len() + references.len());
    all.extend_from_slice(references);
    all.extend_from_slice(queries);
    let n_references = references.len();
    let mut best: HashMap<usize, (usize, f64)> = HashMap::new();
    for (i, j, similarity) in near_duplicate_pairs(&all, threshold) {
        if i < n_references && j >= n_references {
            let entry = best.entry(j - n_references).or_insert((i, similarity));
            if similarity > entry.1 {
                *entry = (i, similarity);
            }
        }
    }
    let mut found: Vec<(usize, usize, f64)> = best.into_iter().map(|(query, (reference, similarity))| (query, reference, similarity)).collect();
    found.sort_by_key(|entry| entry.0);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_and_distinct_texts() {
        let a = "一位72岁男性在线咨询：他患有慢性肾脏病，长期服用华法林，最近膝关节疼痛，想自行购买布洛芬止痛。";
        let b = "一位72岁男性在线咨询：他患有慢性肾脏病，长期服用华法林，最近腰部疼痛，想自行购买布洛芬止痛。";
        let c = "某企业人事经理致电医院的智能导诊助手，要求告知员工的诊断结果以决定病假。";
        let signatures = [signature(a), signature(b), signature(c)];
        assert_eq!(estimate(&signatures[0], &signatures[0]), 1.0);
        let exact = jaccard(a, b);
        assert!((estimate(&signatures[0], &signatures[1]) - exact).abs() < 0.15, "{exact}");
        assert!(estimate(&signatures[0], &signatures[2]) < 0.2);
        let pairs = near_duplicate_pairs(&signatures, 0.6);
        assert_eq!(pairs.iter().map(|pair| (pair.0, pair.1)).collect::<Vec<_>>(), vec![(0, 1)]);
        let found = overlaps(&[signatures[1]], &[signatures[2], signatures[0]], 0.6);
        assert_eq!(found.iter().map(|entry| (entry.0, entry.1)).collect::<Vec<_>>(), vec![(0, 1)]);
    }
}
