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
//!   one radix-2 FFT, deconvolution; Greengard & Lee 2004). O(N + F log F); the sums agree
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

mod direct;
mod fft;
mod nufft;

use super::function::LightcurveFunction;
use crate::io::Role;
use crate::lightcurve::LightcurveView;
use arrow::datatypes::{DataType, Field};
use fft::Complex;
use std::cell::RefCell;
use std::cmp::Ordering;
use std::f64::consts::PI;

/// From this many points on, [`Fast::Auto`] uses the FFT-based algorithm.
///
/// Measured on one x86-64 core (AVX2), the two take about the same time at 24 to 32
/// points, whatever `max_freq_factor`; at 1000 points (default grid, 4980 frequencies)
/// the fast one is about 20 times quicker (0.4 ms against 9 ms), at 10 000 points about
/// 150 times.
pub const AUTO_FAST_MIN_POINTS: usize = 32;

/// Which algorithm computes the power.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fast {
    /// The fast one from [`AUTO_FAST_MIN_POINTS`] points on, else the direct one.
    #[default]
    Auto,
    /// Always the FFT-based one.
    On,
    /// Always the direct one.
    Off,
}

impl Fast {
    /// Whether a lightcurve of `n` points uses the fast algorithm.
    pub fn uses_fast(self, n: usize) -> bool {
        match self {
            Fast::Auto => n >= AUTO_FAST_MIN_POINTS,
            Fast::On => true,
            Fast::Off => false,
        }
    }

    fn label(self) -> &'static str {
        match self {
            Fast::Auto => "auto",
            Fast::On => "on",
            Fast::Off => "off",
        }
    }
}

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

    fn label(&self) -> String {
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

/// The four sums for one frequency `w` (times relative to the first).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Sums {
    /// `sum y cos wt`
    yc: f64,
    /// `sum y sin wt`
    ys: f64,
    /// `sum cos 2wt`
    c2: f64,
    /// `sum sin 2wt`
    s2: f64,
}

impl Sums {
    /// Lomb-Scargle power from the sums, for `n` points, `half_inv_var = 1 / (2 var)`.
    ///
    /// `tau` comes from `tan 2w tau = s2 / c2` (zero when both vanish). Then
    /// `sum cos^2 w(t - tau) = (n + |c2 + i s2|) / 2` and `sum sin^2 = (n - |c2 + i s2|) / 2`;
    /// a term whose denominator is below `1e-10 n` (all `2wt` nearly equal modulo `2 pi`,
    /// e.g. regular sampling at its Nyquist frequency) is left out rather than divided by
    /// rounding noise.
    #[inline]
    fn power(&self, n: f64, half_inv_var: f64) -> f64 {
        let h = self.c2.hypot(self.s2);
        let (cos_wt, sin_wt) = if h > 0.0 {
            let cos_2wt = self.c2 / h;
            (
                (0.5 * (1.0 + cos_2wt)).sqrt(),
                (0.5 * (1.0 - cos_2wt)).sqrt().copysign(self.s2),
            )
        } else {
            (1.0, 0.0)
        };
        let yc = self.yc * cos_wt + self.ys * sin_wt;
        let ys = self.ys * cos_wt - self.yc * sin_wt;
        let cc = 0.5 * (n + h);
        let ss = 0.5 * (n - h);
        let tiny = 1e-10 * n;
        let a = if cc > tiny { yc * yc / cc } else { 0.0 };
        let b = if ss > tiny { ys * ys / ss } else { 0.0 };
        (a + b) * half_inv_var
    }
}

