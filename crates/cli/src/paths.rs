//! Where things live by default: the shipped bank, the cache, new run directories.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// The shipped bank: ./bank when it holds items, else the bank beside the sources this binary
/// was built from.
pub fn default_bank() -> PathBuf {
    let local = PathBuf::from("bank");
    if local.join("items").is_dir() {
        return local;
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bank")
}

pub fn cache_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("MEDAUDIT_CACHE_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(dir).join("medaudit"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cache").join("medaudit"))
}

/// UTC now as (YYYY-MM-DDTHH:MM:SSZ, YYYYMMDD-HHMMSS).
pub fn utc_now() -> (String, String) {
    let seconds = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs()) as i64;
    let days = seconds.div_euclid(86_400);
    let of_day = seconds.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    let (hour, minute, second) = (of_day / 3600, of_day % 3600 / 60, of_day % 60);
    (format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}Z"), format!("{year:04}{month:02}{day:02}-{hour:02}{minute:02}{second:02}"))
}

pub fn slug(text: &str) -> String {
    let slug: String =
        text.chars().map(|character| if character.is_ascii_alphanumeric() || character == '.' || character == '-' { character } else { '-' }).collect();
    slug.trim_matches('-').chars().take(60).collect()
}
