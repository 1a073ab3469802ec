//! The structure function SF^2(dt) (TAPE's `calc_sf2`): every pair of observations with
//! dt > 0 inside a lightcurve and band, binned by time lag, with a choice of estimators,
//! per lightcurve or with all lightcurves' pairs pooled, and optional bootstrap errors.
//!
//! Differences from TAPE, on purpose: bins computed from a lightcurve's own lags for each
//! lightcurve (TAPE reused the first lightcurve's bins for all the others); bins without
//! pairs are omitted rather than reported as NaN; `schmidt_2010` is squared like the other
//! estimators; without bootstrap the 1-sigma column is NaN ("not estimated", TAPE wrote 0);
//! with bootstrap the default is 100 repetitions (TAPE's default of one was a bug). The
//! bootstrap draws come from a seeded generator per (object, band), so results do not
//! depend on partitioning or thread scheduling (they do not reproduce numpy's draws).
//!
//! Memory does not grow with the number of pairs. A pool's pairs (one lightcurve and band,
//! or a band's lightcurves pooled) are held only up to 2^18 of them; beyond that they are
//! generated again for each pass, which needs finite, sorted times (the engine's always
//! are). Mean-based estimators and mean lags are sums per bin, one pass. Equal-count edges
//! read quantiles of the distinct lags from two ascending merges of the rows (each row's
//! lags already ascend; one cursor per row). The MacLeod quartiles are selected exactly
//! (`select`: windows of bins gathered, larger bins narrowed by key histograms). A bootstrap
//! repetition's draws are replayed from the generator state it started at instead of being
//! stored, so the seeded results are those of drawing and storing them. Results are equal
//! bit for bit whichever way a pool is held; what remains is O(observations + bins), and
//! `bin_count_target` sets the number of bins (pairs / target).

mod binning;
mod estimators;
mod pairs;
#[cfg(test)]
mod reference_tests;
mod select;

pub use binning::{bin_of, edges, quantile_sorted, Binning};
pub use estimators::Estimator;

use estimators::Sums;
use pairs::Limits;
use pairs::{Lc, Pairs, Pool};

use crate::analysis::function::{LightcurveFunction, Rows};
use crate::error::{Error, Result};
use crate::io::{ColumnMap, Role};
use crate::lightcurve::{BandGroups, LightcurveView};
use crate::rng::Rng;
use arrow::array::{ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema};
use std::cell::RefCell;
use std::sync::Arc;

/// Where the per-observation errors come from.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub enum SfErrors {
    /// The source's error column.
    #[default]
    Column,
    /// No errors: E = 0.
    None,
    /// The same error for every observation.
    Scalar(f64),
}

/// Bootstrap error estimation.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Bootstrap {
    /// Repetitions (default 100).
    pub repetitions: usize,
    /// Lower quantile of the repetitions (default 0.16).
    pub lower_quantile: f64,
    /// Upper quantile of the repetitions (default 0.84).
    pub upper_quantile: f64,
    /// Seed of the generator.
    pub seed: u64,
    /// Combined mode: draw as many pairs from each lightcurve as the poorest one has, so no
    /// lightcurve dominates.
    pub equally_weight_lightcurves: bool,
    /// Pairs drawn (with replacement) from each lightcurve per repetition; default all.
    pub samples_per_lightcurve: Option<usize>,
}

impl Default for Bootstrap {
    fn default() -> Self {
        Bootstrap {
            repetitions: 100,
            lower_quantile: 0.16,
            upper_quantile: 0.84,
            seed: 42,
            equally_weight_lightcurves: false,
            samples_per_lightcurve: None,
        }
    }
}

