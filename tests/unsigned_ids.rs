//! Unsigned ids (issue 7, item 1): no silent wrong answers for `UInt32` ids at or above
//! 2^31 or `UInt64` ids above `i64::MAX`.
//!
//! Parquet stores `UInt32` as physical `INT32` and `UInt64` as `INT64`; footer statistics
//! read as signed made a file whose ids cross 2^31 look disjoint from the next one, so an
//! object split over two files was reported twice with no shuffle. `UInt64` ids above
//! `i64::MAX` failed as "null at row 0". Each source below holds one object split over two
//! files (and ranges crossing the sign boundary); every partitioning must give one row per
//! object, equal to the same rows in one file.

use arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, RecordBatch, StringArray, UInt32Array, UInt64Array,
};
use arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema, UInt64Type};
use lsstseries::plan::col;
use lsstseries::{ColumnMap, Ensemble, Executor, ExecutorConfig, Partitioning};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use std::fs::File;
use std::path::Path;
use std::sync::{Arc, OnceLock};

fn executor() -> Arc<Executor> {
    static EXECUTOR: OnceLock<Arc<Executor>> = OnceLock::new();
    EXECUTOR
        .get_or_init(|| Executor::new(ExecutorConfig::default().n_workers(2)).unwrap())
        .clone()
}

const OBS: usize = 8;
/// Rows per row group large enough for one group per file.
const ONE_GROUP: usize = 1 << 20;

/// Rows of `ids` (each object `OBS` observations, bands alternating g/r), sorted by id.
fn rows(ids: &[u64]) -> Vec<(u64, f64, f64, f64, &'static str)> {
    let mut out = Vec::new();
    for (k, &id) in ids.iter().enumerate() {
        for j in 0..OBS {
            let t = j as f64 * 1.7 + k as f64;
            let flux = 10.0 + (t * 0.9 + k as f64).sin() * (1.0 + k as f64 * 0.3);
            let err = 0.1 + 0.01 * j as f64;
            out.push((id, t, flux, err, if j % 2 == 0 { "g" } else { "r" }));
        }
    }
    out
}

