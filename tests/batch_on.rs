//! `Frame::batch_on`: a function evaluated once per object and combination of key column
//! values, rows `(id, keys..., outputs...)` ordered by id then keys (nulls last).
//!
//! Results are compared exactly with a reference grouped here with a `BTreeMap` from the
//! same rows, for any partition count, file split and row order.

use arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
};
use arrow::datatypes::{DataType, Field, Float64Type, Int32Type, Int64Type, Schema};
use lsstseries::analysis::{
    closure_function, closure_function_with_columns, LightcurveFunction, Rows,
};
use lsstseries::io::write_parquet;
use lsstseries::lightcurve::LightcurveView;
use lsstseries::{
    BatchMode, ColumnMap, Ensemble, Error, Executor, ExecutorConfig, Partitioning, Role,
};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, OnceLock};

fn executor() -> Arc<Executor> {
    static EXECUTOR: OnceLock<Arc<Executor>> = OnceLock::new();
    EXECUTOR
        .get_or_init(|| Executor::new(ExecutorConfig::default().n_workers(2)).unwrap())
        .clone()
}

#[derive(Clone, Debug)]
struct Row {
    id: i64,
    mjd: f64,
    flux: f64,
    band: &'static str,
    /// Null for some rows: a null key is a group of its own, sorted last.
    night: Option<i32>,
}

/// Objects `1..=lens.len()` (ids scrambled so id order is not file order), distinct times.
fn rows(lens: &[usize], seed: u64, nulls: bool) -> Vec<Row> {
    let mut s = seed | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s >> 11
    };
    let mut out = Vec::new();
    for (k, &n) in lens.iter().enumerate() {
        let id = (k as i64 * 7919) % 1000 + 1;
        for i in 0..n {
            let mjd = i as f64 * 0.75 + (next() % 512) as f64 / 1024.0;
            let null = nulls && next() % 5 == 0;
            out.push(Row {
                id,
                mjd,
                flux: 10.0 + (next() % 4096) as f64 / 256.0,
                band: ["g", "r", "i"][(next() % 3) as usize],
                night: (!null).then_some(3 - (mjd / 2.0) as i32),
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
        Field::new("night", DataType::Int32, true),
    ]));
    let arrays: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(rows.iter().map(|r| r.id))),
        Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.mjd))),
        Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.flux))),
        Arc::new(Float64Array::from_iter_values(rows.iter().map(|_| 0.25))),
        Arc::new(StringArray::from_iter_values(rows.iter().map(|r| r.band))),
        Arc::new(Int32Array::from_iter(rows.iter().map(|r| r.night))),
    ];
    RecordBatch::try_new(schema, arrays).unwrap()
}

/// `rows` shuffled by `order` (0: as generated) and dealt over `files` files.
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

fn open(dir: &Path, partitioning: Partitioning) -> Ensemble {
    let mut ens = Ensemble::builder().executor(executor()).build().unwrap();
    ens.from_parquet(dir, ColumnMap::generated(), partitioning)
        .unwrap();
    ens
}

/// The function's body, shared with the reference: flux-weighted mean time (in time
/// order) and the number of rows.
fn evaluate(time: &[f64], flux: &[f64], out: &mut Vec<f64>) {
    let w: f64 = flux.iter().sum();
    out.push(time.iter().zip(flux).map(|(t, f)| t * f).sum::<f64>() / w);
    out.push(time.len() as f64);
}

fn weighted_time() -> Arc<dyn LightcurveFunction> {
    closure_function(
        "weighted_time",
        &[Role::Time, Role::Flux],
        vec![
            Field::new("weighted_time", DataType::Float64, true),
            Field::new("n", DataType::Int64, true),
        ],
        |lc, out| evaluate(lc.time, lc.flux, out),
    )
}

/// A group key as the reference orders it: null nights after every night.
type Key = (i64, (bool, i32), String);

