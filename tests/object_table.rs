//! An object table file joined on id: its numeric columns filter objects, whose sources
//! follow; counts are recomputed from the sources; mistakes in the file are named.

use arrow::array::{
    ArrayRef, AsArray, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
};
use arrow::datatypes::{DataType, Field, Int64Type, Schema};
use lsstseries::io::generate::{generate, GeneratorConfig};
use lsstseries::io::write_parquet;
use lsstseries::prelude::*;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

fn object_file(path: &Path, ids: &[i64]) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("redshift", DataType::Float64, true),
        Field::new("class", DataType::Int32, false),
        Field::new("name", DataType::Utf8, false),
    ]));
    let redshift: Vec<Option<f64>> = ids
        .iter()
        .map(|&i| {
            if i % 7 == 0 {
                None
            } else {
                Some((i % 10) as f64 / 10.0)
            }
        })
        .collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(ids.to_vec())),
        Arc::new(Float64Array::from(redshift)),
        Arc::new(Int32Array::from(
            ids.iter().map(|&i| (i % 3) as i32).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            ids.iter().map(|i| format!("obj{i}")).collect::<Vec<_>>(),
        )),
    ];
    write_parquet(path, &RecordBatch::try_new(schema, columns).unwrap()).unwrap();
}

fn ids_of(b: &RecordBatch) -> BTreeSet<i64> {
    b.column_by_name("id")
        .unwrap()
        .as_primitive::<Int64Type>()
        .values()
        .iter()
        .copied()
        .collect()
}

#[test]
fn object_columns_filter_objects_and_their_sources_follow() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("lc");
    let cfg = GeneratorConfig {
        objects: 60,
        observations: 12,
        files: 3,
        shuffle_rows: true,
        scatter: true,
        ..GeneratorConfig::default()
    };
    generate(&cfg, &data).unwrap();
    // The file lacks the first five objects (they fail every comparison: NaN).
    let in_file: Vec<i64> = (1_000_005..1_000_060).collect();
    let objects = dir.path().join("objects.parquet");
    object_file(&objects, &in_file);
    let want: BTreeSet<i64> = in_file
        .iter()
        .copied()
        .filter(|i| i % 7 != 0 && (i % 10) as f64 / 10.0 > 0.5 && i % 3 == 1)
        .collect();
    for cut in [
        Partitioning::RowGroups,
        Partitioning::Count(7),
        Partitioning::Rows(50),
    ] {
        let mut ens = Ensemble::builder().n_workers(2).build().unwrap();
        ens.from_parquet(&data, ColumnMap::generated(), cut.clone())
            .unwrap();
        let table = ens.from_parquet_objects(&objects).unwrap();
        assert_eq!(table.len(), 55);
        assert_eq!(table.skipped.len(), 1, "the string column is skipped");
        let all = ens.source().unwrap().compute().unwrap();
        let kept = ens
            .source()
            .unwrap()
            .query_objects("redshift > 0.5 and class == 1 and nobs_total >= 12")
            .unwrap()
            .compute()
            .unwrap();
        assert_eq!(ids_of(&kept), want, "{cut:?}");
        // Every source row of a kept object, and no other.
        let rows_of_kept = ids_of_rows(&all)
            .iter()
            .filter(|i| want.contains(i))
            .count();
        assert_eq!(kept.num_rows(), rows_of_kept, "{cut:?}");
        // Counts follow a source filter made before the object filter.
        let g_only = ens
            .source()
            .unwrap()
            .query("band == 'g'")
            .unwrap()
            .query_objects("nobs_total >= 12")
            .unwrap()
            .compute()
            .unwrap();
        assert_eq!(g_only.num_rows(), 0, "{cut:?}: no object has 12 g points");
    }
}

fn ids_of_rows(b: &RecordBatch) -> Vec<i64> {
    b.column_by_name("id")
        .unwrap()
        .as_primitive::<Int64Type>()
        .values()
        .to_vec()
}

#[test]
fn tape_object_file_counts_are_recomputed() {
    let mut ens = Ensemble::builder().n_workers(2).build().unwrap();
    ens.from_parquet(
        "data/tape/test_source.parquet",
        ColumnMap::tape(),
        Partitioning::size("5KB").unwrap(),
    )
    .unwrap();
    ens.from_parquet_objects("data/tape/test_object.parquet")
        .unwrap();
    let b = ens
        .source()
        .unwrap()
        .query_objects("nobs_total >= 50")
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(b.num_rows(), 1928);
}

#[test]
fn mistakes_in_the_object_file_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("lc");
    generate(
        &GeneratorConfig {
            objects: 5,
            observations: 3,
            ..GeneratorConfig::default()
        },
        &data,
    )
    .unwrap();
    let mut ens = Ensemble::builder().n_workers(1).build().unwrap();
    ens.from_parquet(&data, ColumnMap::generated(), Partitioning::RowGroups)
        .unwrap();
    let dup = dir.path().join("dup.parquet");
    object_file(&dup, &[1_000_001, 1_000_002, 1_000_001]);
    let err = ens.from_parquet_objects(&dup).unwrap_err().to_string();
    assert!(err.contains("1000001") && err.contains("twice"), "{err}");
    let other = dir.path().join("other.parquet");
    let b = lsstseries::io::source_batch(
        &ColumnMap::tape(),
        vec![1],
        vec![0.0],
        vec![1.0],
        vec![0.1],
        vec!["g"],
    )
    .unwrap();
    write_parquet(&other, &b).unwrap();
    let err = ens.from_parquet_objects(&other).unwrap_err().to_string();
    assert!(err.contains("'id'") && err.contains("ps1_objid"), "{err}");
    let err = ens
        .from_parquet_objects(dir.path().join("missing.parquet"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing.parquet"), "{err}");
    // An unknown object column fails at the call, listing what there is.
    object_file(&dup.with_file_name("ok.parquet"), &[1_000_001]);
    ens.from_parquet_objects(dup.with_file_name("ok.parquet"))
        .unwrap();
    let err = ens
        .source()
        .unwrap()
        .query_objects("redshfit > 1")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("redshfit") && err.contains("redshift"),
        "{err}"
    );
}