/// Writes `rows` to `path` with the id column as `id_type`, `group` rows per row group.
fn write(path: &Path, rows: &[(u64, f64, f64, f64, &str)], id_type: &DataType, group: usize) {
    let ids: ArrayRef = match id_type {
        DataType::UInt32 => Arc::new(UInt32Array::from_iter_values(
            rows.iter().map(|r| u32::try_from(r.0).unwrap()),
        )),
        DataType::UInt64 => Arc::new(UInt64Array::from_iter_values(rows.iter().map(|r| r.0))),
        other => panic!("no writer for {other}"),
    };
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", id_type.clone(), false),
        Field::new("mjd", DataType::Float64, false),
        Field::new("flux", DataType::Float64, false),
        Field::new("flux_err", DataType::Float64, false),
        Field::new("band", DataType::Utf8, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            ids,
            Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.1))),
            Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.2))),
            Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.3))),
            Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.4))),
        ],
    )
    .unwrap();
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(group))
        .build();
    let mut w = ArrowWriter::try_new(File::create(path).unwrap(), schema, Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// A directory with the rows of `ids` split over two files after row `split` (inside a
/// lightcurve), row groups of `group` rows, and a directory with the same rows in one file
/// and one row group. With one row group per file, the footers alone must reveal the
/// split object.
fn sources(
    ids: &[u64],
    split: usize,
    id_type: &DataType,
    group: usize,
) -> (tempfile::TempDir, tempfile::TempDir) {
    let all = rows(ids);
    let (two, one) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    write(&two.path().join("a.parquet"), &all[..split], id_type, group);
    write(&two.path().join("b.parquet"), &all[split..], id_type, group);
    write(&one.path().join("all.parquet"), &all, id_type, 1 << 20);
    (two, one)
}

fn ensemble(dir: &Path, partitioning: Partitioning) -> Ensemble {
    let mut ens = Ensemble::builder().executor(executor()).build().unwrap();
    ens.from_parquet(dir, ColumnMap::generated(), partitioning)
        .unwrap();
    ens
}

fn stetson_j(ens: &Ensemble) -> RecordBatch {
    ens.batch_named("stetson_j").unwrap().compute().unwrap()
}

/// Same ids, same counts exactly; Stetson J to rounding (row order within a lightcurve
/// may differ after a shuffle).
fn assert_same(got: &RecordBatch, want: &RecordBatch, what: &str) {
    assert_eq!(got.schema(), want.schema(), "{what}: schema");
    assert_eq!(got.num_rows(), want.num_rows(), "{what}: rows");
    for (i, field) in want.schema().fields().iter().enumerate() {
        let (g, w) = (got.column(i), want.column(i));
        if field.data_type() == &DataType::Float64 {
            let (g, w) = (
                g.as_primitive::<Float64Type>(),
                w.as_primitive::<Float64Type>(),
            );
            for r in 0..w.len() {
                let (a, b) = (g.value(r), w.value(r));
                assert!(
                    (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                    "{what}: {} row {r}: {a} vs {b}",
                    field.name()
                );
            }
        } else {
            assert_eq!(g, w, "{what}: column {}", field.name());
        }
    }
}

fn partitionings() -> Vec<Partitioning> {
    vec![
        Partitioning::RowGroups,
        Partitioning::Files,
        Partitioning::Count(3),
        Partitioning::Rows(5),
        Partitioning::Count(7),
    ]
}

/// Five objects around 2^31; object 2^31 is split between the files, and file a's ids
/// cross 2^31 (its footer's i32 min is positive, its max negative).
fn u32_ids() -> Vec<u64> {
    let b = 1u64 << 31;
    vec![b - 2, b - 1, b, b + 1, b + 2]
}

#[test]
fn uint32_ids_spanning_two_files_are_one_object() {
    let ids = u32_ids();
    let (two, one) = sources(&ids, 2 * OBS + OBS / 2, &DataType::UInt32, ONE_GROUP);
    let reference = stetson_j(&ensemble(one.path(), Partitioning::RowGroups));
    assert_eq!(reference.num_rows(), ids.len());
    let got_ids = reference.column_by_name("id").unwrap();
    assert_eq!(
        got_ids.as_primitive::<Int64Type>().values(),
        &ids.iter().map(|&i| i as i64).collect::<Vec<_>>()[..]
    );

    let ens = ensemble(two.path(), Partitioning::Files);
    let frame = ens.batch_named("stetson_j").unwrap();
    let explain = frame.explain().unwrap();
    assert!(
        explain.contains("Shuffle["),
        "object 2^31 spans both files: a shuffle is needed\n{explain}"
    );
    assert_same(&frame.compute().unwrap(), &reference, "Files");
}

#[test]
fn uint32_results_do_not_depend_on_partitioning() {
    let ids = u32_ids();
    let reference = {
        let (_two, one) = sources(&ids, 2 * OBS + OBS / 2, &DataType::UInt32, ONE_GROUP);
        stetson_j(&ensemble(one.path(), Partitioning::RowGroups))
    };
    for group in [ONE_GROUP, 12, 5] {
        for split in [OBS / 2, 2 * OBS + OBS / 2, 3 * OBS] {
            let (two, one) = sources(&ids, split, &DataType::UInt32, group);
            for p in partitionings() {
                let what = format!("two files split at {split}, groups of {group}, {p}");
                assert_same(
                    &stetson_j(&ensemble(two.path(), p.clone())),
                    &reference,
                    &what,
                );
                let what = format!("one file, {p}");
                assert_same(&stetson_j(&ensemble(one.path(), p)), &reference, &what);
            }
        }
    }
}

#[test]
fn info_counts_a_split_uint32_object_once() {
    let ids = u32_ids();
    let (two, _one) = sources(&ids, 2 * OBS + OBS / 2, &DataType::UInt32, ONE_GROUP);
    let info = ensemble(two.path(), Partitioning::Files).info().unwrap();
    assert_eq!(info.object.rows, ids.len());
    let nobs = ensemble(two.path(), Partitioning::Files)
        .object_table()
        .unwrap();
    let total = nobs.column_by_name("nobs_total").unwrap();
    assert!(total
        .as_primitive::<Int64Type>()
        .values()
        .iter()
        .all(|&n| n == OBS as i64));
    let text = info.to_string();
    assert!(text.contains("ids 2147483646..2147483650"), "{text}");
}

/// Six objects: below and above i64::MAX (the sign boundary of the key) and at the top
/// of u64; object 2^63 is split between the files.
fn u64_ids() -> Vec<u64> {
    let b = 1u64 << 63;
    vec![b - 2, b - 1, b, b + 1, u64::MAX - 1, u64::MAX]
}

#[test]
fn uint64_ids_above_i64_max_give_correct_results() {
    let ids = u64_ids();
    let (two, one) = sources(&ids, 2 * OBS + OBS / 2, &DataType::UInt64, ONE_GROUP);
    let reference = stetson_j(&ensemble(one.path(), Partitioning::RowGroups));
    let got_ids = reference.column_by_name("id").unwrap();
    assert_eq!(got_ids.data_type(), &DataType::UInt64);
    assert_eq!(got_ids.as_primitive::<UInt64Type>().values(), &ids[..]);

    let ens = ensemble(two.path(), Partitioning::Files);
    let frame = ens.batch_named("stetson_j").unwrap();
    let explain = frame.explain().unwrap();
    assert!(explain.contains("Shuffle["), "{explain}");
    assert_same(&frame.compute().unwrap(), &reference, "Files");
    for group in [ONE_GROUP, 5] {
        let (two, one) = sources(&ids, 2 * OBS + OBS / 2, &DataType::UInt64, group);
        for p in partitionings() {
            let what = format!("two files, groups of {group}, {p}");
            assert_same(
                &stetson_j(&ensemble(two.path(), p.clone())),
                &reference,
                &what,
            );
            let what = format!("one file, {p}");
            assert_same(&stetson_j(&ensemble(one.path(), p)), &reference, &what);
        }
    }
}

#[test]
fn info_counts_uint64_objects_once_and_prints_their_ids() {
    let ids = u64_ids();
    let (two, _one) = sources(&ids, 2 * OBS + OBS / 2, &DataType::UInt64, ONE_GROUP);
    for p in [
        Partitioning::Files,
        Partitioning::RowGroups,
        Partitioning::Count(4),
    ] {
        let info = ensemble(two.path(), p).info().unwrap();
        assert_eq!(info.object.rows, ids.len());
        let text = info.to_string();
        let range = format!("ids {}..{}", ids[0], u64::MAX);
        assert_eq!(text.matches(&range).count(), 2, "{text}");
    }
}

#[test]
fn filtering_on_uint64_ids_is_refused_not_wrong() {
    let (two, _one) = sources(&u64_ids(), 2 * OBS + OBS / 2, &DataType::UInt64, ONE_GROUP);
    let ens = ensemble(two.path(), Partitioning::Files);
    let err = ens.source().unwrap().filter(col("id").gt(0)).unwrap_err();
    assert!(err.to_string().contains("UInt64 id column"), "{err}");
    // Other columns filter as usual.
    let kept = ens
        .source()
        .unwrap()
        .filter(col("flux").gt(0.0))
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(kept.num_rows(), u64_ids().len() * OBS);
    assert_eq!(
        kept.column_by_name("id").unwrap().data_type(),
        &DataType::UInt64
    );
}
