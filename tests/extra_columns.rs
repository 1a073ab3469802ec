//! Functions that read source columns by name besides the five roles
//! (`LightcurveFunction::extra_columns`, `closure_function_with_columns`).
//!
//! Every result is compared exactly with a reference computed here from the same rows
//! (grouped by id in a `BTreeMap`, sorted by time), for any partition count, file split and
//! row order; the bad-value policy applies to the columns read by name as to time and flux.

use arrow::array::{
    Array, ArrayRef, AsArray, Float32Array, Float64Array, Int32Array, Int64Array, RecordBatch,
    StringArray,
};
use arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema};
use lsstseries::analysis::{closure_function_with_columns, LightcurveFunction, PerBand};
use lsstseries::io::{write_parquet, BadReason};
use lsstseries::{
    BadValues, ColumnMap, Ensemble, Error, Executor, ExecutorConfig, Partitioning, Role,
};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

fn executor() -> Arc<Executor> {
    static EXECUTOR: OnceLock<Arc<Executor>> = OnceLock::new();
    EXECUTOR
        .get_or_init(|| Executor::new(ExecutorConfig::default().n_workers(2)).unwrap())
        .clone()
}

/// One source row: the generated roles plus `airmass` (Float32, nullable) and `night`
/// (Int32).
#[derive(Clone, Debug)]
struct Row {
    id: i64,
    mjd: f64,
    flux: f64,
    band: &'static str,
    airmass: Option<f32>,
    night: i32,
}

/// Objects `1..=lens.len()`, object k with `lens[k]` rows at distinct times.
fn rows(lens: &[usize], seed: u64) -> Vec<Row> {
    let mut s = seed | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s >> 11
    };
    let mut out = Vec::new();
    for (k, &n) in lens.iter().enumerate() {
        for i in 0..n {
            let mjd = i as f64 * 1.5 + (next() % 1000) as f64 / 1024.0;
            out.push(Row {
                id: k as i64 + 1,
                mjd,
                flux: 10.0 + (next() % 4096) as f64 / 256.0,
                band: if next() % 3 == 0 { "r" } else { "g" },
                // Multiples of 1/8: exact as f32 and as f64.
                airmass: Some(1.0 + (next() % 16) as f32 / 8.0),
                night: (mjd / 4.0) as i32,
            });
        }
    }
    out
}

fn batch(rows: &[Row]) -> RecordBatch {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("mjd", DataType::Float64, false),
        Field::new("flux", DataType::Float64, false),
        Field::new("flux_err", DataType::Float64, false),
        Field::new("band", DataType::Utf8, false),
        Field::new("airmass", DataType::Float32, true),
        Field::new("night", DataType::Int32, false),
        Field::new("field_name", DataType::Utf8, false),
    ]));
    let arrays: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.id))),
        Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.mjd))),
        Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.flux))),
        Arc::new(Float64Array::from_iter_values(rows.iter().map(|_| 0.1))),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.band))),
        Arc::new(Float32Array::from_iter(rows.iter().map(|r| r.airmass))),
        Arc::new(Int32Array::from_iter_values(rows.iter().map(|r| r.night))),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| {
            if r.id % 2 == 0 {
                "even"
            } else {
                "odd"
            }
        }))),
    ];
    RecordBatch::try_new(schema, arrays).unwrap()
}

/// Writes `rows` over `files` files: row i goes to file `i % files` after the rows are put
/// in the order `order` (a permutation seed; 0 keeps them as generated).
fn write(dir: &Path, rows: &[Row], files: usize, order: u64) {
    let mut rows = rows.to_vec();
    if order != 0 {
        let mut s = order | 1;
        for i in (1..rows.len()).rev() {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            rows.swap(i, (s % (i as u64 + 1)) as usize);
        }
    }
    for f in 0..files {
        let part: Vec<Row> = rows.iter().skip(f).step_by(files).cloned().collect();
        if !part.is_empty() {
            write_parquet(dir.join(format!("part{f}.parquet")), &batch(&part)).unwrap();
        }
    }
}

