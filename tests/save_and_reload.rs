//! `to_parquet` (a directory of parts that appear together) and `save_ensemble` /
//! `from_ensemble` (both tables, column map, bands, policy and partitioning round-trip).

use arrow::array::{Array, ArrayRef, Float64Array, RecordBatch, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};
use lsstseries::io::IfExists;
use lsstseries::prelude::*;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

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

fn read_parts(dir: &Path) -> Vec<RecordBatch> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with("part-") && name.ends_with(".parquet"),
            "stray {name}"
        );
        let reader = ParquetRecordBatchReaderBuilder::try_new(File::open(&f).unwrap())
            .unwrap()
            .build()
            .unwrap();
        out.extend(reader.map(|b| b.unwrap()));
    }
    out
}

fn concat(batches: &[RecordBatch]) -> RecordBatch {
    arrow::compute::concat_batches(&batches[0].schema(), batches).unwrap()
}

#[test]
fn to_parquet_writes_one_part_per_partition_and_reads_back() {
    let ens = tape(Partitioning::Count(5));
    let frame = ens.source().unwrap().query("psFlux > 18").unwrap();
    let want = frame.compute().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bright");
    let (files, rows) = frame.to_parquet(&out, IfExists::Refuse).unwrap();
    assert_eq!(rows as usize, want.num_rows());
    assert!(files.len() > 1 && files.len() <= 5, "{files:?}");
    // Read back through the engine: the same rows in id order.
    let mut again = Ensemble::builder().n_workers(2).build().unwrap();
    again
        .from_parquet(&out, ColumnMap::tape(), Partitioning::RowGroups)
        .unwrap();
    assert_eq!(again.source().unwrap().compute().unwrap(), want);
    // A second write is refused without Replace, and leaves nothing behind.
    let err = frame.to_parquet(&out, IfExists::Refuse).unwrap_err();
    assert!(
        err.to_string().contains("already holds Parquet files"),
        "{err}"
    );
    assert_eq!(
        read_parts(&out).iter().map(|b| b.num_rows()).sum::<usize>(),
        rows as usize
    );
    // Replace with fewer parts: old parts beyond the new count are gone.
    let (files2, _) = ens
        .source()
        .unwrap()
        .query("psFlux > 18")
        .unwrap()
        .to_parquet(&out, IfExists::Replace)
        .unwrap();
    assert_eq!(files2.len(), files.len());
    let (one, rows1) = tape(Partitioning::Count(1))
        .source()
        .unwrap()
        .to_parquet(&out, IfExists::Replace)
        .unwrap();
    assert_eq!((one.len(), rows1), (1, 2000));
    assert_eq!(
        read_parts(&out).iter().map(|b| b.num_rows()).sum::<usize>(),
        2000
    );
}

#[test]
fn to_parquet_refuses_to_mix_with_foreign_files() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        "data/tape/test_source.parquet",
        dir.path().join("theirs.parquet"),
    )
    .unwrap();
    let frame = tape(Partitioning::Count(2)).source().unwrap();
    for mode in [IfExists::Refuse, IfExists::Replace] {
        let err = frame.to_parquet(dir.path(), mode).unwrap_err();
        assert!(err.to_string().contains("theirs.parquet"), "{err}");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn a_failing_frame_leaves_no_parts() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x");
    let frame = tape(Partitioning::Count(4))
        .source()
        .unwrap()
        .map(lsstseries::plan::MapFunction::new(
            "fail_late",
            vec![],
            |b| {
                // Only the last partition fails, after the first ones were written.
                let ids = b.column_by_name("ps1_objid").unwrap();
                let ids = ids
                    .as_any()
                    .downcast_ref::<arrow::array::Int64Array>()
                    .unwrap();
                if ids.values().contains(&88480001353815785) {
                    Err(Error::InvalidData("a partition went wrong".into()))
                } else {
                    Ok(b.clone())
                }
            },
        ))
        .unwrap();
    assert!(frame.to_parquet(&out, IfExists::Refuse).is_err());
    // Neither parts nor their temporary files remain.
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 0);
}

#[test]
fn shuffled_results_are_written_in_id_order() {
    let ens = tape(Partitioning::size("5KB").unwrap());
    let frame = ens
        .batch_named_with("stetson_j", BatchMode::Grouped)
        .unwrap();
    let want = frame.compute().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (files, rows) = frame.to_parquet(dir.path(), IfExists::Refuse).unwrap();
    assert_eq!((files.len(), rows), (1, 15));
    assert_eq!(concat(&read_parts(dir.path())), want);
}