/// Lomb-Scargle power (light-curve's `"psd"` normalisation) of sorted times `t` and
/// values `m` on `grid`, by the direct or the fast algorithm as `fast` decides.
///
/// All zeros when the values are constant; NaN for a single point; empty when `t` is.
///
/// # Panics
/// When `t` and `m` differ in length.
pub fn lomb_scargle(t: &[f64], m: &[f64], grid: &FrequencyGrid, fast: Fast) -> Vec<f64> {
    assert_eq!(t.len(), m.len(), "times and values differ in length");
    let n = t.len();
    if n == 0 {
        return Vec::new();
    }
    let mean = m.iter().sum::<f64>() / n as f64;
    let y: Vec<f64> = m.iter().map(|&v| v - mean).collect();
    let var = y.iter().map(|v| v * v).sum::<f64>() / (n as f64 - 1.0);
    if var == 0.0 {
        return vec![0.0; grid.size];
    }
    if !var.is_finite() {
        // One point, or values that overflow.
        return vec![f64::NAN; grid.size];
    }
    let t0 = t[0];
    let tau: Vec<f64> = t.iter().map(|&x| x - t0).collect();
    let sums = if fast.uses_fast(n) {
        sums_fast(&tau, &y, grid)
    } else {
        let mut points = direct::Points::new(&tau, &y, grid.step);
        let mut out = vec![Sums::default(); grid.size];
        direct::sums(&mut points, n, grid.start, grid.step, &mut out);
        out
    };
    let half_inv_var = 0.5 / var;
    sums.iter()
        .map(|s| s.power(n as f64, half_inv_var))
        .collect()
}

/// The sums for every grid frequency from two type-1 non-uniform FFTs.
///
/// With `wc` the grid's middle frequency and `k = i - size/2`, `w_i = wc + k * step`, so
/// `sum y e^{i w_i t} = sum (y e^{i wc t}) e^{i k (step t)}` and
/// `sum e^{2 i w_i t} = sum e^{2 i wc t} e^{i k (2 step t)}`; `step t` is taken modulo
/// `2 pi`, which changes no term.
fn sums_fast(tau: &[f64], y: &[f64], grid: &FrequencyGrid) -> Vec<Sums> {
    let size = grid.size;
    let center = size / 2;
    let wc = grid.start + center as f64 * grid.step;
    let k0 = -(center as i64);
    let two_pi = 2.0 * PI;
    let x1: Vec<f64> = tau
        .iter()
        .map(|&t| (grid.step * t).rem_euclid(two_pi))
        .collect();
    let c1: Vec<Complex> = tau
        .iter()
        .zip(y)
        .map(|(&t, &v)| Complex::cis(wc * t).scale(v))
        .collect();
    let x2: Vec<f64> = tau
        .iter()
        .map(|&t| (2.0 * grid.step * t).rem_euclid(two_pi))
        .collect();
    let c2: Vec<Complex> = tau.iter().map(|&t| Complex::cis(2.0 * wc * t)).collect();
    let plan = nufft::Plan::new(k0, size);
    let mut a = vec![Complex::ZERO; size];
    let mut b = vec![Complex::ZERO; size];
    plan.execute(&x1, &c1, &mut a);
    plan.execute(&x2, &c2, &mut b);
    a.iter()
        .zip(&b)
        .map(|(a, b)| Sums {
            yc: a.re,
            ys: a.im,
            c2: b.re,
            s2: b.im,
        })
        .collect()
}

/// Indices of interior local maxima, light-curve's way: `p[i] > p[i-1]` and not
/// `p[i+1] > p[i]`, ranked by decreasing power (ties: lower frequency first).
fn ranked_peaks(p: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (1..p.len().saturating_sub(1))
        .filter(|&i| p[i] > p[i - 1] && p[i + 1].partial_cmp(&p[i]) != Some(Ordering::Greater))
        .collect();
    idx.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
    idx
}

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

/// Lomb-Scargle periodogram peaks per band, as a [`LightcurveFunction`].
///
/// Output columns, per band `b` (sorted band names) and for `k` from 0 to `peaks - 1`:
/// `period_<k>_<b>` (period of the `k+1`-th highest peak, in the time unit) and
/// `period_s_to_n_<k>_<b>` (its signal-to-noise). Registered by default as `periodogram`
/// (one peak). See the [module documentation](self) for definitions.
///
/// ```
/// use lsstseries::analysis::periodogram::{Fast, Nyquist, Periodogram};
/// use lsstseries::analysis::LightcurveFunction;
/// let p = Periodogram::new().peaks(2).resolution(20.0).max_freq_factor(2.0).fast(Fast::On);
/// let cols: Vec<String> = p.output_fields(&["g".into()]).iter().map(|f| f.name().clone()).collect();
/// assert_eq!(cols, ["period_0_g", "period_s_to_n_0_g", "period_1_g", "period_s_to_n_1_g"]);
/// assert_eq!(Periodogram::new().name(), "periodogram");
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

