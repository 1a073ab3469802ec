//! Variability features of a lightcurve, computed together in one pass.
//!
//! The definitions follow the `light-curve` package (light-curve-feature 0.19, the engine of
//! the Python `light_curve` 0.13), written anew here: `m` is our flux column, `sigma` our
//! flux error, `t` our time. A [`FeatureSet`] is a [`LightcurveFunction`]: per band it
//! writes `<column>_<band>` for every output column and band, across bands one column per
//! output using all observations. Each (band of a) lightcurve is gathered once into
//! thread-local scratch, the shared quantities are computed once (mean and central power
//! sums, the error-weighted mean and chi-squared, one sorted copy of the values) and every
//! requested feature is read off them.
//!
//! The code is grouped by what a feature needs from the data:
//!
//! * `moments`: order-free sums (mean, standard deviation, skew, kurtosis, beyond N std,
//!   weighted mean, reduced chi-squared, Stetson K, excess variance);
//! * `order_statistics`: the sorted copy (median, inter-percentile range, median absolute
//!   deviation, percent amplitude);
//! * `time_series`: order or times (von Neumann eta, maximum slope, linear fit). A set with
//!   any of these declares [`Role::Time`], so lightcurves arrive in time order.
//!
//! | feature | columns | min. points | light-curve |
//! |---|---|---|---|
//! | [`Feature::Amplitude`] | `amplitude` | 1 | `Amplitude` |
//! | [`Feature::BeyondNStd`] | `beyond_1_std` (n = 1) | 2 | `BeyondNStd` |
//! | [`Feature::Eta`] | `eta` | 2 | `Eta` |
//! | [`Feature::ExcessVariance`] | `excess_variance` | 2 | `ExcessVariance` |
//! | [`Feature::InterPercentileRange`] | `inter_percentile_range_25` (q = 0.25) | 1 | `InterPercentileRange` |
//! | [`Feature::Kurtosis`] | `kurtosis` | 4 | `Kurtosis` |
//! | [`Feature::LinearFit`] | `linear_fit_slope`, `linear_fit_slope_sigma`, `linear_fit_reduced_chi2` | 3 | `LinearFit` |
//! | [`Feature::MaximumSlope`] | `maximum_slope` | 2 | `MaximumSlope` |
//! | [`Feature::Mean`] | `mean` | 1 | `Mean` |
//! | [`Feature::Median`] | `median` | 1 | `Median` |
//! | [`Feature::MedianAbsoluteDeviation`] | `median_absolute_deviation` | 1 | `MedianAbsoluteDeviation` |
//! | [`Feature::PercentAmplitude`] | `percent_amplitude` | 1 | `PercentAmplitude` |
//! | [`Feature::ReducedChi2`] | `reduced_chi2` | 2 | `ReducedChi2` (named `chi2` there) |
//! | [`Feature::Skew`] | `skew` | 3 | `Skew` |
//! | [`Feature::StandardDeviation`] | `standard_deviation` | 2 | `StandardDeviation` |
//! | [`Feature::StetsonK`] | `stetson_k` | 2 | `StetsonK` (named `stetson_K` there) |
//! | [`Feature::WeightedMean`] | `weighted_mean` | 1 | `WeightedMean` |
//!
//! Where light-curve raises (too few points; a flat sample for eta, skew, kurtosis and
//! Stetson K) the value is NaN. Deliberate differences, all at the level of rounding or of
//! inputs light-curve rejects:
//!
//! * A flat sample (all values equal) has exactly that value as its mean and weighted mean
//!   and zero sums of deviations, so its standard deviation and reduced chi-squared are 0,
//!   beyond-N-std is 0 and the excess variance is `-<sigma^2> / m^2`; light-curve sums
//!   and can be off by rounding there.
//! * [`Feature::MaximumSlope`] is NaN when all times are equal (light-curve panics), and
//!   [`Feature::LinearFit`] gives NaN for all three columns then (light-curve: NaN, inf,
//!   NaN). The linear fit centres times and values on their weighted means before summing
//!   (the same estimator, less cancellation for MJD-sized times).
//! * Parameters are `f64`. light-curve stores the quantile and N as `f32` and computes the
//!   quantile's interpolation index in `f32`; for 0.25, 1, 2 and other short binary
//!   fractions the results are identical, for e.g. q = 0.1 they differ by about 1e-7 of
//!   the gap between neighbouring sorted values.
//! * Equal times are allowed (rows keep their order); light-curve's Python API rejects
//!   them unless told the input is sorted.
//!
//! Registered by name ([`feature_functions`]): every feature with its default
//! parameters as a per-band set of one (`amplitude`, `beyond_1_std`, ...,
//! `inter_percentile_range_25`, `linear_fit`, ...), and `features`, the per-band
//! [`Feature::DEFAULT_SET`].

