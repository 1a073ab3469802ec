//! The fast (NUFFT) periodogram and the FFT inside it, timed with criterion.
//!
//! `cargo bench --bench periodogram -- --measurement-time 3 --warm-up-time 1`
//!
//! * `periodogram_fast/<N>`: [`Periodogram::find_peaks`] with the default grid (about
//!   `5 N` frequencies) and the fast algorithm, for a lightcurve of `N` uneven points.
//! * `fft/<size>`: one inverse complex FFT (rustfft, as the NUFFT plans it) of the size
//!   the NUFFT uses for that lightcurve (a power of two of at least four times the
//!   largest wanted frequency index), input copied in afresh each iteration.
//!
//! Our own radix-2 FFT was measured against rustfft with an earlier version of this file
//! (figures at the FFT call site in `src/analysis/periodogram/nufft.rs`) and removed.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lsstseries::analysis::periodogram::{Fast, Periodogram};
use rustfft::num_complex::Complex64;
use rustfft::FftPlanner;
use std::f64::consts::PI;
use std::hint::black_box;

const SIZES: [usize; 3] = [100, 1_000, 10_000];

/// Uneven sorted times over ~1000 days and a noisy sinusoid (deterministic).
fn lightcurve(n: usize) -> (Vec<f64>, Vec<f64>) {
    let mut rng = lsstseries::rng::Rng::new(n as u64);
    let mut next = || rng.uniform();
    let mut t: Vec<f64> = (0..n).map(|_| 58000.0 + 1000.0 * next()).collect();
    t.sort_by(f64::total_cmp);
    let m = t
        .iter()
        .map(|&v| 18.0 + (2.0 * PI * v / 3.7).sin() + 0.3 * (next() - 0.5))
        .collect();
    (t, m)
}

/// The FFT size the NUFFT uses for a grid of `size` frequencies (see `nufft::grid_size`;
/// 12 is its spreading half-width).
fn nufft_fft_size(size: usize) -> usize {
    let k_abs_max = size - size / 2;
    (4 * k_abs_max + 4).max(4 * 12).next_power_of_two()
}

fn bench(c: &mut Criterion) {
    let p = Periodogram::new().fast(Fast::On);
    let mut g = c.benchmark_group("periodogram_fast");
    let mut fft_sizes = Vec::new();
    for n in SIZES {
        let (t, m) = lightcurve(n);
        let grid = p.grid(&t).expect("a valid lightcurve");
        fft_sizes.push(nufft_fft_size(grid.size));
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::from_parameter(n), &n, |b, _| {
            b.iter(|| p.find_peaks(black_box(&t), black_box(&m)))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("fft");
    for size in fft_sizes {
        let input: Vec<Complex64> = (0..size)
            .map(|i| Complex64::new((i as f64 * 0.754).fract() - 0.5, (i as f64 * 0.569).fract()))
            .collect();
        let fft = FftPlanner::<f64>::new().plan_fft_inverse(size);
        let mut buf = input.clone();
        let mut scratch = vec![Complex64::ZERO; fft.get_inplace_scratch_len()];
        g.bench_with_input(BenchmarkId::from_parameter(size), &size, |b, _| {
            b.iter(|| {
                buf.copy_from_slice(&input);
                fft.process_with_scratch(&mut buf, &mut scratch);
                black_box(buf[1])
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
