//! Local executor vs plain DataFusion vs an in-process Ballista cluster vs a scheduler and
//! two executor processes, on the same generated data (lightcurves scattered over files, so
//! a shuffle is needed, and sorted, so none is). Prints wall times and shuffle bytes.
//!
//! `cargo run --release -p lsstseries-ballista --example scale_out -- [OBJECTS]
//! [OBSERVATIONS] [SLOTS] [ROUNDS]` (defaults 2,000 x 200, 1 task slot per executor, 3
//! interleaved rounds, medians). The process cluster needs `lsstseries-ballista` built beside the
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

/// Watches the executors' work directories while a job runs and keeps the largest size
/// seen of every file: Ballista deletes intermediate shuffle files as soon as the job
/// succeeds, so sizes read afterwards miss them.
struct ShuffleWatch {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<std::collections::HashMap<PathBuf, u64>>,
}

impl ShuffleWatch {
    fn start(work: &[PathBuf]) -> Self {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (flag, dirs) = (stop.clone(), work.to_vec());
        let thread = std::thread::spawn(move || {
            let mut seen = std::collections::HashMap::new();
            loop {
                // One last look after the stop, for files finished just before it.
                let last = flag.load(std::sync::atomic::Ordering::Acquire);
                for d in &dirs {
                    sizes(d, &mut seen);
                }
                if last {
                    return seen;
                }
                std::thread::sleep(Duration::from_millis(2));
            }
        });
        ShuffleWatch { stop, thread }
    }

    /// Bytes written per stage id (`WORK/JOB/STAGE/...`) of jobs not in `before`.
    fn finish(
        self,
        work: &[PathBuf],
        before: &std::collections::BTreeSet<PathBuf>,
    ) -> std::collections::BTreeMap<u64, u64> {
        self.stop.store(true, std::sync::atomic::Ordering::Release);
        let seen = self.thread.join().unwrap_or_default();
        let mut out = std::collections::BTreeMap::new();
        for (path, bytes) in seen {
            let Some(w) = work.iter().find(|w| path.starts_with(w)) else {
                continue;
            };
            let mut parts = path
                .strip_prefix(w)
                .into_iter()
                .flat_map(|p| p.components());
            let (Some(job), Some(stage)) = (parts.next(), parts.next()) else {
                continue;
            };
            if before.contains(&w.join(job)) {
                continue;
            }
            if let Ok(id) = stage.as_os_str().to_string_lossy().parse::<u64>() {
                *out.entry(id).or_insert(0) += bytes;
            }
        }
        out
    }
}

/// Records the size of every file under `dir`, keeping the largest seen.
fn sizes(dir: &Path, seen: &mut std::collections::HashMap<PathBuf, u64>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        match e.metadata() {
            Ok(m) if m.is_dir() => sizes(&e.path(), seen),
            Ok(m) => {
                let v = seen.entry(e.path()).or_insert(0);
                *v = (*v).max(m.len());
            }
            Err(_) => {}
        }
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Job directories (`WORK/JOB`) in the executors' work directories.
fn jobs(work: &[PathBuf]) -> std::collections::BTreeSet<PathBuf> {
    work.iter()
        .filter_map(|w| std::fs::read_dir(w).ok())
        .flat_map(|d| d.flatten().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let objects: usize = args.next().map_or(Ok(2_000), |a| a.parse())?;
    let observations: usize = args.next().map_or(Ok(200), |a| a.parse())?;
    // Task slots per executor: 1 each matches the local executor's threads on 2 cores.
    let slots: usize = args.next().map_or(Ok(1), |a| a.parse())?;
    let rounds: usize = args.next().map_or(Ok(3), |a| a.parse())?;
    let tmp = tempfile::tempdir()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let standalone = rt.block_on(start_standalone(
        FunctionRegistry::with_builtins(),
        2,
        slots,
    ))?;
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
                a.extend(s(&["--scheduler-port", &port.to_string()]));
                a.extend(s(&["--concurrent-tasks", &slots.to_string(), "--work-dir"]));
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
        "{objects} objects x {observations} observations; 2 executors x {slots} slot(s); \
         median wall seconds of {rounds} interleaved rounds (debug build unless --release)"
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
            let lowered = lower_frame(&frame)?;
            let (mut local, mut df, mut sa, mut procs) = (vec![], vec![], vec![], vec![]);
            let mut metrics = Default::default();
            for _ in 0..rounds.max(1) {
                let t = Instant::now();
                metrics = frame.compute_with_metrics()?.1;
                local.push(t.elapsed().as_secs_f64());
                let t = Instant::now();
                rt.block_on(lowered.collect(&SessionContext::new()))?;
                df.push(t.elapsed().as_secs_f64());
                let t = Instant::now();
                rt.block_on(run_on_cluster(&lowered, &standalone, codec.clone(), limit))?;
                sa.push(t.elapsed().as_secs_f64());
                if let Some(address) = &processes {
                    let t = Instant::now();
                    rt.block_on(run_on_cluster(&lowered, address, codec.clone(), limit))?;
                    procs.push(t.elapsed().as_secs_f64());
                }
            }
            let metrics: lsstseries::RunMetrics = metrics;
            let (local, df, sa) = (median(&mut local), median(&mut df), median(&mut sa));
            let (procs, procs_bytes) = match &processes {
                Some(address) => {
                    let secs = median(&mut procs);
                    // Bytes from another run, watched: the watching takes CPU that the
                    // timed run should not lose.
                    let before = jobs(&work);
                    let watch = ShuffleWatch::start(&work);
                    rt.block_on(run_on_cluster(&lowered, address, codec.clone(), limit))?;
                    // Stages before the last write what the next stage reads: the shuffle
                    // by id where there is one (the last stage's output is the result).
                    let stages = watch.finish(&work, &before);
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