mod moments;
mod order_statistics;
mod time_series;

use super::function::LightcurveFunction;
use crate::error::{Error, Result};
use crate::io::Role;
use crate::lightcurve::{BandGroups, LightcurveView};
use arrow::datatypes::{DataType, Field};
use moments::{Moments, Weighted};
use std::cell::RefCell;
use std::fmt;
use std::sync::Arc;

/// One variability feature (with its parameters, where it has any).
///
/// `m` is the flux, `sigma` its error, `t` the time, `N` the number of observations,
/// `<m>` the mean, `sigma_m` the unbiased standard deviation and `m_w` the weighted mean
/// with weights `1 / sigma^2`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Feature {
    /// Half the peak-to-peak range, `(max m - min m) / 2`.
    Amplitude,
    /// Fraction of observations with `|m - <m>| > n sigma_m`; `n > 0`, light-curve's
    /// default is 1. Column `beyond_<n>_std`, with a `p` for a decimal point
    /// (`beyond_1p5_std`).
    BeyondNStd {
        /// How many standard deviations.
        n: f64,
    },
    /// Von Neumann's eta, `sum (m[i+1] - m[i])^2 / ((N - 1) sigma_m^2)` over the time
    /// order; NaN for a flat lightcurve.
    Eta,
    /// Excess variance, `(sigma_m^2 - <sigma^2>) / <m>^2`.
    ExcessVariance,
    /// `Q(1 - q) - Q(q)` with light-curve's quantile rule (R-5: linear interpolation
    /// through `((k - 0.5) / N, m_(k))`, clamped at the ends); `0 < q < 0.5`, default
    /// 0.25. Column `inter_percentile_range_<100 q>` (`inter_percentile_range_25`, with a
    /// `p` for a decimal point).
    InterPercentileRange {
        /// The lower quantile.
        quantile: f64,
    },
    /// Unbiased excess kurtosis,
    /// `N (N+1) / ((N-1)(N-2)(N-3)) sum (m - <m>)^4 / sigma_m^4 - 3 (N-1)^2 / ((N-2)(N-3))`;
    /// NaN for a flat lightcurve.
    Kurtosis,
    /// Weighted least-squares line `m = c + slope t` (weights `1 / sigma^2`): columns
    /// `linear_fit_slope`, `linear_fit_slope_sigma` (`1 / sqrt(sum w (t - t_w)^2)`) and
    /// `linear_fit_reduced_chi2` (`sum w (m - c - slope t)^2 / (N - 2)`). NaN in all
    /// three when every time is equal.
    LinearFit,
    /// Largest `|(m[i+1] - m[i]) / (t[i+1] - t[i])|` over successive observations, pairs
    /// with equal times skipped; NaN when all times are equal.
    MaximumSlope,
    /// Arithmetic mean `<m>`.
    Mean,
    /// Median (mean of the two middle values for even N).
    Median,
    /// `median(|m - median(m)|)`.
    MedianAbsoluteDeviation,
    /// Largest deviation from the median, `max(max m - median, median - min m)`.
    PercentAmplitude,
    /// `sum ((m - m_w) / sigma)^2 / (N - 1)`.
    ReducedChi2,
    /// Sample skewness `N / ((N-1)(N-2)) sum (m - <m>)^3 / sigma_m^3`; NaN for a flat
    /// lightcurve.
    Skew,
    /// Unbiased standard deviation `sigma_m`.
    StandardDeviation,
    /// Stetson K, `sum |m - m_w| / sigma / sqrt(N chi2)` with
    /// `chi2 = sum ((m - m_w) / sigma)^2`; NaN for a flat lightcurve.
    StetsonK,
    /// Inverse-variance weighted mean `m_w = sum (m / sigma^2) / sum (1 / sigma^2)`.
    WeightedMean,
}

impl Feature {
    /// Every feature, with default parameters, in name order.
    pub const ALL: [Feature; 17] = [
        Feature::Amplitude,
        Feature::BeyondNStd { n: 1.0 },
        Feature::Eta,
        Feature::ExcessVariance,
        Feature::InterPercentileRange { quantile: 0.25 },
        Feature::Kurtosis,
        Feature::LinearFit,
        Feature::MaximumSlope,
        Feature::Mean,
        Feature::Median,
        Feature::MedianAbsoluteDeviation,
        Feature::PercentAmplitude,
        Feature::ReducedChi2,
        Feature::Skew,
        Feature::StandardDeviation,
        Feature::StetsonK,
        Feature::WeightedMean,
    ];

