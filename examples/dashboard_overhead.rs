//! What the live dashboard costs a compute: the same compute (stetson_j over many small
//! partitions, so per-task costs show) with no dashboard, with a dashboard nobody watches,
//! and with a client reading its event stream (what an open page does). Prints the best
//! of several runs in rows/s for each.
//!
//! `cargo run --release --example dashboard_overhead [OBJECTS] [PARTITIONS]`
//!
//! `... --serve ADDR` instead serves a dashboard on ADDR and runs a slowed compute again and
//! again, to look at the page (Ctrl-C to stop).

use lsstseries::io::generate::{generate, GeneratorConfig};
use lsstseries::{closure_function, ColumnMap, Ensemble, Partitioning, Role};
use std::io::Read;
use std::net::TcpStream;
use std::time::{Duration, Instant};

const RUNS: usize = 5;

fn open(dir: &std::path::Path, dashboard: bool, partitions: usize) -> Ensemble {
    let mut builder = Ensemble::builder();
    if dashboard {
        builder = builder.dashboard("127.0.0.1:0");
    }
    let mut ens = builder.build().expect("ensemble");
    ens.from_parquet(dir, ColumnMap::generated(), Partitioning::Count(partitions))
        .expect("source");
    ens
}

/// Best rows/s of `RUNS` computes.
fn best_rows_per_s(ens: &Ensemble, rows: usize) -> f64 {
    let frame = ens.batch_named("stetson_j").expect("frame");
    (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            frame.compute().expect("compute");
            rows as f64 / t.elapsed().as_secs_f64()
        })
        .fold(0.0, f64::max)
}

/// Reads the event stream until the server goes away; returns the bytes read.
fn subscribe(url: &str) -> std::thread::JoinHandle<usize> {
    let addr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    std::thread::spawn(move || {
        let Ok(mut s) = TcpStream::connect(&addr) else {
            return 0;
        };
        use std::io::Write;
        // `Connection: close`: the server closes the stream when the dashboard stops (a
        // keep-alive connection would wait for the client's next request instead).
        let _ = write!(
            s,
            "GET /api/events HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        );
        let mut buf = [0u8; 65536];
        let mut total = 0;
        while let Ok(n) = s.read(&mut buf) {
            if n == 0 {
                break;
            }
            total += n;
        }
        total
    })
}

fn serve(dir: &std::path::Path, addr: &str) {
    let mut ens = Ensemble::builder()
        .n_workers(4)
        .dashboard(addr)
        .build()
        .expect("ensemble");
    ens.from_parquet(dir, ColumnMap::generated(), Partitioning::Count(200))
        .expect("source");
    println!("dashboard: {}", ens.dashboard_url().unwrap_or_default());
    let slow = closure_function(
        "slow_nobs",
        &[Role::Flux],
        vec![arrow::datatypes::Field::new(
            "n",
            arrow::datatypes::DataType::Float64,
            true,
        )],
        |lc, out| {
            std::thread::sleep(Duration::from_millis(2));
            out.push(lc.flux.len() as f64);
        },
    );
    loop {
        let frame = ens.batch(slow.clone()).expect("frame");
        frame.compute().expect("compute");
        std::thread::sleep(Duration::from_secs(3));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = tempfile::tempdir().expect("temporary directory");
    if args.first().map(String::as_str) == Some("--serve") {
        generate(
            &GeneratorConfig {
                objects: 4000,
                observations: 20,
                ..GeneratorConfig::default()
            },
            dir.path(),
        )
        .expect("generate");
        serve(
            dir.path(),
            args.get(1).map_or("127.0.0.1:8787", String::as_str),
        );
        return;
    }
    let objects: usize = args.first().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let partitions: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(400);
    let cfg = GeneratorConfig {
        objects,
        observations: 50,
        files: 4,
        row_groups_per_file: 4,
        ..GeneratorConfig::default()
    };
    generate(&cfg, dir.path()).expect("generate");
    let rows = objects * cfg.observations;
    println!(
        "stetson_j over {objects} objects, {rows} rows, {partitions} partitions; best of {RUNS} runs{}",
        if cfg!(debug_assertions) {
            " (debug build: compare the three lines with each other only)"
        } else {
            ""
        }
    );

    let plain = open(dir.path(), false, partitions);
    let off = best_rows_per_s(&plain, rows);
    drop(plain);

    let idle = open(dir.path(), true, partitions);
    let unwatched = best_rows_per_s(&idle, rows);
    drop(idle);

    let watched = open(dir.path(), true, partitions);
    let url = watched.dashboard_url().unwrap_or_default();
    let reader = subscribe(&url);
    // Let the subscription start before timing.
    std::thread::sleep(Duration::from_millis(200));
    let with_page = best_rows_per_s(&watched, rows);
    drop(watched);
    let streamed = reader.join().unwrap_or(0);

    let pct = |x: f64| 100.0 * (x - off) / off;
    println!("no dashboard:               {off:>14.0} rows/s");
    println!(
        "dashboard, no page open:    {unwatched:>14.0} rows/s ({:+.1}%)",
        pct(unwatched)
    );
    println!(
        "dashboard, events read:     {with_page:>14.0} rows/s ({:+.1}%; {streamed} bytes of events)",
        pct(with_page)
    );
}
