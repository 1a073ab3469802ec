//! Lomb-Scargle periodogram per band: the best periods and their signal-to-noise, as the
//! `light-curve` package's `Periodogram` feature defines them, computed by our own code.
//!
//! # Definition
//!
//! For a lightcurve `(t_j, m_j)`, `j < N`, with `y_j = m_j - mean(m)` and
//! `var = sum y^2 / (N - 1)`, the power at angular frequency `w` is
//!
//! ```text
//! P(w) = [ (sum y cos w(t - tau))^2 / sum cos^2 w(t - tau)
//!        + (sum y sin w(t - tau))^2 / sum sin^2 w(t - tau) ] / (2 var),
//! tan(2 w tau) = sum sin 2wt / sum cos 2wt
//! ```
//!
//! (light-curve's default `"psd"` normalisation: `2 P / (N - 1)` is astropy's
//! `"standard"` power). Errors are not used. `P` is zero everywhere for a constant
//! lightcurve.
//!
//! # Frequency grid
//!
//! With duration `D = t_last - t_first`, the grid (see [`FrequencyGrid::from_times`]) is
//! `w_i = 4 pi / D + i * step`, `step = 2 pi (N - 1) / (N * resolution * D)`, up to
//! `max_freq_factor` times a Nyquist frequency `pi / dt` ([`Nyquist`]; by default the
//! "average" one, `dt = D / (N - 1)`), at least one frequency. This is light-curve's grid
//! for its direct algorithm; both our algorithms use it.
//!
//! # Peaks
//!
//! A peak is an interior local maximum (`P[i] > P[i-1]` and not `P[i+1] > P[i]`; a plateau
//! counts once, at its left edge). Peaks are ranked by power; for the `k`-th the output is
//! its period `2 pi / w` and its signal-to-noise `(P - mean P) / std P` over the whole grid
//! (`std` with `N - 1`; zero when the power is constant). Missing peaks (fewer local maxima
//! than asked for, e.g. a constant lightcurve or a grid of under three frequencies) give
//! period `0` and signal-to-noise `0`, as in light-curve. A band with fewer than two
//! observations, or zero duration, gives NaN.
//!
//! # Algorithms
//!
//! * **Direct**: the four trigonometric sums over points for every frequency, O(N x F)
//!   with F ~ N * resolution * max_freq_factor / 2, so O(N^2). Phases advance by one complex
//!   rotation per frequency and are recomputed exactly every 256 frequencies.
//! * **Fast**: the same four sums for all frequencies at once as two non-uniform FFTs
//!   (Gaussian extirpolation of the points onto a regular grid twice as fine as needed,
//!   one FFT (rustfft), deconvolution; Greengard & Lee 2004). O(N + F log F); the sums agree
//!   with the direct ones to about 1e-11 of `sum |y|`, so powers, peaks and ranks agree
//!   (unlike light-curve's "fast" mode, which spreads points linearly onto its own
//!   zero-based grid of 2^k + 1 frequencies and is only an estimate).
//!
//! [`Fast::Auto`] (the default) uses the fast algorithm from [`AUTO_FAST_MIN_POINTS`]
//! points on.
//!
//! ```
//! use lsstseries::analysis::periodogram::{Fast, Periodogram};
//! let t: Vec<f64> = (0..300).map(|i| i as f64 * 3.3 + (i as f64 * 0.61).fract()).collect();
//! let m: Vec<f64> = t.iter().map(|&x| (2.0 * std::f64::consts::PI * x / 7.5).sin()).collect();
//! let peaks = Periodogram::new().fast(Fast::Off).find_peaks(&t, &m).unwrap();
//! assert!((peaks[0].period / 7.5 - 1.0).abs() < 1e-3);
//! ```
//!
//! # Files
//!
//! This file holds the [`Periodogram`] function; `grid.rs` the Nyquist frequency and the
//! frequency grid, `power.rs` the power and the choice of algorithm, `direct.rs` and
//! `nufft.rs` the two algorithms' sums, `peaks.rs` the peak rule.

mod direct;
mod grid;
mod nufft;
mod peaks;
mod power;

pub use grid::{FrequencyGrid, Nyquist};
pub use peaks::Peak;
pub use power::{lomb_scargle, Fast, AUTO_FAST_MIN_POINTS};

use super::function::LightcurveFunction;
use crate::error::{Error, Result};
use crate::io::Role;
use crate::lightcurve::{BandGroups, LightcurveView};
use arrow::datatypes::{DataType, Field};
use std::cell::RefCell;

