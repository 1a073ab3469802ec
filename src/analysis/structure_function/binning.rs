//! Time-lag bins: equal-count ("size"), equal-width ("length"), equal width in ln dt
//! ("loglength"), or given edges; assignment like `scipy.stats.binned_statistic` (bins are
//! right-open except the last, values outside the edges are dropped).

use crate::error::{Error, Result};

/// How time lags are binned.
#[derive(Debug, Clone, PartialEq)]
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
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let h = (n - 1) as f64 * q;
            let lo = (h.floor() as usize).min(n - 1);
            let hi = (lo + 1).min(n - 1);
            sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
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
    if let Binning::Edges(e) = binning {
        if e.len() < 2
            || e.windows(2)
                .any(|w| w[0].partial_cmp(&w[1]) != Some(std::cmp::Ordering::Less))
        {
            return Err(Error::InvalidArgument(format!(
                "structure function bin edges must be at least two, strictly increasing: {e:?}"
            )));
        }
        return Ok(e.clone());
    }
    if target == 0 {
        return Err(Error::InvalidArgument(
            "bin_count_target must be at least 1".into(),
        ));
    }
    let bins = dts.len().div_ceil(target).max(1);
    let mut unique = dts.to_vec();
    unique.sort_by(f64::total_cmp);
    unique.dedup();
    let (lo, hi) = match (unique.first(), unique.last()) {
        (Some(&a), Some(&b)) => (a, b),
        _ => return Ok(Vec::new()),
    };
    Ok(match binning {
        Binning::Size => (0..=bins)
            .map(|i| quantile_sorted(&unique, i as f64 / bins as f64))
            .collect(),
        Binning::Length => {
            let mut e = linspace(lo, hi, bins);
            e[0] -= 0.001 * (hi - lo);
            e
        }
        Binning::LogLength => {
            let (a, b) = (lo.ln(), hi.ln());
            let mut e = linspace(a, b, bins);
            e[0] -= 0.001 * (b - a);
            e.into_iter().map(f64::exp).collect()
        }
        Binning::Edges(_) => unreachable!("handled above"),
    })
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