/// Options of the structure function.
///
/// ```
/// use lsstseries::analysis::structure_function::{sf2, Estimator, SfOptions};
/// let t = [1.11, 2.23, 3.45, 4.01, 5.67, 6.32, 7.88, 8.2];
/// let f = [0.11, 0.23, 0.45, 0.01, 0.67, 0.32, 0.88, 0.2];
/// let s = [0.1, 0.023, 0.045, 0.1, 0.067, 0.032, 0.8, 0.02];
/// let bins = sf2(&[(&t[..], &f[..], Some(&s[..]))], &SfOptions::default()).unwrap();
/// assert!((bins[0].dt - 3.1482).abs() < 1e-4 && (bins[0].sf2 - 0.005365).abs() < 1e-6);
/// let iqr = SfOptions { estimator: Estimator::Macleod2012, ..SfOptions::default() };
/// assert!((sf2(&[(&t[..], &f[..], Some(&s[..]))], &iqr).unwrap()[0].sf2 - 0.1687).abs() < 1e-4);
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SfOptions {
    /// Estimator (default basic).
    pub estimator: Estimator,
    /// Binning (default size).
    pub binning: Binning,
    /// Target pairs per bin (default 100).
    pub bin_count_target: usize,
    /// Errors (default the error column).
    pub errors: SfErrors,
    /// Treat observations as equally spaced (dt in units of one observation).
    pub ignore_timestamps: bool,
    /// Bootstrap errors, if wanted.
    pub bootstrap: Option<Bootstrap>,
    /// Also report the lower and upper errors separately.
    pub report_bounds: bool,
}

impl Default for SfOptions {
    fn default() -> Self {
        SfOptions {
            estimator: Estimator::Basic,
            binning: Binning::Size,
            bin_count_target: 100,
            errors: SfErrors::Column,
            ignore_timestamps: false,
            bootstrap: None,
            report_bounds: false,
        }
    }
}

/// One time-lag bin of a result.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SfBin {
    /// Mean lag of the pairs in the bin (median over repetitions with bootstrap).
    pub dt: f64,
    /// SF^2 (median over repetitions with bootstrap).
    pub sf2: f64,
    /// Half the distance between the upper and lower quantiles; NaN without bootstrap.
    pub sigma: f64,
    /// `sf2` minus the lower quantile; NaN without bootstrap.
    pub lower_error: f64,
    /// The upper quantile minus `sf2`; NaN without bootstrap.
    pub upper_error: f64,
    /// Pairs in the bin (all pairs, not a bootstrap draw).
    pub pairs: usize,
}

/// Minimum observations for a lightcurve to contribute.
pub const MIN_OBSERVATIONS: usize = 3;

/// Reused buffers of the per-lightcurve function.
#[derive(Default)]
struct Scratch {
    pairs: Pairs,
    groups: BandGroups,
}

fn nan_quantile(values: &mut Vec<f64>, q: f64) -> f64 {
    values.retain(|v| !v.is_nan());
    values.sort_by(f64::total_cmp);
    quantile_sorted(values, q)
}

/// A stream of binned pairs `(bin, dt, df, E)` that gives the same pairs every call: all
/// pairs, or one bootstrap repetition's draws.
type BinnedPairs<'a> = &'a dyn Fn(&mut dyn FnMut(usize, f64, f64, f64));

/// Bin edges of a pool's lags.
fn pool_edges(pool: &Pool<'_>, options: &SfOptions) -> Result<Vec<f64>> {
    if let Some(dts) = pool.stored_lags() {
        return edges(&options.binning, dts, options.bin_count_target);
    }
    if let Some(e) = binning::given(&options.binning)? {
        return Ok(e);
    }
    let bins = binning::bin_count(pool.counts().iter().sum(), options.bin_count_target)?;
    if options.binning != Binning::Size {
        let (lo, hi) = pool.lag_range();
        return Ok(binning::range_edges(&options.binning, bins, lo, hi));
    }
    // Quantiles of the distinct lags: count them in one ascending pass, then pick the
    // positions the quantiles read in a second.
    let mut unique = 0;
    let mut last = f64::NAN;
    pool.for_each_sorted_lag(&mut |dt| {
        if dt != last {
            unique += 1;
            last = dt;
        }
    });
    let positions = binning::size_positions(bins, unique);
    let mut values = Vec::with_capacity(positions.len());
    let (mut rank, mut last) = (0, f64::NAN);
    pool.for_each_sorted_lag(&mut |dt| {
        if dt != last {
            if positions.get(values.len()) == Some(&rank) {
                values.push(dt);
            }
            rank += 1;
            last = dt;
        }
    });
    Ok(binning::size_edges(bins, unique, |i| {
        positions.binary_search(&i).map_or(f64::NAN, |k| values[k])
    }))
}

