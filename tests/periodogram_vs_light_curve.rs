//! The native Lomb-Scargle periodogram against the `light-curve` package (0.13.3).
//!
//! The fixtures (tests/fixtures/periodogram/) hold 30 generated lightcurves and
//! light-curve's `Periodogram` outputs for two configurations each, with its direct and
//! its fast algorithm; `tests/fixtures/periodogram/make_fixtures.py` writes them. No Python runs
//! here.
//!
//! Tolerances:
//! * grid: same size, start and step to 1e-12 (relative);
//! * direct vs light-curve direct: every reported peak's period to 1e-9 (relative; the
//!   same grid frequency, far below the grid resolution `step / w`), its signal-to-noise
//!   to 1e-6 (absolute, values are 1 to 100);
//! * our fast vs our direct: the same periods (1e-12) and signal-to-noise to 1e-6, for
//!   every lightcurve and configuration;
//! * truth: where the grid covers the injected period (configuration B), the best
//!   frequency is within a quarter of the peak half-width `2 pi / duration` of it (noise
//!   moves a peak by a fraction of its width; the grid step is 1/5 to 1/20 of it).
//!
//! light-curve's own fast mode evaluates another grid (zero-based, 2^k + 1 frequencies)
//! with linear interpolation, so it is only compared loosely (printed, see
//! `light_curve_fast_is_only_an_estimate`).

use arrow::array::{Array, Float64Array, Int64Array, RecordBatch};
use lsstseries::analysis::periodogram::{Fast, Nyquist, Periodogram};
use lsstseries::io::{source_batch, write_parquet};
use lsstseries::{ColumnMap, Ensemble, Partitioning};
use std::collections::BTreeMap;
use std::f64::consts::PI;
use std::path::Path;
use std::sync::Arc;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/periodogram");

struct Lc {
    t: Vec<f64>,
    m: Vec<f64>,
}

#[derive(Debug)]
struct Expected {
    id: i64,
    config: String,
    fast: bool,
    peaks: usize,
    resolution: f64,
    max_freq_factor: f64,
    nyquist: Nyquist,
    true_period: f64,
    n_freq: usize,
    freq_start: f64,
    freq_step: f64,
    /// (period, s_to_n) per peak
    values: Vec<(f64, f64)>,
}

impl Expected {
    fn periodogram(&self, fast: Fast) -> Periodogram {
        Periodogram::new()
            .peaks(self.peaks)
            .and_then(|p| p.resolution(self.resolution))
            .and_then(|p| p.max_freq_factor(self.max_freq_factor))
            .and_then(|p| p.nyquist(self.nyquist))
            .expect("fixture options are valid")
            .fast(fast)
    }
}

/// Rows of a CSV after its `#` comments, keyed by header name.
fn read_csv(name: &str) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(Path::new(FIXTURES).join(name)).unwrap();
    let mut lines = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty());
    let header: Vec<String> = lines.next().unwrap().split(',').map(String::from).collect();
    lines
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split(',').map(String::from))
                .collect()
        })
        .collect()
}

fn num(row: &BTreeMap<String, String>, key: &str) -> f64 {
    row[key]
        .parse()
        .unwrap_or_else(|e| panic!("{key} = {:?}: {e}", row[key]))
}

fn lightcurves() -> BTreeMap<i64, Lc> {
    let mut out: BTreeMap<i64, Lc> = BTreeMap::new();
    for row in read_csv("lightcurves.csv") {
        let lc = out.entry(num(&row, "id") as i64).or_insert(Lc {
            t: Vec::new(),
            m: Vec::new(),
        });
        lc.t.push(num(&row, "t"));
        lc.m.push(num(&row, "m"));
    }
    out
}

