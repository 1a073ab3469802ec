//! Time-lag bins: equal-count ("size"), equal-width ("length"), equal width in ln dt
//! ("loglength"), or given edges; assignment like `scipy.stats.binned_statistic` (bins are
//! right-open except the last, values outside the edges are dropped).

use crate::error::{Error, Result};

/// How time lags are binned.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum Binning {
    /// Equal-count: edges are quantiles of the unique lags, `ceil(pairs / target)` bins.
    Size,
    /// Equal width in dt; the first edge lowered by 0.1% of the range.
    Length,
    /// Equal width in ln dt; the first edge lowered by 0.1% of the (log) range.
    LogLength,
    /// These edges (strictly increasing, at least two).
    Edges(Vec<f64>),
}

impl std::str::FromStr for Binning {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "size" => Ok(Binning::Size),
            "length" => Ok(Binning::Length),
            "loglength" => Ok(Binning::LogLength),
            other => Err(Error::InvalidArgument(format!(
                "bin method '{other}': expected size, length or loglength"
            ))),
        }
    }
}

/// numpy's default (linear) quantile of sorted data.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    quantile_by(sorted.len(), q, |i| sorted[i])
}

/// The two positions (in sorted order) that numpy's linear quantile `q` of `n` values reads.
pub(super) fn quantile_positions(n: usize, q: f64) -> [usize; 2] {
    if n < 2 {
        return [0, 0];
    }
    let lo = (((n - 1) as f64 * q).floor() as usize).min(n - 1);
    [lo, (lo + 1).min(n - 1)]
}

/// numpy's linear quantile `q` of `n` values, `at(i)` the `i`-th smallest: the one formula
/// for sorted slices and for values selected without sorting them all.
pub(super) fn quantile_by(n: usize, q: f64, mut at: impl FnMut(usize) -> f64) -> f64 {
    match n {
        0 => f64::NAN,
        1 => at(0),
        n => {
            let h = (n - 1) as f64 * q;
            let [lo, hi] = quantile_positions(n, q);
            let a = at(lo);
            a + (h - lo as f64) * (at(hi) - a)
        }
    }
}

fn linspace(lo: f64, hi: f64, bins: usize) -> Vec<f64> {
    (0..=bins)
        .map(|i| lo + (hi - lo) * i as f64 / bins as f64)
        .collect()
}

/// Bin edges for `dts` (all pair lags); `target` is the wanted number of pairs per bin.
pub fn edges(binning: &Binning, dts: &[f64], target: usize) -> Result<Vec<f64>> {
    if let Some(e) = given(binning)? {
        return Ok(e);
    }
    let bins = bin_count(dts.len(), target)?;
    let mut unique = dts.to_vec();
    unique.sort_by(f64::total_cmp);
    unique.dedup();
    let (lo, hi) = match (unique.first(), unique.last()) {
        (Some(&a), Some(&b)) => (a, b),
        _ => return Ok(Vec::new()),
    };
    Ok(match binning {
        Binning::Size => size_edges(bins, unique.len(), |i| unique[i]),
        _ => range_edges(binning, bins, lo, hi),
    })
}

/// The user's edges, checked; `None` for computed binnings.
pub(super) fn given(binning: &Binning) -> Result<Option<Vec<f64>>> {
    let Binning::Edges(e) = binning else {
        return Ok(None);
    };
    if e.len() < 2
        || e.windows(2)
            .any(|w| w[0].partial_cmp(&w[1]) != Some(std::cmp::Ordering::Less))
    {
        return Err(Error::InvalidArgument(format!(
            "structure function bin edges must be at least two, strictly increasing: {e:?}"
        )));
    }
    Ok(Some(e.clone()))
}

/// Bins for `pairs` pairs at `target` pairs per bin.
pub(super) fn bin_count(pairs: usize, target: usize) -> Result<usize> {
    if target == 0 {
        return Err(Error::InvalidArgument(
            "bin_count_target must be at least 1".into(),
        ));
    }
    Ok(pairs.div_ceil(target).max(1))
}

/// Equal-count edges: quantiles of the `unique` sorted distinct lags, `at(i)` the `i`-th.
pub(super) fn size_edges(bins: usize, unique: usize, mut at: impl FnMut(usize) -> f64) -> Vec<f64> {
    (0..=bins)
        .map(|i| quantile_by(unique, i as f64 / bins as f64, &mut at))
        .collect()
}

/// The positions (among the sorted distinct lags) that [`size_edges`] reads, ascending.
pub(super) fn size_positions(bins: usize, unique: usize) -> Vec<usize> {
    let mut p: Vec<usize> = (0..=bins)
        .flat_map(|i| quantile_positions(unique, i as f64 / bins as f64))
        .collect();
    p.sort_unstable();
    p.dedup();
    p
}

/// Equal-width edges (in dt, or in ln dt) between the smallest and largest lag.
pub(super) fn range_edges(binning: &Binning, bins: usize, lo: f64, hi: f64) -> Vec<f64> {
    match binning {
        Binning::LogLength => {
            let (a, b) = (lo.ln(), hi.ln());
            let mut e = linspace(a, b, bins);
            e[0] -= 0.001 * (b - a);
            e.into_iter().map(f64::exp).collect()
        }
        _ => {
            let mut e = linspace(lo, hi, bins);
            e[0] -= 0.001 * (hi - lo);
            e
        }
    }
}

/// The bin of `x`, or `None` outside the edges.
#[inline]
pub fn bin_of(edges: &[f64], x: f64) -> Option<usize> {
    let n = edges.len();
    if n < 2 || !(x >= edges[0] && x <= edges[n - 1]) {
        return None;
    }
    if x == edges[n - 1] {
        return Some(n - 2);
    }
    // first edge greater than x, minus one
    Some(edges.partition_point(|&e| e <= x) - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numpy_quantiles() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_sorted(&v, 0.0), 1.0);
        assert_eq!(quantile_sorted(&v, 0.5), 2.5);
        assert!((quantile_sorted(&v, 0.25) - 1.75).abs() < 1e-15);
        assert_eq!(quantile_sorted(&v, 1.0), 4.0);
    }

    #[test]
    fn right_open_bins_with_closed_last() {
        let e = [0.0, 1.0, 2.0];
        assert_eq!(bin_of(&e, 0.0), Some(0));
        assert_eq!(bin_of(&e, 1.0), Some(1));
        assert_eq!(bin_of(&e, 2.0), Some(1));
        assert_eq!(bin_of(&e, 2.5), None);
        assert_eq!(bin_of(&e, -0.1), None);
    }

    #[test]
    fn length_edges_lower_the_first_edge() {
        let e = edges(&Binning::Length, &[1.0, 2.0, 3.0], 1).unwrap();
        assert_eq!(e.len(), 4);
        assert!((e[0] - (1.0 - 0.002)).abs() < 1e-12);
        assert_eq!(e[3], 3.0);
        assert!(edges(&Binning::Edges(vec![1.0, 1.0]), &[], 1).is_err());
    }
}