/// Each bin's (mean dt, SF^2, pairs) over a stream: sums in one pass; the MacLeod
/// quartiles by exact selection (more passes only when bins outgrow `limits.values`).
fn estimate_bins(
    stream: BinnedPairs<'_>,
    bins: usize,
    estimator: Estimator,
    limits: &Limits,
) -> Vec<(f64, f64, usize)> {
    let mut acc = vec![(0usize, 0.0f64, Sums::default()); bins];
    stream(&mut |b, dt, df, e| {
        let a = &mut acc[b];
        a.0 += 1;
        a.1 += dt;
        a.2.add(estimator, df, e);
    });
    let quartiles = |n: usize| {
        let [a, b] = binning::quantile_positions(n, 0.25);
        let [c, d] = binning::quantile_positions(n, 0.75);
        [a, b, c, d]
    };
    let selected = if estimator == Estimator::Macleod2012 {
        let counts: Vec<usize> = acc.iter().map(|a| a.0).collect();
        let values = |f: &mut dyn FnMut(usize, f64)| stream(&mut |b, _, df, _| f(b, df));
        select::select(&values, &counts, quartiles, limits.values)
    } else {
        Vec::new()
    };
    acc.iter()
        .enumerate()
        .map(|(b, &(n, sum_dt, sums))| {
            if n == 0 {
                return (f64::NAN, f64::NAN, 0);
            }
            let sf2 = if estimator == Estimator::Macleod2012 {
                let v = selected[b];
                let q = |q: f64, at: [f64; 2]| {
                    let p = binning::quantile_positions(n, q);
                    binning::quantile_by(n, q, |i| if i == p[0] { at[0] } else { at[1] })
                };
                estimators::macleod(q(0.25, [v[0], v[1]]), q(0.75, [v[2], v[3]]))
            } else {
                sums.sf2(estimator, n)
            };
            (sum_dt / n as f64, sf2, n)
        })
        .collect()
}