    /// The default set (registered as `features`): twelve features, fourteen columns. The
    /// shape and variability statistics commonly fed to classifiers; the plain location
    /// statistics (mean, median), the standard deviation and the ranges that duplicate
    /// amplitude are left out.
    pub const DEFAULT_SET: [Feature; 12] = [
        Feature::Amplitude,
        Feature::BeyondNStd { n: 1.0 },
        Feature::Eta,
        Feature::InterPercentileRange { quantile: 0.25 },
        Feature::Kurtosis,
        Feature::LinearFit,
        Feature::MaximumSlope,
        Feature::MedianAbsoluteDeviation,
        Feature::ReducedChi2,
        Feature::Skew,
        Feature::StetsonK,
        Feature::WeightedMean,
    ];

    /// The feature's stable snake_case name (also its registry key): `stetson_k`,
    /// `beyond_1_std`, `inter_percentile_range_25`, `linear_fit`, ...
    pub fn name(&self) -> String {
        match *self {
            Feature::BeyondNStd { n } => format!("beyond_{}_std", format!("{n}").replace('.', "p")),
            Feature::InterPercentileRange { quantile } => {
                format!("inter_percentile_range_{}", percent_name(quantile))
            }
            f => f.fixed_name().to_string(),
        }
    }

    fn fixed_name(&self) -> &'static str {
        match self {
            Feature::Amplitude => "amplitude",
            Feature::BeyondNStd { .. } => "beyond_n_std",
            Feature::Eta => "eta",
            Feature::ExcessVariance => "excess_variance",
            Feature::InterPercentileRange { .. } => "inter_percentile_range",
            Feature::Kurtosis => "kurtosis",
            Feature::LinearFit => "linear_fit",
            Feature::MaximumSlope => "maximum_slope",
            Feature::Mean => "mean",
            Feature::Median => "median",
            Feature::MedianAbsoluteDeviation => "median_absolute_deviation",
            Feature::PercentAmplitude => "percent_amplitude",
            Feature::ReducedChi2 => "reduced_chi2",
            Feature::Skew => "skew",
            Feature::StandardDeviation => "standard_deviation",
            Feature::StetsonK => "stetson_k",
            Feature::WeightedMean => "weighted_mean",
        }
    }

    /// Output column names (before any `_<band>` suffix): the name itself, or for
    /// [`Feature::LinearFit`] its three columns.
    pub fn output_names(&self) -> Vec<String> {
        match self {
            Feature::LinearFit => vec![
                "linear_fit_slope".into(),
                "linear_fit_slope_sigma".into(),
                "linear_fit_reduced_chi2".into(),
            ],
            f => vec![f.name()],
        }
    }

    /// Number of output columns.
    pub fn width(&self) -> usize {
        match self {
            Feature::LinearFit => 3,
            _ => 1,
        }
    }

    /// Fewest observations (per band, when computed per band) for a value; NaN below.
    pub fn min_points(&self) -> usize {
        match self {
            Feature::Amplitude
            | Feature::InterPercentileRange { .. }
            | Feature::Mean
            | Feature::Median
            | Feature::MedianAbsoluteDeviation
            | Feature::PercentAmplitude
            | Feature::WeightedMean => 1,
            Feature::BeyondNStd { .. }
            | Feature::Eta
            | Feature::ExcessVariance
            | Feature::MaximumSlope
            | Feature::ReducedChi2
            | Feature::StandardDeviation
            | Feature::StetsonK => 2,
            Feature::LinearFit | Feature::Skew => 3,
            Feature::Kurtosis => 4,
        }
    }

    /// True when the feature reads the times or depends on the time order.
    pub fn needs_time(&self) -> bool {
        matches!(
            self,
            Feature::Eta | Feature::MaximumSlope | Feature::LinearFit
        )
    }

    /// True when the feature reads the flux errors.
    pub fn needs_err(&self) -> bool {
        matches!(
            self,
            Feature::ExcessVariance
                | Feature::LinearFit
                | Feature::ReducedChi2
                | Feature::StetsonK
                | Feature::WeightedMean
        )
    }

    /// Parses a name as produced by [`Feature::name`] (`beyond_2_std`,
    /// `inter_percentile_range_10`, `inter_percentile_range_2p5`, ...).
    ///
    /// ```
    /// use lsstseries::analysis::Feature;
    /// assert_eq!(Feature::from_name("beyond_2_std"), Some(Feature::BeyondNStd { n: 2.0 }));
    /// assert_eq!(
    ///     Feature::from_name("inter_percentile_range_10"),
    ///     Some(Feature::InterPercentileRange { quantile: 0.1 })
    /// );
    /// assert_eq!(Feature::from_name("stetson_k"), Some(Feature::StetsonK));
    /// assert_eq!(Feature::from_name("beyond_0_std"), None);
    /// ```
    pub fn from_name(name: &str) -> Option<Feature> {
        if let Some(f) = Feature::ALL.iter().find(|f| f.name() == name) {
            return Some(*f);
        }
        let f = if let Some(n) = name
            .strip_prefix("beyond_")
            .and_then(|s| s.strip_suffix("_std"))
        {
            Feature::BeyondNStd {
                n: parse_param(n, 0)?,
            }
        } else if let Some(q) = name.strip_prefix("inter_percentile_range_") {
            Feature::InterPercentileRange {
                quantile: parse_param(q, 2)?,
            }
        } else {
            return None;
        };
        (f.check().is_ok() && f.name() == name).then_some(f)
    }

    /// Checks the parameters: `n` positive and finite, `quantile` strictly between 0 and
    /// 0.5.
    pub fn check(&self) -> Result<()> {
        match *self {
            Feature::BeyondNStd { n } if !n.is_finite() || n <= 0.0 => Err(Error::InvalidArgument(
                format!("beyond_n_std: n must be positive and finite, got {n}"),
            )),
            Feature::InterPercentileRange { quantile: q } if q.is_nan() || q <= 0.0 || q >= 0.5 => {
                Err(Error::InvalidArgument(format!(
                    "inter_percentile_range: quantile must be in (0, 0.5), got {q}"
                )))
            }
            _ => Ok(()),
        }
    }
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// `100 q` as a name fragment, shifting the decimal point of `q`'s shortest
/// representation (so 0.07 gives `7`, not `7.000000000000001`); `p` for a decimal point.
fn percent_name(q: f64) -> String {
    let s = format!("{q}");
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let mut frac = frac.to_string();
    while frac.len() < 2 {
        frac.push('0');
    }
    let (moved, rest) = frac.split_at(2);
    let whole = format!("{int}{moved}");
    let whole = whole.trim_start_matches('0');
    let whole = if whole.is_empty() { "0" } else { whole };
    if rest.is_empty() {
        whole.to_string()
    } else {
        format!("{whole}p{rest}")
    }
}

