//! TAPE's eager helpers: `head`/`tail` (only the partitions needed), `to_lightcurve`,
//! `check_sorted`, `check_lightcurve_cohesion`, `find_day_gap_offset` — on the bundled
//! file (TAPE's own numbers) and on generated data for any partitioning.

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::{Float64Type, Int64Type};
use lsstseries::io::generate::{generate, GeneratorConfig};
use lsstseries::prelude::*;
use proptest::prelude::*;
use std::path::Path;

fn tape(partitioning: Partitioning) -> Ensemble {
    let mut ens = Ensemble::builder().n_workers(2).build().unwrap();
    ens.from_parquet(
        "data/tape/test_source.parquet",
        ColumnMap::tape(),
        partitioning,
    )
    .unwrap();
    ens
}

fn generated(dir: &Path, scatter: bool, partitions: usize) -> Ensemble {
    let cfg = GeneratorConfig {
        objects: 40,
        observations: 15,
        files: 3,
        row_groups_per_file: 2,
        shuffle_rows: scatter,
        scatter,
        overwrite: true,
        ..GeneratorConfig::default()
    };
    generate(&cfg, dir).unwrap();
    let mut ens = Ensemble::builder().n_workers(2).build().unwrap();
    ens.from_parquet(dir, ColumnMap::generated(), Partitioning::Count(partitions))
        .unwrap();
    ens
}

#[test]
fn day_gap_offset_is_tapes() {
    // data/tape/README.md: TAPE's find_day_gap_offset() on this file.
    for p in [Partitioning::Count(1), Partitioning::size("5KB").unwrap()] {
        assert_eq!(tape(p).find_day_gap_offset().unwrap(), 0.7916666666666666);
    }
}

#[test]
fn head_and_tail_read_only_what_they_need() {
    let ens = tape(Partitioning::Count(16));
    let all = ens.source().unwrap().compute().unwrap();
    let before = ens.executor_info().tasks_run;
    let head = ens.source().unwrap().head(5).unwrap();
    // The file is sorted by id: the first rows are the first rows in id order.
    assert_eq!(head, all.slice(0, 5));
    // One pool's width of partitions (2 threads) was enough.
    assert_eq!(ens.executor_info().tasks_run - before, 2);
    let tail = ens.source().unwrap().tail(7).unwrap();
    assert_eq!(tail, all.slice(all.num_rows() - 7, 7));
    assert_eq!(ens.source().unwrap().head(0).unwrap().num_rows(), 0);
    assert_eq!(ens.source().unwrap().head(1_000_000).unwrap(), all);
}

#[test]
fn head_skips_partitions_a_filter_emptied() {
    let ens = tape(Partitioning::Count(16));
    let all = ens.source().unwrap().compute().unwrap();
    let ids = all
        .column_by_name("ps1_objid")
        .unwrap()
        .as_primitive::<Int64Type>();
    let last_id = ids.value(ids.len() - 1);
    let frame = ens
        .source()
        .unwrap()
        .filter(col("ps1_objid").eq(last_id))
        .unwrap();
    let want = frame.compute().unwrap();
    assert!(want.num_rows() > 3);
    assert_eq!(frame.head(3).unwrap(), want.slice(0, 3));
}

#[test]
fn head_of_a_shuffled_plan_is_the_head_of_its_result() {
    let ens = tape(Partitioning::size("5KB").unwrap());
    let frame = ens
        .batch_named_with("stetson_j", BatchMode::Grouped)
        .unwrap();
    let all = frame.compute().unwrap();
    assert_eq!(frame.head(4).unwrap(), all.slice(0, 4));
    assert_eq!(frame.tail(4).unwrap(), all.slice(11, 4));
}

