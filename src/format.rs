//! Numbers formatted for people, shared by `explain()`, `info()` and the executor's report.

/// Formats bytes for people: `5.0 KB`, `1.3 GB` (decimal units, like the size strings
/// [`Partitioning::size`](crate::io::Partitioning::size) accepts).
///
/// ```
/// assert_eq!(lsstseries::format::human_bytes(5_000), "5.0 KB");
/// ```
pub fn human_bytes(bytes: usize) -> String {
    let b = bytes as f64;
    if b < 1e3 {
        format!("{bytes} B")
    } else if b < 1e6 {
        format!("{:.1} KB", b / 1e3)
    } else if b < 1e9 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.2} GB", b / 1e9)
    }
}

/// Groups digits by thousands: `1234567` -> `1,234,567`.
///
/// ```
/// assert_eq!(lsstseries::format::thousands(1_234_567), "1,234,567");
/// ```
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A duration for people: `850µs`, `12.3ms`, `4.56s`, `2m05s`.
///
/// ```
/// use lsstseries::format::human_duration;
/// use std::time::Duration;
/// assert_eq!(human_duration(Duration::from_micros(850)), "850µs");
/// assert_eq!(human_duration(Duration::from_micros(12_345)), "12.3ms");
/// assert_eq!(human_duration(Duration::from_millis(4_560)), "4.56s");
/// assert_eq!(human_duration(Duration::from_secs(125)), "2m05s");
/// ```
pub fn human_duration(d: std::time::Duration) -> String {
    let us = d.as_micros();
    if us < 1_000 {
        format!("{us}µs")
    } else if us < 1_000_000 {
        format!("{:.1}ms", us as f64 / 1e3)
    } else if us < 60_000_000 {
        format!("{:.2}s", us as f64 / 1e6)
    } else {
        let s = d.as_secs();
        format!("{}m{:02}s", s / 60, s % 60)
    }
}
