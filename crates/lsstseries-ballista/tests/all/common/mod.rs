//! Shared test helpers: generated data whose lightcurves are scattered over files, the
//! frames compared, and an exact (bitwise) batch comparison.

#![allow(dead_code)]

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Float64Type};
use lsstseries::analysis::structure_function::SfOptions;
use lsstseries::io::generate::{generate, GeneratorConfig};
use lsstseries::{
    ColumnMap, Ensemble, Executor, ExecutorConfig, Frame, FunctionRegistry, Partitioning,
};
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// Longest the tests wait for a cluster to start or a run to finish.
pub const LIMIT: std::time::Duration = std::time::Duration::from_secs(120);

/// A tokio runtime with `workers` threads.
pub fn runtime(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .build()
        .unwrap()
}

/// An in-process cluster (2 executors of 2 slots) whose programs resolve functions in
/// `registry`, started on `rt` within [`LIMIT`]; its `df://` address.
pub fn standalone(rt: &tokio::runtime::Runtime, registry: FunctionRegistry) -> String {
    rt.block_on(async {
        tokio::time::timeout(LIMIT, lsstseries_ballista::start_standalone(registry, 2, 2)).await
    })
    .expect("cluster started in time")
    .unwrap()
}

pub fn executor() -> Arc<Executor> {
    static EXECUTOR: OnceLock<Arc<Executor>> = OnceLock::new();
    EXECUTOR
        .get_or_init(|| Executor::new(ExecutorConfig::default().n_workers(2)).unwrap())
        .clone()
}

/// `objects` lightcurves of 40 observations in 3 files of 2 row groups; `scatter` puts
/// each observation in a random file (a shuffle is needed), else files hold whole,
/// id-sorted lightcurves.
pub fn dataset(dir: &Path, objects: usize, scatter: bool) {
    let cfg = GeneratorConfig {
        objects,
        observations: 40,
        files: 3,
        row_groups_per_file: 2,
        shuffle_rows: scatter,
        scatter,
        seed: 7,
        ..GeneratorConfig::default()
    };
    generate(&cfg, dir).unwrap();
}

pub fn ensemble(dir: &Path) -> Ensemble {
    let mut ens = Ensemble::builder().executor(executor()).build().unwrap();
    ens.from_parquet(dir, ColumnMap::generated(), Partitioning::RowGroups)
        .unwrap();
    ens
}

/// Stetson J, the default feature set, per-object sf2.
pub fn frames(ens: &Ensemble) -> Vec<(&'static str, Frame)> {
    let src = ens.source().unwrap();
    vec![
        ("stetson_j", src.batch_named("stetson_j").unwrap()),
        ("features", src.batch_named("features").unwrap()),
        (
            "sf2",
            src.structure_function(&SfOptions::default()).unwrap(),
        ),
    ]
}

/// Same schema, same rows, floats bit for bit (NaN included).
pub fn assert_identical(what: &str, local: &RecordBatch, other: &RecordBatch) {
    assert_eq!(local.schema(), other.schema(), "{what}: schema");
    assert_eq!(local.num_rows(), other.num_rows(), "{what}: rows");
    assert!(local.num_rows() > 0, "{what}: empty result proves nothing");
    for (i, f) in local.schema().fields().iter().enumerate() {
        let (a, b) = (local.column(i), other.column(i));
        if f.data_type() == &DataType::Float64 {
            let (a, b) = (
                a.as_primitive::<Float64Type>(),
                b.as_primitive::<Float64Type>(),
            );
            for r in 0..a.len() {
                assert_eq!(
                    a.is_null(r),
                    b.is_null(r),
                    "{what}: {} row {r} null",
                    f.name()
                );
                assert_eq!(
                    a.value(r).to_bits(),
                    b.value(r).to_bits(),
                    "{what}: {} row {r}: {} vs {}",
                    f.name(),
                    a.value(r),
                    b.value(r)
                );
            }
        } else {
            assert_eq!(a.as_ref(), b.as_ref(), "{what}: column {}", f.name());
        }
    }
}
