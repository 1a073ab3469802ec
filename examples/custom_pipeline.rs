//! A custom pipeline with a user function: filter, add a column, apply a named
//! per-lightcurve function, look at the plan, run it.
//!
//! Run: `cargo run --release --example custom_pipeline`

use arrow::array::{AsArray, Float64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Float64Type, Schema};
use lsstseries::io::generate::{generate, GeneratorConfig};
use lsstseries::plan::{col, MapFunction};
use lsstseries::{closure_function, ColumnMap, Ensemble, Partitioning, Role};
use std::sync::Arc;

/// Appends `snr = flux / flux_err`.
fn add_snr(batch: &RecordBatch) -> lsstseries::Result<RecordBatch> {
    let get = |name: &str| {
        batch
            .column_by_name(name)
            .map(|c| c.as_primitive::<Float64Type>().clone())
    };
    let (Some(flux), Some(err)) = (get("flux"), get("flux_err")) else {
        return Err(lsstseries::Error::InvalidArgument(
            "add_snr needs flux and flux_err".into(),
        ));
    };
    let snr: Float64Array = flux
        .values()
        .iter()
        .zip(err.values())
        .map(|(f, e)| f / e)
        .collect();
    let mut fields: Vec<Field> = batch
        .schema()
        .fields()
        .iter()
        .map(|f| (**f).clone())
        .collect();
    fields.push(Field::new("snr", DataType::Float64, false));
    let mut columns = batch.columns().to_vec();
    columns.push(Arc::new(snr));
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
        .map_err(|e| lsstseries::Error::arrow("add_snr", e))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // 2,000 objects whose rows are shuffled and scattered over 4 files: every lightcurve
    // spans files, so the optimizer must regroup by id.
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
        "generated {} rows in {} files under {}",
        written.rows,
        written.files.len(),
        dir.display()
    );

    let mut ens = Ensemble::builder().n_workers(2).build()?;
    // A user function: weighted mean flux and half peak-to-peak amplitude, registered by
    // name so plans refer to it by name.
    let stats = closure_function(
        "wmean_amplitude",
        &[Role::Flux, Role::Err],
        vec![
            Field::new("wmean", DataType::Float64, false),
            Field::new("amplitude", DataType::Float64, false),
        ],
        |lc, out| {
            let (mut sw, mut swf) = (0.0, 0.0);
            let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
            for (&f, &e) in lc.flux.iter().zip(lc.err) {
                let w = 1.0 / (e * e);
                sw += w;
                swf += w * f;
                lo = lo.min(f);
                hi = hi.max(f);
            }
            out.push(swf / sw);
            out.push(0.5 * (hi - lo));
        },
    );
    ens.registry_mut().register(stats);
    ens.from_parquet(&dir, ColumnMap::generated(), Partitioning::RowGroups)?;

    let frame = ens
        .source()?
        .filter(col("band").eq("r"))?
        .map(
            MapFunction::new(
                "add_snr",
                vec![Field::new("snr", DataType::Float64, false)],
                add_snr,
            )
            .reading(&["flux", "flux_err"]),
        )?
        .filter(col("snr").gt(20.0))?
        .batch(Arc::new(lsstseries::analysis::StetsonJ))?;
    println!("{}", frame.explain()?);

    let (result, metrics) = frame.compute_with_metrics()?;
    println!(
        "stetson_j on r-band points with snr > 20: {} objects; rows in {}, out {}; {} stages; {} bytes shuffled; {:.1} ms",
        result.num_rows(),
        metrics.rows_in,
        metrics.rows_out,
        metrics.stages.len(),
        metrics.bytes_shuffled,
        metrics.wall.as_secs_f64() * 1e3
    );

    let named = ens.batch_named("wmean_amplitude")?.compute()?;
    println!(
        "wmean_amplitude: {} objects, columns {:?}",
        named.num_rows(),
        named
            .schema()
            .fields()
            .iter()
            .map(|f| f.name())
            .collect::<Vec<_>>()
    );
    Ok(())
}
