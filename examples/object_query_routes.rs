//! What the row-local route of `query_objects` saves. A query on object-file columns alone
//! runs as JoinObjects -> Filter -> Project on each partition as it is; the general route
//! (`filter_objects` with the object columns as a per-lightcurve function, which counts
//! need) first makes every lightcurve whole, here with a shuffle since the generated
//! lightcurves are scattered over files. Both give the same rows; this prints rows/s
//! (median of interleaved runs) and bytes shuffled for each, and their ratio.
//!
//! `cargo run --release --example object_query_routes [OBJECTS] [OBSERVATIONS]`

use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use lsstseries::analysis::ObjectColumns;
use lsstseries::io::generate::{generate, GeneratorConfig};
use lsstseries::io::write_parquet;
use lsstseries::plan::parse_query;
use lsstseries::{ColumnMap, Ensemble, Partitioning};
use std::sync::Arc;
use std::time::Instant;

const RUNS: usize = 5;

fn main() {
    let mut args = std::env::args().skip(1);
    let objects: usize = args.next().map_or(20_000, |a| a.parse().expect("OBJECTS"));
    let observations: usize = args.next().map_or(50, |a| a.parse().expect("OBSERVATIONS"));
    let dir = tempfile::tempdir().expect("temporary directory");
    let cfg = GeneratorConfig {
        objects,
        observations,
        files: 8,
        shuffle_rows: true,
        scatter: true,
        ..GeneratorConfig::default()
    };
    let data = dir.path().join("lc");
    generate(&cfg, &data).expect("generate");
    let ids: Vec<i64> = (cfg.first_id..cfg.first_id + objects as i64).collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("redshift", DataType::Float64, false),
        Field::new("name", DataType::Utf8, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(ids.clone())),
        Arc::new(Float64Array::from(
            ids.iter()
                .map(|i| (i % 100) as f64 / 100.0)
                .collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            ids.iter().map(|i| format!("obj{i}")).collect::<Vec<_>>(),
        )),
    ];
    let objects_path = dir.path().join("objects.parquet");
    write_parquet(
        &objects_path,
        &RecordBatch::try_new(schema, columns).expect("object batch"),
    )
    .expect("object file");

    let mut ens = Ensemble::new().expect("ensemble");
    ens.from_parquet(&data, ColumnMap::generated(), Partitioning::Count(16))
        .expect("source");
    let table = Arc::new(
        ens.from_parquet_objects(&objects_path)
            .expect("objects")
            .clone(),
    );
    let query = "redshift > 0.5";
    let row_local = ens
        .source()
        .expect("frame")
        .query_objects(query)
        .expect("query");
    let general = ens
        .source()
        .expect("frame")
        .filter_objects(
            Arc::new(ObjectColumns::new(table)),
            parse_query(query).expect("parse"),
        )
        .expect("filter_objects");

    let rows = objects * observations;
    let (mut a, mut b) = (Vec::new(), Vec::new());
    let (mut shuffled_a, mut shuffled_b) = (0, 0);
    let mut kept = 0;
    for _ in 0..RUNS {
        let t = Instant::now();
        let (out_a, m) = row_local.compute_with_metrics().expect("row-local route");
        a.push(rows as f64 / t.elapsed().as_secs_f64());
        shuffled_a = m.bytes_shuffled;
        let t = Instant::now();
        let (out_b, m) = general.compute_with_metrics().expect("general route");
        b.push(rows as f64 / t.elapsed().as_secs_f64());
        shuffled_b = m.bytes_shuffled;
        assert_eq!(out_a, out_b, "the two routes must keep the same rows");
        kept = out_a.num_rows();
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (ma, mb) = (median(&mut a), median(&mut b));
    println!(
        "{objects} objects x {observations} observations ({rows} rows, lightcurves scattered over 8 files), query_objects(\"{query}\") keeps {kept} rows; median of {RUNS} interleaved runs:"
    );
    println!("  row-local (JoinObjects -> Filter -> Project): {ma:>12.0} rows/s, {shuffled_a} bytes shuffled");
    println!("  general   (whole lightcurves, semi-join)    : {mb:>12.0} rows/s, {shuffled_b} bytes shuffled");
    println!("  ratio row-local / general: {:.2}", ma / mb);
}
