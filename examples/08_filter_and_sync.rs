//! Filtering sources and objects and keeping the two tables in step, as TAPE users do:
//! a query on the sources (pushed into the Parquet scan), object filters on the object
//! table's counts whose sources follow, `prune`, `dropna`, magnitudes, and a streamed
//! result. Every step is a plan node; nothing runs until `compute`.
//!
//! Run: `cargo run --release --example 08_filter_and_sync`

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::Int64Type;
use lsstseries::prelude::*;
use std::collections::BTreeSet;

fn objects(b: &RecordBatch) -> usize {
    let ids = b
        .column_by_name("ps1_objid")
        .map(|c| c.as_primitive::<Int64Type>());
    ids.map_or(0, |ids| ids.values().iter().collect::<BTreeSet<_>>().len())
}

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/tape/test_source.parquet");
    let mut ens = Ensemble::builder().n_workers(2).build()?;
    ens.from_parquet(path, ColumnMap::tape(), Partitioning::size("5KB")?)?;

    // TAPE's documented outcomes on this file.
    let p10 = ens.source()?.prune(10)?.compute()?;
    println!(
        "prune(10): {} objects, {} sources",
        objects(&p10),
        p10.num_rows()
    );
    let rich = ens
        .source()?
        .query_objects("nobs_r >= 50")?
        .query_objects("nobs_g >= 50")?;
    let rest = rich
        .dropna(DropNa::Any, &[])?
        .filter(col("ps1_objid").not_eq(88472935274829959i64))?
        .compute()?;
    println!(
        "nobs_r >= 50, nobs_g >= 50, dropna, minus one object: {} objects, {} sources",
        objects(&rest),
        rest.num_rows()
    );

    // A source query (pushed into the scan), a new column, then Stetson J of what is left.
    let bright = ens
        .source()?
        .query("filterName == 'g' and psFlux > 18")?
        .assign(&[("snr", col("psFlux") / col("psFluxErr"))])?
        .query("snr > 50")?;
    let sj = bright.batch_named("stetson_j")?;
    println!("\n{}", sj.explain()?);
    let (table, metrics) = sj.compute_with_metrics()?;
    println!(
        "stetson_j of bright g points: {} objects from {} rows read ({} bytes)",
        table.num_rows(),
        metrics.rows_in,
        metrics.bytes_read
    );

    // A syntax error says where.
    if let Err(e) = ens.source()?.query("psFlux >> 3") {
        println!("\n{e}");
    }

    // Streaming: batches in id order, never the whole result at once.
    let mut rows = 0;
    for batch in ens.source()?.prune(50)?.compute_stream()? {
        rows += batch?.num_rows();
    }
    println!("\nprune(50) streamed: {rows} sources");
    Ok(())
}
