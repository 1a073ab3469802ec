//! Peaks of a periodogram: interior local maxima ranked by power, with their
//! signal-to-noise over the whole grid.

use super::grid::FrequencyGrid;
use std::cmp::Ordering;
use std::f64::consts::PI;

/// One periodogram peak.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Peak {
    /// Angular frequency.
    pub freq: f64,
    /// `2 pi / freq`.
    pub period: f64,
    /// Power at the peak.
    pub power: f64,
    /// `(power - mean power) / std power` over the grid (0 when the power is constant).
    pub s_to_n: f64,
}

/// Indices of interior local maxima, light-curve's way: `p[i] > p[i-1]` and not
/// `p[i+1] > p[i]`, ranked by decreasing power (ties: lower frequency first).
pub(super) fn ranked_peaks(p: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (1..p.len().saturating_sub(1))
        .filter(|&i| p[i] > p[i - 1] && p[i + 1].partial_cmp(&p[i]) != Some(Ordering::Greater))
        .collect();
    idx.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
    idx
}

/// The `count` highest peaks of `power` on `grid`, with their signal-to-noise.
pub(super) fn peaks_of(grid: &FrequencyGrid, power: &[f64], count: usize) -> Vec<Peak> {
    let n = power.len() as f64;
    let mean = power.iter().sum::<f64>() / n;
    let std = (power.iter().map(|p| (p - mean) * (p - mean)).sum::<f64>() / (n - 1.0)).sqrt();
    ranked_peaks(power)
        .into_iter()
        .take(count)
        .map(|i| {
            let freq = grid.freq(i);
            Peak {
                freq,
                period: 2.0 * PI / freq,
                power: power[i],
                s_to_n: if std == 0.0 {
                    0.0
                } else {
                    (power[i] - mean) / std
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_rule_matches_light_curve() {
        assert_eq!(ranked_peaks(&[0.0, 1.0, 0.0]), [1]);
        assert!(ranked_peaks(&[0.0, 0.0, 0.0]).is_empty());
        assert!(ranked_peaks(&[0.0, -1.0, 0.0]).is_empty());
        assert!(ranked_peaks(&[1.0, 0.0]).is_empty());
        assert!(ranked_peaks(&[3.0, 2.0, 1.0, 2.0]).is_empty());
        // plateau: left edge; ranking by height
        assert_eq!(ranked_peaks(&[0.0, 2.0, 2.0, 0.0, 5.0, 1.0]), [4, 1]);
    }
}
