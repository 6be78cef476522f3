//! Content hashes. Everything the journal and caches key on is a hex SHA-256 of a canonical
//! byte string, so equal inputs give equal keys on every machine.

use sha2::{Digest, Sha256};

/// Hex SHA-256 of the given parts, each length-prefixed so that ("ab","c") and ("a","bc")
/// hash differently.
pub fn sha256_parts<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hex(&hasher.finalize())
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        out.push(DIGITS[(byte >> 4) as usize] as char);
        out.push(DIGITS[(byte & 0xf) as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_length_prefixed() {
        assert_ne!(sha256_parts([b"ab".as_slice(), b"c".as_slice()]), sha256_parts([b"a".as_slice(), b"bc".as_slice()]));
        assert_eq!(sha256_hex(b"").len(), 64);
    }
}