/// Inverse of the name fragments: digits with an optional `p`, divided by `10^shift` by
/// moving the decimal point (exact for what [`percent_name`] writes).
fn parse_param(s: &str, shift: usize) -> Option<f64> {
    if s.is_empty() || !s.chars().all(|c| c.is_ascii_digit() || c == 'p') {
        return None;
    }
    let (int, frac) = s.split_once('p').unwrap_or((s, ""));
    if frac.contains('p') {
        return None;
    }
    let digits = format!("{int}{frac}");
    let point = int.len() as isize - shift as isize;
    let text = if point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else {
        let (a, b) = digits.split_at(point as usize);
        format!("{a}.{b}0")
    };
    text.parse().ok()
}

/// What the requested features share, so each is computed at most once.
#[derive(Debug, Clone, Copy, Default)]
struct Needs {
    /// Central power sums (variance, skew, kurtosis).
    central: bool,
    /// Weighted mean and chi-squared.
    weighted: bool,
    /// Mean squared error.
    err2: bool,
    /// A sorted copy of the values.
    sorted: bool,
}

impl Needs {
    fn of(features: &[Feature]) -> Self {
        let mut n = Needs::default();
        for f in features {
            match f {
                Feature::StandardDeviation
                | Feature::Skew
                | Feature::Kurtosis
                | Feature::BeyondNStd { .. }
                | Feature::Eta => n.central = true,
                Feature::ExcessVariance => {
                    n.central = true;
                    n.err2 = true;
                }
                Feature::WeightedMean | Feature::ReducedChi2 | Feature::StetsonK => {
                    n.weighted = true
                }
                Feature::Median
                | Feature::InterPercentileRange { .. }
                | Feature::MedianAbsoluteDeviation
                | Feature::PercentAmplitude => n.sorted = true,
                Feature::Amplitude | Feature::Mean | Feature::MaximumSlope | Feature::LinearFit => {
                }
            }
        }
        n
    }
}

/// Several [`Feature`]s computed together, per band or across bands; a
/// [`LightcurveFunction`].
///
/// Per band, the output columns are `<column>_<band>` for every feature column (in the
/// order given) and every band (in the source's band order), NaN where a band has fewer
/// points than the feature needs. Across bands, one column per feature column, from all
/// observations (time-ordered features then follow the time order across bands).
/// `required()` lists only the roles the features read: flux always, errors and time only
/// when some feature needs them, band only per band.
///
/// ```
/// use lsstseries::analysis::{BandScope, Feature, FeatureSet, LightcurveFunction};
/// use lsstseries::LightcurveView;
/// let set = FeatureSet::new(vec![Feature::Amplitude, Feature::LinearFit], BandScope::PerBand)?;
/// let bands = vec!["g".to_string(), "r".to_string()];
/// let names: Vec<String> =
///     set.output_fields(&bands).iter().map(|f| f.name().clone()).collect();
/// assert_eq!(names[..3], ["amplitude_g", "amplitude_r", "linear_fit_slope_g"]);
/// let lc = LightcurveView {
///     id: 7,
///     time: &[1.0, 2.0, 3.0, 4.0],
///     flux: &[10.0, 12.0, 14.0, 11.0],
///     err: &[1.0, 1.0, 1.0, 1.0],
///     band: &[0, 0, 0, 1],
///     band_names: &bands,
///     extra: Default::default(),
/// };
/// let mut out = Vec::new();
/// set.evaluate(&lc, &mut out);
/// assert_eq!(out[..2], [2.0, 0.0]); // amplitude in g, in r
/// assert_eq!(out[2], 2.0); // slope in g
/// assert!(out[3].is_nan()); // r has one point; a line needs three
/// # Ok::<(), lsstseries::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct FeatureSet {
    name: String,
    features: Vec<Feature>,
    per_band: bool,
    required: Vec<Role>,
    columns: Vec<String>,
    needs: Needs,
}