fn open(dir: &Path, partitioning: Partitioning, policy: BadValues) -> Ensemble {
    let mut ens = Ensemble::builder()
        .executor(executor())
        .bad_values(policy)
        .build()
        .unwrap();
    ens.from_parquet(dir, ColumnMap::generated(), partitioning)
        .unwrap();
    ens
}

/// First airmass in time order, sum of airmass x mjd in time order, sum of nights, rows.
fn airmass_stats() -> Arc<dyn LightcurveFunction> {
    closure_function_with_columns(
        "airmass_stats",
        &[Role::Time],
        &["airmass", "night"],
        vec![
            Field::new("first_airmass", DataType::Float64, true),
            Field::new("weighted", DataType::Float64, true),
            Field::new("nights", DataType::Float64, true),
            Field::new("n", DataType::Int64, true),
        ],
        |lc, out| evaluate(lc.time, lc.column("airmass").unwrap(), lc.extra.get(1), out),
    )
}

/// The function's body, shared with the reference.
fn evaluate(time: &[f64], airmass: &[f64], night: &[f64], out: &mut Vec<f64>) {
    out.push(airmass.first().copied().unwrap_or(f64::NAN));
    out.push(airmass.iter().zip(time).map(|(a, t)| a * t).sum::<f64>());
    out.push(night.iter().sum::<f64>());
    out.push(airmass.len() as f64);
}

/// Reference: per id in id order, rows sorted by time, rows whose airmass is left out
/// removed (`drop`) or read as NaN (`keep`).
fn reference(rows: &[Row], drop_bad: bool) -> Vec<(i64, Vec<u64>)> {
    let mut by_id: BTreeMap<i64, Vec<&Row>> = BTreeMap::new();
    for r in rows {
        let bad = r.airmass.is_none_or(|a| !a.is_finite());
        if !(drop_bad && bad) {
            by_id.entry(r.id).or_default().push(r);
        }
    }
    by_id
        .into_iter()
        .map(|(id, mut rs)| {
            rs.sort_by(|a, b| a.mjd.total_cmp(&b.mjd));
            let time: Vec<f64> = rs.iter().map(|r| r.mjd).collect();
            let air: Vec<f64> = rs
                .iter()
                .map(|r| r.airmass.map_or(f64::NAN, f64::from))
                .collect();
            let night: Vec<f64> = rs.iter().map(|r| r.night as f64).collect();
            let mut out = Vec::new();
            evaluate(&time, &air, &night, &mut out);
            // The count column is Int64.
            let n = out.pop().unwrap();
            let mut bits: Vec<u64> = out.iter().map(|v| v.to_bits()).collect();
            bits.push(n as i64 as u64);
            (id, bits)
        })
        .collect()
}

fn result_rows(out: &RecordBatch) -> Vec<(i64, Vec<u64>)> {
    let ids = out.column(0).as_primitive::<Int64Type>();
    (0..out.num_rows())
        .map(|i| {
            let mut bits = Vec::new();
            for c in 1..out.num_columns() {
                let col = out.column(c);
                bits.push(match col.data_type() {
                    DataType::Float64 => col.as_primitive::<Float64Type>().value(i).to_bits(),
                    _ => col.as_primitive::<Int64Type>().value(i) as u64,
                });
            }
            (ids.value(i), bits)
        })
        .collect()
}

#[test]
fn reads_numeric_columns_by_name_in_time_order() {
    let dir = tempfile::tempdir().unwrap();
    let rows = rows(&[5, 1, 12, 7, 3], 11);
    write(dir.path(), &rows, 2, 99);
    let ens = open(dir.path(), Partitioning::Count(3), BadValues::Drop);
    let frame = ens.source().unwrap().batch(airmass_stats()).unwrap();
    let schema = frame.schema().unwrap();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["id", "first_airmass", "weighted", "nights", "n"]);
    let out = frame.compute().unwrap();
    assert_eq!(result_rows(&out), reference(&rows, true));
}

