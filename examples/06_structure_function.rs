//! The structure function SF^2(dt): per object and band, then all lightcurves' pairs
//! pooled per band, with the MacLeod et al. (2012) estimator and seeded bootstrap errors.
//!
//! Run: `cargo run --release --example 06_structure_function`

use arrow::util::pretty::pretty_format_batches;
use lsstseries::prelude::*;

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/tape/test_source.parquet");
    let mut ens = Ensemble::new()?;
    ens.from_parquet(path, ColumnMap::tape(), Partitioning::size("5KB")?)?;

    // Per object and band: rows (id, band, dt, sf2, sf2_err, n_pairs), several per object.
    let options = SfOptions {
        bin_count_target: 50,
        ..SfOptions::default()
    };
    let per_object = ens.source()?.structure_function(&options)?.compute()?;
    println!(
        "per object and band: {} rows; the first:",
        per_object.num_rows()
    );
    println!("{}\n", pretty_format_batches(&[per_object.slice(0, 6)])?);

    // Pooled: every lightcurve's pairs together, per band; bootstrap for the 1-sigma
    // errors, drawing as many pairs from each lightcurve as the poorest has.
    let pooled_options = SfOptions {
        estimator: Estimator::Macleod2012,
        bootstrap: Some(Bootstrap {
            repetitions: 100,
            equally_weight_lightcurves: true,
            ..Bootstrap::default()
        }),
        ..SfOptions::default()
    };
    let pooled = ens.source()?.structure_function_pooled(&pooled_options)?;
    println!("{}", pooled.explain()?);
    let pooled = pooled.compute()?;
    println!(
        "pooled: {} bins over all bands; the first:",
        pooled.num_rows()
    );
    println!("{}\n", pretty_format_batches(&[pooled.slice(0, 8)])?);

    // Options are checked when the plan is built, before any data is read.
    let bad = SfOptions {
        bin_count_target: 0,
        ..SfOptions::default()
    };
    println!(
        "bin_count_target 0: {}",
        ens.source()?.structure_function(&bad).unwrap_err()
    );
    Ok(())
}
