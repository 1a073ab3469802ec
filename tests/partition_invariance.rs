//! Results must not depend on how the data is partitioned or laid out in files.
//!
//! Generated datasets (random sizes, files, row groups, shuffled rows, lightcurves
//! scattered over files) are cut at random (row counts, partition counts, byte sizes,
//! including cuts inside lightcurves). Auto and Grouped must agree bit for bit on the same
//! files, and agree with a sorted single-file layout to rounding (a different row order
//! sums in a different order).

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::{Float64Type, Int64Type};
use lsstseries::io::generate::{generate, GeneratorConfig};
use lsstseries::{BatchMode, ColumnMap, Ensemble, Partitioning};
use proptest::prelude::*;

fn run(
    dir: &std::path::Path,
    partitioning: Partitioning,
    mode: BatchMode,
    function: &str,
) -> RecordBatch {
    let mut ens = Ensemble::builder().n_workers(2).build().unwrap();
    ens.from_parquet(dir, ColumnMap::generated(), partitioning)
        .unwrap();
    ens.batch_named_with(function, mode)
        .unwrap()
        .compute()
        .unwrap()
}

fn bits(b: &RecordBatch) -> Vec<Vec<u64>> {
    b.columns()
        .iter()
        .map(|c| match c.as_primitive_opt::<Float64Type>() {
            Some(f) => f.values().iter().map(|v| v.to_bits()).collect(),
            None => c
                .as_primitive::<Int64Type>()
                .values()
                .iter()
                .map(|v| *v as u64)
                .collect(),
        })
        .collect()
}

fn close(a: &RecordBatch, b: &RecordBatch) -> Result<(), String> {
    if a.schema() != b.schema() || a.num_rows() != b.num_rows() {
        return Err(format!("shape {:?} vs {:?}", a.schema(), b.schema()));
    }
    for (ca, cb) in a.columns().iter().zip(b.columns()) {
        if let (Some(x), Some(y)) = (
            ca.as_primitive_opt::<Float64Type>(),
            cb.as_primitive_opt::<Float64Type>(),
        ) {
            for (p, q) in x.values().iter().zip(y.values()) {
                let ok = (p.is_nan() && q.is_nan()) || (p - q).abs() <= 1e-9 * (1.0 + p.abs());
                if !ok {
                    return Err(format!("{p} vs {q}"));
                }
            }
        } else if ca != cb {
            return Err("integer column differs".into());
        }
    }
    Ok(())
}

fn partitioning() -> impl Strategy<Value = Partitioning> {
    prop_oneof![
        Just(Partitioning::RowGroups),
        Just(Partitioning::Files),
        (1usize..50).prop_map(Partitioning::Rows),
        (1usize..20).prop_map(Partitioning::Count),
        (200usize..20_000).prop_map(Partitioning::Bytes),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn auto_and_grouped_agree_for_any_partitioning(
        objects in 1usize..30,
        observations in 1usize..25,
        files in 1usize..4,
        row_groups in 1usize..4,
        shuffle_rows in any::<bool>(),
        scatter in any::<bool>(),
        seed in any::<u64>(),
        cut in partitioning(),
    ) {
        let cfg = GeneratorConfig {
            objects, observations, files, row_groups_per_file: row_groups,
            shuffle_rows, scatter, seed, bands: vec!["g".into(), "r".into()],
            ..GeneratorConfig::default()
        };
        let dir = tempfile::tempdir().unwrap();
        let s = generate(&cfg, dir.path()).unwrap();
        prop_assume!(s.rows > 0);

        let auto = run(dir.path(), cut.clone(), BatchMode::Auto, "stetson_j");
        let grouped = run(dir.path(), cut.clone(), BatchMode::Grouped, "stetson_j");
        prop_assert_eq!(auto.num_rows(), objects);
        prop_assert_eq!(bits(&auto), bits(&grouped));

        // Against the same objects written sorted in one file and one row group.
        let reference_dir = tempfile::tempdir().unwrap();
        let reference_cfg = GeneratorConfig { files: 1, row_groups_per_file: 1, shuffle_rows: false, scatter: false, ..cfg };
        generate(&reference_cfg, reference_dir.path()).unwrap();
        let reference = run(reference_dir.path(), Partitioning::Files, BatchMode::Auto, "stetson_j");
        prop_assert_eq!(close(&auto, &reference), Ok(()));

        // Counts are exact whatever the layout.
        let nobs_auto = run(dir.path(), cut.clone(), BatchMode::Auto, "nobs");
        let nobs_ref = run(reference_dir.path(), Partitioning::Files, BatchMode::Auto, "nobs");
        prop_assert_eq!(nobs_auto, nobs_ref);

        // Per-partition mode never gives fewer results than objects.
        let pieces = run(dir.path(), cut, BatchMode::PerPartition, "stetson_j");
        prop_assert!(pieces.num_rows() >= objects);
    }
}
