//! Saving work and picking it up again: sources given from memory (`from_source_dict`),
//! a filtered frame written as Parquet parts (`to_parquet`), a whole ensemble saved and
//! reloaded with its column map, bands, policy and partitioning (`save_ensemble`,
//! `from_ensemble`), and `persist()` to reuse an intermediate without recomputing it.
//!
//! Run: `cargo run --release --example 10_save_and_reload`

use arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
use lsstseries::prelude::*;
use std::sync::Arc;

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let out = std::env::temp_dir().join(format!("lsstseries-example-10-{}", std::process::id()));

    // Sources from memory: 3 objects x 40 observations, two bands.
    let n = 120;
    let ids: Vec<i64> = (0..n).map(|r| 7 + (r / 40) as i64).collect();
    let t: Vec<f64> = (0..n).map(|r| 60_000.0 + (r % 40) as f64 * 1.3).collect();
    let flux: Vec<f64> = (0..n)
        .map(|r| 100.0 + 10.0 * ((r % 40) as f64 * 0.7 + (r / 40) as f64).sin())
        .collect();
    let mut ens = Ensemble::builder().n_workers(2).build()?;
    ens.from_source_dict(
        vec![
            ("id", Arc::new(Int64Array::from(ids)) as ArrayRef),
            ("mjd", Arc::new(Float64Array::from(t))),
            ("flux", Arc::new(Float64Array::from(flux))),
            ("flux_err", Arc::new(Float64Array::from(vec![1.5; n]))),
            (
                "band",
                Arc::new(StringArray::from_iter_values(
                    (0..n).map(|r| ["g", "r"][r % 2]),
                )),
            ),
        ],
        ColumnMap::generated(),
        Partitioning::Count(3),
    )?;
    println!("{}", ens.info()?);

    // A filtered frame as Parquet parts (one per partition), written together or not at all.
    let bright = ens.source()?.query("flux > 100")?;
    let (files, rows) = bright.to_parquet(out.join("bright"), IfExists::Replace)?;
    println!(
        "to_parquet: {rows} rows in {} part(s) under {}",
        files.len(),
        out.display()
    );

    // The whole ensemble, saved and reloaded: the same answers.
    ens.save_ensemble(out.join("saved"), IfExists::Replace)?;
    let mut again = Ensemble::builder().n_workers(2).build()?;
    again.from_ensemble(out.join("saved"))?;
    let (a, b) = (
        ens.batch_named("stetson_j")?.compute()?,
        again.batch_named("stetson_j")?.compute()?,
    );
    assert_eq!(a, b);
    println!(
        "reloaded ensemble: Stetson J of {} objects, identical",
        b.num_rows()
    );

    // persist(): materialise once; both statistics below start from the persisted rows.
    let persisted = bright.persist()?;
    let nobs = persisted.batch_named("nobs")?.compute()?;
    let sj = persisted.batch_named("stetson_j")?.compute()?;
    println!(
        "persisted {} rows; nobs of {} objects, Stetson J of {}",
        persisted.compute()?.num_rows(),
        nobs.num_rows(),
        sj.num_rows()
    );
    std::fs::remove_dir_all(&out)?;
    Ok(())
}
