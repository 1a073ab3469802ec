//! Per-lightcurve kernels through their public API, on in-memory lightcurves (no Parquet,
//! no executor): Stetson J, the default feature set (`features`, per band) and the
//! structure function (`sf2`, default options), each on 64 lightcurves of 200 points in 3
//! bands. Throughput is in lightcurves per second.
//!
//! `cargo bench --bench kernels -- --measurement-time 3 --warm-up-time 1`

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use lsstseries::analysis::{
    BandScope, FeatureSet, LightcurveFunction, StetsonJ, StructureFunction,
};
use lsstseries::rng::Rng;
use lsstseries::LightcurveView;

const LIGHTCURVES: usize = 64;
const POINTS: usize = 200;

/// One lightcurve's columns, time-sorted (as the engine hands them to functions that read
/// time).
struct Columns {
    time: Vec<f64>,
    flux: Vec<f64>,
    err: Vec<f64>,
    band: Vec<u8>,
}

fn lightcurves(bands: &[String]) -> Vec<Columns> {
    let mut rng = Rng::new(7);
    (0..LIGHTCURVES)
        .map(|_| {
            let base = 100.0 + 900.0 * rng.uniform();
            let amp = base * 0.2 * rng.uniform();
            let period = 0.5 + 50.0 * rng.uniform();
            let mut time: Vec<f64> = (0..POINTS)
                .map(|_| 60_000.0 + 1_000.0 * rng.uniform())
                .collect();
            time.sort_by(f64::total_cmp);
            let err: Vec<f64> = (0..POINTS)
                .map(|_| base * 0.02 * (0.5 + rng.uniform()))
                .collect();
            let flux = time
                .iter()
                .zip(&err)
                .map(|(t, e)| {
                    base + amp * (std::f64::consts::TAU * t / period).sin() + e * rng.normal()
                })
                .collect();
            let band = (0..POINTS).map(|_| rng.below(bands.len()) as u8).collect();
            Columns {
                time,
                flux,
                err,
                band,
            }
        })
        .collect()
}

fn kernels(c: &mut Criterion) {
    let bands: Vec<String> = ["g", "r", "i"].iter().map(|s| s.to_string()).collect();
    let data = lightcurves(&bands);
    let views: Vec<LightcurveView<'_>> = data
        .iter()
        .enumerate()
        .map(|(k, d)| LightcurveView {
            id: k as i64,
            time: &d.time,
            flux: &d.flux,
            err: &d.err,
            band: &d.band,
            band_names: &bands,
            extra: Default::default(),
        })
        .collect();
    let functions: Vec<(&str, Box<dyn LightcurveFunction>)> = vec![
        ("stetson_j", Box::new(StetsonJ)),
        (
            "features",
            Box::new(FeatureSet::default_set(BandScope::PerBand)),
        ),
        ("sf2", Box::new(StructureFunction::default())),
    ];
    let mut group = c.benchmark_group(format!("kernels/{POINTS}pts_3bands"));
    group.throughput(Throughput::Elements(LIGHTCURVES as u64));
    for (name, f) in &functions {
        let mut out = Vec::new();
        group.bench_function(*name, |b| {
            b.iter(|| {
                out.clear();
                for lc in &views {
                    f.evaluate(black_box(lc), &mut out);
                }
                black_box(out.len())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, kernels);
criterion_main!(benches);