/// SF^2 of a pool of pairs (one or many lightcurves).
fn compute(
    pool: &Pool<'_>,
    options: &SfOptions,
    rng: &mut Rng,
    limits: &Limits,
) -> Result<Vec<SfBin>> {
    if pool.counts().is_empty() {
        return Ok(Vec::new());
    }
    let edges = pool_edges(pool, options)?;
    let nb = edges.len().saturating_sub(1);
    let all = |f: &mut dyn FnMut(usize, f64, f64, f64)| {
        pool.for_each(&mut |dt, df, e| {
            if let Some(b) = bin_of(&edges, dt) {
                f(b, dt, df, e)
            }
        })
    };
    let full = estimate_bins(&all, nb, options.estimator, limits);
    let Some(boot) = &options.bootstrap else {
        return Ok(full
            .into_iter()
            .filter(|b| b.2 > 0)
            .map(|(dt, sf2, n)| SfBin {
                dt,
                sf2,
                sigma: f64::NAN,
                lower_error: f64::NAN,
                upper_error: f64::NAN,
                pairs: n,
            })
            .collect());
    };
    if boot.repetitions == 0
        || !(0.0..=1.0).contains(&boot.lower_quantile)
        || !(0.0..=1.0).contains(&boot.upper_quantile)
    {
        return Err(Error::InvalidArgument(format!(
            "bootstrap needs repetitions >= 1 and quantiles in [0, 1] (got {}, {}, {})",
            boot.repetitions, boot.lower_quantile, boot.upper_quantile
        )));
    }
    let least = pool.counts().iter().copied().min().unwrap_or(0);
    let take = |n: usize| {
        if boot.equally_weight_lightcurves {
            least
        } else {
            boot.samples_per_lightcurve.unwrap_or(n)
        }
    };
    // Bins in turns of at most `limits.results` values; each turn replays every
    // repetition's draws from the same generator state, so results do not depend on turns.
    let turn = (limits.results / boot.repetitions).max(1);
    let start = rng.clone();
    let mut out = Vec::new();
    for b0 in (0..nb).step_by(turn) {
        let b1 = (b0 + turn).min(nb);
        let mut dts: Vec<Vec<f64>> = vec![Vec::with_capacity(boot.repetitions); b1 - b0];
        let mut sfs: Vec<Vec<f64>> = vec![Vec::with_capacity(boot.repetitions); b1 - b0];
        *rng = start.clone();
        for _ in 0..boot.repetitions {
            let at = rng.clone();
            let after = RefCell::new(at.clone());
            let draws = |f: &mut dyn FnMut(usize, f64, f64, f64)| {
                let mut r = at.clone();
                pool.draws(&mut r, &take, &mut |dt, df, e| {
                    if let Some(b) = bin_of(&edges, dt).filter(|b| (b0..b1).contains(b)) {
                        f(b, dt, df, e)
                    }
                });
                *after.borrow_mut() = r;
            };
            let rep = estimate_bins(&draws, nb, options.estimator, limits);
            *rng = after.into_inner();
            for (b, &(dt, sf2, _)) in rep[b0..b1].iter().enumerate() {
                dts[b].push(dt);
                sfs[b].push(sf2);
            }
        }
        for b in b0..b1 {
            if full[b].2 == 0 {
                continue;
            }
            let (dts, sfs) = (&mut dts[b - b0], &mut sfs[b - b0]);
            let dt = nan_quantile(dts, 0.5);
            let sf2 = nan_quantile(sfs, 0.5);
            let lo = quantile_sorted(sfs, boot.lower_quantile);
            let hi = quantile_sorted(sfs, boot.upper_quantile);
            out.push(SfBin {
                dt,
                sf2,
                sigma: (hi - lo) / 2.0,
                lower_error: sf2 - lo,
                upper_error: hi - sf2,
                pairs: full[b].2,
            });
        }
    }
    Ok(out)
}

/// One lightcurve for [`sf2`]: (times, fluxes, errors if any).
pub type SfInput<'a> = (&'a [f64], &'a [f64], Option<&'a [f64]>);

