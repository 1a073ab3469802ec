//! Order statistics: everything derived from one sorted copy of the values.
//!
//! Median, inter-percentile range, median absolute deviation and percent amplitude all read
//! the same ascending copy, so a feature set sorts each (band of a) lightcurve at most once.
//! The median absolute deviation does not sort again: the absolute deviations from the
//! median are two already-sorted runs (left of the median, read backwards, and right of
//! it), so its median is found by merging the runs up to the middle, in linear time.

/// Sorts finite values ascending, fast: each f64 is mapped to a u64 whose unsigned order
/// is the float's total order, so the sort compares plain integers (branch-free, about
/// twice as fast as sorting by `f64::total_cmp`), then mapped back.
pub(super) fn sort_floats(values: &mut [f64], keys: &mut Vec<u64>) {
    const SIGN: u64 = 1 << 63;
    keys.clear();
    keys.extend(values.iter().map(|x| {
        let b = x.to_bits();
        if b & SIGN != 0 {
            !b
        } else {
            b | SIGN
        }
    }));
    keys.sort_unstable();
    for (v, &k) in values.iter_mut().zip(keys.iter()) {
        *v = f64::from_bits(if k & SIGN != 0 { k & !SIGN } else { !k });
    }
}

/// Quantile `q` (0 <= q <= 1) of ascending `sorted` values, by the R-5 rule light-curve
/// uses: the piecewise-linear interpolation through the points
/// `((k - 0.5) / n, sorted[k - 1])`, clamped to the minimum and maximum outside them.
///
/// With `h = n q - 0.5`: `sorted[0]` when `h < 0`, `sorted[n - 1]` when `floor(h) >= n - 1`,
/// else `sorted[i] + (h - i) (sorted[i + 1] - sorted[i])` with `i = floor(h)`. NaN for an
/// empty slice.
pub(super) fn quantile(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let h = n as f64 * q - 0.5;
    let h_floor = h.floor();
    if h_floor < 0.0 {
        return sorted[0];
    }
    let i = h_floor as usize;
    if i >= n - 1 {
        return sorted[n - 1];
    }
    sorted[i] + (h - h_floor) * (sorted[i + 1] - sorted[i])
}

/// Median of ascending values: the middle value, or the mean of the two middle values
/// (computed as `0.5 (a + b)`, as light-curve does). NaN for an empty slice.
pub(super) fn median(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let i = (n - 1) / 2;
    if n % 2 == 0 {
        0.5 * (sorted[i] + sorted[i + 1])
    } else {
        sorted[i]
    }
}

/// Median of `|x - median(x)|`, from ascending values, without a second sort.
///
/// The deviations of the values below the median, read from the median outwards, ascend;
/// so do those of the values at or above it. Merging the two runs yields the deviations in
/// ascending order; the walk stops at the middle one (or two).
pub(super) fn median_absolute_deviation(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    let med = median(sorted);
    // First index with a value >= the median: left run is [0, split), right is [split, n).
    let split = sorted.partition_point(|&x| x < med);
    // `left` counts down from split (exclusive), `right` counts up from split.
    let (mut left, mut right) = (split, split);
    let mut next = || -> f64 {
        let l = (left > 0).then(|| med - sorted[left - 1]);
        let r = (right < n).then(|| sorted[right] - med);
        match (l, r) {
            (Some(a), Some(b)) if a <= b => {
                left -= 1;
                a
            }
            (Some(a), None) => {
                left -= 1;
                a
            }
            (_, Some(b)) => {
                right += 1;
                b
            }
            (None, None) => f64::NAN,
        }
    };
    let i = (n - 1) / 2;
    for _ in 0..i {
        next();
    }
    let a = next();
    if n % 2 == 0 {
        0.5 * (a + next())
    } else {
        a
    }
}

/// Inter-percentile range `Q(1 - q) - Q(q)` of ascending values (see [`quantile`]).
pub(super) fn inter_percentile_range(sorted: &[f64], q: f64) -> f64 {
    quantile(sorted, 1.0 - q) - quantile(sorted, q)
}