/// Lomb-Scargle periodogram peaks per band, as a [`LightcurveFunction`].
///
/// Output columns, per band `b` (sorted band names) and for `k` from 0 to `peaks - 1`:
/// `period_<k>_<b>` (period of the `k+1`-th highest peak, in the time unit) and
/// `period_s_to_n_<k>_<b>` (its signal-to-noise). Registered by default as `periodogram`
/// (one peak). See the [module documentation](self) for definitions.
///
/// Setters that take a number validate it and return [`Error::InvalidArgument`] naming
/// the parameter and the value.
///
/// ```
/// use lsstseries::analysis::periodogram::{Fast, Nyquist, Periodogram};
/// use lsstseries::analysis::LightcurveFunction;
/// let p = Periodogram::new().peaks(2)?.resolution(20.0)?.max_freq_factor(2.0)?.fast(Fast::On);
/// let cols: Vec<String> = p.output_fields(&["g".into()]).iter().map(|f| f.name().clone()).collect();
/// assert_eq!(cols, ["period_0_g", "period_s_to_n_0_g", "period_1_g", "period_s_to_n_1_g"]);
/// assert_eq!(Periodogram::new().name(), "periodogram");
/// assert!(Periodogram::new().resolution(0.0).is_err());
/// # Ok::<(), lsstseries::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Periodogram {
    peaks: usize,
    resolution: f64,
    max_freq_factor: f64,
    nyquist: Nyquist,
    fast: Fast,
    name: String,
}

impl Default for Periodogram {
    fn default() -> Self {
        Periodogram {
            peaks: 1,
            resolution: 10.0,
            max_freq_factor: 1.0,
            nyquist: Nyquist::Average,
            fast: Fast::Auto,
            name: "periodogram".into(),
        }
    }
}

/// `Ok(value)` if it is finite and positive, else an error naming the parameter.
fn positive_finite(parameter: &str, value: f64) -> Result<f64> {
    if value > 0.0 && value.is_finite() {
        Ok(value)
    } else {
        Err(Error::InvalidArgument(format!(
            "periodogram {parameter} {value}: must be a finite number > 0"
        )))
    }
}

impl Periodogram {
    /// light-curve's defaults: 1 peak, resolution 10, max_freq_factor 1, average Nyquist;
    /// [`Fast::Auto`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of peaks reported; [`Error::InvalidArgument`] when 0.
    pub fn peaks(mut self, peaks: usize) -> Result<Self> {
        if peaks == 0 {
            return Err(Error::InvalidArgument(
                "periodogram peaks 0: must be at least 1".into(),
            ));
        }
        self.peaks = peaks;
        Ok(self.renamed())
    }

    /// Grid points per `2 pi / duration` (roughly): larger finds periods more precisely.
    /// [`Error::InvalidArgument`] unless finite and positive.
    pub fn resolution(mut self, resolution: f64) -> Result<Self> {
        self.resolution = positive_finite("resolution", resolution)?;
        Ok(self.renamed())
    }

    /// The grid ends at this multiple of the Nyquist frequency.
    /// [`Error::InvalidArgument`] unless finite and positive.
    pub fn max_freq_factor(mut self, factor: f64) -> Result<Self> {
        self.max_freq_factor = positive_finite("max_freq_factor", factor)?;
        Ok(self.renamed())
    }

    /// The Nyquist frequency definition. [`Error::InvalidArgument`] for a quantile outside
    /// 0 to 1 or a fixed frequency that is not finite and positive.
    pub fn nyquist(mut self, nyquist: Nyquist) -> Result<Self> {
        self.nyquist = nyquist.checked()?;
        Ok(self.renamed())
    }

    /// The algorithm choice (every value is valid).
    pub fn fast(mut self, fast: Fast) -> Self {
        self.fast = fast;
        self.renamed()
    }

    /// `periodogram` with default options, else a name listing them (plans refer to
    /// functions by name, so different options must not share one).
    fn renamed(mut self) -> Self {
        let d = Periodogram::default();
        self.name = if (
            self.peaks,
            self.resolution,
            self.max_freq_factor,
            self.nyquist,
            self.fast,
        ) == (d.peaks, d.resolution, d.max_freq_factor, d.nyquist, d.fast)
        {
            d.name
        } else {
            format!(
                "periodogram(peaks={}, resolution={}, max_freq_factor={}, nyquist={}, fast={})",
                self.peaks,
                self.resolution,
                self.max_freq_factor,
                self.nyquist.label(),
                self.fast.label()
            )
        };
        self
    }

