//! A custom pipeline: filter rows, add a column with a named map, run a per-lightcurve
//! function on what is left, look at the plan, run it. The data are generated
//! so that every lightcurve is scattered over four files: the optimizer must regroup.
//!
//! Run: `cargo run --release --example 02_custom_pipeline`

use arrow::array::RecordBatch;
use arrow::compute::kernels::numeric::div;
use arrow::datatypes::{DataType, Field, FieldRef, Schema};
use lsstseries::io::generate::{generate, GeneratorConfig};
use lsstseries::prelude::*;
use std::sync::Arc;

/// Appends `snr = flux / flux_err` (declared to read only those two columns).
fn add_snr(batch: &RecordBatch) -> Result<RecordBatch> {
    let (Some(flux), Some(err)) = (
        batch.column_by_name("flux"),
        batch.column_by_name("flux_err"),
    ) else {
        return Err(Error::InvalidArgument(
            "add_snr needs flux and flux_err".into(),
        ));
    };
    let snr = div(flux, err).map_err(|e| Error::arrow("add_snr", e))?;
    let mut fields: Vec<FieldRef> = batch.schema().fields().iter().cloned().collect();
    fields.push(Arc::new(Field::new("snr", DataType::Float64, false)));
    let columns = batch.columns().iter().cloned().chain([snr]).collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .map_err(|e| Error::arrow("add_snr", e))
}

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::temp_dir().join("lsstseries-custom-pipeline");
    let _ = std::fs::remove_dir_all(&dir);
    let cfg = GeneratorConfig {
        objects: 2_000,
        observations: 100,
        files: 4,
        scatter: true,
        shuffle_rows: true,
        ..GeneratorConfig::default()
    };
    let written = generate(&cfg, &dir)?;
    println!(
        "generated {} rows in {} files",
        written.rows,
        written.files.len()
    );

    let mut ens = Ensemble::builder().n_workers(2).build()?;
    ens.from_parquet(&dir, ColumnMap::generated(), Partitioning::RowGroups)?;

    let snr = MapFunction::new(
        "add_snr",
        vec![Field::new("snr", DataType::Float64, false)],
        add_snr,
    )
    .reading(&["flux", "flux_err"]);
    let frame = ens
        .source()?
        .filter(col("band").eq("r"))?
        .map(snr)?
        .filter(col("snr").gt(20.0))?
        .batch_named("stetson_j")?;
    println!("{}", frame.explain()?);
    let (result, metrics) = frame.compute_with_metrics()?;
    println!(
        "stetson_j of r-band points with snr > 20: {} objects; rows in {}, out {}; {} bytes shuffled",
        result.num_rows(),
        metrics.rows_in,
        metrics.rows_out,
        metrics.bytes_shuffled
    );
    Ok(())
}