#[test]
fn an_ensemble_round_trips_with_its_object_file_and_settings() {
    let mut ens = Ensemble::builder()
        .n_workers(2)
        .bad_values(BadValues::Keep)
        .build()
        .unwrap();
    ens.from_parquet(
        "data/tape/test_source.parquet",
        ColumnMap::tape(),
        Partitioning::size("5KB").unwrap(),
    )
    .unwrap();
    ens.from_parquet_objects("data/tape/test_object.parquet")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        ens.save_ensemble(dir.path(), IfExists::Refuse).unwrap(),
        2000
    );
    let mut again = Ensemble::builder().n_workers(2).build().unwrap();
    again.from_ensemble(dir.path()).unwrap();
    let (a, b) = (ens.source_table().unwrap(), again.source_table().unwrap());
    assert_eq!(a.columns, b.columns);
    assert_eq!(a.bands, b.bands);
    assert_eq!(a.partitioning, b.partitioning);
    assert_eq!(b.bad_values, BadValues::Keep);
    for name in ["stetson_j", "nobs", "features"] {
        assert_eq!(
            ens.batch_named(name).unwrap().compute().unwrap(),
            again.batch_named(name).unwrap().compute().unwrap(),
            "{name}"
        );
    }
    // The object file came along: object filters give the same sources.
    let q = "nobs_total >= 50";
    assert_eq!(
        ens.source()
            .unwrap()
            .query_objects(q)
            .unwrap()
            .compute()
            .unwrap(),
        again
            .source()
            .unwrap()
            .query_objects(q)
            .unwrap()
            .compute()
            .unwrap()
    );
    // Saving again over it needs Replace.
    assert!(ens.save_ensemble(dir.path(), IfExists::Refuse).is_err());
    ens.save_ensemble(dir.path(), IfExists::Replace).unwrap();
}

#[test]
fn unsigned_ids_above_i64_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    std::fs::create_dir(&src).unwrap();
    let ids: Vec<u64> = (0..6u64).map(|k| u64::MAX - 100 + k * 7).collect();
    let n = ids.len() * 5;
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::UInt64, false),
        Field::new("mjd", DataType::Float64, false),
        Field::new("flux", DataType::Float64, false),
        Field::new("flux_err", DataType::Float64, false),
        Field::new("band", DataType::Utf8, false),
    ]));
    let cols: Vec<ArrayRef> = vec![
        Arc::new(UInt64Array::from_iter_values(
            ids.iter().flat_map(|&i| std::iter::repeat_n(i, 5)),
        )),
        Arc::new(Float64Array::from_iter_values((0..n).map(|i| i as f64))),
        Arc::new(Float64Array::from_iter_values(
            (0..n).map(|i| 10.0 + (i % 3) as f64),
        )),
        Arc::new(Float64Array::from_iter_values((0..n).map(|_| 0.1))),
        Arc::new(StringArray::from_iter_values(
            (0..n).map(|i| ["g", "r"][i % 2]),
        )),
    ];
    let batch = RecordBatch::try_new(schema.clone(), cols).unwrap();
    let mut w =
        ArrowWriter::try_new(File::create(src.join("a.parquet")).unwrap(), schema, None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let mut ens = Ensemble::builder().n_workers(2).build().unwrap();
    ens.from_parquet(&src, ColumnMap::generated(), Partitioning::Count(3))
        .unwrap();
    let saved = dir.path().join("saved");
    ens.save_ensemble(&saved, IfExists::Refuse).unwrap();
    let parts = concat(&read_parts(&saved.join("source")));
    assert_eq!(parts.column(0).data_type(), &DataType::UInt64);
    let mut again = Ensemble::builder().n_workers(2).build().unwrap();
    again.from_ensemble(&saved).unwrap();
    let (x, y) = (
        ens.batch_named("stetson_j").unwrap().compute().unwrap(),
        again.batch_named("stetson_j").unwrap().compute().unwrap(),
    );
    assert_eq!(x, y);
    assert_eq!(y.column(0).len(), 6);
}

#[test]
fn a_damaged_save_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut ens = Ensemble::builder().n_workers(1).build().unwrap();
    let err = ens.from_ensemble(dir.path()).unwrap_err();
    assert!(err.to_string().contains("ensemble.json"), "{err}");
    std::fs::write(dir.path().join("ensemble.json"), "{\"format\": 3}").unwrap();
    let err = ens.from_ensemble(dir.path()).unwrap_err();
    assert!(err.to_string().contains("not a saved ensemble"), "{err}");
    std::fs::write(dir.path().join("ensemble.json"), "{truncated").unwrap();
    let err = ens.from_ensemble(dir.path()).unwrap_err();
    assert!(err.to_string().contains("not JSON"), "{err}");
}

#[test]
fn persist_materialises_once_and_gives_the_same_answers() {
    let ens = tape(Partitioning::size("5KB").unwrap());
    let frame = ens
        .source()
        .unwrap()
        .query("psFluxErr < 0.1")
        .unwrap()
        .convert_flux_to_mag(ZeroPoint::Mag(31.4))
        .unwrap();
    let persisted = frame.persist().unwrap();
    assert_eq!(persisted.compute().unwrap(), frame.compute().unwrap());
    for name in ["stetson_j", "nobs"] {
        assert_eq!(
            persisted.batch_named(name).unwrap().compute().unwrap(),
            frame.batch_named(name).unwrap().compute().unwrap(),
            "{name}"
        );
    }
    // Written in id order: whole lightcurves, so no shuffle is planned on it.
    let text = persisted
        .batch_named_with("stetson_j", BatchMode::Auto)
        .unwrap()
        .explain()
        .unwrap();
    assert!(!text.contains("Shuffle["), "{text}");
    let dir = match persisted
        .logical_plan()
        .node(persisted.logical_plan().root())
    {
        lsstseries::plan::PlanNode::Scan(s) => {
            s.source.files[0].path.parent().unwrap().to_path_buf()
        }
        other => panic!("{}", other.title()),
    };
    assert!(dir.exists());
    drop(persisted);
    assert!(!dir.exists());
    // A batch result has no lightcurve columns to persist as a source.
    assert!(ens.batch_named("stetson_j").unwrap().persist().is_err());
}
