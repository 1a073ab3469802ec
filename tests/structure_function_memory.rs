//! The structure function's extra memory does not grow with the number of pairs: a counting
//! global allocator (this test binary's own) records the peak bytes allocated during one
//! `sf2` call on a single long lightcurve.

use lsstseries::analysis::structure_function::{sf2, Binning, Bootstrap, Estimator, SfOptions};
use lsstseries::rng::Rng;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Instant;

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = LIVE.fetch_add(layout.size(), Ordering::SeqCst) + layout.size();
            PEAK.fetch_max(now, Ordering::SeqCst);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::SeqCst);
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Tests in this binary run one at a time, so one test's allocations do not count as
/// another's.
static SERIAL: Mutex<()> = Mutex::new(());

fn lightcurve(n: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut rng = Rng::new(3);
    let mut t = 0.0;
    let mut time = Vec::with_capacity(n);
    for _ in 0..n {
        t += 0.1 + rng.uniform();
        time.push(t);
    }
    let flux = (0..n).map(|_| rng.normal()).collect();
    let err = (0..n).map(|_| 0.05 + 0.1 * rng.uniform()).collect();
    (time, flux, err)
}

/// Peak bytes allocated above the level at the call, the bins, and the seconds taken.
fn measure(n: usize, options: &SfOptions) -> (usize, usize, f64) {
    let (t, f, e) = lightcurve(n);
    let base = LIVE.load(Ordering::SeqCst);
    PEAK.store(base, Ordering::SeqCst);
    let start = Instant::now();
    let bins = sf2(&[(&t[..], &f[..], Some(&e[..]))], options).unwrap();
    let secs = start.elapsed().as_secs_f64();
    let peak = PEAK.load(Ordering::SeqCst) - base;
    assert_eq!(bins.iter().map(|b| b.pairs).sum::<usize>(), n * (n - 1) / 2);
    (peak, bins.len(), secs)
}

/// Eight fixed lag bins: the output does not grow with the lightcurve.
fn fixed_bins(estimator: Estimator) -> SfOptions {
    SfOptions {
        estimator,
        binning: Binning::Edges(vec![0.0, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0, 1e3, 1e9]),
        ..SfOptions::default()
    }
}

#[test]
fn extra_memory_does_not_grow_with_pairs() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    for estimator in [Estimator::Basic, Estimator::Macleod2012] {
        let options = fixed_bins(estimator);
        // 2.0 M and 8.0 M pairs: both beyond what is ever stored.
        let (small, _, _) = measure(2_000, &options);
        let (large, _, _) = measure(4_000, &options);
        let limit = 8 << 20;
        assert!(
            small < limit && large < limit,
            "{estimator:?}: peak {small} B for 2,000 points, {large} B for 4,000"
        );
        // Four times the pairs; what grows is O(points), never O(pairs).
        assert!(
            large < small + (1 << 20),
            "{estimator:?}: peak {small} B for 2,000 points, {large} B for 4,000"
        );
    }
}

#[test]
fn bootstrap_memory_does_not_grow_with_pairs() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let options = SfOptions {
        bootstrap: Some(Bootstrap {
            repetitions: 3,
            ..Bootstrap::default()
        }),
        ..fixed_bins(Estimator::Basic)
    };
    let (small, _, _) = measure(1_000, &options);
    let (large, _, _) = measure(2_000, &options);
    assert!(
        small < 8 << 20 && large < small + (1 << 20),
        "peak {small} B for 1,000 points, {large} B for 2,000"
    );
}

/// Figures for the report, in release:
/// `cargo test --release --test structure_function_memory -- --ignored --nocapture`.
#[test]
#[ignore]
fn figures() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let sizes: Vec<usize> = std::env::var("SF_POINTS")
        .ok()
        .map(|s| s.split(',').filter_map(|x| x.parse().ok()).collect())
        .unwrap_or_else(|| vec![20_000, 100_000]);
    let cases = [
        ("basic, 8 fixed bins", fixed_bins(Estimator::Basic)),
        (
            "macleod_2012, 8 fixed bins",
            fixed_bins(Estimator::Macleod2012),
        ),
        (
            "basic, size bins of 1e6 pairs",
            SfOptions {
                bin_count_target: 1_000_000,
                ..SfOptions::default()
            },
        ),
    ];
    for n in sizes {
        for (name, options) in &cases {
            let (peak, bins, secs) = measure(n, options);
            println!(
                "{n} points ({} pairs), {name}: {bins} bins, peak extra {:.2} MB, {secs:.2} s",
                n * (n - 1) / 2,
                peak as f64 / 1e6
            );
        }
    }
}