/// Whether features are computed per band or across all bands of a lightcurve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BandScope {
    /// One value per band (`amplitude_g`, `amplitude_r`, ...), like `light-curve`'s
    /// per-band use and TAPE's `band_to_calc`.
    #[default]
    PerBand,
    /// One value from all observations of the lightcurve, bands mixed.
    AllBands,
}

impl FeatureSet {
    /// A set named `features`. Duplicate features (same name) are kept once; a parameter
    /// out of range (see [`Feature::check`]) is an error naming it.
    pub fn new(features: Vec<Feature>, scope: BandScope) -> Result<Self> {
        Self::named("features", features, scope)
    }

    /// [`FeatureSet::new`] under another name (the registry key and the name `explain()`
    /// shows).
    pub fn named(
        name: impl Into<String>,
        features: Vec<Feature>,
        scope: BandScope,
    ) -> Result<Self> {
        for f in &features {
            f.check()?;
        }
        Ok(Self::assemble(name.into(), features, scope))
    }

    /// The default set ([`Feature::DEFAULT_SET`]), named `features`.
    pub fn default_set(scope: BandScope) -> Self {
        // The default set's parameters are constants, checked by a unit test.
        Self::assemble("features".into(), Feature::DEFAULT_SET.to_vec(), scope)
    }

    /// Builds a set from checked features.
    fn assemble(name: String, features: Vec<Feature>, scope: BandScope) -> Self {
        let per_band = scope == BandScope::PerBand;
        let mut kept: Vec<Feature> = Vec::with_capacity(features.len());
        for f in features {
            if !kept.iter().any(|k| k.name() == f.name()) {
                kept.push(f);
            }
        }
        let mut required = vec![Role::Flux];
        if kept.iter().any(Feature::needs_time) {
            required.push(Role::Time);
        }
        if kept.iter().any(Feature::needs_err) {
            required.push(Role::Err);
        }
        if per_band {
            required.push(Role::Band);
        }
        required.sort();
        FeatureSet {
            name,
            columns: kept.iter().flat_map(Feature::output_names).collect(),
            needs: Needs::of(&kept),
            features: kept,
            per_band,
            required,
        }
    }

    /// The features, in output order.
    pub fn features(&self) -> &[Feature] {
        &self.features
    }

    /// Per band or across bands.
    pub fn band_scope(&self) -> BandScope {
        if self.per_band {
            BandScope::PerBand
        } else {
            BandScope::AllBands
        }
    }

    /// Output column names before any `_<band>` suffix, in order.
    pub fn columns(&self) -> &[String] {
        &self.columns
    }

    /// Computes every feature of one sample, appending one value per column to `vals`.
    fn eval_sample(
        &self,
        s: Sample<'_>,
        sorted: &mut Vec<f64>,
        keys: &mut Vec<u64>,
        vals: &mut Vec<f64>,
    ) {
        let n = s.m.len();
        let needs = self.needs;
        let mo = Moments::new(s.m, needs.central);
        let flat = mo.is_flat();
        let wt = if needs.weighted && n > 0 {
            Weighted::new(s.m, s.e, flat)
        } else {
            Weighted::nan()
        };
        let mean_err2 = if needs.err2 && n > 0 {
            moments::mean_err2(s.e)
        } else {
            f64::NAN
        };
        if needs.sorted && n > 0 {
            sorted.clear();
            sorted.extend_from_slice(s.m);
            order_statistics::sort_floats(sorted, keys);
        }
        for f in &self.features {
            if n < f.min_points() {
                vals.extend(std::iter::repeat_n(f64::NAN, f.width()));
                continue;
            }
            let v = match *f {
                Feature::Amplitude => 0.5 * (mo.max - mo.min),
                Feature::BeyondNStd { n: k } => mo.beyond_n_std(s.m, k),
                Feature::Eta => time_series::eta(s.m, &mo),
                Feature::ExcessVariance => moments::excess_variance(&mo, mean_err2),
                Feature::InterPercentileRange { quantile } => {
                    order_statistics::inter_percentile_range(sorted, quantile)
                }
                Feature::Kurtosis => mo.kurtosis(),
                Feature::LinearFit => {
                    vals.extend(time_series::linear_fit(s.t, s.m, s.e));
                    continue;
                }
                Feature::MaximumSlope => time_series::maximum_slope(s.t, s.m),
                Feature::Mean => mo.mean,
                Feature::Median => order_statistics::median(sorted),
                Feature::MedianAbsoluteDeviation => {
                    order_statistics::median_absolute_deviation(sorted)
                }
                Feature::PercentAmplitude => order_statistics::percent_amplitude(sorted),
                Feature::ReducedChi2 => wt.reduced_chi2(n),
                Feature::Skew => mo.skew(),
                Feature::StandardDeviation => mo.std(),
                Feature::StetsonK => wt.stetson_k(n, flat),
                Feature::WeightedMean => wt.mean,
            };
            vals.push(v);
        }
    }
}