    /// The frequency grid for sorted times `t`; `None` as for [`FrequencyGrid::from_times`].
    pub fn grid(&self, t: &[f64]) -> Option<FrequencyGrid> {
        FrequencyGrid::from_times(t, self.resolution, self.max_freq_factor, self.nyquist)
    }

    /// Angular frequencies and their power for one lightcurve (sorted times `t`, values
    /// `m`); `None` for fewer than two points or zero duration.
    ///
    /// # Panics
    /// When `t` and `m` differ in length.
    pub fn freq_power(&self, t: &[f64], m: &[f64]) -> Option<(Vec<f64>, Vec<f64>)> {
        let grid = self.grid(t)?;
        let power = lomb_scargle(t, m, &grid, self.fast);
        Some((grid.freqs(), power))
    }

    /// The highest peaks (at most `peaks`), best first; `None` as for
    /// [`freq_power`](Self::freq_power).
    pub fn find_peaks(&self, t: &[f64], m: &[f64]) -> Option<Vec<Peak>> {
        let grid = self.grid(t)?;
        let power = lomb_scargle(t, m, &grid, self.fast);
        Some(peaks::peaks_of(&grid, &power, self.peaks))
    }

    /// Pushes `period_k, period_s_to_n_k` for each of the `peaks` peaks of one band.
    fn push_band(&self, t: &[f64], m: &[f64], out: &mut Vec<f64>) {
        match self.find_peaks(t, m) {
            None => out.extend(std::iter::repeat_n(f64::NAN, 2 * self.peaks)),
            Some(found) => {
                for k in 0..self.peaks {
                    match found.get(k) {
                        Some(p) => out.extend([p.period, p.s_to_n]),
                        None => out.extend([0.0, 0.0]),
                    }
                }
            }
        }
    }
}

thread_local! {
    /// Per-thread scratch: the lightcurve grouped by band, buffers kept between calls.
    static SCRATCH: RefCell<BandGroups> = RefCell::new(BandGroups::default());
}

impl LightcurveFunction for Periodogram {
    fn name(&self) -> &str {
        &self.name
    }
    fn parameters(&self) -> String {
        format!("{self:?}")
    }
    fn required(&self) -> &[Role] {
        &[Role::Time, Role::Flux, Role::Band]
    }
    fn output_fields(&self, bands: &[String]) -> Vec<Field> {
        bands
            .iter()
            .flat_map(|b| {
                (0..self.peaks).flat_map(move |k| {
                    [
                        Field::new(format!("period_{k}_{b}"), DataType::Float64, true),
                        Field::new(format!("period_s_to_n_{k}_{b}"), DataType::Float64, true),
                    ]
                })
            })
            .collect()
    }
    fn evaluate(&self, lc: &LightcurveView<'_>, out: &mut Vec<f64>) {
        SCRATCH.with(|s| {
            let groups = &mut *s.borrow_mut();
            groups.fill(lc);
            for k in 0..lc.band_names.len() {
                self.push_band(groups.time(k), groups.flux(k), out);
            }
        })
    }
}

