//! Results must not depend on how the data is partitioned or laid out in files.
//!
//! Generated datasets (random sizes, files, row groups, rows shuffled in time, lightcurves
//! scattered over files) are cut several ways (row groups plus random row counts,
//! partition counts and byte sizes, including cuts inside lightcurves) and run in Auto and
//! Grouped mode. On the same files every cut and mode must agree bit for bit (regrouping
//! keeps each lightcurve's rows in file order).
//!
//! Against the same objects written sorted in one file and one row group:
//!
//! * functions that read time (the feature sets, the periodogram, the structure function
//!   per lightcurve and combined) get every lightcurve in time order whatever the layout,
//!   so they must agree bit for bit as well;
//! * functions that do not read time (Stetson J, a moments-only feature set) see each
//!   lightcurve's rows in stored order, and a shuffled file sums them in a different order:
//!   they agree to rounding only (relative 1e-9; kurtosis and skew divide sums of 4th and
//!   3rd powers of deviations, so rounding is amplified well beyond 1e-12 there);
//! * counts are exact.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::Float64Type;
use lsstseries::analysis::features::{BandScope, Feature, FeatureSet};
use lsstseries::analysis::periodogram::Periodogram;
use lsstseries::analysis::structure_function::{Bootstrap, Estimator, SfOptions};
use lsstseries::analysis::{LightcurveFunction, StetsonJ, StructureFunction};
use lsstseries::io::generate::{generate, GeneratorConfig};
use lsstseries::{BatchMode, ColumnMap, Ensemble, Executor, ExecutorConfig, Frame, Partitioning};
use proptest::prelude::*;
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// One pool for every run of the test binary (starting threads per run would dominate).
fn executor() -> Arc<Executor> {
    static EXECUTOR: OnceLock<Arc<Executor>> = OnceLock::new();
    EXECUTOR
        .get_or_init(|| Executor::new(ExecutorConfig::default().n_workers(2)).unwrap())
        .clone()
}

fn ensemble(dir: &Path, partitioning: Partitioning) -> Ensemble {
    let mut ens = Ensemble::builder().executor(executor()).build().unwrap();
    ens.from_parquet(dir, ColumnMap::generated(), partitioning)
        .unwrap();
    ens
}

/// The one place this file calls `Frame::structure_function` in combined (pooled) mode.
fn combined_sf(frame: &Frame, options: &SfOptions) -> RecordBatch {
    frame
        .structure_function_pooled(options)
        .unwrap()
        .compute()
        .unwrap()
}

fn sf_options() -> SfOptions {
    SfOptions {
        estimator: Estimator::Macleod2012,
        bin_count_target: 20,
        bootstrap: Some(Bootstrap {
            repetitions: 8,
            equally_weight_lightcurves: true,
            ..Bootstrap::default()
        }),
        report_bounds: true,
        ..SfOptions::default()
    }
}

/// The per-lightcurve functions under test, and whether they must match the sorted layout
/// bit for bit (they read time, or only count).
fn functions() -> Vec<(Arc<dyn LightcurveFunction>, bool)> {
    vec![
        (Arc::new(StetsonJ), false),
        (Arc::new(lsstseries::analysis::Nobs), true),
        // The registered `features`: the default set, per band.
        (Arc::new(FeatureSet::default_set(BandScope::PerBand)), true),
        // Every feature over all bands together.
        (
            Arc::new(FeatureSet::named("all", Feature::ALL.to_vec(), BandScope::AllBands).unwrap()),
            true,
        ),
        // Order-free features only: no time, so stored row order.
        (
            Arc::new(
                FeatureSet::named(
                    "moments",
                    vec![
                        Feature::Mean,
                        Feature::StandardDeviation,
                        Feature::Skew,
                        Feature::Kurtosis,
                        Feature::WeightedMean,
                        Feature::ReducedChi2,
                        Feature::Median,
                    ],
                    BandScope::PerBand,
                )
                .unwrap(),
            ),
            false,
        ),
        (Arc::new(Periodogram::new().peaks(2).unwrap()), true),
        (
            Arc::new(StructureFunction::new(sf_options()).unwrap()),
            true,
        ),
    ]
}

/// Bit-for-bit equality, NaN included.
fn exact(a: &RecordBatch, b: &RecordBatch) -> Result<(), String> {
    if a.schema() != b.schema() || a.num_rows() != b.num_rows() {
        return Err(format!(
            "shape {} rows {:?} vs {} rows {:?}",
            a.num_rows(),
            a.schema(),
            b.num_rows(),
            b.schema()
        ));
    }
    for (k, (ca, cb)) in a.columns().iter().zip(b.columns()).enumerate() {
        let name = a.schema().field(k).name().clone();
        match (
            ca.as_primitive_opt::<Float64Type>(),
            cb.as_primitive_opt::<Float64Type>(),
        ) {
            (Some(x), Some(y)) => {
                for (i, (p, q)) in x.values().iter().zip(y.values()).enumerate() {
                    if p.to_bits() != q.to_bits() {
                        return Err(format!("column {name} row {i}: {p:e} vs {q:e}"));
                    }
                }
                if x.nulls() != y.nulls() {
                    return Err(format!("column {name}: nulls differ"));
                }
            }
            _ if ca != cb => return Err(format!("column {name} differs")),
            _ => {}
        }
    }
    Ok(())
}

