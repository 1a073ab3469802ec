//! What watching a compute costs (prints figures; no timed assertions).
//!
//! `cargo bench --bench monitoring` runs the same plan, interleaved, five ways:
//! (a) `PhysicalPlan::execute_with`: no monitor at all (the baseline);
//! (b) `Frame::compute`: the executor's monitor records the compute (always on);
//! (c) as (b) with a subscriber draining every event on another thread;
//! (d) as (b) with a thread polling `Monitor::status()` every 120 ms, as the CLI's
//!     progress bar does;
//! (e) `Frame::explain_analyze_report`: (b) plus the analysis.
//! Many small partitions (default 512 tasks per stage, two stages) make per-task costs
//! show. Set LSSTSERIES_BENCH_OBJECTS (default 20,000 x 200 observations) and
//! LSSTSERIES_BENCH_PARTITIONS to change the shape.

use lsstseries::io::generate::{generate, GeneratorConfig};
use lsstseries::physical::PhysicalPlan;
use lsstseries::{BatchMode, Cancellation, ColumnMap, Ensemble, Frame, Partitioning};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn dataset(objects: usize) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("target/bench-data")
        .join(format!("monitoring-{objects}"));
    let marker = dir.join("COMPLETE");
    if !marker.exists() {
        let _ = std::fs::remove_dir_all(&dir);
        let cfg = GeneratorConfig {
            objects,
            observations: 200,
            files: 8,
            row_groups_per_file: 8,
            ..GeneratorConfig::default()
        };
        generate(&cfg, &dir).expect("generate");
        std::fs::write(&marker, b"").expect("marker");
    }
    dir
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn timed(f: impl FnOnce() -> usize) -> (f64, usize) {
    let t0 = Instant::now();
    let rows = f();
    (t0.elapsed().as_secs_f64(), rows)
}

fn main() {
    let objects = env_usize("LSSTSERIES_BENCH_OBJECTS", 20_000);
    let partitions = env_usize("LSSTSERIES_BENCH_PARTITIONS", 512);
    let dir = dataset(objects);
    let mut ens = Ensemble::new().expect("ensemble");
    ens.from_parquet(
        &dir,
        ColumnMap::generated(),
        Partitioning::Count(partitions),
    )
    .expect("open");
    let frame: Frame = ens
        .batch_named_with("stetson_j", BatchMode::Grouped)
        .expect("plan");
    let optimized = frame.optimize().expect("optimize");
    let physical = PhysicalPlan::from_logical(&optimized.plan).expect("physical");
    let monitor = ens.executor().monitor().clone();
    println!(
        "dataset: {objects} objects x 200 obs, {} tasks in {} stages, {} threads",
        physical.tasks(),
        physical.stages.len(),
        ens.executor().config().total_threads()
    );
    let names = [
        "(a) no monitor",
        "(b) monitor",
        "(c) monitor + event subscriber",
        "(d) monitor + status poll",
        "(e) explain_analyze",
    ];
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    let rounds = env_usize("LSSTSERIES_BENCH_ROUNDS", 7);
    for _ in 0..rounds {
        let (t, rows_a) = timed(|| {
            physical
                .execute_with(ens.executor(), &Cancellation::new())
                .expect("a")
                .0
                .num_rows()
        });
        times[0].push(t);
        let (t, rows_b) = timed(|| frame.compute().expect("b").num_rows());
        assert_eq!(rows_a, rows_b);
        times[1].push(t);
        {
            let events = monitor.subscribe();
            let stop = Arc::new(AtomicBool::new(false));
            let flag = stop.clone();
            let drain = std::thread::spawn(move || {
                let mut n = 0usize;
                while !flag.load(Ordering::Relaxed) {
                    n += events.recv_timeout(Duration::from_millis(10)).is_ok() as usize;
                }
                n + events.try_iter().count()
            });
            let (t, _) = timed(|| frame.compute().expect("c").num_rows());
            stop.store(true, Ordering::Relaxed);
            // Dropping the receiver unsubscribes it at the next event.
            let seen = drain.join().expect("drain");
            assert!(seen >= 2, "the subscriber saw {seen} events");
            times[2].push(t);
        }
        {
            let stop = Arc::new(AtomicBool::new(false));
            let (flag, m) = (stop.clone(), monitor.clone());
            let poll = std::thread::spawn(move || {
                while !flag.load(Ordering::Relaxed) {
                    std::hint::black_box(m.status());
                    std::thread::sleep(Duration::from_millis(120));
                }
            });
            let (t, _) = timed(|| frame.compute().expect("d").num_rows());
            stop.store(true, Ordering::Relaxed);
            let _ = poll.join();
            times[3].push(t);
        }
        let (t, _) = timed(|| frame.explain_analyze_report().expect("e").nodes.len());
        times[4].push(t);
    }
    let base = median(times[0].clone());
    for (name, t) in names.iter().zip(times) {
        let m = median(t);
        println!(
            "{name:<34} median {:>8.1} ms  ratio to (a) {:.3}",
            m * 1e3,
            m / base
        );
    }
}