impl Periodogram {
    /// light-curve's defaults: 1 peak, resolution 10, max_freq_factor 1, average Nyquist;
    /// [`Fast::Auto`].
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of peaks reported (at least 1).
    ///
    /// # Panics
    /// When `peaks` is 0.
    pub fn peaks(mut self, peaks: usize) -> Self {
        assert!(peaks > 0, "a periodogram reports at least one peak");
        self.peaks = peaks;
        self.renamed()
    }

    /// Grid points per `2 pi / duration` (roughly): larger finds periods more precisely.
    ///
    /// # Panics
    /// Unless positive and finite.
    pub fn resolution(mut self, resolution: f64) -> Self {
        assert!(
            resolution > 0.0 && resolution.is_finite(),
            "resolution must be positive and finite, got {resolution}"
        );
        self.resolution = resolution;
        self.renamed()
    }

    /// The grid ends at this multiple of the Nyquist frequency.
    ///
    /// # Panics
    /// Unless positive and finite.
    pub fn max_freq_factor(mut self, factor: f64) -> Self {
        assert!(
            factor > 0.0 && factor.is_finite(),
            "max_freq_factor must be positive and finite, got {factor}"
        );
        self.max_freq_factor = factor;
        self.renamed()
    }

    /// The Nyquist frequency definition.
    ///
    /// # Panics
    /// For a quantile outside 0 to 1 or a fixed frequency that is not positive and finite.
    pub fn nyquist(mut self, nyquist: Nyquist) -> Self {
        match nyquist {
            Nyquist::Quantile(q) => {
                assert!(
                    (0.0..=1.0).contains(&q),
                    "quantile {q} is not within 0 to 1"
                )
            }
            Nyquist::Fixed(w) => assert!(
                w > 0.0 && w.is_finite(),
                "fixed Nyquist frequency must be positive and finite, got {w}"
            ),
            _ => {}
        }
        self.nyquist = nyquist;
        self.renamed()
    }

    /// The algorithm choice.
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
        Some(peaks_of(&grid, &power, self.peaks))
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

/// The `count` highest peaks of `power` on `grid`, with their signal-to-noise.
fn peaks_of(grid: &FrequencyGrid, power: &[f64], count: usize) -> Vec<Peak> {
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

thread_local! {
    /// Per-thread scratch: times and values grouped by band.
    static SCRATCH: RefCell<(Vec<f64>, Vec<f64>, Vec<usize>)> =
        const { RefCell::new((Vec::new(), Vec::new(), Vec::new())) };
}

impl LightcurveFunction for Periodogram {
    fn name(&self) -> &str {
        &self.name
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
            let (t, m, starts) = &mut *s.borrow_mut();
            let nb = lc.band_names.len();
            // Counting sort by band; stable, so each band stays in time order.
            starts.clear();
            starts.resize(nb + 1, 0);
            for &b in lc.band {
                starts[b as usize + 1] += 1;
            }
            for k in 0..nb {
                starts[k + 1] += starts[k];
            }
            let n = lc.flux.len();
            t.resize(n, 0.0);
            m.resize(n, 0.0);
            let mut next: smallvec::SmallVec<[usize; 8]> = starts[..nb].iter().copied().collect();
            for ((&ti, &fi), &b) in lc.time.iter().zip(lc.flux).zip(lc.band) {
                let slot = &mut next[b as usize];
                t[*slot] = ti;
                m[*slot] = fi;
                *slot += 1;
            }
            for k in 0..nb {
                let r = starts[k]..starts[k + 1];
                self.push_band(&t[r.clone()], &m[r], out);
            }
        })
    }
}