#[test]
fn explain_names_the_columns_read_and_the_scan_decodes_them() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &rows(&[3, 4], 5), 1, 0);
    let ens = open(dir.path(), Partitioning::RowGroups, BadValues::Drop);
    let text = ens
        .source()
        .unwrap()
        .batch(airmass_stats())
        .unwrap()
        .explain()
        .unwrap();
    assert!(
        text.contains("Apply[airmass_stats reading [airmass, night]]"),
        "{text}"
    );
    // The scan decodes the id, time and both columns read by name, nothing else.
    assert!(
        text.contains("scan decodes 4 of 8 columns [id, mjd, airmass, night]"),
        "{text}"
    );
}

#[test]
fn per_band_hands_each_band_its_rows_of_the_columns_read_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let rows = rows(&[6, 9, 4], 3);
    write(dir.path(), &rows, 2, 7);
    let ens = open(dir.path(), Partitioning::Count(2), BadValues::Drop);
    let f = closure_function_with_columns(
        "sum_airmass",
        &[],
        &["airmass"],
        vec![Field::new("sum_airmass", DataType::Float64, true)],
        |lc, out| out.push(lc.column("airmass").unwrap().iter().sum::<f64>()),
    );
    let per_band = Arc::new(PerBand::new(f).unwrap());
    let out = ens
        .source()
        .unwrap()
        .batch(per_band)
        .unwrap()
        .compute()
        .unwrap();
    let mut want: BTreeMap<(i64, &str), f64> = BTreeMap::new();
    for r in &rows {
        *want.entry((r.id, r.band)).or_insert(0.0) += r.airmass.unwrap() as f64;
    }
    let ids = out.column(0).as_primitive::<Int64Type>();
    for (c, band) in [(1, "g"), (2, "r")] {
        let got = out.column(c).as_primitive::<Float64Type>();
        for i in 0..out.num_rows() {
            // Sums of multiples of 1/8 are exact in any order.
            match want.get(&(ids.value(i), band)) {
                Some(w) => assert_eq!(got.value(i), *w, "object {} band {band}", ids.value(i)),
                None => assert!(got.value(i).is_nan()),
            }
        }
    }
}

#[test]
fn an_unknown_column_fails_at_batch_naming_it_and_what_there_is() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &rows(&[3], 1), 1, 0);
    let ens = open(dir.path(), Partitioning::RowGroups, BadValues::Drop);
    let f = closure_function_with_columns(
        "seeing_mean",
        &[],
        &["seeing"],
        vec![Field::new("m", DataType::Float64, true)],
        |_, out| out.push(0.0),
    );
    match ens.source().unwrap().batch(f).unwrap_err() {
        Error::UnknownColumn {
            column, available, ..
        } => {
            assert_eq!(column, "seeing");
            assert!(available.contains(&"airmass".to_string()), "{available:?}");
        }
        other => panic!("{other}"),
    }
    // A column dropped by select() is unknown the same way.
    let selected = ens
        .source()
        .unwrap()
        .select(&["id", "mjd", "flux", "flux_err", "band"])
        .unwrap();
    match selected.batch(airmass_stats()).unwrap_err() {
        Error::UnknownColumn {
            column, available, ..
        } => {
            assert_eq!(column, "airmass");
            assert_eq!(available, ["id", "mjd", "flux", "flux_err", "band"]);
        }
        other => panic!("{other}"),
    }
}

#[test]
fn a_string_column_read_by_name_fails_at_batch_naming_its_type() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &rows(&[3], 1), 1, 0);
    let ens = open(dir.path(), Partitioning::RowGroups, BadValues::Drop);
    let f = closure_function_with_columns(
        "by_field",
        &[],
        &["field_name"],
        vec![Field::new("m", DataType::Float64, true)],
        |_, out| out.push(0.0),
    );
    let e = ens.source().unwrap().batch(f).unwrap_err();
    assert!(matches!(e, Error::ColumnType { .. }), "{e}");
    let msg = e.to_string();
    assert!(
        msg.contains("'field_name'") && msg.contains("Utf8"),
        "{msg}"
    );
}