/// SF^2 of lightcurves given as (time, flux, errors) slices, times sorted; with more than
/// one lightcurve their pairs are pooled (the combined structure function).
///
/// Pairs are held only up to a budget (2^18); beyond it they are generated again for each
/// pass, which needs finite, sorted times (else an `InvalidArgument` error).
pub fn sf2(lightcurves: &[SfInput<'_>], options: &SfOptions) -> Result<Vec<SfBin>> {
    sf2_with(lightcurves, options, &Limits::DEFAULT)
}

/// [`sf2`] with other memory limits (tests use small ones to reach every path).
pub(crate) fn sf2_with(
    lightcurves: &[SfInput<'_>],
    options: &SfOptions,
    limits: &Limits,
) -> Result<Vec<SfBin>> {
    let scalar2 = scalar2(options);
    let lcs = lightcurves.iter().map(|&(t, f, e)| Lc {
        time: (!options.ignore_timestamps).then_some(t),
        flux: f,
        err: if options.errors == SfErrors::Column {
            e
        } else {
            None
        },
        scalar2,
    });
    let pool = Pool::new(lcs, limits, Pairs::default())?;
    let seed = options.bootstrap.as_ref().map_or(0, |b| b.seed);
    compute(&pool, options, &mut Rng::new(seed), limits)
}

/// The squared error of every observation when errors do not come from the column.
fn scalar2(options: &SfOptions) -> f64 {
    let s = match options.errors {
        SfErrors::Scalar(s) => s,
        _ => 0.0,
    };
    s * s
}

/// Output columns after the id (or for the combined result).
fn fields(options: &SfOptions) -> Vec<Field> {
    let mut f = vec![
        Field::new("band", DataType::Utf8, false),
        Field::new("dt", DataType::Float64, true),
        Field::new("sf2", DataType::Float64, true),
        Field::new("sf2_err", DataType::Float64, true),
    ];
    if options.report_bounds {
        f.push(Field::new("sf2_lower_err", DataType::Float64, true));
        f.push(Field::new("sf2_upper_err", DataType::Float64, true));
    }
    f.push(Field::new("n_pairs", DataType::Int64, false));
    f
}

fn push_bin(out: &mut Vec<f64>, band: usize, b: &SfBin, bounds: bool) {
    out.extend_from_slice(&[band as f64, b.dt, b.sf2, b.sigma]);
    if bounds {
        out.extend_from_slice(&[b.lower_error, b.upper_error]);
    }
    out.push(b.pairs as f64);
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// The structure function per lightcurve and band, as a per-lightcurve function for
/// `batch`: rows `(id, band, dt, sf2, sf2_err[, sf2_lower_err, sf2_upper_err], n_pairs)`.
///
/// ```
/// use lsstseries::analysis::structure_function::{SfOptions, StructureFunction};
/// assert!(StructureFunction::new(SfOptions::default()).is_ok());
/// let bad = SfOptions { bin_count_target: 0, ..SfOptions::default() };
/// assert!(StructureFunction::new(bad).is_err());
/// ```
#[derive(Debug, Clone, Default)]
pub struct StructureFunction {
    options: SfOptions,
}

impl StructureFunction {
    /// With these options, checked now (see [`validate`]).
    pub fn new(options: SfOptions) -> Result<Self> {
        validate(&options)?;
        Ok(StructureFunction { options })
    }

    /// The options.
    pub fn options(&self) -> &SfOptions {
        &self.options
    }
}

impl LightcurveFunction for StructureFunction {
    fn name(&self) -> &str {
        "sf2"
    }
    /// The options as JSON, which the registry's builder for `sf2` reads back, so any
    /// options ship ([`FunctionRegistry::get_with_parameters`](crate::analysis::FunctionRegistry::get_with_parameters)).
    fn parameters(&self) -> String {
        serde_json::to_string(&self.options).unwrap_or_else(|_| format!("{self:?}"))
    }
    fn required(&self) -> &[Role] {
        match (self.options.errors, self.options.ignore_timestamps) {
            (SfErrors::Column, false) => &[Role::Time, Role::Flux, Role::Err, Role::Band],
            (SfErrors::Column, true) => &[Role::Flux, Role::Err, Role::Band],
            (_, false) => &[Role::Time, Role::Flux, Role::Band],
            (_, true) => &[Role::Flux, Role::Band],
        }
    }
    fn output_fields(&self, _bands: &[String]) -> Vec<Field> {
        fields(&self.options)
    }
    fn rows(&self) -> Rows {
        Rows::Many
    }
    fn evaluate(&self, lc: &LightcurveView<'_>, out: &mut Vec<f64>) {
        let o = &self.options;
        SCRATCH.with(|s| {
            let s = &mut *s.borrow_mut();
            s.groups.fill(lc);
            for band in 0..lc.band_names.len() {
                let one = Lc {
                    time: (!o.ignore_timestamps).then_some(s.groups.time(band)),
                    flux: s.groups.flux(band),
                    err: (o.errors == SfErrors::Column).then_some(s.groups.err(band)),
                    scalar2: scalar2(o),
                };
                // A generator per (object, band): partition- and schedule-independent.
                let seed = o.bootstrap.as_ref().map_or(0, |b| b.seed);
                let mut rng = Rng::new(
                    seed ^ (lc.id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ band as u64,
                );
                // Options were validated when the plan was built and the engine's times are
                // finite and sorted; a failure here would be a bug, and yields no rows for
                // this lightcurve.
                let buffer = std::mem::take(&mut s.pairs);
                if let Ok(pool) = Pool::new([one], &Limits::DEFAULT, buffer) {
                    if let Ok(bins) = compute(&pool, o, &mut rng, &Limits::DEFAULT) {
                        for b in &bins {
                            push_bin(out, band, b, o.report_bounds);
                        }
                    }
                    s.pairs = pool.into_buffer();
                }
            }
        })
    }
}

/// Checks options before any work.
pub fn validate(options: &SfOptions) -> Result<()> {
    edges(&options.binning, &[1.0, 2.0], options.bin_count_target)?;
    if let Some(b) = &options.bootstrap {
        if b.repetitions == 0
            || !(0.0 <= b.lower_quantile
                && b.lower_quantile <= b.upper_quantile
                && b.upper_quantile <= 1.0)
        {
            return Err(Error::InvalidArgument(format!(
                "bootstrap needs repetitions >= 1 and 0 <= lower <= upper <= 1 (got {}, {}, {})",
                b.repetitions, b.lower_quantile, b.upper_quantile
            )));
        }
    }
    if let SfErrors::Scalar(s) = options.errors {
        if !(s.is_finite() && s >= 0.0) {
            return Err(Error::InvalidArgument(format!(
                "scalar error {s} must be finite and >= 0"
            )));
        }
    }
    Ok(())
}

/// The columns the pooled structure function reads, by name: id, flux and band, plus time
/// unless timestamps are ignored, plus the error column when errors come from it.
pub fn pooled_input_columns(options: &SfOptions, columns: &ColumnMap) -> Vec<String> {
    let mut wanted = vec![
        columns.id.clone(),
        columns.flux.clone(),
        columns.band.clone(),
    ];
    if !options.ignore_timestamps {
        wanted.push(columns.time.clone());
    }
    if options.errors == SfErrors::Column {
        wanted.push(columns.err.clone());
    }
    wanted
}

/// The output columns of the structure function: `band, dt, sf2, sf2_err[, sf2_lower_err,
/// sf2_upper_err], n_pairs` (per lightcurve, the id comes first).
pub fn output_fields(options: &SfOptions) -> Vec<Field> {
    fields(options)
}

/// The pooled structure function of collected rows in id order: per band, the pairs of
/// every lightcurve pooled, then binned and estimated once. `bands` are the source's sorted
/// band names; rows whose band is not among them are ignored.
pub fn pooled(
    rows: &RecordBatch,
    options: &SfOptions,
    columns: &ColumnMap,
    bands: &[String],
) -> Result<RecordBatch> {
    let col = |name: &str| -> Result<arrow::array::ArrayRef> {
        rows.column_by_name(name).cloned().ok_or_else(|| {
            Error::unknown_column(
                name.to_string(),
                "pooled structure function",
                &rows.schema(),
            )
        })
    };
    let ids = col(&columns.id)?;
    let ids = ids.as_primitive::<Int64Type>().values();
    let flux = col(&columns.flux)?;
    let flux = &flux.as_primitive::<Float64Type>().values()[..];
    let time = if options.ignore_timestamps {
        None
    } else {
        Some(col(&columns.time)?)
    };
    let time = time
        .as_ref()
        .map(|a| &a.as_primitive::<Float64Type>().values()[..]);
    let err = if options.errors == SfErrors::Column {
        Some(col(&columns.err)?)
    } else {
        None
    };
    let err = err
        .as_ref()
        .map(|a| &a.as_primitive::<Float64Type>().values()[..]);
    // Band names become indices once, so grouping compares small integers, not strings.
    let band = cast(&col(&columns.band)?, &DataType::Utf8).map_err(|e| Error::arrow("band", e))?;
    let band = band.as_string::<i32>();
    let index: std::collections::HashMap<&str, u8> = bands
        .iter()
        .enumerate()
        .map(|(k, b)| (b.as_str(), k as u8))
        .collect();
    let codes: Vec<u8> = band
        .iter()
        .map(|b| b.and_then(|b| index.get(b).copied()).unwrap_or(u8::MAX))
        .collect();
    // Per band, every lightcurve's rows (time order) one after another: the input columns
    // once more, never their pairs.
    let mut per_band: Vec<BandRows> = (0..bands.len()).map(|_| BandRows::default()).collect();
    let (mut order, mut t, mut f, mut e, mut b) = (vec![], vec![], vec![], vec![], vec![]);
    let mut groups = BandGroups::default();
    let mut start = 0;
    while start < ids.len() {
        let end = start
            + ids[start..]
                .iter()
                .take_while(|&&i| i == ids[start])
                .count();
        // One lightcurve: time order (stable), then regrouped by band, as `batch` hands it out.
        order.clear();
        order.extend(start..end);
        if let Some(time) = time {
            order.sort_by(|&a, &b| time[a].total_cmp(&time[b]));
        }
        let gather = |v: Option<&[f64]>, out: &mut Vec<f64>| {
            out.clear();
            if let Some(v) = v {
                out.extend(order.iter().map(|&i| v[i]));
            }
        };
        gather(time, &mut t);
        gather(Some(flux), &mut f);
        gather(err, &mut e);
        b.clear();
        b.extend(order.iter().map(|&i| codes[i]));
        groups.fill(&LightcurveView {
            id: ids[start],
            time: &t,
            flux: &f,
            err: &e,
            band: &b,
            band_names: bands,
            extra: Default::default(),
        });
        for (k, rows) in per_band.iter_mut().enumerate() {
            rows.time.extend_from_slice(groups.time(k));
            rows.flux.extend_from_slice(groups.flux(k));
            rows.err.extend_from_slice(groups.err(k));
            rows.ends.push(rows.flux.len());
        }
        start = end;
    }
    let seed = options.bootstrap.as_ref().map_or(0, |b| b.seed);
    let mut out: Vec<f64> = Vec::new();
    for (k, rows) in per_band.iter().enumerate() {
        let lcs = rows.ends.iter().scan(0, |from, &to| {
            let r = *from..to;
            *from = to;
            Some(Lc {
                time: time.map(|_| &rows.time[r.clone()]),
                flux: &rows.flux[r.clone()],
                err: err.map(|_| &rows.err[r]),
                scalar2: scalar2(options),
            })
        });
        let pool = Pool::new(lcs, &Limits::DEFAULT, Pairs::default())?;
        let mut rng = Rng::new(seed ^ k as u64);
        for bin in compute(&pool, options, &mut rng, &Limits::DEFAULT)? {
            push_bin(&mut out, k, &bin, options.report_bounds);
        }
    }
    let fields = fields(options);
    let width = fields.len();
    let n = out.len() / width;
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(width);
    for (c, field) in fields.iter().enumerate() {
        let v = (0..n).map(|r| out[r * width + c]);
        arrays.push(match field.data_type() {
            DataType::Utf8 => Arc::new(StringArray::from_iter_values(
                v.map(|x| bands[x as usize].as_str()),
            )),
            DataType::Int64 => Arc::new(Int64Array::from_iter_values(v.map(|x| x as i64))),
            _ => Arc::new(Float64Array::from_iter_values(v)),
        });
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
        .map_err(|e| Error::arrow("pooled structure function", e))
}

/// One band's rows of the pooled structure function, lightcurve after lightcurve.
#[derive(Default)]
struct BandRows {
    time: Vec<f64>,
    flux: Vec<f64>,
    err: Vec<f64>,
    /// End of each lightcurve's rows.
    ends: Vec<usize>,
}

/// Registers `sf2` with default options.
pub(crate) fn register(registry: &mut crate::analysis::FunctionRegistry) {
    registry.register(Arc::new(StructureFunction::default()));
    // sf2 with other options, from its parameters (a shipped plan's).
    registry.register_builder(
        "sf2",
        Arc::new(|parameters: &str| {
            let options: SfOptions = serde_json::from_str(parameters).map_err(|e| {
                Error::InvalidArgument(format!("sf2 parameters '{parameters}': {e}"))
            })?;
            Ok(Arc::new(StructureFunction::new(options)?) as Arc<dyn LightcurveFunction>)
        }),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: [f64; 8] = [1.11, 2.23, 3.45, 4.01, 5.67, 6.32, 7.88, 8.2];
    const F: [f64; 8] = [0.11, 0.23, 0.45, 0.01, 0.67, 0.32, 0.88, 0.2];
    const S: [f64; 8] = [0.1, 0.023, 0.045, 0.1, 0.067, 0.032, 0.8, 0.02];

    fn one(options: &SfOptions) -> Vec<SfBin> {
        sf2(&[(&T[..], &F[..], Some(&S[..]))], options).unwrap()
    }

    #[test]
    fn tape_unit_test_values() {
        let basic = one(&SfOptions::default());
        assert_eq!(basic.len(), 1);
        assert!((basic[0].dt - 3.1482142857142854).abs() < 1e-12);
        assert!((basic[0].sf2 - 0.005365392857142827).abs() < 1e-12);
        assert_eq!(basic[0].pairs, 28);
        assert!(basic[0].sigma.is_nan());
        let m = one(&SfOptions {
            estimator: Estimator::Macleod2012,
            ..Default::default()
        });
        assert!((m[0].sf2 - 0.16867448999999995).abs() < 1e-12);
    }

    #[test]
    fn every_estimator_matches_numpy() {
        // Values computed with numpy on the same 28 pairs.
        let cases = [
            (Estimator::Bauer2009a, 0.005365392857142798),
            (Estimator::Bauer2009b, 0.022566723937526206),
            (Estimator::Schmidt2010, 0.029363471669356777),
        ];
        for (e, want) in cases {
            let got = one(&SfOptions {
                estimator: e,
                ..Default::default()
            })[0]
                .sf2;
            assert!((got - want).abs() < 1e-12, "{}: {got} vs {want}", e.name());
        }
    }

    #[test]
    fn errors_absent_or_scalar() {
        let none = one(&SfOptions {
            errors: SfErrors::None,
            ..Default::default()
        });
        let zero = one(&SfOptions {
            errors: SfErrors::Scalar(0.0),
            ..Default::default()
        });
        assert_eq!(none[0].sf2, zero[0].sf2);
        let scalar = one(&SfOptions {
            errors: SfErrors::Scalar(0.1),
            ..Default::default()
        });
        assert!((none[0].sf2 - scalar[0].sf2 - 0.02).abs() < 1e-12);
    }

    #[test]
    fn binning_methods_split_pairs() {
        for binning in [Binning::Size, Binning::Length, Binning::LogLength] {
            let bins = one(&SfOptions {
                binning: binning.clone(),
                bin_count_target: 7,
                ..Default::default()
            });
            assert_eq!(
                bins.iter().map(|b| b.pairs).sum::<usize>(),
                28,
                "{binning:?}"
            );
            assert!(bins.windows(2).all(|w| w[0].dt < w[1].dt), "{binning:?}");
        }
        let given = one(&SfOptions {
            binning: Binning::Edges(vec![0.0, 2.0, 10.0]),
            ..Default::default()
        });
        assert_eq!(given.len(), 2);
        assert!(given[0].dt < 2.0 && given[1].dt >= 2.0);
    }

    #[test]
    fn too_few_points_give_nothing() {
        assert!(
            sf2(&[(&T[..2], &F[..2], Some(&S[..2]))], &SfOptions::default())
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn bootstrap_is_seeded_and_brackets_the_median() {
        let o = SfOptions {
            bootstrap: Some(Bootstrap::default()),
            report_bounds: true,
            ..Default::default()
        };
        let a = one(&o);
        assert_eq!(a, one(&o));
        let b = &a[0];
        assert!(b.sigma > 0.0 && b.lower_error >= 0.0 && b.upper_error >= 0.0);
        let other = one(&SfOptions {
            bootstrap: Some(Bootstrap {
                seed: 7,
                ..Bootstrap::default()
            }),
            ..o.clone()
        });
        assert_ne!(a[0].sigma, other[0].sigma);
        assert!(validate(&SfOptions {
            bootstrap: Some(Bootstrap {
                repetitions: 0,
                ..Bootstrap::default()
            }),
            ..o
        })
        .is_err());
    }

    // Equal weighting of lightcurves in the bootstrap: see
    // tests/structure_function.rs (equal_weighting_*).
}
