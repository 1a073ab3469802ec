//! Your own per-lightcurve functions: a closure for a quick one, a type implementing
//! `LightcurveFunction` for one with parameters and per-band output. Registered by name,
//! they run exactly like the built-ins (and a plan can refer to them by name).
//!
//! Run: `cargo run --release --example 03_own_function`

use arrow::datatypes::{DataType, Field};
use arrow::util::pretty::pretty_format_batches;
use lsstseries::lightcurve::BandGroups;
use lsstseries::prelude::*;
use std::sync::Arc;

/// The fraction of points more than `k` errors away from the band's weighted mean.
struct Outliers {
    k: f64,
}

impl LightcurveFunction for Outliers {
    fn name(&self) -> &str {
        "outlier_fraction"
    }
    fn required(&self) -> &[Role] {
        &[Role::Flux, Role::Err, Role::Band]
    }
    fn output_fields(&self, bands: &[String]) -> Vec<Field> {
        let name = |b: &String| format!("outlier_fraction_{b}");
        bands
            .iter()
            .map(|b| Field::new(name(b), DataType::Float64, true))
            .collect()
    }
    fn evaluate(&self, lc: &LightcurveView<'_>, out: &mut Vec<f64>) {
        let mut groups = BandGroups::default();
        groups.fill(lc);
        for band in 0..lc.band_names.len() {
            let (flux, err) = (groups.flux(band), groups.err(band));
            let w: Vec<f64> = err.iter().map(|e| 1.0 / (e * e)).collect();
            let mean = w.iter().zip(flux).map(|(w, f)| w * f).sum::<f64>() / w.iter().sum::<f64>();
            let far = flux
                .iter()
                .zip(err)
                .filter(|(f, e)| (*f - mean).abs() > self.k * *e);
            out.push(far.count() as f64 / flux.len() as f64); // NaN for an empty band
        }
    }
}

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/tape/test_source.parquet");
    let mut ens = Ensemble::new()?;
    ens.from_parquet(path, ColumnMap::tape(), Partitioning::Count(4))?;

    // A closure: the weighted mean flux over all bands.
    let wmean = closure_function(
        "wmean",
        &[Role::Flux, Role::Err],
        vec![Field::new("wmean", DataType::Float64, false)],
        |lc, out| {
            let w = lc.err.iter().map(|e| 1.0 / (e * e));
            let (sw, swf) = w
                .zip(lc.flux)
                .fold((0.0, 0.0), |(a, b), (w, f)| (a + w, b + w * f));
            out.push(swf / sw);
        },
    );
    ens.registry_mut().register(wmean);
    ens.registry_mut().register(Arc::new(Outliers { k: 3.0 }));

    for name in ["wmean", "outlier_fraction"] {
        let result = ens.batch_named(name)?.compute()?;
        println!(
            "{name}:\n{}\n",
            pretty_format_batches(&[result.slice(0, 5)])?
        );
    }
    Ok(())
}
