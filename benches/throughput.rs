//! Throughput benchmark (prints figures; no timed assertions).
//!
//! `cargo bench --bench throughput` generates (once, cached under target/bench-data) a
//! dataset of N objects x 200 observations in 20 Parquet files and reports, in one run:
//! (a) Stetson J end to end (open + plan + decode + compute), rows/s and objects/s;
//! (b) the decode floor: the parquet crate decoding the same four columns of the same
//!     files with the same number of threads, nothing else;
//! (c) the executor's overhead per empty task;
//! (d) peak memory (VmHWM) of a fresh process running (a) at 10,000 and at N objects;
//! (e) the default variability feature set (`features`: 12 features, per band) end to end,
//!     beside its arithmetic alone on the same lightcurves already decoded in memory, so
//!     end to end can be compared with decode floor + arithmetic.
//!
//! N defaults to 100,000 (20 M rows); set LSSTSERIES_BENCH_OBJECTS to change it, and
//! LSSTSERIES_BENCH_BANDS (default `g,r,i`) for the bands, e.g. `g` to compare (e) with
//! `benches/features_vs_light_curve.py`, which uses one band.

use lsstseries::analysis::{BandScope, FeatureSet, LightcurveFunction};
use lsstseries::io::generate::{generate, GeneratorConfig};
use lsstseries::io::{ParquetSource, SourceOptions};
use lsstseries::lightcurve::LightcurveBatch;
use lsstseries::{ColumnMap, Ensemble, Executor, ExecutorConfig, Partitioning};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ProjectionMask;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const OBSERVATIONS: usize = 200;
const FILES: usize = 20;

fn bands() -> Vec<String> {
    std::env::var("LSSTSERIES_BENCH_BANDS")
        .unwrap_or_else(|_| "g,r,i".into())
        .split(',')
        .map(|b| b.trim().to_string())
        .collect()
}

fn dataset(objects: usize) -> PathBuf {
    let bands = bands();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/bench-data")
        .join(format!("objects-{objects}-rg50k-{}", bands.join("")));
    let marker = dir.join("COMPLETE");
    if !marker.exists() {
        let _ = std::fs::remove_dir_all(&dir);
        let cfg = GeneratorConfig {
            objects,
            observations: OBSERVATIONS,
            files: FILES,
            // Row groups of about 50,000 rows whatever the size, so peak memory compares
            // datasets at equal partition size.
            row_groups_per_file: (objects * OBSERVATIONS / FILES / 50_000).max(1),
            bands,
            ..GeneratorConfig::default()
        };
        let t = Instant::now();
        let s = generate(&cfg, &dir).expect("generate");
        std::fs::write(&marker, b"").expect("marker");
        eprintln!(
            "generated {} rows in {} files in {:.1} s",
            s.rows,
            s.files.len(),
            t.elapsed().as_secs_f64()
        );
    }
    dir
}

fn stetson(dir: &Path, threads: usize) -> (Duration, u64, usize) {
    run_named(dir, threads, "stetson_j")
}

fn run_named(dir: &Path, threads: usize, function: &str) -> (Duration, u64, usize) {
    let t = Instant::now();
    let mut ens = Ensemble::builder()
        .n_workers(threads)
        .build()
        .expect("ensemble");
    ens.from_parquet(dir, ColumnMap::generated(), Partitioning::RowGroups)
        .expect("open");
    let (result, metrics) = ens
        .batch_named(function)
        .expect("plan")
        .compute_with_metrics()
        .expect("compute");
    (t.elapsed(), metrics.rows_in, result.num_rows())
}

fn decode_floor(dir: &Path, threads: usize) -> (Duration, usize) {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
        .collect();
    files.sort();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let rows = std::sync::atomic::AtomicUsize::new(0);
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(path) = files.get(i) else { break };
                let file = std::fs::File::open(path).expect("open");
                let b = ParquetRecordBatchReaderBuilder::try_new(file).expect("footer");
                // id, flux, flux_err, band: what stetson_j reads
                let mask = ProjectionMask::roots(b.parquet_schema(), [0, 2, 3, 4]);
                let reader = b
                    .with_projection(mask)
                    .with_batch_size(65_536)
                    .build()
                    .expect("reader");
                for batch in reader {
                    rows.fetch_add(
                        batch.expect("decode").num_rows(),
                        std::sync::atomic::Ordering::Relaxed,
                    );
                }
            });
        }
    });
    (t.elapsed(), rows.into_inner())
}

fn executor_overhead(threads: usize) -> f64 {
    let ex = Executor::new(ExecutorConfig::default().n_workers(threads)).expect("executor");
    let n = 200_000;
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let tasks: Vec<_> = (0..n).map(|i| move || i).collect();
        let t = Instant::now();
        let out = ex.run(tasks).expect("run");
        let per = t.elapsed().as_secs_f64() / n as f64;
        assert_eq!(out.len(), n);
        best = best.min(per);
    }
    ex.shutdown();
    best * 1e6
}