/// Equal to rounding (see the module comment); non-float columns exactly.
fn close(a: &RecordBatch, b: &RecordBatch) -> Result<(), String> {
    if a.schema() != b.schema() || a.num_rows() != b.num_rows() {
        return Err(format!("shape {:?} vs {:?}", a.schema(), b.schema()));
    }
    for (k, (ca, cb)) in a.columns().iter().zip(b.columns()).enumerate() {
        let name = a.schema().field(k).name().clone();
        if let (Some(x), Some(y)) = (
            ca.as_primitive_opt::<Float64Type>(),
            cb.as_primitive_opt::<Float64Type>(),
        ) {
            for (i, (p, q)) in x.values().iter().zip(y.values()).enumerate() {
                let ok = (p.is_nan() && q.is_nan()) || (p - q).abs() <= 1e-9 * (1.0 + p.abs());
                if !ok {
                    return Err(format!("column {name} row {i}: {p:e} vs {q:e}"));
                }
            }
        } else if ca != cb {
            return Err(format!("column {name} differs"));
        }
    }
    Ok(())
}

fn partitioning() -> impl Strategy<Value = Partitioning> {
    prop_oneof![
        Just(Partitioning::Files),
        (1usize..60).prop_map(Partitioning::Rows),
        (1usize..20).prop_map(Partitioning::Count),
        (200usize..20_000).prop_map(Partitioning::Bytes),
    ]
}

proptest! {
    // Each case runs ~60 plans; 24 cases took about 30 s in a debug build on a loaded 2-core
    // machine.
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn results_do_not_depend_on_partitioning(
        objects in 1usize..20,
        observations in 1usize..70,
        bands in 1usize..=3,
        files in 1usize..4,
        row_groups in 1usize..4,
        shuffle_rows in prop::bool::weighted(0.8),
        scatter in any::<bool>(),
        seed in any::<u64>(),
        cuts in prop::collection::vec(partitioning(), 2),
    ) {
        let cfg = GeneratorConfig {
            objects, observations, files, row_groups_per_file: row_groups,
            shuffle_rows, scatter, seed,
            bands: ["g", "r", "i"][..bands].iter().map(|s| s.to_string()).collect(),
            ..GeneratorConfig::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let s = generate(&cfg, dir.path()).unwrap();
        prop_assume!(s.rows > 0);

        // The same objects written sorted, in one file and one row group.
        let reference_dir = tempfile::tempdir().unwrap();
        let reference_cfg = GeneratorConfig {
            files: 1, row_groups_per_file: 1, shuffle_rows: false, scatter: false, ..cfg
        };
        generate(&reference_cfg, reference_dir.path()).unwrap();
        let reference_ens = ensemble(reference_dir.path(), Partitioning::Files);

        let cuts: Vec<Partitioning> =
            std::iter::once(Partitioning::RowGroups).chain(cuts).collect();
        let ensembles: Vec<Ensemble> =
            cuts.iter().map(|c| ensemble(dir.path(), c.clone())).collect();

        for (function, exact_vs_sorted) in functions() {
            let name = function.name().to_string();
            let reference = reference_ens.batch(function.clone()).unwrap()
                .compute().unwrap();
            let mut first: Option<RecordBatch> = None;
            for (cut, ens) in cuts.iter().zip(&ensembles) {
                for mode in [BatchMode::Auto, BatchMode::Grouped] {
                    let got = ens.batch_with(function.clone(), mode).unwrap().compute().unwrap();
                    let what = format!("{name}, {cut}, {mode}");
                    match &first {
                        None => first = Some(got.clone()),
                        Some(f) => prop_assert_eq!(exact(f, &got), Ok(()), "{} vs the first cut", what),
                    }
                    if exact_vs_sorted {
                        prop_assert_eq!(exact(&reference, &got), Ok(()), "{} vs sorted", what);
                    } else {
                        prop_assert_eq!(close(&reference, &got), Ok(()), "{} vs sorted", what);
                    }
                }
            }
            if name == "nobs" {
                prop_assert_eq!(reference.num_rows(), objects);
            }
        }

        // The structure function with every lightcurve's pairs pooled per band.
        let options = sf_options();
        let reference = combined_sf(&reference_ens.source().unwrap(), &options);
        for (cut, ens) in cuts.iter().zip(&ensembles) {
            let got = combined_sf(&ens.source().unwrap(), &options);
            prop_assert_eq!(exact(&reference, &got), Ok(()), "sf2 combined, {}", cut);
        }

        // Per-partition mode never gives fewer results than objects.
        let pieces = ensembles[1].batch_with(Arc::new(StetsonJ), BatchMode::PerPartition).unwrap()
            .compute().unwrap();
        prop_assert!(pieces.num_rows() >= objects);
    }
}
