//! Sources given from memory (`from_batches`, `from_source_dict`) behave like the same rows
//! read from Parquet, and their scratch files live exactly as long as a frame needs them.

use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use lsstseries::prelude::*;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::fs::File;
use std::sync::Arc;

fn tape_batches(rows_per_batch: usize) -> Vec<RecordBatch> {
    ParquetRecordBatchReaderBuilder::try_new(File::open("data/tape/test_source.parquet").unwrap())
        .unwrap()
        .with_batch_size(rows_per_batch)
        .build()
        .unwrap()
        .map(|b| b.unwrap())
        .collect()
}

fn ensemble() -> Ensemble {
    Ensemble::builder().n_workers(2).build().unwrap()
}

#[test]
fn batches_give_the_same_results_as_the_file() {
    let mut file = ensemble();
    file.from_parquet(
        "data/tape/test_source.parquet",
        ColumnMap::tape(),
        Partitioning::Count(3),
    )
    .unwrap();
    for rows_per_batch in [2000, 333, 7] {
        let mut mem = ensemble();
        mem.from_batches(
            &tape_batches(rows_per_batch),
            ColumnMap::tape(),
            Partitioning::Count(5),
        )
        .unwrap();
        for name in ["stetson_j", "nobs", "features"] {
            assert_eq!(
                file.batch_named(name).unwrap().compute().unwrap(),
                mem.batch_named(name).unwrap().compute().unwrap(),
                "{name} with batches of {rows_per_batch}"
            );
        }
        assert_eq!(mem.find_day_gap_offset().unwrap(), 0.7916666666666666);
    }
}

#[test]
fn columns_like_tapes_source_dict() {
    let mut ens = ensemble();
    ens.from_source_dict(
        vec![
            (
                "id",
                Arc::new(Int64Array::from(vec![8, 8, 8, 3, 3])) as ArrayRef,
            ),
            (
                "mjd",
                Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0, 1.0, 2.0])),
            ),
            (
                "flux",
                Arc::new(Float64Array::from(vec![10.0, f64::NAN, 12.0, 5.0, 5.5])),
            ),
            (
                "flux_err",
                Arc::new(Float64Array::from(vec![0.1, 0.1, 0.1, 0.2, 0.2])),
            ),
            (
                "band",
                Arc::new(StringArray::from(vec!["g", "g", "r", "r", "r"])),
            ),
        ],
        ColumnMap::generated(),
        Partitioning::RowGroups,
    )
    .unwrap();
    let (sj, metrics) = ens
        .batch_named("stetson_j")
        .unwrap()
        .compute_with_metrics()
        .unwrap();
    assert_eq!(sj.num_rows(), 2);
    // The NaN flux was left out, and counted.
    assert_eq!(metrics.bad_values.rows(), 1);
    let err = ens
        .from_source_dict(
            vec![
                ("id", Arc::new(Int64Array::from(vec![1])) as ArrayRef),
                ("mjd", Arc::new(Float64Array::from(vec![1.0, 2.0]))),
            ],
            ColumnMap::generated(),
            Partitioning::RowGroups,
        )
        .unwrap_err();
    assert!(err.to_string().contains("from_source_dict"), "{err}");
}

#[test]
fn bad_input_is_named() {
    let mut ens = ensemble();
    let err = ens
        .from_batches(&[], ColumnMap::tape(), Partitioning::RowGroups)
        .unwrap_err();
    assert!(err.to_string().contains("no record batches"), "{err}");
    let mut batches = tape_batches(1000);
    batches[1] = batches[1].project(&[0, 1, 2, 3]).unwrap();
    let err = ens
        .from_batches(&batches, ColumnMap::tape(), Partitioning::RowGroups)
        .unwrap_err();
    assert!(err.to_string().contains("batch 1"), "{err}");
    // A missing mapped column is reported as for a file.
    let err = ens
        .from_batches(
            &tape_batches(2000),
            ColumnMap::generated(),
            Partitioning::RowGroups,
        )
        .unwrap_err();
    assert!(err.to_string().contains("flux_err"), "{err}");
}

#[test]
fn scratch_files_live_as_long_as_a_frame_needs_them() {
    let mut ens = ensemble();
    ens.from_batches(
        &tape_batches(500),
        ColumnMap::tape(),
        Partitioning::Count(4),
    )
    .unwrap();
    let dir = ens.source_table().unwrap().files[0]
        .path
        .parent()
        .unwrap()
        .to_path_buf();
    assert!(dir.exists());
    let frame = ens.batch_named("stetson_j").unwrap();
    // A repartitioned source keeps the files too.
    ens.repartition(Partitioning::Count(2)).unwrap();
    drop(ens);
    assert!(dir.exists());
    assert_eq!(frame.compute().unwrap().num_rows(), 15);
    drop(frame);
    assert!(!dir.exists(), "{} left behind", dir.display());
}
