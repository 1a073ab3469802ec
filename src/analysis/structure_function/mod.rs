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

mod binning;
mod estimators;

pub use binning::{bin_of, edges, quantile_sorted, Binning};
pub use estimators::Estimator;

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
#[derive(Debug, Clone, Copy, PartialEq, Default)]
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
#[derive(Debug, Clone, PartialEq)]
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
#[derive(Debug, Clone, PartialEq)]
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

/// Pooled pairs of several lightcurves.
#[derive(Debug, Default)]
struct Pairs {
    dt: Vec<f64>,
    df: Vec<f64>,
    e: Vec<f64>,
    /// Start of each lightcurve's pairs, plus the end.
    offsets: Vec<usize>,
}

impl Pairs {
    fn clear(&mut self) {
        self.dt.clear();
        self.df.clear();
        self.e.clear();
        self.offsets.clear();
        self.offsets.push(0);
    }

    /// Adds the pairs (i < j, t_j > t_i) of one time-sorted lightcurve.
    fn add(&mut self, t: &[f64], f: &[f64], err: Option<&[f64]>, scalar: f64, ignore_time: bool) {
        let n = f.len();
        if n >= MIN_OBSERVATIONS {
            for i in 0..n {
                let (ti, fi) = (if ignore_time { i as f64 } else { t[i] }, f[i]);
                let ei = err.map_or(scalar * scalar, |e| e[i] * e[i]);
                for j in i + 1..n {
                    let tj = if ignore_time { j as f64 } else { t[j] };
                    let dt = tj - ti;
                    if dt > 0.0 {
                        self.dt.push(dt);
                        self.df.push(f[j] - fi);
                        self.e
                            .push(ei + err.map_or(scalar * scalar, |e| e[j] * e[j]));
                    }
                }
            }
        }
        self.offsets.push(self.dt.len());
    }
}

/// Bins the pairs at `idx` (indices into `pairs`) and estimates each bin:
/// (mean dt, sf2, count) per bin.
fn binned(
    pairs: &Pairs,
    idx: &mut dyn Iterator<Item = usize>,
    edges: &[f64],
    estimator: Estimator,
    scratch: &mut Scratch,
) -> Vec<(f64, f64, usize)> {
    let nb = edges.len().saturating_sub(1);
    scratch.by_bin.iter_mut().for_each(|v| v.clear());
    scratch.by_bin.resize_with(nb, Vec::new);
    for i in idx {
        if let Some(b) = bin_of(edges, pairs.dt[i]) {
            scratch.by_bin[b].push(i);
        }
    }
    let mut out = Vec::with_capacity(nb);
    for b in 0..nb {
        let members = &scratch.by_bin[b];
        if members.is_empty() {
            out.push((f64::NAN, f64::NAN, 0));
            continue;
        }
        scratch.df.clear();
        scratch.e.clear();
        let mut sum_dt = 0.0;
        for &i in members {
            sum_dt += pairs.dt[i];
            scratch.df.push(pairs.df[i]);
            scratch.e.push(pairs.e[i]);
        }
        let sf2 = estimator.estimate(&scratch.df, &scratch.e, &mut scratch.sort);
        out.push((sum_dt / members.len() as f64, sf2, members.len()));
    }
    out
}

#[derive(Default)]
struct Scratch {
    pairs: Pairs,
    by_bin: Vec<Vec<usize>>,
    df: Vec<f64>,
    e: Vec<f64>,
    sort: Vec<f64>,
    groups: BandGroups,
}

fn nan_quantile(values: &mut Vec<f64>, q: f64) -> f64 {
    values.retain(|v| !v.is_nan());
    values.sort_by(f64::total_cmp);
    quantile_sorted(values, q)
}

/// SF^2 from pooled pairs (one or many lightcurves).
fn compute(
    pairs: &Pairs,
    options: &SfOptions,
    rng: &mut Rng,
    scratch: &mut Scratch,
) -> Result<Vec<SfBin>> {
    if pairs.dt.is_empty() {
        return Ok(Vec::new());
    }
    let edges = edges(&options.binning, &pairs.dt, options.bin_count_target)?;
    let full = binned(
        pairs,
        &mut (0..pairs.dt.len()),
        &edges,
        options.estimator,
        scratch,
    );
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
    let counts: Vec<usize> = pairs.offsets.windows(2).map(|w| w[1] - w[0]).collect();
    let least = counts.iter().copied().filter(|&c| c > 0).min().unwrap_or(0);
    let nb = full.len();
    let mut dts: Vec<Vec<f64>> = vec![Vec::with_capacity(boot.repetitions); nb];
    let mut sfs: Vec<Vec<f64>> = vec![Vec::with_capacity(boot.repetitions); nb];
    let mut draw = Vec::new();
    for _ in 0..boot.repetitions {
        draw.clear();
        for (k, w) in pairs.offsets.windows(2).enumerate() {
            let (start, n) = (w[0], counts[k]);
            if n == 0 {
                continue;
            }
            let take = if boot.equally_weight_lightcurves {
                least
            } else {
                boot.samples_per_lightcurve.unwrap_or(n)
            };
            for _ in 0..take {
                draw.push(start + rng.below(n));
            }
        }
        let rep = binned(
            pairs,
            &mut draw.iter().copied(),
            &edges,
            options.estimator,
            scratch,
        );
        for (b, (dt, sf2, _)) in rep.into_iter().enumerate() {
            dts[b].push(dt);
            sfs[b].push(sf2);
        }
    }
    let mut out = Vec::new();
    for b in 0..nb {
        if full[b].2 == 0 {
            continue;
        }
        let dt = nan_quantile(&mut dts[b], 0.5);
        let sf2 = nan_quantile(&mut sfs[b], 0.5);
        let lo = quantile_sorted(&sfs[b], boot.lower_quantile);
        let hi = quantile_sorted(&sfs[b], boot.upper_quantile);
        out.push(SfBin {
            dt,
            sf2,
            sigma: (hi - lo) / 2.0,
            lower_error: sf2 - lo,
            upper_error: hi - sf2,
            pairs: full[b].2,
        });
    }
    Ok(out)
}

