//! Every operation gives the same answer for any partitioning, file split and row order:
//! random pipelines of TAPE's operations over random layouts of the same objects, each run
//! under several cuts and both batch modes, must agree exactly.

use arrow::array::RecordBatch;
use lsstseries::io::generate::{generate, GeneratorConfig};
use lsstseries::prelude::*;
use proptest::prelude::*;
use std::path::Path;
use std::sync::{Arc, OnceLock};

fn executor() -> Arc<Executor> {
    static EXECUTOR: OnceLock<Arc<Executor>> = OnceLock::new();
    EXECUTOR
        .get_or_init(|| Executor::new(ExecutorConfig::default().n_workers(2)).unwrap())
        .clone()
}

/// One step of a pipeline.
#[derive(Debug, Clone)]
enum Step {
    Query(i64),
    Prune(u64),
    QueryObjects(i64),
    Sample(u64),
    DropNa,
    Assign,
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        (0i64..400).prop_map(Step::Query),
        (1u64..40).prop_map(Step::Prune),
        (0i64..20).prop_map(Step::QueryObjects),
        (0u64..5).prop_map(Step::Sample),
        Just(Step::DropNa),
        Just(Step::Assign),
    ]
}

/// What the pipeline ends with.
#[derive(Debug, Clone, Copy)]
enum End {
    Rows,
    Sorted,
    Bins,
    StetsonJ(BatchMode),
    Nobs,
}

fn end() -> impl Strategy<Value = End> {
    prop_oneof![
        Just(End::Rows),
        Just(End::Sorted),
        Just(End::Bins),
        Just(End::StetsonJ(BatchMode::Auto)),
        Just(End::StetsonJ(BatchMode::Grouped)),
        Just(End::Nobs),
    ]
}

fn run(dir: &Path, cut: Partitioning, steps: &[Step], end: End) -> RecordBatch {
    let mut ens = Ensemble::builder().executor(executor()).build().unwrap();
    ens.from_parquet(dir, ColumnMap::generated(), cut).unwrap();
    let mut f = ens.source().unwrap();
    for s in steps {
        f = match s {
            Step::Query(x) => f.query(&format!("flux > {x} or band == 'r'")).unwrap(),
            Step::Prune(n) => f.prune(*n).unwrap(),
            Step::QueryObjects(n) => f.query_objects(&format!("nobs_g >= {n}")).unwrap(),
            Step::Sample(seed) => f.sample(0.7, *seed).unwrap(),
            Step::DropNa => f.dropna(DropNa::Any, &[]).unwrap(),
            Step::Assign => f.assign(&[("snr", col("flux") / col("flux_err"))]).unwrap(),
        };
    }
    let f = match end {
        End::Rows => f,
        End::Sorted => f.sort_lightcurves().unwrap(),
        End::Bins => f.bin_sources(3.0, 0.25).unwrap(),
        End::StetsonJ(mode) => f.batch_named_with("stetson_j", mode).unwrap(),
        End::Nobs => f.batch_named("nobs").unwrap(),
    };
    f.compute().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn pipelines_do_not_depend_on_layout_or_cut(
        objects in 5usize..60,
        observations in 2usize..30,
        files in 1usize..4,
        seed in 0u64..1000,
        steps in proptest::collection::vec(step(), 0..4),
        end in end(),
        parts in 2usize..12,
        rows in 7usize..200,
    ) {
        let base = GeneratorConfig {
            objects,
            observations,
            files,
            seed,
            ..GeneratorConfig::default()
        };
        // The same objects, written sorted in one file, and scattered with rows shuffled.
        let sorted = tempfile::tempdir().unwrap();
        generate(&GeneratorConfig { files: 1, row_groups_per_file: 1, ..base.clone() }, sorted.path()).unwrap();
        let scattered = tempfile::tempdir().unwrap();
        generate(&GeneratorConfig { shuffle_rows: true, scatter: true, ..base }, scattered.path()).unwrap();
        // Row order inside a lightcurve differs between layouts, so rows that no step or end
        // orders are compared as the layouts' own cuts; ordered ends compare across layouts.
        let reference = run(sorted.path(), Partitioning::RowGroups, &steps, end);
        for cut in [Partitioning::RowGroups, Partitioning::Count(parts), Partitioning::Rows(rows)] {
            let same_layout = run(sorted.path(), cut.clone(), &steps, end);
            prop_assert_eq!(&same_layout, &reference, "sorted file, {:?}, {:?}, {:?}", cut, steps, end);
            let other = run(scattered.path(), cut.clone(), &steps, end);
            match end {
                // Order-free or time-ordered results are the same whatever the file layout.
                End::Sorted | End::Bins | End::Nobs => {
                    prop_assert_eq!(&other, &reference, "scattered, {:?}, {:?}, {:?}", cut, steps, end)
                }
                _ => {
                    let first = run(scattered.path(), Partitioning::RowGroups, &steps, end);
                    prop_assert_eq!(&other, &first, "scattered, {:?}, {:?}, {:?}", cut, steps, end)
                }
            }
        }
    }
}