/// Reference grouped by id, night (nulls last) and band, rows in time order, as
/// `(id, night, band, [value bits])`.
fn reference(rows: &[Row]) -> Vec<(i64, Option<i32>, String, Vec<u64>)> {
    let mut groups: BTreeMap<Key, Vec<&Row>> = BTreeMap::new();
    for r in rows {
        let night = (r.night.is_none(), r.night.unwrap_or(0));
        groups
            .entry((r.id, night, r.band.to_string()))
            .or_default()
            .push(r);
    }
    groups
        .into_iter()
        .map(|((id, (null, night), band), mut rs)| {
            rs.sort_by(|a, b| a.mjd.total_cmp(&b.mjd));
            let t: Vec<f64> = rs.iter().map(|r| r.mjd).collect();
            let f: Vec<f64> = rs.iter().map(|r| r.flux).collect();
            let mut out = Vec::new();
            evaluate(&t, &f, &mut out);
            let bits = vec![out[0].to_bits(), out[1] as u64];
            (id, (!null).then_some(night), band, bits)
        })
        .collect()
}

fn result(out: &RecordBatch) -> Vec<(i64, Option<i32>, String, Vec<u64>)> {
    let ids = out.column(0).as_primitive::<Int64Type>();
    let night = out.column(1).as_primitive::<Int32Type>();
    let band = out.column(2).as_string::<i32>();
    let wt = out.column(3).as_primitive::<Float64Type>();
    let n = out.column(4).as_primitive::<Int64Type>();
    (0..out.num_rows())
        .map(|i| {
            (
                ids.value(i),
                night.is_valid(i).then(|| night.value(i)),
                band.value(i).to_string(),
                vec![wt.value(i).to_bits(), n.value(i) as u64],
            )
        })
        .collect()
}

#[test]
fn one_row_per_id_and_key_values_with_the_keys_types_nulls_last() {
    let dir = tempfile::tempdir().unwrap();
    let rows = rows(&[9, 3, 14, 6, 1], 17, true);
    write(dir.path(), &rows, 2, 5);
    let ens = open(dir.path(), Partitioning::Count(3));
    let frame = ens
        .source()
        .unwrap()
        .batch_on(weighted_time(), &["night", "band"])
        .unwrap();
    let schema = frame.schema().unwrap();
    let fields: Vec<(&str, &DataType)> = schema
        .fields()
        .iter()
        .map(|f| (f.name().as_str(), f.data_type()))
        .collect();
    assert_eq!(
        fields,
        [
            ("id", &DataType::Int64),
            ("night", &DataType::Int32),
            ("band", &DataType::Utf8),
            ("weighted_time", &DataType::Float64),
            ("n", &DataType::Int64),
        ]
    );
    let out = frame.compute().unwrap();
    assert_eq!(out.schema(), schema);
    let got = result(&out);
    assert!(
        got.iter().any(|r| r.1.is_none()),
        "the data has null nights"
    );
    assert_eq!(got, reference(&rows));
    // Grouped mode and the written-and-streamed result agree.
    let grouped = ens
        .source()
        .unwrap()
        .batch_on_with(weighted_time(), &["night", "band"], BatchMode::Grouped)
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(result(&grouped), got);
}

#[test]
fn explain_shows_the_keys_and_the_scan_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &rows(&[4, 4], 1, false), 1, 0);
    let ens = open(dir.path(), Partitioning::RowGroups);
    let text = ens
        .source()
        .unwrap()
        .batch_on(weighted_time(), &["night"])
        .unwrap()
        .explain()
        .unwrap();
    assert!(text.contains("Apply[weighted_time on [night]]"), "{text}");
    assert!(
        text.contains("scan decodes 4 of 6 columns [id, mjd, flux, night]"),
        "{text}"
    );
}

/// One row per band present, in band order: (band index, rows); key values repeat.
struct PerBandCounts;