/// One lightcurve for [`sf2`]: (times, fluxes, errors if any).
pub type SfInput<'a> = (&'a [f64], &'a [f64], Option<&'a [f64]>);

/// SF^2 of lightcurves given as (time, flux, errors) slices, times sorted; with more than
/// one lightcurve their pairs are pooled (the combined structure function).
pub fn sf2(lightcurves: &[SfInput<'_>], options: &SfOptions) -> Result<Vec<SfBin>> {
    let mut scratch = Scratch::default();
    scratch.pairs.clear();
    let scalar = match options.errors {
        SfErrors::Scalar(s) => s,
        _ => 0.0,
    };
    let mut pairs = std::mem::take(&mut scratch.pairs);
    for (t, f, e) in lightcurves {
        let e = if options.errors == SfErrors::Column {
            *e
        } else {
            None
        };
        pairs.add(t, f, e, scalar, options.ignore_timestamps);
    }
    let seed = options.bootstrap.as_ref().map_or(0, |b| b.seed);
    compute(&pairs, options, &mut Rng::new(seed), &mut scratch)
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
        let scalar = match o.errors {
            SfErrors::Scalar(s) => s,
            _ => 0.0,
        };
        SCRATCH.with(|s| {
            let s = &mut *s.borrow_mut();
            s.groups.fill(lc);
            for band in 0..lc.band_names.len() {
                let mut pairs = std::mem::take(&mut s.pairs);
                pairs.clear();
                let err = (o.errors == SfErrors::Column).then_some(s.groups.err(band));
                pairs.add(
                    s.groups.time(band),
                    s.groups.flux(band),
                    err,
                    scalar,
                    o.ignore_timestamps,
                );
                // A generator per (object, band): partition- and schedule-independent.
                let seed = o.bootstrap.as_ref().map_or(0, |b| b.seed);
                let mut rng = Rng::new(
                    seed ^ (lc.id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ band as u64,
                );
                // Options were validated when the plan was built; a failure here would be a
                // bug, and yields no rows for this lightcurve.
                if let Ok(bins) = compute(&pairs, o, &mut rng, s) {
                    for b in &bins {
                        push_bin(out, band, b, o.report_bounds);
                    }
                }
                s.pairs = pairs;
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
    let float = |name: &str| -> Result<Vec<f64>> {
        Ok(col(name)?.as_primitive::<Float64Type>().values().to_vec())
    };
    let flux = float(&columns.flux)?;
    let time = if options.ignore_timestamps {
        Vec::new()
    } else {
        float(&columns.time)?
    };
    let err = if options.errors == SfErrors::Column {
        float(&columns.err)?
    } else {
        Vec::new()
    };
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
    let scalar = match options.errors {
        SfErrors::Scalar(s) => s,
        _ => 0.0,
    };
    let seed = options.bootstrap.as_ref().map_or(0, |b| b.seed);
    let mut pairs: Vec<Pairs> = (0..bands.len()).map(|_| Pairs::default()).collect();
    pairs.iter_mut().for_each(Pairs::clear);
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
        if !time.is_empty() {
            order.sort_by(|&a, &b| time[a].total_cmp(&time[b]));
        }
        let gather = |v: &[f64], out: &mut Vec<f64>| {
            out.clear();
            if !v.is_empty() {
                out.extend(order.iter().map(|&i| v[i]));
            }
        };
        gather(&time, &mut t);
        gather(&flux, &mut f);
        gather(&err, &mut e);
        b.clear();
        b.extend(order.iter().map(|&i| codes[i]));
        groups.fill(&LightcurveView {
            id: ids[start],
            time: &t,
            flux: &f,
            err: &e,
            band: &b,
            band_names: bands,
        });
        for (k, p) in pairs.iter_mut().enumerate() {
            let e = (options.errors == SfErrors::Column).then_some(groups.err(k));
            p.add(
                groups.time(k),
                groups.flux(k),
                e,
                scalar,
                options.ignore_timestamps,
            );
        }
        start = end;
    }
    let mut out: Vec<f64> = Vec::new();
    let mut scratch = Scratch::default();
    for (k, p) in pairs.iter().enumerate() {
        let mut rng = Rng::new(seed ^ k as u64);
        for bin in compute(p, options, &mut rng, &mut scratch)? {
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

/// Registers `sf2` with default options.
pub(crate) fn register(registry: &mut crate::analysis::FunctionRegistry) {
    registry.register(Arc::new(StructureFunction::default()));
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