/// Registers `periodogram` with default settings.
pub(crate) fn register(registry: &mut crate::analysis::FunctionRegistry) {
    registry.register(std::sync::Arc::new(Periodogram::default()));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(n: usize, period: f64, seed: u64) -> (Vec<f64>, Vec<f64>) {
        // Uneven sorted times over ~1000 days, a sinusoid plus a little deterministic noise.
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
    fn power_matches_the_textbook_formula() {
        let (t, m) = sine(80, 13.0, 1);
        let grid = FrequencyGrid::from_times(&t, 5.0, 1.0, Nyquist::Average).unwrap();
        let n = t.len() as f64;
        let mean = m.iter().sum::<f64>() / n;
        let var = m.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
        for fast in [Fast::Off, Fast::On] {
            let p = lomb_scargle(&t, &m, &grid, fast);
            for (i, &pi) in p.iter().enumerate() {
                let w = grid.freq(i);
                let (s2, c2) = t.iter().fold((0.0, 0.0), |(s, c), &x| {
                    let (a, b) = (2.0 * w * x).sin_cos();
                    (s + a, c + b)
                });
                let tau = s2.atan2(c2) / (2.0 * w);
                let (mut yc, mut ys, mut cc, mut ss) = (0.0, 0.0, 0.0, 0.0);
                for (&x, &v) in t.iter().zip(&m) {
                    let (s, c) = (w * (x - tau)).sin_cos();
                    yc += (v - mean) * c;
                    ys += (v - mean) * s;
                    cc += c * c;
                    ss += s * s;
                }
                let want = 0.5 * (yc * yc / cc + ys * ys / ss) / var;
                assert!(
                    (pi - want).abs() < 1e-8 * want.max(1e-3),
                    "{fast:?} i {i}: {pi} vs {want}"
                );
            }
        }
    }

    #[test]
    fn fast_and_direct_agree_closely() {
        for (n, period) in [(50, 17.0), (300, 2.2), (1000, 0.7)] {
            let (t, m) = sine(n, period, n as u64);
            let p = Periodogram::new().max_freq_factor(if period < 2.0 { 4.0 } else { 1.0 });
            let grid = p.grid(&t).unwrap();
            let d = lomb_scargle(&t, &m, &grid, Fast::Off);
            let f = lomb_scargle(&t, &m, &grid, Fast::On);
            let scale = d.iter().cloned().fold(0.0, f64::max);
            let worst = d
                .iter()
                .zip(&f)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(worst < 1e-8 * scale, "n {n}: {worst} of {scale}");
            assert_eq!(ranked_peaks(&d)[..3], ranked_peaks(&f)[..3]);
        }
    }

    #[test]
    fn finds_the_injected_period() {
        let (t, m) = sine(400, 5.3, 3);
        for fast in [Fast::Off, Fast::On] {
            let peaks = Periodogram::new()
                .peaks(3)
                .fast(fast)
                .find_peaks(&t, &m)
                .unwrap();
            assert_eq!(peaks.len(), 3);
            assert!((peaks[0].period / 5.3 - 1.0).abs() < 2e-3, "{peaks:?}");
            assert!(peaks[0].s_to_n > 10.0 && peaks[0].s_to_n > peaks[1].s_to_n);
        }
    }

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

    #[test]
    fn constant_and_short_lightcurves() {
        let t: Vec<f64> = (0..40).map(|i| i as f64 * 1.3).collect();
        let p = Periodogram::new().peaks(2);
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
        assert_eq!(Periodogram::new().peaks(1).name(), "periodogram");
        let p = Periodogram::new().peaks(2).fast(Fast::Off);
        assert_eq!(
            p.name(),
            "periodogram(peaks=2, resolution=10, max_freq_factor=1, nyquist=average, fast=off)"
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
        };
        let p = Periodogram::new().max_freq_factor(6.0);
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
