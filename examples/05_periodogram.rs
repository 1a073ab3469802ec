//! Lomb-Scargle periodograms: the best periods of every object and band, with the
//! `Periodogram` builder (peaks, grid resolution, Nyquist definition, fast or direct sums),
//! checked on a generated lightcurve with a known period.
//!
//! Run: `cargo run --release --example 05_periodogram`

use arrow::array::AsArray;
use arrow::datatypes::Float64Type;
use arrow::util::pretty::pretty_format_batches;
use lsstseries::analysis::periodogram::{Fast, Nyquist};
use lsstseries::prelude::*;
use std::sync::Arc;

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    // One lightcurve with a 3.7-day period, unevenly sampled over 200 days.
    let mut rng = lsstseries::rng::Rng::new(1);
    let mut t: Vec<f64> = (0..300).map(|_| 200.0 * rng.uniform()).collect();
    t.sort_by(f64::total_cmp);
    let m: Vec<f64> = t
        .iter()
        .map(|t| (std::f64::consts::TAU * t / 3.7).sin() + 0.3 * rng.normal())
        .collect();
    let settings = Periodogram::new()
        .peaks(3)?
        .resolution(20.0)?
        .nyquist(Nyquist::Median)?;
    for fast in [Fast::Off, Fast::On] {
        let peaks = settings
            .clone()
            .fast(fast)
            .find_peaks(&t, &m)
            .unwrap_or_default();
        let best: Vec<String> = peaks
            .iter()
            .map(|p| format!("{:.4} d (S/N {:.1})", p.period, p.s_to_n))
            .collect();
        println!("{fast:?} sums: best periods {}", best.join(", "));
    }
    // Settings are checked when set.
    println!(
        "resolution 0: {}\n",
        Periodogram::new().resolution(0.0).unwrap_err()
    );

    // Every object and band of the TAPE file, through `batch`.
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/tape/test_source.parquet");
    let mut ens = Ensemble::new()?;
    ens.from_parquet(path, ColumnMap::tape(), Partitioning::Count(4))?;
    let result = ens
        .source()?
        .batch(Arc::new(Periodogram::new().peaks(2)?))?
        .compute()?;
    println!("{}", pretty_format_batches(&[result.slice(0, 5)])?);
    let periods = result
        .column_by_name("period_0_r")
        .map(|c| c.as_primitive::<Float64Type>().clone());
    let found = periods.map_or(0, |p| p.iter().flatten().filter(|v| v.is_finite()).count());
    println!(
        "{found} of {} objects have an r-band period",
        result.num_rows()
    );
    Ok(())
}
