//! The frequency grid: the Nyquist frequency of unevenly sampled times and light-curve's
//! linear grid of angular frequencies up to a multiple of it.

use crate::error::{Error, Result};
use std::f64::consts::PI;

/// How the Nyquist frequency `pi / dt` of an unevenly sampled lightcurve is defined.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Nyquist {
    /// `dt = duration / (N - 1)`, the mean interval (light-curve's default).
    #[default]
    Average,
    /// `dt` = the median interval between consecutive observations.
    Median,
    /// `dt` = this quantile (0 to 1, R-5 definition) of the intervals.
    Quantile(f64),
    /// This angular frequency, whatever the times.
    Fixed(f64),
}

impl Nyquist {
    /// The angular Nyquist frequency of sorted times (at least two); may be infinite when
    /// intervals are zero.
    pub fn frequency(&self, t: &[f64]) -> f64 {
        let n = t.len();
        match *self {
            Nyquist::Average => PI * (n - 1) as f64 / (t[n - 1] - t[0]),
            Nyquist::Fixed(w) => w,
            Nyquist::Median => PI / quantile_of_intervals(t, None),
            Nyquist::Quantile(q) => PI / quantile_of_intervals(t, Some(q)),
        }
    }

    /// `self` if its parameter is usable: a quantile within 0 to 1, a fixed frequency
    /// finite and positive.
    pub(super) fn checked(self) -> Result<Self> {
        match self {
            Nyquist::Quantile(q) if !(0.0..=1.0).contains(&q) => Err(Error::InvalidArgument(
                format!("periodogram nyquist quantile {q}: must be within 0 to 1"),
            )),
            Nyquist::Fixed(w) if !(w > 0.0 && w.is_finite()) => Err(Error::InvalidArgument(
                format!("periodogram nyquist fixed frequency {w}: must be a finite number > 0"),
            )),
            _ => Ok(self),
        }
    }

    pub(super) fn label(&self) -> String {
        match self {
            Nyquist::Average => "average".into(),
            Nyquist::Median => "median".into(),
            Nyquist::Quantile(q) => format!("quantile {q}"),
            Nyquist::Fixed(w) => format!("fixed {w}"),
        }
    }
}

/// Median (`None`) or R-5 quantile of the consecutive intervals of `t`.
fn quantile_of_intervals(t: &[f64], q: Option<f64>) -> f64 {
    let mut dt: Vec<f64> = t.windows(2).map(|w| w[1] - w[0]).collect();
    dt.sort_unstable_by(f64::total_cmp);
    let len = dt.len();
    match q {
        None => {
            let i = (len - 1) / 2;
            if len % 2 == 0 {
                0.5 * (dt[i] + dt[i + 1])
            } else {
                dt[i]
            }
        }
        Some(q) => {
            let h = len as f64 * q - 0.5;
            let hf = h.floor();
            if hf < 0.0 {
                dt[0]
            } else if hf as usize >= len - 1 {
                dt[len - 1]
            } else {
                let i = hf as usize;
                dt[i] + (h - hf) * (dt[i + 1] - dt[i])
            }
        }
    }
}

/// A linear grid of angular frequencies `start + i * step`, `i < size`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrequencyGrid {
    /// The first angular frequency.
    pub start: f64,
    /// Spacing.
    pub step: f64,
    /// Number of frequencies (at least one).
    pub size: usize,
}

impl FrequencyGrid {
    /// light-curve's grid for sorted times: `start = 4 pi / D`,
    /// `step = 2 pi (N - 1) / (N * resolution * D)`, and
    /// `size = round((max_freq_factor * nyquist - start) / step)`, at least 1.
    ///
    /// `None` for fewer than two times, a zero or non-finite duration, or a non-finite
    /// Nyquist frequency.
    pub fn from_times(
        t: &[f64],
        resolution: f64,
        max_freq_factor: f64,
        nyquist: Nyquist,
    ) -> Option<Self> {
        let n = t.len();
        if n < 2 {
            return None;
        }
        let duration = t[n - 1] - t[0];
        if !(duration > 0.0 && duration.is_finite()) {
            return None;
        }
        let nf = n as f64;
        // Same operation order as light-curve, so the grids agree to the last bit.
        let step = 2.0 * PI * (nf - 1.0) / (nf * resolution * duration);
        let max_freq = nyquist.frequency(t) * max_freq_factor;
        let start = 4.0 * PI / duration;
        if !(step.is_finite() && step > 0.0 && max_freq.is_finite()) {
            return None;
        }
        let size_f = (max_freq - start) / step;
        let size = if size_f >= 1.0 {
            size_f.round() as usize
        } else {
            1
        };
        Some(FrequencyGrid { start, step, size })
    }

    /// The `i`-th angular frequency.
    pub fn freq(&self, i: usize) -> f64 {
        self.start + self.step * i as f64
    }

    /// All angular frequencies.
    pub fn freqs(&self) -> Vec<f64> {
        (0..self.size).map(|i| self.freq(i)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_follows_the_definition() {
        let t = [0.0, 1.0, 3.0, 4.0, 10.0, 11.0, 20.0];
        let g = FrequencyGrid::from_times(&t, 10.0, 1.0, Nyquist::Average).unwrap();
        assert_eq!(g.start, 4.0 * PI / 20.0);
        assert_eq!(g.step, 2.0 * PI * 6.0 / (7.0 * 10.0 * 20.0));
        let expect = ((PI * 6.0 / 20.0 - g.start) / g.step).round() as usize;
        assert_eq!(g.size, expect);
        // Fewer than five points: the start is above the Nyquist frequency, one frequency.
        let g = FrequencyGrid::from_times(&t[..4], 10.0, 1.0, Nyquist::Average).unwrap();
        assert_eq!(g.size, 1);
        assert!(FrequencyGrid::from_times(&t[..1], 10.0, 1.0, Nyquist::Average).is_none());
        assert!(FrequencyGrid::from_times(&[5.0, 5.0], 10.0, 1.0, Nyquist::Average).is_none());
    }

    #[test]
    fn nyquist_quantiles() {
        let t = [0.0, 1.0, 3.0, 6.0, 10.0];
        // intervals 1, 2, 3, 4
        assert_eq!(Nyquist::Median.frequency(&t), PI / 2.5);
        assert_eq!(Nyquist::Quantile(0.0).frequency(&t), PI / 1.0);
        assert_eq!(Nyquist::Quantile(1.0).frequency(&t), PI / 4.0);
        // h = 4 * 0.25 - 0.5 = 0.5: halfway between 1 and 2
        assert_eq!(Nyquist::Quantile(0.25).frequency(&t), PI / 1.5);
        assert_eq!(Nyquist::Average.frequency(&t), PI * 4.0 / 10.0);
        assert_eq!(Nyquist::Fixed(3.0).frequency(&t), 3.0);
    }

    #[test]
    fn checked_rejects_unusable_parameters() {
        for ok in [
            Nyquist::Average,
            Nyquist::Median,
            Nyquist::Quantile(0.0),
            Nyquist::Quantile(1.0),
            Nyquist::Fixed(2.0),
        ] {
            assert_eq!(ok.checked().unwrap(), ok);
        }
        for bad in [
            Nyquist::Quantile(-0.1),
            Nyquist::Quantile(f64::NAN),
            Nyquist::Fixed(0.0),
            Nyquist::Fixed(f64::INFINITY),
        ] {
            assert!(
                matches!(bad.checked(), Err(Error::InvalidArgument(_))),
                "{bad:?}"
            );
        }
    }
}
