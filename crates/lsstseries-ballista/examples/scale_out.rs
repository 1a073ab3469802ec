//! Local executor vs plain DataFusion vs an in-process Ballista cluster vs a scheduler and
//! two executor processes, on the same generated data (lightcurves scattered over files, so
//! a shuffle is needed, and sorted, so none is). Prints wall times and shuffle bytes.
//!
//! `cargo run -p lsstseries-ballista --example scale_out -- [OBJECTS] [OBSERVATIONS]`
//! (defaults 2,000 x 200). The process cluster needs `lsstseries-ballista` built beside the
//! example (`cargo build -p lsstseries-ballista` first); without it that column is skipped.

use datafusion::prelude::SessionContext;
use lsstseries::io::generate::{generate, GeneratorConfig};
use lsstseries::{ColumnMap, Ensemble, FunctionRegistry, Partitioning};
use lsstseries_ballista::{lower_frame, run_on_cluster, start_standalone, LsstCodec};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Started(Vec<Child>);

impl Drop for Started {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn start(started: &mut Started, bin: &Path, args: &[String]) -> Option<u16> {
    let mut child = Command::new(bin)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let mut line = String::new();
    let mut out = BufReader::new(child.stdout.take()?);
    started.0.push(child);
    out.read_line(&mut line).ok()?;
    std::thread::spawn(move || for _ in out.lines() {});
    line.trim().rsplit(':').next()?.parse().ok()
}

/// Job directories (`WORK/JOB`) in the executors' work directories.
fn jobs(work: &[PathBuf]) -> std::collections::BTreeSet<PathBuf> {
    work.iter()
        .filter_map(|w| std::fs::read_dir(w).ok())
        .flat_map(|d| d.flatten().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect()
}

/// Bytes the jobs not in `before` wrote, per stage id (`WORK/JOB/STAGE/...`): Ballista
/// keeps a finished job's files for minutes, so they are all still there.
fn bytes_by_stage(
    work: &[PathBuf],
    before: &std::collections::BTreeSet<PathBuf>,
) -> std::collections::BTreeMap<u64, u64> {
    let mut out = std::collections::BTreeMap::new();
    for job in jobs(work).difference(before) {
        for stage in std::fs::read_dir(job).into_iter().flatten().flatten() {
            if let Ok(id) = stage.file_name().to_string_lossy().parse::<u64>() {
                *out.entry(id).or_insert(0) += dir_bytes(&stage.path());
            }
        }
    }
    out
}

fn dir_bytes(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let objects: usize = args.next().map_or(Ok(2_000), |a| a.parse())?;
    let observations: usize = args.next().map_or(Ok(200), |a| a.parse())?;
    let tmp = tempfile::tempdir()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let standalone = rt.block_on(start_standalone(FunctionRegistry::with_builtins(), 2, 2))?;
    let bin: PathBuf = std::env::current_exe()?
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join("lsstseries-ballista"))
        .unwrap_or_default();
    let mut started = Started(Vec::new());
    let work: Vec<PathBuf> = (0..2)
        .map(|i| tmp.path().join(format!("work{i}")))
        .collect();
    let processes = if bin.exists() {
        let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
        let port = start(&mut started, &bin, &s(&["scheduler", "--bind-port", "0"]));
        port.and_then(|port| {
            for w in &work {
                std::fs::create_dir_all(w).ok()?;
                let mut a = s(&["executor", "--bind-port", "0", "--bind-grpc-port", "0"]);
                a.extend(s(&["--scheduler-port", &port.to_string(), "--work-dir"]));
                a.push(w.to_string_lossy().into_owned());
                start(&mut started, &bin, &a)?;
            }
            Some(format!("df://127.0.0.1:{port}"))
        })
    } else {
        None
    };
    let codec = Arc::new(LsstCodec::builtins());
    let limit = Duration::from_secs(3600);
    println!(
        "{objects} objects x {observations} observations; wall seconds (debug build unless --release)"
    );
    println!(
        "{:<10} {:<10} {:>8} {:>10} {:>11} {:>10} {:>16}  procs shuffle B/row (written per stage)",
        "layout", "function", "local", "datafusion", "standalone", "2 procs", "local shuffle B/row",
    );
    for (layout, scatter) in [("scattered", true), ("sorted", false)] {
        let dir = tmp.path().join(layout);
        let cfg = GeneratorConfig {
            objects,
            observations,
            files: 8,
            row_groups_per_file: 2,
            scatter,
            shuffle_rows: scatter,
            ..GeneratorConfig::default()
        };
        generate(&cfg, &dir)?;
        let mut ens = Ensemble::new()?;
        ens.from_parquet(&dir, ColumnMap::generated(), Partitioning::RowGroups)?;
        for function in ["stetson_j", "features"] {
            let frame = ens.source()?.batch_named(function)?;
            let rows = (objects * observations) as f64;
            let t = Instant::now();
            let (_, metrics) = frame.compute_with_metrics()?;
            let local = t.elapsed().as_secs_f64();
            let lowered = lower_frame(&frame)?;
            let t = Instant::now();
            rt.block_on(lowered.collect(&SessionContext::new()))?;
            let df = t.elapsed().as_secs_f64();
            let t = Instant::now();
            rt.block_on(run_on_cluster(&lowered, &standalone, codec.clone(), limit))?;
            let sa = t.elapsed().as_secs_f64();
            let (procs, procs_bytes) = match &processes {
                Some(address) => {
                    let before = jobs(&work);
                    let t = Instant::now();
                    rt.block_on(run_on_cluster(&lowered, address, codec.clone(), limit))?;
                    let secs = t.elapsed().as_secs_f64();
                    // Stages before the last write what the next stage reads: the shuffle
                    // by id where there is one (the last stage's output is the result).
                    let stages = bytes_by_stage(&work, &before);
                    let shuffled: u64 = stages.values().rev().skip(1).sum();
                    let per_stage: Vec<String> = stages
                        .iter()
                        .map(|(s, b)| format!("s{s}={:.1}", *b as f64 / rows))
                        .collect();
                    (
                        format!("{secs:.2}"),
                        format!("{:.1} ({})", shuffled as f64 / rows, per_stage.join(" ")),
                    )
                }
                None => ("-".into(), "-".into()),
            };
            println!(
                "{layout:<10} {function:<10} {local:>8.2} {df:>10.2} {sa:>11.2} {procs:>10} {:>16.1}  {procs_bytes}",
                metrics.bytes_shuffled as f64 / rows
            );
        }
    }
    drop(started);
    Ok(())
}