/// Registers `periodogram` with default settings.
pub(crate) fn register(registry: &mut crate::analysis::FunctionRegistry) {
    registry.register(std::sync::Arc::new(Periodogram::default()));
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use std::f64::consts::PI;

    /// Uneven sorted times over ~1000 days, a sinusoid plus a little deterministic noise.
    pub(crate) fn sine(n: usize, period: f64, seed: u64) -> (Vec<f64>, Vec<f64>) {
        let mut x = seed.wrapping_mul(0x9E3779B97F4A7C15) | 1;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 11) as f64 / (1u64 << 53) as f64
        };
        let mut t: Vec<f64> = (0..n).map(|_| 58000.0 + 1000.0 * next()).collect();
        t.sort_by(f64::total_cmp);
        let m = t
            .iter()
            .map(|&v| 18.0 + (2.0 * PI * v / period).sin() + 0.3 * (next() - 0.5))
            .collect();
        (t, m)
    }

    #[test]
    fn finds_the_injected_period() {
        let (t, m) = sine(400, 5.3, 3);
        for fast in [Fast::Off, Fast::On] {
            let peaks = Periodogram::new()
                .peaks(3)
                .unwrap()
                .fast(fast)
                .find_peaks(&t, &m)
                .unwrap();
            assert_eq!(peaks.len(), 3);
            assert!((peaks[0].period / 5.3 - 1.0).abs() < 2e-3, "{peaks:?}");
            assert!(peaks[0].s_to_n > 10.0 && peaks[0].s_to_n > peaks[1].s_to_n);
        }
    }

    #[test]
    fn constant_and_short_lightcurves() {
        let t: Vec<f64> = (0..40).map(|i| i as f64 * 1.3).collect();
        let p = Periodogram::new().peaks(2).unwrap();
        let mut out = Vec::new();
        p.push_band(&t, &[7.0; 40], &mut out);
        assert_eq!(out, [0.0; 4]);
        out.clear();
        p.push_band(&t[..1], &[1.0], &mut out);
        assert!(out.len() == 4 && out.iter().all(|v| v.is_nan()));
        out.clear();
        p.push_band(&t[..4], &[1.0, 2.0, 0.0, 1.0], &mut out);
        assert_eq!(out, [0.0; 4]);
    }

    #[test]
    fn names_follow_options() {
        assert_eq!(Periodogram::new().name(), "periodogram");
        assert_eq!(Periodogram::new().peaks(1).unwrap().name(), "periodogram");
        let p = Periodogram::new().peaks(2).unwrap().fast(Fast::Off);
        assert_eq!(
            p.name(),
            "periodogram(peaks=2, resolution=10, max_freq_factor=1, nyquist=average, fast=off)"
        );
    }

    #[test]
    fn setters_reject_bad_values_naming_them() {
        let message = |r: Result<Periodogram>| match r {
            Err(Error::InvalidArgument(m)) => m,
            other => panic!("expected InvalidArgument, got {other:?}"),
        };
        let p = Periodogram::new;
        assert_eq!(
            message(p().resolution(0.0)),
            "periodogram resolution 0: must be a finite number > 0"
        );
        assert_eq!(
            message(p().max_freq_factor(f64::NAN)),
            "periodogram max_freq_factor NaN: must be a finite number > 0"
        );
        assert!(message(p().max_freq_factor(f64::INFINITY)).contains("inf"));
        assert!(message(p().resolution(-2.5)).contains("-2.5"));
        assert_eq!(
            message(p().peaks(0)),
            "periodogram peaks 0: must be at least 1"
        );
        assert!(message(p().nyquist(Nyquist::Quantile(1.5))).contains("quantile 1.5"));
        assert!(message(p().nyquist(Nyquist::Fixed(-1.0))).contains("fixed frequency -1"));
        // A rejected value leaves nothing half-set: the builder is consumed, and valid
        // values still chain.
        let ok = p()
            .peaks(2)
            .and_then(|p| p.resolution(5.0))
            .and_then(|p| p.max_freq_factor(3.0))
            .and_then(|p| p.nyquist(Nyquist::Median))
            .unwrap();
        assert_eq!(
            ok.grid(&[0.0, 1.0, 2.5]).unwrap().step,
            PI * 2.0 * 2.0 / (3.0 * 5.0 * 2.5)
        );
    }

    #[test]
    fn evaluates_each_band_separately() {
        let (t1, m1) = sine(120, 4.0, 5);
        let (t2, m2) = sine(90, 9.0, 6);
        // Interleave in time order, bands 0 and 1.
        let mut rows: Vec<(f64, f64, u8)> = t1
            .iter()
            .zip(&m1)
            .map(|(&t, &m)| (t, m, 0))
            .chain(t2.iter().zip(&m2).map(|(&t, &m)| (t, m, 1)))
            .collect();
        rows.sort_by(|a, b| a.0.total_cmp(&b.0));
        let time: Vec<f64> = rows.iter().map(|r| r.0).collect();
        let flux: Vec<f64> = rows.iter().map(|r| r.1).collect();
        let band: Vec<u8> = rows.iter().map(|r| r.2).collect();
        let names = vec!["g".to_string(), "r".to_string(), "z".to_string()];
        let lc = LightcurveView {
            id: 1,
            time: &time,
            flux: &flux,
            err: &[],
            band: &band,
            band_names: &names,
            extra: Default::default(),
        };
        let p = Periodogram::new().max_freq_factor(6.0).unwrap();
        let mut out = Vec::new();
        p.evaluate(&lc, &mut out);
        assert_eq!(out.len(), 6);
        let mut want = Vec::new();
        p.push_band(&t1, &m1, &mut want);
        p.push_band(&t2, &m2, &mut want);
        assert_eq!(&out[..4], &want[..]);
        assert!(out[4].is_nan() && out[5].is_nan());
        assert!((out[0] / 4.0 - 1.0).abs() < 5e-3 && (out[2] / 9.0 - 1.0).abs() < 5e-3);
    }
}