/// The feature arithmetic alone: every partition decoded into memory first (not timed),
/// then the feature set evaluated over all lightcurves on `threads` threads.
fn features_in_memory(dir: &Path, threads: usize) -> Duration {
    let ex = Executor::new(ExecutorConfig::default().n_workers(threads)).expect("executor");
    let source = ParquetSource::open(
        dir,
        SourceOptions::new(ColumnMap::generated(), Partitioning::RowGroups),
        &ex,
    )
    .expect("open");
    ex.shutdown();
    let set = FeatureSet::default_set(BandScope::PerBand);
    let columns: Vec<String> = source
        .schema
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    let batches: Vec<_> = source
        .partitions
        .iter()
        .map(|p| source.read(p, &columns).expect("read"))
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let t = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                let mut out = Vec::new();
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some(batch) = batches.get(i) else { break };
                    let lcs =
                        LightcurveBatch::new(batch, &source.columns, &source.bands, set.required())
                            .expect("group");
                    for k in 0..lcs.len() {
                        out.clear();
                        set.evaluate(&lcs.get(k), &mut out);
                    }
                    std::hint::black_box(&out);
                }
            });
        }
    });
    t.elapsed()
}

fn peak_rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn child_peak(objects: usize, threads: usize) -> Option<u64> {
    let exe = std::env::current_exe().ok()?;
    let out = std::process::Command::new(exe)
        .args(["--child", &objects.to_string(), &threads.to_string()])
        .output()
        .ok()?;
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("peak_kib=")?.trim().parse().ok())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--child") {
        let objects: usize = args[pos + 1].parse().expect("objects");
        let threads: usize = args[pos + 2].parse().expect("threads");
        let (_, rows, _) = stetson(&dataset(objects), threads);
        println!("rows={rows}");
        println!("peak_kib={}", peak_rss_kib().unwrap_or(0));
        return;
    }
    let objects: usize = std::env::var("LSSTSERIES_BENCH_OBJECTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let dir = dataset(objects);
    let bytes: u64 = std::fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(|e| e.ok()?.metadata().ok())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0);
    println!(
        "dataset: {objects} objects x {OBSERVATIONS} obs = {} rows, bands {:?}, {FILES} files, {:.0} MB on disk; {threads} threads",
        objects * OBSERVATIONS,
        bands(),
        bytes as f64 / 1e6
    );

    // Interleave the two measurements so machine noise hits both alike.
    let (mut sj, mut floor) = (Vec::new(), Vec::new());
    let mut rows = 0;
    for _ in 0..3 {
        let (d, r) = decode_floor(&dir, threads);
        floor.push(d.as_secs_f64());
        rows = r;
        let (d, r2, n) = stetson(&dir, threads);
        assert_eq!(r2 as usize, rows);
        assert_eq!(n, objects);
        sj.push(d.as_secs_f64());
    }
    let (sj_m, floor_m) = (median(sj.clone()), median(floor.clone()));
    println!(
        "(a) stetson_j end to end: median {:.3} s (runs {:?}) = {:.1} M rows/s, {:.0} objects/s",
        sj_m,
        sj.iter()
            .map(|x| (x * 1000.0).round() / 1000.0)
            .collect::<Vec<_>>(),
        rows as f64 / sj_m / 1e6,
        objects as f64 / sj_m
    );
    println!(
        "(b) decode floor (parquet crate, same 4 columns, {threads} threads): median {:.3} s = {:.1} M rows/s; stetson_j / floor = {:.2}x",
        floor_m,
        rows as f64 / floor_m / 1e6,
        sj_m / floor_m
    );
    println!(
        "(c) executor overhead: {:.3} us per empty task (best of 5 x 200,000)",
        executor_overhead(threads)
    );
    let (mut fe, mut fa) = (Vec::new(), Vec::new());
    for _ in 0..3 {
        let (d, _, n) = run_named(&dir, threads, "features");
        assert_eq!(n, objects);
        fe.push(d.as_secs_f64());
        fa.push(features_in_memory(&dir, threads).as_secs_f64());
    }
    let (fe_m, fa_m) = (median(fe), median(fa));
    println!(
        "(e) features (12, per band) end to end: median {:.3} s = {:.0} objects/s; arithmetic alone (decoded in memory): {:.3} s; decode floor + arithmetic = {:.3} s; end to end / (floor + arithmetic) = {:.2}x",
        fe_m,
        objects as f64 / fe_m,
        fa_m,
        floor_m + fa_m,
        fe_m / (floor_m + fa_m)
    );
    for n in [10_000, objects] {
        dataset(n);
        match child_peak(n, threads) {
            Some(kib) => println!(
                "(d) peak memory, stetson_j over {n} objects ({} rows): {:.0} MiB",
                n * OBSERVATIONS,
                kib as f64 / 1024.0
            ),
            None => println!("(d) peak memory at {n} objects: not measurable here"),
        }
    }
}
