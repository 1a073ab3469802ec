//! Time binning and magnitudes, as TAPE users do before per-lightcurve statistics: find the
//! daytime gap of the survey (`find_day_gap_offset`), bin each night's observations
//! (`bin_sources`: mean time and flux, error sqrt(sum sigma^2)/N, the count), convert fluxes
//! to magnitudes with a zero point, and compute Stetson J on the binned magnitudes.
//!
//! Run: `cargo run --release --example 09_binning_and_magnitudes`

use lsstseries::prelude::*;

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/tape/test_source.parquet");
    let mut ens = Ensemble::builder().n_workers(2).build()?;
    ens.from_parquet(path, ColumnMap::tape(), Partitioning::size("5KB")?)?;

    // Eager: one read of the time column. TAPE gives 0.7916666666666666 on this file.
    let offset = ens.find_day_gap_offset()?;
    println!("day-gap offset: {offset} d (the middle of the hours with no observation)");

    // Lazy from here: bin per night, then magnitudes (zero point 31.4, as for nJy fluxes).
    let nightly = ens.source()?.bin_sources(1.0, offset)?;
    let mags = nightly.convert_flux_to_mag(ZeroPoint::Mag(31.4))?;
    let (bins, metrics) = mags.compute_with_metrics()?;
    println!(
        "{} observations binned into {} nightly points; columns {:?}",
        metrics.rows_in,
        bins.num_rows(),
        bins.schema()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect::<Vec<_>>()
    );
    println!("{}", lsstseries::io::csv_text(&bins.slice(0, 5))?);

    // Statistics on the binned magnitudes: the column map now points flux at the magnitude.
    let sj = mags.batch_named("stetson_j")?;
    println!("{}", sj.explain()?);
    let table = sj.compute()?;
    println!(
        "Stetson J of nightly magnitudes:\n{}",
        lsstseries::io::csv_text(&table.slice(0, table.num_rows().min(5)))?
    );
    Ok(())
}
