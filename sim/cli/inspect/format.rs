//! The formats `inspect` shares: hex with colons or spaces, CUCM's ctime-style timestamps, and
//! one tab-separated row of a `show itl` table.

use std::fmt::Write as _;

pub(super) fn colon_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

pub(super) fn spaced_hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(" ")
}

pub(super) fn ctime(ts: i64) -> String {
    let fmt = time::macros::format_description!(
        "[weekday repr:short] [month repr:short] [day] [hour]:[minute]:[second] UTC [year]"
    );
    time::OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| t.format(fmt).ok())
        .unwrap_or_else(|| ts.to_string())
}

pub(super) fn row(out: &mut String, tag: u8, name: &str, len: impl std::fmt::Display, value: &str) {
    // Cisco's `show ctl` separates the columns with tabs.
    let _ = writeln!(out, "{tag}\t{name}\t{len}\t{value}");
}