fn expected() -> Vec<Expected> {
    read_csv("expected.csv")
        .into_iter()
        .map(|row| {
            let peaks = num(&row, "peaks") as usize;
            let nyquist = match row["nyquist"].as_str() {
                "average" => Nyquist::Average,
                "median" => Nyquist::Median,
                q => Nyquist::Quantile(q.parse().unwrap()),
            };
            Expected {
                id: num(&row, "id") as i64,
                config: row["config"].clone(),
                fast: row["fast"] == "1",
                peaks,
                resolution: num(&row, "resolution"),
                max_freq_factor: num(&row, "max_freq_factor"),
                nyquist,
                true_period: num(&row, "true_period"),
                n_freq: num(&row, "n_freq") as usize,
                freq_start: num(&row, "freq_start"),
                freq_step: num(&row, "freq_step"),
                values: (0..peaks)
                    .map(|k| {
                        (
                            num(&row, &format!("period_{k}")),
                            num(&row, &format!("period_s_to_n_{k}")),
                        )
                    })
                    .collect(),
            }
        })
        .collect()
}

/// `(period, s_to_n)` per peak, as the engine would output them.
fn ours(p: &Periodogram, lc: &Lc, peaks: usize) -> Vec<(f64, f64)> {
    let found = p.find_peaks(&lc.t, &lc.m).expect("enough points");
    (0..peaks)
        .map(|k| found.get(k).map_or((0.0, 0.0), |p| (p.period, p.s_to_n)))
        .collect()
}

fn rel(a: f64, b: f64) -> f64 {
    if a == b {
        0.0
    } else {
        (a - b).abs() / a.abs().max(b.abs())
    }
}

#[test]
fn fixtures_are_complete() {
    let lcs = lightcurves();
    let exp = expected();
    assert_eq!(lcs.len(), 30);
    assert_eq!(exp.len(), 30 * 4);
    let sizes: Vec<usize> = lcs.values().map(|l| l.t.len()).collect();
    assert_eq!(*sizes.iter().min().unwrap(), 50);
    assert_eq!(*sizes.iter().max().unwrap(), 1000);
    for lc in lcs.values() {
        assert!(lc.t.windows(2).all(|w| w[0] <= w[1]), "times sorted");
    }
}

