//! Variability features: several in one pass per lightcurve (one gather, one sort, shared
//! moments), per band or across bands, next to the registered default set `features`.
//!
//! Run: `cargo run --release --example 04_features`

use arrow::util::pretty::pretty_format_batches;
use lsstseries::prelude::*;
use std::sync::Arc;

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/tape/test_source.parquet");
    let mut ens = Ensemble::new()?;
    ens.from_parquet(path, ColumnMap::tape(), Partitioning::Count(4))?;

    // A set of four features per band; parameters out of range are an error here.
    let chosen = vec![
        Feature::Amplitude,
        Feature::BeyondNStd { n: 1.0 },
        Feature::Eta,
        Feature::LinearFit,
    ];
    let per_band = FeatureSet::named("my_features", chosen.clone(), BandScope::PerBand)?;
    let result = ens.source()?.batch(Arc::new(per_band))?.compute()?;
    println!(
        "{} objects x {} columns, e.g.:",
        result.num_rows(),
        result.num_columns()
    );
    let first = result.project(&[0, 1, 2, 3])?.slice(0, 5);
    println!("{}\n", pretty_format_batches(&[first])?);

    // The same features from all bands together: one column per feature output.
    let all_bands = FeatureSet::new(chosen, BandScope::AllBands)?;
    let result = ens.source()?.batch(Arc::new(all_bands))?.compute()?;
    println!("{}\n", pretty_format_batches(&[result.slice(0, 5)])?);

    // A bad parameter is caught before any work.
    let bad = FeatureSet::new(vec![Feature::BeyondNStd { n: -1.0 }], BandScope::PerBand);
    println!("BeyondNStd {{ n: -1 }}: {}\n", bad.unwrap_err());

    // The registered default set of twelve, by name.
    let defaults = ens.batch_named("features")?.compute()?;
    println!(
        "`features`: {} objects x {} columns ({} ...)",
        defaults.num_rows(),
        defaults.num_columns(),
        defaults
            .schema()
            .fields()
            .iter()
            .take(4)
            .map(|f| f.name().as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}