impl LightcurveFunction for PerBandCounts {
    fn name(&self) -> &str {
        "band_counts"
    }
    fn required(&self) -> &[Role] {
        &[Role::Band]
    }
    fn output_fields(&self, _bands: &[String]) -> Vec<Field> {
        vec![
            Field::new("which", DataType::Utf8, false),
            Field::new("count", DataType::Int64, false),
        ]
    }
    fn evaluate(&self, lc: &LightcurveView<'_>, out: &mut Vec<f64>) {
        let mut counts = vec![0u32; lc.band_names.len()];
        for &b in lc.band {
            counts[b as usize] += 1;
        }
        for (b, &n) in counts.iter().enumerate().filter(|(_, n)| **n > 0) {
            out.push(b as f64);
            out.push(n as f64);
        }
    }
    fn rows(&self) -> Rows {
        Rows::Many
    }
}

#[test]
fn a_many_rows_function_repeats_the_key_values_on_each_row() {
    let dir = tempfile::tempdir().unwrap();
    let rows = rows(&[12, 5, 8], 9, true);
    write(dir.path(), &rows, 3, 2);
    let ens = open(dir.path(), Partitioning::Count(4));
    let out = ens
        .source()
        .unwrap()
        .batch_on(Arc::new(PerBandCounts), &["night"])
        .unwrap()
        .compute()
        .unwrap();
    let mut want: BTreeMap<(i64, (bool, i32), String), i64> = BTreeMap::new();
    for r in &rows {
        let night = (r.night.is_none(), r.night.unwrap_or(0));
        *want.entry((r.id, night, r.band.to_string())).or_insert(0) += 1;
    }
    let want: Vec<(i64, Option<i32>, String, i64)> = want
        .into_iter()
        .map(|((id, (null, n), b), c)| (id, (!null).then_some(n), b, c))
        .collect();
    let ids = out.column(0).as_primitive::<Int64Type>();
    let night = out.column(1).as_primitive::<Int32Type>();
    let which = out.column(2).as_string::<i32>();
    let count = out.column(3).as_primitive::<Int64Type>();
    let got: Vec<(i64, Option<i32>, String, i64)> = (0..out.num_rows())
        .map(|i| {
            (
                ids.value(i),
                night.is_valid(i).then(|| night.value(i)),
                which.value(i).to_string(),
                count.value(i),
            )
        })
        .collect();
    assert_eq!(got, want);
}

#[test]
fn registry_functions_by_name_and_the_band_as_key() {
    let dir = tempfile::tempdir().unwrap();
    let rows = rows(&[7, 11], 4, false);
    write(dir.path(), &rows, 1, 3);
    let ens = open(dir.path(), Partitioning::Count(2));
    let out = ens
        .source()
        .unwrap()
        .batch_on_named("nobs", &["band"])
        .unwrap()
        .compute()
        .unwrap();
    // The band column is the key (Utf8) and nobs counts that band's rows only.
    assert_eq!(out.schema().field(1).data_type(), &DataType::Utf8);
    let mut want: BTreeMap<(i64, &str), i64> = BTreeMap::new();
    for r in &rows {
        *want.entry((r.id, r.band)).or_insert(0) += 1;
    }
    let ids = out.column(0).as_primitive::<Int64Type>();
    let band = out.column(1).as_string::<i32>();
    let total = out
        .column_by_name("nobs_total")
        .unwrap()
        .as_primitive::<Int64Type>();
    let got: Vec<((i64, &str), i64)> = (0..out.num_rows())
        .map(|i| ((ids.value(i), band.value(i)), total.value(i)))
        .collect();
    assert_eq!(got, want.into_iter().collect::<Vec<_>>());
}