#[test]
fn to_lightcurve_is_one_object_in_time_order() {
    let ens = tape(Partitioning::Count(4));
    let lc = ens
        .source()
        .unwrap()
        .to_lightcurve(88472935274829959)
        .unwrap();
    let nobs = ens.object_table().unwrap();
    let ids = nobs.column(0).as_primitive::<Int64Type>();
    let k = ids
        .values()
        .iter()
        .position(|&i| i == 88472935274829959)
        .unwrap();
    let total = nobs
        .column_by_name("nobs_total")
        .unwrap()
        .as_primitive::<Int64Type>()
        .value(k);
    assert_eq!(lc.num_rows() as i64, total);
    let t = lc
        .column_by_name("midPointTai")
        .unwrap()
        .as_primitive::<Float64Type>();
    assert!(t.values().windows(2).all(|w| w[0] <= w[1]));
    let err = ens.source().unwrap().to_lightcurve(7).unwrap_err();
    assert!(
        err.to_string().contains("no rows with ps1_objid = 7"),
        "{err}"
    );
}

#[test]
fn checks_on_sorted_and_scattered_sources() {
    let ens = tape(Partitioning::size("5KB").unwrap());
    assert!(ens.check_sorted().unwrap());
    // 5 KB partitions cut lightcurves (TAPE saw 45 pieces of 15 lightcurves).
    assert!(!ens.check_lightcurve_cohesion().unwrap());
    assert!(tape(Partitioning::Count(1))
        .check_lightcurve_cohesion()
        .unwrap());
    let dir = tempfile::tempdir().unwrap();
    let scattered = generated(dir.path(), true, 6);
    assert!(!scattered.check_sorted().unwrap());
    assert!(!scattered.check_lightcurve_cohesion().unwrap());
    // Partitions never span files, so scattered lightcurves stay split even at Count(1);
    // unscattered ones (each object in one file) are whole per file.
    assert!(!generated(dir.path(), true, 1)
        .check_lightcurve_cohesion()
        .unwrap());
    assert!(generated(dir.path(), false, 1)
        .check_lightcurve_cohesion()
        .unwrap());
}

fn rows(b: &RecordBatch) -> Vec<(i64, u64)> {
    let ids = b.column(0).as_primitive::<Int64Type>();
    let t = b.column(1).as_primitive::<Float64Type>();
    ids.values()
        .iter()
        .zip(t.values())
        .map(|(i, t)| (*i, t.to_bits()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]
    /// On a sorted source, head(n)/tail(n) are the first/last n rows of the result, for any
    /// partitioning; on any source they hold n rows of it (or all of them).
    #[test]
    fn head_and_tail_agree_with_compute(partitions in 1usize..20, n in 0usize..700, scatter: bool) {
        let dir = tempfile::tempdir().unwrap();
        let ens = generated(dir.path(), scatter, partitions);
        let frame = ens.source().unwrap().select(&["id", "mjd"]).unwrap();
        let all = frame.compute().unwrap();
        let (head, tail) = (frame.head(n).unwrap(), frame.tail(n).unwrap());
        let want = n.min(all.num_rows());
        prop_assert_eq!(head.num_rows(), want);
        prop_assert_eq!(tail.num_rows(), want);
        if !scatter {
            prop_assert_eq!(rows(&head), rows(&all.slice(0, want)));
            prop_assert_eq!(rows(&tail), rows(&all.slice(all.num_rows() - want, want)));
        } else {
            let mut every = rows(&all);
            every.sort();
            for r in rows(&head).into_iter().chain(rows(&tail)) {
                prop_assert!(every.binary_search(&r).is_ok());
            }
        }
        prop_assert_eq!(ens.check_sorted().unwrap(), !scatter || all.num_rows() <= 1);
    }
}

/// A projection wider than what a function above it reads: the scan's column pruning
/// narrows the projection too, and the answer is the one without it.
#[test]
fn select_then_batch_reads_only_what_the_function_needs() {
    let ens = tape(Partitioning::Count(3));
    let all = [
        "ps1_objid",
        "midPointTai",
        "psFlux",
        "psFluxErr",
        "filterName",
    ];
    let frame = ens
        .source()
        .unwrap()
        .select(&all)
        .unwrap()
        .batch_named("nobs")
        .unwrap();
    let plan = frame.explain().unwrap();
    assert!(plan.contains("scan decodes 2 of"), "{plan}");
    let want = ens
        .source()
        .unwrap()
        .batch_named("nobs")
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(frame.compute().unwrap(), want);
}
