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
