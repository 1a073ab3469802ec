//! The notebook's numbers and TAPE's golden outputs on the bundled test file.

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::{Float64Type, Int64Type};
use lsstseries::{BatchMode, ColumnMap, Ensemble, Partitioning};
use std::collections::HashMap;

const SOURCE: &str = "data/tape/test_source.parquet";

fn ensemble(partitioning: Partitioning) -> Ensemble {
    let mut ens = Ensemble::builder().n_workers(2).build().unwrap();
    ens.from_parquet(SOURCE, ColumnMap::tape(), partitioning)
        .unwrap();
    ens
}

fn golden(name: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(format!("data/tape/golden/{name}")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(String::from).collect();
    let rows = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    (header, rows)
}

fn f64_col(b: &RecordBatch, name: &str) -> Vec<f64> {
    b.column_by_name(name)
        .unwrap()
        .as_primitive::<Float64Type>()
        .values()
        .to_vec()
}

fn i64_col(b: &RecordBatch, name: &str) -> Vec<i64> {
    b.column_by_name(name)
        .unwrap()
        .as_primitive::<Int64Type>()
        .values()
        .to_vec()
}

#[test]
fn object_table_matches_tape_calc_nobs() {
    let ens = ensemble(Partitioning::RowGroups);
    let objects = ens.object_table().unwrap();
    let (header, rows) = golden("calc_nobs_by_band.csv");
    assert_eq!(objects.num_rows(), rows.len());
    for (c, name) in header.iter().enumerate() {
        let got = i64_col(&objects, name);
        let want: Vec<i64> = rows.iter().map(|r| r[c].parse().unwrap()).collect();
        assert_eq!(got, want, "column {name}");
    }
}

#[test]
fn stetson_j_matches_tape_in_every_mode_that_groups() {
    let (_, rows) = golden("stetsonJ_all_objects.csv");
    for partitioning in [
        Partitioning::RowGroups,
        Partitioning::Bytes(5000),
        Partitioning::Count(32),
        Partitioning::Rows(7),
    ] {
        for mode in [BatchMode::Auto, BatchMode::Grouped] {
            let ens = ensemble(partitioning.clone());
            let sj = ens
                .batch_named_with("stetson_j", mode)
                .unwrap()
                .compute()
                .unwrap();
            assert_eq!(sj.num_rows(), 15, "{partitioning} {mode}");
            let ids = i64_col(&sj, "ps1_objid");
            let (g, r) = (f64_col(&sj, "stetson_j_g"), f64_col(&sj, "stetson_j_r"));
            for (k, row) in rows.iter().enumerate() {
                assert_eq!(ids[k], row[0].parse::<i64>().unwrap());
                for (got, want) in [(g[k], &row[1]), (r[k], &row[2])] {
                    if want.is_empty() {
                        assert!(got.is_nan(), "object {} expected NaN, got {got}", ids[k]);
                    } else {
                        let want: f64 = want.parse().unwrap();
                        assert!(
                            (got - want).abs() < 1e-4,
                            "object {}: {got} vs TAPE {want}",
                            ids[k]
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn the_readme_object_agrees_with_tape() {
    let ens = ensemble(Partitioning::RowGroups);
    let sj = ens.batch_named("stetson_j").unwrap().compute().unwrap();
    let ids = i64_col(&sj, "ps1_objid");
    let k = ids.iter().position(|&i| i == 88472935274829959).unwrap();
    assert!((f64_col(&sj, "stetson_j_g")[k] - -0.04174282).abs() < 1e-4);
    assert!((f64_col(&sj, "stetson_j_r")[k] - 0.6075282).abs() < 1e-4);
}

#[test]
fn notebook_five_kb_partitions_reproduce_the_split_effect() {
    let ens = ensemble(Partitioning::size("5KB").unwrap());
    let source = ens.source_table().unwrap();
    // Arrow's decoded size is 37 B/row here (pandas counted 78 B/row, hence Dask's 32).
    assert_eq!(source.partitions.len(), 15);

    let per_partition = ens
        .batch_named_with("stetson_j", BatchMode::PerPartition)
        .unwrap();
    let warnings = per_partition.warnings().unwrap();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0].contains("split"), "{}", warnings[0]);
    let pieces = per_partition.compute().unwrap();
    assert!(
        pieces.num_rows() > 15,
        "per-partition gave {}",
        pieces.num_rows()
    );
    assert_eq!(pieces.num_rows(), 29);

    for mode in [BatchMode::Grouped, BatchMode::Auto] {
        let frame = ens.batch_named_with("stetson_j", mode).unwrap();
        assert!(frame.warnings().unwrap().is_empty());
        assert_eq!(frame.compute().unwrap().num_rows(), 15);
    }
}

#[test]
fn count_32_gives_the_notebooks_45_pieces() {
    // The notebook's 32 partitions of ~62 rows: use_map=True gave 45 results for 15 objects.
    let ens = ensemble(Partitioning::Count(32));
    let pieces = ens
        .batch_named_with("stetson_j", BatchMode::PerPartition)
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(pieces.num_rows(), 45);
}

#[test]
fn nobs_is_partition_independent_too() {
    let a = ensemble(Partitioning::RowGroups).object_table().unwrap();
    let b = ensemble(Partitioning::Rows(3)).object_table().unwrap();
    assert_eq!(a, b);
    let mut totals = HashMap::new();
    for (id, n) in i64_col(&a, "ps1_objid")
        .into_iter()
        .zip(i64_col(&a, "nobs_total"))
    {
        totals.insert(id, n);
    }
    assert_eq!(totals[&88472935274829959], 499);
}