/// One (band of a) lightcurve; roles not read are empty.
#[derive(Clone, Copy)]
struct Sample<'a> {
    t: &'a [f64],
    m: &'a [f64],
    e: &'a [f64],
}

thread_local! {
    /// Per-thread scratch: values grouped by band, the sorted copy, one sample's results.
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

#[derive(Default)]
struct Scratch {
    groups: BandGroups,
    sorted: Vec<f64>,
    keys: Vec<u64>,
    vals: Vec<f64>,
}

impl LightcurveFunction for FeatureSet {
    fn name(&self) -> &str {
        &self.name
    }
    fn parameters(&self) -> String {
        format!("{self:?}")
    }

    fn required(&self) -> &[Role] {
        &self.required
    }

    fn output_fields(&self, bands: &[String]) -> Vec<Field> {
        if self.per_band {
            self.columns
                .iter()
                .flat_map(|c| {
                    bands
                        .iter()
                        .map(move |b| Field::new(format!("{c}_{b}"), DataType::Float64, true))
                })
                .collect()
        } else {
            self.columns
                .iter()
                .map(|c| Field::new(c, DataType::Float64, true))
                .collect()
        }
    }

    fn evaluate(&self, lc: &LightcurveView<'_>, out: &mut Vec<f64>) {
        SCRATCH.with(|s| {
            let Scratch {
                groups,
                sorted,
                keys,
                vals,
            } = &mut *s.borrow_mut();
            let whole = Sample {
                t: lc.time,
                m: lc.flux,
                e: lc.err,
            };
            if !self.per_band {
                self.eval_sample(whole, sorted, keys, out);
                return;
            }
            let nb = lc.band_names.len();
            let nc = self.columns.len();
            let base = out.len();
            out.resize(base + nc * nb, f64::NAN);
            let mut scatter = |k: usize, vals: &[f64]| {
                for (c, &v) in vals.iter().enumerate() {
                    out[base + c * nb + k] = v;
                }
            };
            if nb == 1 {
                vals.clear();
                self.eval_sample(whole, sorted, keys, vals);
                scatter(0, vals);
                return;
            }
            groups.fill(lc);
            for k in 0..nb {
                if groups.range(k).is_empty() {
                    continue; // every feature needs a point: the NaNs stay
                }
                let sample = Sample {
                    t: groups.time(k),
                    m: groups.flux(k),
                    e: groups.err(k),
                };
                vals.clear();
                self.eval_sample(sample, sorted, keys, vals);
                scatter(k, vals);
            }
        })
    }
}

/// The named built-in feature functions: every feature of [`Feature::ALL`] under its own
/// name as a per-band set of one, and `features`, the per-band default set.
pub fn feature_functions() -> Vec<Arc<dyn LightcurveFunction>> {
    Feature::ALL
        .iter()
        .map(|f| {
            Arc::new(FeatureSet::assemble(f.name(), vec![*f], BandScope::PerBand))
                as Arc<dyn LightcurveFunction>
        })
        .chain(std::iter::once(
            Arc::new(FeatureSet::default_set(BandScope::PerBand)) as Arc<dyn LightcurveFunction>,
        ))
        .collect()
}

/// Registers every feature under its own name (per band) and `features`, the default set.
pub(crate) fn register(registry: &mut crate::analysis::FunctionRegistry) {
    for f in feature_functions() {
        registry.register(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(set: &FeatureSet, lc: &LightcurveView<'_>) -> Vec<f64> {
        let mut out = Vec::new();
        set.evaluate(lc, &mut out);
        assert_eq!(out.len(), set.output_fields(lc.band_names).len());
        out
    }

    fn view<'a>(
        t: &'a [f64],
        m: &'a [f64],
        e: &'a [f64],
        band: &'a [u8],
        names: &'a [String],
    ) -> LightcurveView<'a> {
        LightcurveView {
            id: 1,
            time: t,
            flux: m,
            err: e,
            band,
            band_names: names,
            extra: Default::default(),
        }
    }

    #[test]
    fn names_are_stable_and_parse_back() {
        let names: Vec<String> = Feature::ALL.iter().map(Feature::name).collect();
        assert_eq!(
            names,
            [
                "amplitude",
                "beyond_1_std",
                "eta",
                "excess_variance",
                "inter_percentile_range_25",
                "kurtosis",
                "linear_fit",
                "maximum_slope",
                "mean",
                "median",
                "median_absolute_deviation",
                "percent_amplitude",
                "reduced_chi2",
                "skew",
                "standard_deviation",
                "stetson_k",
                "weighted_mean"
            ]
        );
        for f in Feature::ALL {
            assert_eq!(Feature::from_name(&f.name()), Some(f));
        }
        for q in [0.25, 0.1, 0.025, 0.07, 0.3, 0.0001, 0.499, 0.123456789] {
            let f = Feature::InterPercentileRange { quantile: q };
            assert_eq!(Feature::from_name(&f.name()), Some(f), "{}", f.name());
        }
        assert_eq!(
            Feature::InterPercentileRange { quantile: 0.025 }.name(),
            "inter_percentile_range_2p5"
        );
        assert_eq!(
            Feature::InterPercentileRange { quantile: 0.07 }.name(),
            "inter_percentile_range_7"
        );
        for n in [1.0, 2.0, 1.5, 0.25, 3.0001] {
            let f = Feature::BeyondNStd { n };
            assert_eq!(Feature::from_name(&f.name()), Some(f), "{}", f.name());
        }
        assert_eq!(Feature::BeyondNStd { n: 1.5 }.name(), "beyond_1p5_std");
        for bad in [
            "beyond__std",
            "beyond_0_std",
            "beyond_1p_std",
            "inter_percentile_range_50",
            "inter_percentile_range_0",
            "inter_percentile_range_x",
            "beyond_1p5p2_std",
            "linear_fit_slope",
            "nope",
        ] {
            assert_eq!(Feature::from_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn required_roles_follow_the_features() {
        let r = |fs: Vec<Feature>, scope| FeatureSet::new(fs, scope).unwrap().required().to_vec();
        let (per_band, all) = (BandScope::PerBand, BandScope::AllBands);
        assert_eq!(r(vec![Feature::Amplitude], all), [Role::Flux]);
        assert_eq!(r(vec![Feature::Median], per_band), [Role::Flux, Role::Band]);
        assert_eq!(
            r(vec![Feature::StetsonK, Feature::Mean], all),
            [Role::Flux, Role::Err]
        );
        assert_eq!(r(vec![Feature::Eta], all), [Role::Time, Role::Flux]);
        assert_eq!(
            r(vec![Feature::LinearFit], per_band),
            [Role::Time, Role::Flux, Role::Err, Role::Band]
        );
    }

    #[test]
    fn invalid_parameters_and_duplicates() {
        assert!(FeatureSet::new(vec![Feature::BeyondNStd { n: 0.0 }], BandScope::PerBand).is_err());
        assert!(FeatureSet::new(
            vec![Feature::BeyondNStd { n: f64::NAN }],
            BandScope::PerBand
        )
        .is_err());
        assert!(FeatureSet::new(
            vec![Feature::InterPercentileRange { quantile: 0.5 }],
            BandScope::PerBand
        )
        .is_err());
        let s = FeatureSet::new(
            vec![
                Feature::Mean,
                Feature::LinearFit,
                Feature::Mean,
                Feature::LinearFit,
            ],
            BandScope::AllBands,
        )
        .unwrap();
        assert_eq!(
            s.columns(),
            [
                "mean",
                "linear_fit_slope",
                "linear_fit_slope_sigma",
                "linear_fit_reduced_chi2"
            ]
        );
    }

    #[test]
    fn per_band_columns_and_nan_for_short_bands() {
        let names = vec!["g".to_string(), "r".to_string(), "z".to_string()];
        let t = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let m = [1.0, 5.0, 2.0, 6.0, 4.0, 9.0];
        let e = [0.1; 6];
        let band = [0, 1, 0, 1, 0, 1];
        let lc = view(&t, &m, &e, &band, &names);
        let set = FeatureSet::new(
            vec![Feature::Mean, Feature::Kurtosis, Feature::Skew],
            BandScope::PerBand,
        )
        .unwrap();
        let fields: Vec<String> = set
            .output_fields(&names)
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(
            fields,
            [
                "mean_g",
                "mean_r",
                "mean_z",
                "kurtosis_g",
                "kurtosis_r",
                "kurtosis_z",
                "skew_g",
                "skew_r",
                "skew_z"
            ]
        );
        let out = eval(&set, &lc);
        assert_eq!(out[0], 7.0 / 3.0);
        assert_eq!(out[1], 20.0 / 3.0);
        assert!(out[2].is_nan()); // no z points
        assert!(out[3..6].iter().all(|v| v.is_nan())); // three points per band: no kurtosis
        assert!(out[6].is_finite() && out[7].is_finite() && out[8].is_nan());
        // Across bands: one column per feature, all six points.
        let across =
            FeatureSet::new(vec![Feature::Mean, Feature::Kurtosis], BandScope::AllBands).unwrap();
        let out = eval(&across, &lc);
        assert_eq!(out[0], 27.0 / 6.0);
        assert!(out[1].is_finite());
    }

    #[test]
    fn one_set_equals_the_features_one_by_one() {
        let names = vec!["g".to_string(), "r".to_string()];
        let n = 40;
        let t: Vec<f64> = (0..n).map(|i| 59000.0 + i as f64 * 1.37).collect();
        let m: Vec<f64> = (0..n)
            .map(|i| 18.0 + (i as f64 * 0.9).sin() + 0.01 * ((i * 31) % 7) as f64)
            .collect();
        let e: Vec<f64> = (0..n).map(|i| 0.05 + 0.01 * (i % 3) as f64).collect();
        let band: Vec<u8> = (0..n).map(|i| (i % 3 == 0) as u8).collect();
        let lc = view(&t, &m, &e, &band, &names);
        for scope in [BandScope::PerBand, BandScope::AllBands] {
            let all = FeatureSet::new(Feature::ALL.to_vec(), scope).unwrap();
            let together = eval(&all, &lc);
            let mut one_by_one = Vec::new();
            let nb = if scope == BandScope::PerBand {
                names.len()
            } else {
                1
            };
            for f in Feature::ALL {
                one_by_one.extend(eval(&FeatureSet::new(vec![f], scope).unwrap(), &lc));
            }
            assert_eq!(together.len(), one_by_one.len());
            for (i, (a, b)) in together.iter().zip(&one_by_one).enumerate() {
                assert_eq!(a.to_bits(), b.to_bits(), "column {i} ({nb} bands)");
            }
        }
    }

    #[test]
    fn degenerate_inputs_do_not_panic() {
        let names = vec!["g".to_string()];
        let all = FeatureSet::new(Feature::ALL.to_vec(), BandScope::PerBand).unwrap();
        // Empty.
        let out = eval(&all, &view(&[], &[], &[], &[], &names));
        assert!(out.iter().all(|v| v.is_nan()));
        // One point.
        let out = eval(&all, &view(&[1.0], &[3.0], &[0.1], &[0], &names));
        let cols = all.output_fields(&names);
        for (f, v) in cols.iter().zip(&out) {
            let defined = [
                "amplitude_g",
                "inter_percentile_range_25_g",
                "mean_g",
                "median_g",
                "median_absolute_deviation_g",
                "percent_amplitude_g",
                "weighted_mean_g",
            ]
            .contains(&f.name().as_str());
            assert_eq!(v.is_finite(), defined, "{}: {v}", f.name());
        }
        // Flat values, equal times.
        let t = [5.0; 6];
        let m = [0.1; 6];
        let e = [0.2; 6];
        let out = eval(&all, &view(&t, &m, &e, &[0; 6], &names));
        let get = |name: &str| out[cols.iter().position(|f| f.name() == name).unwrap()];
        for nan in [
            "eta_g",
            "kurtosis_g",
            "skew_g",
            "stetson_k_g",
            "maximum_slope_g",
            "linear_fit_slope_g",
            "linear_fit_slope_sigma_g",
            "linear_fit_reduced_chi2_g",
        ] {
            assert!(get(nan).is_nan(), "{nan}");
        }
        assert_eq!(get("standard_deviation_g"), 0.0);
        assert_eq!(get("reduced_chi2_g"), 0.0);
        assert_eq!(get("beyond_1_std_g"), 0.0);
        assert_eq!(get("mean_g"), 0.1);
        assert_eq!(get("weighted_mean_g"), 0.1);
        assert!((get("excess_variance_g") + 4.0).abs() < 1e-12);
    }

    #[test]
    fn registry_names() {
        let fs = feature_functions();
        let names: Vec<&str> = fs.iter().map(|f| f.name()).collect();
        assert_eq!(names.len(), Feature::ALL.len() + 1);
        assert!(names.contains(&"features") && names.contains(&"inter_percentile_range_25"));
        let default = fs.iter().find(|f| f.name() == "features").unwrap();
        assert_eq!(default.output_fields(&["g".into()]).len(), 14);
    }
}