/// Rows with a NaN, a null and an infinite airmass, one each, in objects 1, 2 and 3.
fn with_bad_airmass() -> Vec<Row> {
    let mut rows = rows(&[4, 5, 3, 2], 21);
    rows[1].airmass = Some(f32::NAN);
    rows[5].airmass = None;
    rows[9].airmass = Some(f32::INFINITY);
    rows
}

#[test]
fn bad_values_in_a_column_read_by_name_are_dropped_and_counted_under_its_name() {
    let dir = tempfile::tempdir().unwrap();
    let rows = with_bad_airmass();
    write(dir.path(), &rows, 2, 3);
    let ens = open(dir.path(), Partitioning::Count(3), BadValues::Drop);
    let (out, metrics) = ens
        .source()
        .unwrap()
        .batch(airmass_stats())
        .unwrap()
        .compute_with_metrics()
        .unwrap();
    assert_eq!(result_rows(&out), reference(&rows, true));
    let counts = &metrics.bad_values;
    assert_eq!(counts.rows(), 3, "{counts}");
    assert_eq!(counts.get("airmass", BadReason::NaN), 1);
    assert_eq!(counts.get("airmass", BadReason::Null), 1);
    assert_eq!(counts.get("airmass", BadReason::Inf), 1);
    // A function that does not read airmass sees every row.
    let (nobs, metrics) = ens
        .source()
        .unwrap()
        .batch_named("nobs")
        .unwrap()
        .compute_with_metrics()
        .unwrap();
    assert!(metrics.bad_values.is_empty());
    let total = nobs.column_by_name("nobs_total").unwrap();
    let total: i64 = total.as_primitive::<Int64Type>().values().iter().sum();
    assert_eq!(total as usize, rows.len());
}

#[test]
fn keep_hands_bad_values_in_a_column_read_by_name_to_the_function() {
    let dir = tempfile::tempdir().unwrap();
    let rows = with_bad_airmass();
    write(dir.path(), &rows, 1, 0);
    let ens = open(dir.path(), Partitioning::Count(2), BadValues::Keep);
    let (out, metrics) = ens
        .source()
        .unwrap()
        .batch(airmass_stats())
        .unwrap()
        .compute_with_metrics()
        .unwrap();
    assert_eq!(result_rows(&out), reference(&rows, false));
    assert!(metrics.bad_values.is_empty());
}

#[test]
fn reject_names_file_row_object_and_column_read_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let mut rows = rows(&[4, 5], 21);
    rows[6].airmass = Some(f32::NAN);
    write(dir.path(), &rows, 1, 0);
    let ens = open(dir.path(), Partitioning::RowGroups, BadValues::Reject);
    let e = ens
        .source()
        .unwrap()
        .batch(airmass_stats())
        .unwrap()
        .compute()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("part0.parquet")
            && e.contains("column 'airmass'")
            && e.contains("row 6")
            && e.contains("object 2"),
        "{e}"
    );
    // Without a function reading it, airmass is not checked.
    assert!(ens
        .source()
        .unwrap()
        .batch_named("nobs")
        .unwrap()
        .compute()
        .is_ok());
    // A null is refused as well.
    let dir = tempfile::tempdir().unwrap();
    rows[6].airmass = None;
    write(dir.path(), &rows, 1, 0);
    let ens = open(dir.path(), Partitioning::RowGroups, BadValues::Reject);
    let e = ens
        .source()
        .unwrap()
        .batch(airmass_stats())
        .unwrap()
        .compute()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("'airmass'") && e.contains("null at row 6"),
        "{e}"
    );
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// The same answer, equal to the reference, for any file split, row order and
    /// partition count.
    #[test]
    fn any_partitioning_gives_the_reference(
        lens in prop::collection::vec(1usize..20, 1..8),
        seed in 1u64..1000,
        files in 1usize..4,
        order in 0u64..1000,
        parts in 1usize..9,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let rows = rows(&lens, seed);
        write(dir.path(), &rows, files, order);
        let ens = open(dir.path(), Partitioning::Count(parts), BadValues::Drop);
        let out = ens.source().unwrap().batch(airmass_stats()).unwrap().compute().unwrap();
        prop_assert_eq!(result_rows(&out), reference(&rows, true));
    }
}
