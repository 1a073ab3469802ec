//! TAPE's `find_day_gap_offset`: where in the day observations never happen, so that
//! binning by day (`bin_sources(1.0, offset)`) does not cut a night in two.

/// Counts observations per hour of the day: hour `floor(t * 24) mod 24`, as TAPE computes
/// it. Non-finite times are skipped.
pub fn add_hours(times: impl IntoIterator<Item = f64>, counts: &mut [u64; 24]) {
    for t in times {
        if t.is_finite() {
            let hour = ((t * 24.0).floor() as i64).rem_euclid(24) as usize;
            counts[hour] += 1;
        }
    }
}

/// The middle of the longest run of hours without observations, as a fraction of a day;
/// `-1.0` when every hour has observations. TAPE's rule (`Ensemble.find_day_gap_offset`):
/// runs are scanned from each hour 0..24 in turn and may wrap past midnight (up to hour
/// 48); a run from `start` to the first observed hour `end` has length `end - start` and
/// middle `(start + end) / 2`; the first longest run wins; the middle is taken mod 24.
///
/// ```
/// use lsstseries::analysis::day_gap::day_gap_offset;
/// let mut counts = [1u64; 24];
/// for h in 16..22 {
///     counts[h] = 0;
/// }
/// assert_eq!(day_gap_offset(&counts), 19.0 / 24.0);
/// assert_eq!(day_gap_offset(&[1; 24]), -1.0);
/// ```
pub fn day_gap_offset(counts: &[u64; 24]) -> f64 {
    let (mut start, mut best_len, mut best_mid) = (0usize, 0usize, -1.0f64);
    while start < 24 {
        let mut end = start;
        while end < 48 && counts[end % 24] == 0 {
            end += 1;
        }
        if end - start > best_len {
            best_len = end - start;
            best_mid = (start + end) as f64 / 2.0;
        }
        start = end + 1;
    }
    if best_len == 0 {
        return -1.0;
    }
    (best_mid % 24.0) / 24.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_and_runs() {
        let mut c = [0u64; 24];
        add_hours([0.0, 0.5, 0.999, f64::NAN, f64::INFINITY, -0.25], &mut c);
        assert_eq!((c[0], c[12], c[23], c[18]), (1, 1, 1, 1));
        assert_eq!(c.iter().sum::<u64>(), 4);
        // Runs: 1..12 (11 hours), 13..18 (5), 19..23 (4): the first is longest.
        assert_eq!(day_gap_offset(&c), 6.5 / 24.0);
        // A run across midnight: hours 20..24 and 0..4 empty, middle at midnight.
        let mut c = [1u64; 24];
        for h in [20, 21, 22, 23, 0, 1, 2, 3] {
            c[h] = 0;
        }
        assert_eq!(day_gap_offset(&c), 0.0);
        // Nothing observed at all: the scan stops at hour 48, middle 24 = 0 mod 24.
        assert_eq!(day_gap_offset(&[0; 24]), 0.0);
    }
}