#[test]
fn grid_and_direct_match_light_curve_direct() {
    let lcs = lightcurves();
    let mut failures = Vec::new();
    let (mut worst_period, mut worst_s2n) = (0.0f64, 0.0f64);
    for e in expected().iter().filter(|e| !e.fast) {
        let lc = &lcs[&e.id];
        let p = e.periodogram(Fast::Off);
        let grid = p.grid(&lc.t).unwrap();
        if grid.size != e.n_freq
            || rel(grid.start, e.freq_start) > 1e-12
            || (e.n_freq > 1 && rel(grid.step, e.freq_step) > 1e-12)
        {
            failures.push(format!(
                "id {} {}: grid {grid:?} vs light-curve size {} start {} step {}",
                e.id, e.config, e.n_freq, e.freq_start, e.freq_step
            ));
            continue;
        }
        for (k, (got, want)) in ours(&p, lc, e.peaks).iter().zip(&e.values).enumerate() {
            worst_period = worst_period.max(rel(got.0, want.0));
            worst_s2n = worst_s2n.max((got.1 - want.1).abs());
            if rel(got.0, want.0) > 1e-9 || (got.1 - want.1).abs() > 1e-6 {
                failures.push(format!(
                    "id {} {} peak {k}: ours {got:?}, light-curve {want:?}",
                    e.id, e.config
                ));
            }
        }
    }
    eprintln!(
        "direct vs light-curve: worst period rel {worst_period:.2e}, worst S/N abs {worst_s2n:.2e}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn fast_matches_direct() {
    let lcs = lightcurves();
    let mut failures = Vec::new();
    let (mut worst_period, mut worst_s2n) = (0.0f64, 0.0f64);
    for e in expected().iter().filter(|e| !e.fast) {
        let lc = &lcs[&e.id];
        let direct = ours(&e.periodogram(Fast::Off), lc, e.peaks);
        let fast = ours(&e.periodogram(Fast::On), lc, e.peaks);
        // For sinusoids every reported peak; for noise and constants the best one.
        let compared = if e.true_period.is_nan() { 1 } else { e.peaks };
        for k in 0..compared {
            let (d, f) = (direct[k], fast[k]);
            worst_period = worst_period.max(rel(d.0, f.0));
            worst_s2n = worst_s2n.max((d.1 - f.1).abs());
            if rel(d.0, f.0) > 1e-12 || (d.1 - f.1).abs() > 1e-6 {
                failures.push(format!(
                    "id {} {} peak {k}: fast {f:?}, direct {d:?}",
                    e.id, e.config
                ));
            }
        }
    }
    eprintln!("fast vs direct: worst period rel {worst_period:.2e}, worst S/N abs {worst_s2n:.2e}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn injected_periods_are_found_where_the_grid_covers_them() {
    let lcs = lightcurves();
    let mut worst: f64 = 0.0;
    for e in expected()
        .iter()
        .filter(|e| !e.fast && e.config == "B" && e.true_period.is_finite())
    {
        let lc = &lcs[&e.id];
        let best = e.periodogram(Fast::Auto).find_peaks(&lc.t, &lc.m).unwrap()[0];
        // In units of the peak's half-width 2 pi / duration.
        let width = 2.0 * PI / (lc.t[lc.t.len() - 1] - lc.t[0]);
        let off = (best.freq - 2.0 * PI / e.true_period).abs() / width;
        worst = worst.max(off);
        assert!(
            off <= 0.25,
            "id {}: best period {} vs true {} ({off:.3} peak half-widths)",
            e.id,
            best.period,
            e.true_period
        );
    }
    eprintln!("truth: best frequency within {worst:.3} peak half-widths of the injected one");
}

/// light-curve's fast mode (linear spreading onto a zero-based 2^k + 1 grid) against our
/// direct result: printed, and checked only where it is reliable (the default
/// configuration, sinusoids whose period the grid covers).
#[test]
fn light_curve_fast_is_only_an_estimate() {
    let lcs = lightcurves();
    let exp = expected();
    let mut differ = Vec::new();
    let mut checked = 0;
    for e in exp.iter().filter(|e| e.fast) {
        let lc = &lcs[&e.id];
        let ours = ours(&e.periodogram(Fast::Auto), lc, 1)[0];
        let step = e.periodogram(Fast::Auto).grid(&lc.t).unwrap().step;
        let (theirs, _) = e.values[0];
        if theirs == 0.0 && ours.0 == 0.0 {
            continue;
        }
        let steps = (2.0 * PI / theirs - 2.0 * PI / ours.0).abs() / step;
        if steps > 1.0 {
            differ.push(format!(
                "id {} {}: light-curve fast {theirs:.6}, ours {:.6} ({steps:.1} steps)",
                e.id, e.config, ours.0
            ));
        }
        // Where the true period is well inside the default grid, both find it.
        let covered = e.config == "A"
            && e.true_period.is_finite()
            && 2.0 * PI / e.true_period < 0.8 * Nyquist::Average.frequency(&lc.t)
            && (ours.0 / e.true_period - 1.0).abs() < 0.01;
        if covered {
            checked += 1;
            assert!(steps <= 1.0, "id {}: {theirs} vs ours {}", e.id, ours.0);
        }
    }
    assert!(checked >= 5, "only {checked} rows checked");
    eprintln!(
        "light-curve fast: within one grid step of ours in all {checked} well-covered rows; \
         differs by more than one step in {} of 60 rows:\n{}",
        differ.len(),
        differ.join("\n")
    );
}

/// The registered `periodogram` and a configured one through `Ensemble` on a Parquet file:
/// object `i` has band `g` = fixture lightcurve `i` and band `r` = fixture `i + 15`; object
/// 99 has one `g` point and no `r` (NaN).
#[test]
fn end_to_end_through_ensemble() {
    let lcs = lightcurves();
    let exp = expected();
    let (mut id, mut t, mut m, mut band) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    // Rows in band blocks, objects in reverse order: lightcurves are split across
    // partitions and unsorted, so the engine must regroup and sort them.
    for (b, offset) in [("g", 0), ("r", 15)] {
        for obj in (1..=15i64).rev() {
            let lc = &lcs[&(obj + offset)];
            id.extend(std::iter::repeat_n(obj, lc.t.len()));
            t.extend(&lc.t);
            m.extend(&lc.m);
            band.extend(std::iter::repeat_n(b, lc.t.len()));
        }
    }
    id.push(99);
    t.push(58000.0);
    m.push(18.0);
    band.push("g");
    let n = id.len();
    let batch = source_batch(&ColumnMap::generated(), id, t, m, vec![0.1; n], band).unwrap();
    let dir = tempfile::tempdir().unwrap();
    write_parquet(dir.path().join("lcs.parquet"), &batch).unwrap();
    let mut ens = Ensemble::builder().n_workers(2).build().unwrap();
    ens.from_parquet(dir.path(), ColumnMap::generated(), Partitioning::Count(4))
        .unwrap();

    let col = |b: &RecordBatch, name: &str| -> Vec<f64> {
        b.column_by_name(name)
            .unwrap_or_else(|| panic!("no column {name}"))
            .as_any()
            .downcast_ref::<Float64Array>()
            .unwrap()
            .values()
            .to_vec()
    };

    // Registered default: one peak, light-curve's default grid (configuration A).
    let out = ens.batch_named("periodogram").unwrap().compute().unwrap();
    let names: Vec<String> = out
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        names,
        [
            "id",
            "period_0_g",
            "period_s_to_n_0_g",
            "period_0_r",
            "period_s_to_n_0_r"
        ]
    );
    assert_eq!(out.num_rows(), 16);
    let ids = out
        .column(0)
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap()
        .values()
        .to_vec();
    assert_eq!(ids, (1..=15).chain([99]).collect::<Vec<i64>>());
    let default = Periodogram::new();
    for (b, offset) in [("g", 0i64), ("r", 15)] {
        let period = col(&out, &format!("period_0_{b}"));
        let s2n = col(&out, &format!("period_s_to_n_0_{b}"));
        for obj in 1..=15i64 {
            let fixture = obj + offset;
            let row = (obj - 1) as usize;
            let want = ours(&default, &lcs[&fixture], 1)[0];
            assert_eq!((period[row], s2n[row]), want, "object {obj} band {b}");
            let lc_direct = exp
                .iter()
                .find(|e| e.id == fixture && e.config == "A" && !e.fast)
                .unwrap()
                .values[0];
            assert!(
                rel(period[row], lc_direct.0) < 1e-9,
                "object {obj} band {b}"
            );
            assert!(
                (s2n[row] - lc_direct.1).abs() < 1e-6,
                "object {obj} band {b}"
            );
        }
        assert!(
            period[15].is_nan() && s2n[15].is_nan(),
            "object 99 band {b}"
        );
    }

    // A configured instance (three peaks, direct algorithm) against light-curve's
    // direct results for configuration A, every object and band.
    let custom = Periodogram::new().peaks(3).unwrap().fast(Fast::Off);
    let out = ens.batch(Arc::new(custom)).unwrap().compute().unwrap();
    assert_eq!(out.num_columns(), 1 + 2 * 2 * 3);
    for (b, offset) in [("g", 0i64), ("r", 15)] {
        for obj in 1..=15i64 {
            let e = exp
                .iter()
                .find(|e| e.id == obj + offset && e.config == "A" && !e.fast)
                .unwrap();
            let row = (obj - 1) as usize;
            for k in 0..3 {
                let period = col(&out, &format!("period_{k}_{b}"))[row];
                let s2n = col(&out, &format!("period_s_to_n_{k}_{b}"))[row];
                assert!(
                    rel(period, e.values[k].0) < 1e-9,
                    "object {obj} {b} peak {k}"
                );
                assert!(
                    (s2n - e.values[k].1).abs() < 1e-6,
                    "object {obj} {b} peak {k}"
                );
            }
        }
        let nan = col(&out, &format!("period_2_{b}"))[15];
        assert!(nan.is_nan(), "object 99 band {b}");
    }
}