#[test]
fn keys_and_columns_read_by_name_together() {
    let dir = tempfile::tempdir().unwrap();
    let rows = rows(&[6, 9], 8, false);
    write(dir.path(), &rows, 2, 1);
    let ens = open(dir.path(), Partitioning::Count(3));
    // The key read by name as well: every group sees one value.
    let f = closure_function_with_columns(
        "night_seen",
        &[],
        &["night"],
        vec![Field::new("night_seen", DataType::Float64, true)],
        |lc, out| {
            let n = lc.column("night").unwrap();
            out.push(if n.iter().all(|v| *v == n[0]) {
                n[0]
            } else {
                f64::NAN
            })
        },
    );
    let out = ens
        .source()
        .unwrap()
        .batch_on(f, &["night"])
        .unwrap()
        .compute()
        .unwrap();
    let night = out.column(1).as_primitive::<Int32Type>();
    let seen = out.column(2).as_primitive::<Float64Type>();
    for i in 0..out.num_rows() {
        assert_eq!(seen.value(i), night.value(i) as f64);
    }
}

#[test]
fn unknown_or_repeated_keys_fail_at_batch_on() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &rows(&[3], 1, false), 1, 0);
    let ens = open(dir.path(), Partitioning::RowGroups);
    let frame = ens.source().unwrap();
    match frame.batch_on(weighted_time(), &["field"]).unwrap_err() {
        Error::UnknownColumn {
            column, available, ..
        } => {
            assert_eq!(column, "field");
            assert!(available.contains(&"night".to_string()), "{available:?}");
        }
        other => panic!("{other}"),
    }
    let e = frame.batch_on(weighted_time(), &["id"]).unwrap_err();
    assert!(
        matches!(&e, Error::InvalidArgument(m) if m.contains("'id'")),
        "{e}"
    );
    let e = frame
        .batch_on(weighted_time(), &["night", "night"])
        .unwrap_err();
    assert!(
        matches!(&e, Error::InvalidArgument(m) if m.contains("'night' given twice")),
        "{e}"
    );
    // A key dropped by select() is unknown.
    let selected = frame
        .select(&["id", "mjd", "flux", "flux_err", "band"])
        .unwrap();
    assert!(matches!(
        selected.batch_on(weighted_time(), &["night"]).unwrap_err(),
        Error::UnknownColumn { .. }
    ));
    assert!(matches!(
        frame
            .batch_on_named("no_such_function", &["night"])
            .unwrap_err(),
        Error::UnknownFunction { .. }
    ));
}

#[test]
fn cli_batch_on() {
    let dir = tempfile::tempdir().unwrap();
    let rows = rows(&[5, 4], 2, false);
    write(dir.path(), &rows, 1, 0);
    let out = dir.path().join("out.csv");
    let run = Command::new(env!("CARGO_BIN_EXE_lsstseries"))
        .args(["batch", "nobs"])
        .arg(dir.path().join("part0.parquet"))
        .args(["--on", "night,band", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    assert!(header.starts_with("id,night,band,"), "{header}");
    let mut want: BTreeMap<(i64, i32, &str), usize> = BTreeMap::new();
    for r in &rows {
        *want.entry((r.id, r.night.unwrap(), r.band)).or_insert(0) += 1;
    }
    let got: Vec<String> = lines
        .map(|l| l.split(',').take(3).collect::<Vec<_>>().join(","))
        .collect();
    let want: Vec<String> = want
        .keys()
        .map(|(id, n, b)| format!("{id},{n},{b}"))
        .collect();
    assert_eq!(got, want);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// The same answer, equal to the reference, for any file split, row order and
    /// partition count.
    #[test]
    fn any_partitioning_gives_the_reference(
        lens in prop::collection::vec(1usize..25, 1..8),
        seed in 1u64..1000,
        files in 1usize..4,
        order in 0u64..1000,
        parts in 1usize..9,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let rows = rows(&lens, seed, true);
        write(dir.path(), &rows, files, order);
        let ens = open(dir.path(), Partitioning::Count(parts));
        let out = ens
            .source()
            .unwrap()
            .batch_on(weighted_time(), &["night", "band"])
            .unwrap()
            .compute()
            .unwrap();
        prop_assert_eq!(result(&out), reference(&rows));
    }
}
