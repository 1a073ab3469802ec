//! Files whose schemas differ by extra columns, column order or a widened numeric type are
//! one source: missing columns read as null, narrow types widen; anything else is refused,
//! naming the column and both types.

use arrow::array::{ArrayRef, Float32Array, Float64Array, Int32Array, Int64Array, RecordBatch};
use arrow::array::{StringArray, UInt64Array};
use arrow::datatypes::DataType;
use lsstseries::prelude::*;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

fn write(path: &Path, columns: Vec<(&str, ArrayRef)>) {
    let batch = RecordBatch::try_from_iter(columns).unwrap();
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(16))
        .build();
    let mut w =
        ArrowWriter::try_new(File::create(path).unwrap(), batch.schema(), Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// Rows of objects `first..first + n`, 10 observations each.
fn values(first: i64, n: i64) -> (Vec<i64>, Vec<f64>, Vec<f64>, Vec<&'static str>) {
    let ids: Vec<i64> = (0..n * 10).map(|r| first + r / 10).collect();
    let t: Vec<f64> = (0..n * 10).map(|r| r as f64 * 0.5).collect();
    let f: Vec<f64> = (0..n * 10)
        .map(|r| 10.0 + ((r * 7) % 5) as f64 * 0.25)
        .collect();
    let b: Vec<&str> = (0..n * 10).map(|r| ["g", "r"][(r % 2) as usize]).collect();
    (ids, t, f, b)
}

/// File A: narrow types, `extra1` Int32; file B: wide types, another column order,
/// `extra1` Int64 and `extra2` only here. Also the same rows in one wide file.
fn dataset(dir: &Path) {
    std::fs::create_dir_all(dir.join("mixed")).unwrap();
    let (ids, t, f, b) = values(1, 4);
    let n = ids.len();
    write(
        &dir.join("mixed/a.parquet"),
        vec![
            (
                "id",
                Arc::new(Int32Array::from_iter_values(ids.iter().map(|&i| i as i32))) as ArrayRef,
            ),
            (
                "mjd",
                Arc::new(Float32Array::from_iter_values(t.iter().map(|&x| x as f32))),
            ),
            ("flux", Arc::new(Float64Array::from(f.clone()))),
            ("flux_err", Arc::new(Float64Array::from(vec![0.1; n]))),
            ("band", Arc::new(StringArray::from(b.clone()))),
            (
                "extra1",
                Arc::new(Int32Array::from_iter_values((0..n as i32).map(|i| i * 3))),
            ),
        ],
    );
    let (ids2, t2, f2, b2) = values(100, 3);
    let n2 = ids2.len();
    write(
        &dir.join("mixed/b.parquet"),
        vec![
            ("band", Arc::new(StringArray::from(b2.clone())) as ArrayRef),
            (
                "extra2",
                Arc::new(StringArray::from_iter_values(
                    (0..n2).map(|i| format!("x{}", i % 3)),
                )),
            ),
            ("id", Arc::new(Int64Array::from(ids2.clone()))),
            ("flux", Arc::new(Float64Array::from(f2.clone()))),
            ("flux_err", Arc::new(Float64Array::from(vec![0.1; n2]))),
            ("mjd", Arc::new(Float64Array::from(t2.clone()))),
            (
                "extra1",
                Arc::new(Int64Array::from_iter_values(
                    (0..n2 as i64).map(|i| 1000 + i),
                )),
            ),
        ],
    );
    // The reference: every row in one file, wide types, A's missing extra2 as null.
    let all_ids: Vec<i64> = ids.iter().chain(&ids2).copied().collect();
    let all_t: Vec<f64> = t
        .iter()
        .map(|&x| x as f32 as f64)
        .chain(t2.iter().copied())
        .collect();
    let all_f: Vec<f64> = f.iter().chain(&f2).copied().collect();
    let all_b: Vec<&str> = b.iter().chain(&b2).copied().collect();
    let extra1: Vec<i64> = (0..n as i64)
        .map(|i| i * 3)
        .chain((0..n2 as i64).map(|i| 1000 + i))
        .collect();
    let extra2: Vec<Option<String>> = std::iter::repeat_n(None, n)
        .chain((0..n2).map(|i| Some(format!("x{}", i % 3))))
        .collect();
    std::fs::create_dir_all(dir.join("wide")).unwrap();
    write(
        &dir.join("wide/all.parquet"),
        vec![
            ("id", Arc::new(Int64Array::from(all_ids)) as ArrayRef),
            ("mjd", Arc::new(Float64Array::from(all_t))),
            ("flux", Arc::new(Float64Array::from(all_f))),
            ("flux_err", Arc::new(Float64Array::from(vec![0.1; n + n2]))),
            ("band", Arc::new(StringArray::from(all_b))),
            ("extra1", Arc::new(Int64Array::from(extra1))),
            ("extra2", Arc::new(StringArray::from(extra2))),
        ],
    );
}

fn open(path: &Path) -> Result<Ensemble> {
    let mut ens = Ensemble::builder().n_workers(2).build()?;
    ens.from_parquet(path, ColumnMap::generated(), Partitioning::RowGroups)?;
    Ok(ens)
}

#[test]
fn mixed_files_read_as_the_wide_file() {
    let dir = tempfile::tempdir().unwrap();
    dataset(dir.path());
    let (mixed, wide) = (
        open(&dir.path().join("mixed")).unwrap(),
        open(&dir.path().join("wide")).unwrap(),
    );
    let schema = mixed.source_table().unwrap().schema.clone();
    assert_eq!(
        schema.field_with_name("extra1").unwrap().data_type(),
        &DataType::Int64
    );
    assert!(schema.field_with_name("extra2").unwrap().is_nullable());
    let cols = ["id", "mjd", "flux", "band", "extra1", "extra2"];
    assert_eq!(
        mixed
            .source()
            .unwrap()
            .select(&cols)
            .unwrap()
            .compute()
            .unwrap(),
        wide.source()
            .unwrap()
            .select(&cols)
            .unwrap()
            .compute()
            .unwrap()
    );
    for name in ["stetson_j", "nobs"] {
        assert_eq!(
            mixed.batch_named(name).unwrap().compute().unwrap(),
            wide.batch_named(name).unwrap().compute().unwrap()
        );
    }
    // Filters on the extra columns (pushed into the scan where statistics exist).
    for q in [
        "extra2 == 'x1'",
        "extra1 > 20 and extra1 < 1010",
        "extra2 is null",
    ] {
        let f = |e: &Ensemble| {
            e.source()
                .unwrap()
                .query(q)
                .unwrap()
                .select(&cols)
                .unwrap()
                .compute()
                .unwrap()
        };
        let got = f(&mixed);
        assert!(got.num_rows() > 0, "{q}");
        assert_eq!(got, f(&wide), "{q}");
    }
    // Only a missing column selected: nulls, one per row.
    let only = mixed
        .source()
        .unwrap()
        .select(&["extra2"])
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(only.num_rows(), 70);
}

#[test]
fn incompatible_types_are_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    dataset(dir.path());
    let (ids, t, f, b) = values(500, 1);
    let n = ids.len();
    write(
        &dir.path().join("mixed/c.parquet"),
        vec![
            ("id", Arc::new(Int64Array::from(ids.clone())) as ArrayRef),
            ("mjd", Arc::new(Float64Array::from(t.clone()))),
            ("flux", Arc::new(Float64Array::from(f.clone()))),
            ("flux_err", Arc::new(Float64Array::from(vec![0.1; n]))),
            ("band", Arc::new(StringArray::from(b.clone()))),
            ("extra1", Arc::new(StringArray::from(vec!["text"; n]))),
        ],
    );
    let err = open(&dir.path().join("mixed")).unwrap_err().to_string();
    assert!(
        err.contains("extra1") && err.contains("Utf8") && err.contains("c.parquet"),
        "{err}"
    );
    std::fs::remove_file(dir.path().join("mixed/c.parquet")).unwrap();
    // Unsigned 64-bit ids beside signed ones would not share one key space.
    write(
        &dir.path().join("mixed/d.parquet"),
        vec![
            (
                "id",
                Arc::new(UInt64Array::from_iter_values(ids.iter().map(|&i| i as u64))) as ArrayRef,
            ),
            ("mjd", Arc::new(Float64Array::from(t))),
            ("flux", Arc::new(Float64Array::from(f))),
            ("flux_err", Arc::new(Float64Array::from(vec![0.1; n]))),
            ("band", Arc::new(StringArray::from(b))),
        ],
    );
    let err = open(&dir.path().join("mixed")).unwrap_err().to_string();
    assert!(err.contains("'id'") && err.contains("UInt64"), "{err}");
}
