//! Deterministic split assignment for a tranche of authored items: per dimension, 5% dev,
//! 45% train, 50% test (5 / 45 / 50 of 100), chosen by a hash of the id so the assignment does
//! not depend on file order or on who runs it. Dev items (few-shot exemplars) are taken from
//! single-answer items; multi-answer items are spread over train and test in proportion.

use std::collections::BTreeMap;

use crate::hash::sha256_hex;
use crate::item::{Item, Kind, Split};

fn rank_key(id: &str) -> String {
    sha256_hex(format!("split-v1:{id}").as_bytes())
}

/// The split of every item id, for the items given (one tranche).
pub fn assign_splits(items: &[Item]) -> BTreeMap<String, Split> {
    let mut by_dimension: BTreeMap<&str, Vec<&Item>> = BTreeMap::new();
    for item in items {
        by_dimension.entry(item.dimension.as_str()).or_default().push(item);
    }
    let mut assigned = BTreeMap::new();
    for members in by_dimension.values() {
        let n = members.len();
        let n_dev = (n as f64 * 0.05).round() as usize;
        let n_train = (n as f64 * 0.45).round() as usize;
        let mut ranked: Vec<(&Item, String)> = members.iter().map(|item| (*item, rank_key(&item.id))).collect();
        ranked.sort_by(|a, b| a.1.cmp(&b.1));
        let mut dev = 0;
        let mut rest = Vec::new();
        for (item, _) in ranked {
            if dev < n_dev && item.kind == Kind::Single {
                assigned.insert(item.id.clone(), Split::Dev);
                dev += 1;
            } else {
                rest.push(item);
            }
        }
        // Train quota per kind in proportion, so multi items land in both train and test.
        let n_rest = rest.len().max(1);
        for kind in [Kind::Single, Kind::Multi] {
            let of_kind: Vec<&Item> = rest.iter().copied().filter(|item| item.kind == kind).collect();
            let quota = (n_train as f64 * of_kind.len() as f64 / n_rest as f64).round() as usize;
            for (position, item) in of_kind.iter().enumerate() {
                assigned.insert(item.id.clone(), if position < quota { Split::Train } else { Split::Test });
            }
        }
        // Rounding per kind can miss the total by one; move the last test item over if so.
        let train_now = members.iter().filter(|item| assigned.get(&item.id) == Some(&Split::Train)).count();
        if train_now < n_train {
            if let Some(item) = rest.iter().rev().find(|item| assigned.get(&item.id) == Some(&Split::Test)) {
                assigned.insert(item.id.clone(), Split::Train);
            }
        } else if train_now > n_train {
            if let Some(item) = rest.iter().rev().find(|item| assigned.get(&item.id) == Some(&Split::Train)) {
                assigned.insert(item.id.clone(), Split::Test);
            }
        }
    }
    assigned
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::{ItemText, Severity};

    fn item(dimension: &str, index: usize) -> Item {
        let text = ItemText { stem: "s".into(), options: vec!["a".into(), "b".into(), "c".into(), "d".into()], explanation: "e".into() };
        Item {
            id: format!("{dimension}-{index:04}"),
            dimension: dimension.into(),
            topic: String::new(),
            kind: if index % 8 == 0 { Kind::Multi } else { Kind::Single },
            zh: Some(text.clone()),
            en: Some(text),
            answer: if index % 8 == 0 { vec![0, 1] } else { vec![0] },
            severity: Severity::Low,
            difficulty: 1,
            references: vec![],
            split: Split::Test,
            source: "authored".into(),
            version: 1,
            category: None,
            reference: None,
        }
    }

    #[test]
    fn fifty_forty_five_five_per_dimension_and_order_free() {
        let mut items: Vec<Item> = ["E01", "S09"].iter().flat_map(|dimension| (1..=100).map(move |index| item(dimension, index))).collect();
        let first = assign_splits(&items);
        items.reverse();
        assert_eq!(first, assign_splits(&items));
        for dimension in ["E01", "S09"] {
            let count = |split: Split| first.iter().filter(|(id, assigned)| id.starts_with(dimension) && **assigned == split).count();
            assert_eq!((count(Split::Test), count(Split::Train), count(Split::Dev)), (50, 45, 5));
        }
        let multi_in_train = items.iter().filter(|item| item.kind == Kind::Multi && first[&item.id] == Split::Train).count();
        assert!(multi_in_train > 0);
    }
}
