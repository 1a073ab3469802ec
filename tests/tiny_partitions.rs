//! Tiny partition requests stay bounded: a byte size never cuts below
//! `MIN_SIZED_PARTITION_ROWS` rows, re-cutting at lightcurve boundaries merges every cut
//! inside one lightcurve, and a shuffle never asks for more than `MAX_SHUFFLE_PARTITIONS`
//! targets nor more than one per `MIN_SIZED_PARTITION_ROWS` rows. Counts, not times; and
//! results do not change.

use arrow::array::RecordBatch;
use lsstseries::io::generate::{generate, GeneratorConfig};
use lsstseries::io::MIN_SIZED_PARTITION_ROWS;
use lsstseries::optimizer::MAX_SHUFFLE_PARTITIONS;
use lsstseries::physical::PhysicalPlan;
use lsstseries::{BatchMode, ColumnMap, Ensemble, Frame, Partitioning};
use std::path::Path;

fn ensemble(dir: &Path, partitioning: Partitioning) -> Ensemble {
    let mut ens = Ensemble::builder().n_workers(2).build().unwrap();
    ens.from_parquet(dir, ColumnMap::generated(), partitioning)
        .unwrap();
    ens
}

/// Tasks of the physical plan, per stage.
fn tasks(frame: &Frame) -> Vec<usize> {
    let optimized = frame.optimize().unwrap();
    let physical = PhysicalPlan::from_logical(&optimized.plan).unwrap();
    physical.stages.iter().map(|s| s.tasks()).collect()
}

fn stetson_j(ens: &Ensemble, mode: BatchMode) -> (RecordBatch, Vec<usize>) {
    let frame = ens.batch_named_with("stetson_j", mode).unwrap();
    (frame.compute().unwrap(), tasks(&frame))
}

/// `objects` lightcurves of `observations` rows, sorted, in one file and one row group.
fn data(objects: usize, observations: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let cfg = GeneratorConfig {
        objects,
        observations,
        seed: 7,
        ..GeneratorConfig::default()
    };
    generate(&cfg, dir.path()).unwrap();
    dir
}

#[test]
fn a_one_byte_size_on_one_big_lightcurve_gives_few_tasks_and_the_same_result() {
    let rows = 20_000;
    let dir = data(1, rows);
    let reference = stetson_j(&ensemble(dir.path(), Partitioning::Files), BatchMode::Auto).0;

    let ens = ensemble(dir.path(), Partitioning::Bytes(1));
    let source = ens.source_table().unwrap();
    // Without the floor: one partition per row.
    assert_eq!(source.partitions.len(), rows / MIN_SIZED_PARTITION_ROWS);
    assert!(source
        .partitions
        .iter()
        .all(|p| p.rows >= MIN_SIZED_PARTITION_ROWS));
    assert!(source.min_rows_applied);
    let info = ens.info().unwrap().to_string();
    assert!(
        info.contains(&format!(
            "by size 1 B, at least {MIN_SIZED_PARTITION_ROWS} rows each"
        )),
        "{info}"
    );

    // Auto: 200 cuts inside one lightcurve collapse into one aligned partition.
    let (auto, auto_tasks) = stetson_j(&ens, BatchMode::Auto);
    assert_eq!(auto_tasks, vec![1]);
    let explain = ens.batch_named("stetson_j").unwrap().explain().unwrap();
    assert!(
        explain.contains(
            "partitions=1 (aligned to lightcurves; requested by size 1 B, at least 100 rows each: 200)"
        ),
        "{explain}"
    );
    // Grouped: a shuffle as wide as the input, which the floor bounds.
    let (grouped, grouped_tasks) = stetson_j(&ens, BatchMode::Grouped);
    assert_eq!(grouped_tasks, vec![200, 200]);
    assert_eq!(auto, reference);
    assert_eq!(grouped, reference);
}

#[test]
fn explicit_one_row_partitions_shuffle_into_few_targets() {
    // 30 lightcurves of 100 rows, cut one row per partition.
    let dir = data(30, 100);
    let rows = 3000;
    let reference = stetson_j(&ensemble(dir.path(), Partitioning::Files), BatchMode::Auto).0;
    let ens = ensemble(dir.path(), Partitioning::Rows(1));
    assert_eq!(ens.source_table().unwrap().partitions.len(), rows);
    assert!(!ens.source_table().unwrap().min_rows_applied);

    // Auto: at most one aligned partition per lightcurve.
    let (auto, auto_tasks) = stetson_j(&ens, BatchMode::Auto);
    assert_eq!(auto_tasks, vec![30]);
    // Grouped: one target per 100 rows, not one per input partition.
    let (grouped, grouped_tasks) = stetson_j(&ens, BatchMode::Grouped);
    let width = rows / MIN_SIZED_PARTITION_ROWS;
    assert_eq!(grouped_tasks, vec![rows, width]);
    let explain = ens
        .batch_named_with("stetson_j", BatchMode::Grouped)
        .unwrap()
        .explain()
        .unwrap();
    assert!(
        explain.contains(&format!("Shuffle[hash(id) -> {width}]"))
            && explain.contains(&format!(
                "shuffle into {width} partitions, not the input's {rows}"
            )),
        "{explain}"
    );
    assert_eq!(auto, reference);
    assert_eq!(grouped, reference);
}

#[test]
fn a_shuffle_never_asks_for_more_than_the_maximum() {
    // Enough rows that the row bound allows more than the maximum.
    let rows = (MAX_SHUFFLE_PARTITIONS + 100) * MIN_SIZED_PARTITION_ROWS;
    let dir = data(rows / 50, 50);
    let ens = ensemble(dir.path(), Partitioning::Rows(MIN_SIZED_PARTITION_ROWS));
    let frame = ens
        .batch_named_with("stetson_j", BatchMode::Grouped)
        .unwrap();
    assert_eq!(
        tasks(&frame),
        vec![MAX_SHUFFLE_PARTITIONS + 100, MAX_SHUFFLE_PARTITIONS]
    );
}