/// Largest absolute deviation from the median: `max(max - median, median - min)`.
pub(super) fn percent_amplitude(sorted: &[f64]) -> f64 {
    let (Some(&lo), Some(&hi)) = (sorted.first(), sorted.last()) else {
        return f64::NAN;
    };
    let med = median(sorted);
    (hi - med).max(med - lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_keyed_sort_matches_total_order() {
        let mut v = vec![
            3.5,
            -0.0,
            0.0,
            -2.25,
            1e300,
            -1e-300,
            7.0,
            f64::MIN_POSITIVE,
            -7.0,
        ];
        let mut want = v.clone();
        want.sort_by(f64::total_cmp);
        sort_floats(&mut v, &mut Vec::new());
        assert_eq!(
            v.iter().map(|x| x.to_bits()).collect::<Vec<_>>(),
            want.iter().map(|x| x.to_bits()).collect::<Vec<_>>()
        );
    }

    fn sorted(v: &[f64]) -> Vec<f64> {
        let mut v = v.to_vec();
        v.sort_unstable_by(f64::total_cmp);
        v
    }

    /// The straightforward definition: sort the deviations and take their median.
    fn mad_by_sorting(v: &[f64]) -> f64 {
        let s = sorted(v);
        let med = median(&s);
        let dev: Vec<f64> = s.iter().map(|x| (x - med).abs()).collect();
        median(&sorted(&dev))
    }

    #[test]
    fn r5_quantiles_of_eleven_points() {
        // mquantiles(linspace(0, 1, 11), prob=linspace(0, 1, 11), alphap=0.5, betap=0.5)
        let a: Vec<f64> = (0..=10).map(|i| i as f64 / 10.0).collect();
        let want = [0., 0.06, 0.17, 0.28, 0.39, 0.5, 0.61, 0.72, 0.83, 0.94, 1.];
        for (k, w) in want.iter().enumerate() {
            let q = quantile(&a, k as f64 / 10.0);
            assert!((q - w).abs() < 1e-12, "q={k}/10: {q} vs {w}");
        }
        assert!(quantile(&[], 0.5).is_nan());
        assert_eq!(quantile(&[3.0], 0.1), 3.0);
    }

    #[test]
    fn median_is_the_half_quantile() {
        for n in 1..40 {
            let v: Vec<f64> = (0..n).map(|i| ((i * 7919) % 113) as f64 * 0.37).collect();
            let s = sorted(&v);
            assert_eq!(median(&s), quantile(&s, 0.5), "n={n}");
        }
    }

    #[test]
    fn mad_by_merging_equals_mad_by_sorting() {
        assert!(median_absolute_deviation(&[]).is_nan());
        assert_eq!(median_absolute_deviation(&[5.0]), 0.0);
        assert_eq!(
            median_absolute_deviation(&sorted(&[1., 1., 1., 1., 5., 6., 6., 6., 100.])),
            4.0
        );
        for n in 1..60 {
            let v: Vec<f64> = (0..n)
                .map(|i| (((i * 7919 + 13) % 97) as f64 - 40.0) * 0.13)
                .collect();
            let s = sorted(&v);
            assert_eq!(median_absolute_deviation(&s), mad_by_sorting(&v), "n={n}");
            let flat = vec![2.5; n];
            assert_eq!(median_absolute_deviation(&flat), 0.0);
        }
    }

    #[test]
    fn ranges() {
        let a: Vec<f64> = (0..100).map(|i| i as f64).collect();
        assert_eq!(inter_percentile_range(&a, 0.25), 50.0);
        assert_eq!(inter_percentile_range(&a, 0.1), 80.0);
        let b = sorted(&[1., 1., 1., 2., 4., 5., 5., 98., 100.]);
        assert_eq!(percent_amplitude(&b), 96.0);
        assert!(percent_amplitude(&[]).is_nan());
    }
}
