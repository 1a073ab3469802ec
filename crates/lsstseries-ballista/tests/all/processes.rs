//! One scheduler and two executor processes of `lsstseries-ballista` on 127.0.0.1 with
//! free ports; `batch --cluster` writes the same file as a local `batch`. The processes
//! are killed by their ids when the test ends, failed or not.

use super::common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_lsstseries-ballista");

/// Processes this test started; killed (by pid) and reaped on drop.
struct Started(Vec<Child>);

impl Drop for Started {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Started {
    /// Starts `args` and returns the port of its first stdout line,
    /// `KIND listening on HOST:PORT`, waiting at most 60 s.
    fn start(&mut self, kind: &str, args: &[&str]) -> u16 {
        let mut child = Command::new(BIN)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        self.0.push(child);
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = tx.send(lines.next());
            // Keep reading so the process never blocks on a full pipe.
            for _ in lines {}
        });
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("{kind} printed nothing in 60 s"))
            .unwrap_or_else(|| panic!("{kind} exited before listening"))
            .unwrap();
        let prefix = format!("{kind} listening on 127.0.0.1:");
        let port = line
            .strip_prefix(&prefix)
            .unwrap_or_else(|| panic!("first line of {kind}: {line}"));
        port.parse().unwrap()
    }
}

/// The core's `lsstseries` program beside ours, built if it is not there yet (the
/// hand-over of `--cluster` looks for this program beside itself).
fn core_program() -> std::path::PathBuf {
    static BUILT: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let dir = Path::new(BIN).parent().unwrap();
            let core = dir.join("lsstseries");
            if !core.exists() {
                let target = dir.parent().unwrap();
                // Both packages at once, so features unify with this build's and nothing
                // but the program is built.
                let status = Command::new(env!("CARGO"))
                    .args([
                        "build",
                        "-p",
                        "lsstseries",
                        "-p",
                        "lsstseries-ballista",
                        "--bins",
                    ])
                    .arg("--target-dir")
                    .arg(target)
                    .status()
                    .unwrap();
                assert!(status.success(), "building the lsstseries program");
            }
            core
        })
        .clone()
}

fn batch_command(function: &str, data: &Path, out: &Path, cluster: Option<&str>) -> Command {
    program_batch(Path::new(BIN), function, data, out, cluster)
}

fn program_batch(
    program: &Path,
    function: &str,
    data: &Path,
    out: &Path,
    cluster: Option<&str>,
) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(["batch", function])
        .arg(data)
        .arg("--out")
        .arg(out)
        .arg("--no-progress");
    if let Some(c) = cluster {
        cmd.args(["--cluster", c]);
    }
    cmd
}

/// Starts a scheduler and two executors; returns the scheduler's port.
fn cluster(started: &mut Started, dir: &Path) -> u16 {
    let port = started.start(
        "scheduler",
        &["scheduler", "--bind-host", "127.0.0.1", "--bind-port", "0"],
    );
    let port_text = port.to_string();
    for i in 0..2 {
        let work = dir.join(format!("work{i}"));
        std::fs::create_dir_all(&work).unwrap();
        started.start(
            "executor",
            &[
                "executor",
                "--bind-host",
                "127.0.0.1",
                "--bind-port",
                "0",
                "--bind-grpc-port",
                "0",
                "--scheduler-host",
                "127.0.0.1",
                "--scheduler-port",
                &port_text,
                "--concurrent-tasks",
                "2",
                "--work-dir",
                work.to_str().unwrap(),
            ],
        );
    }
    port
}

#[test]
fn scheduler_and_two_executor_processes_match_local_output() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    common::dataset(&data, 50, true);
    let mut started = Started(Vec::new());
    let port = cluster(&mut started, dir.path());
    let cluster = format!("df://127.0.0.1:{port}");
    let core = core_program();
    for function in ["stetson_j", "features"] {
        let local = dir.path().join(format!("{function}-local.csv"));
        let remote = dir.path().join(format!("{function}-cluster.csv"));
        let status = program_batch(&core, function, &data, &local, None)
            .args(["--timeout", "120s"])
            .status()
            .unwrap();
        assert!(status.success(), "lsstseries batch {function}: {status}");
        // `lsstseries batch --cluster` hands the command line to lsstseries-ballista.
        let run = program_batch(&core, function, &data, &remote, Some(&cluster))
            .args(["--timeout", "120s"])
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&run.stderr);
        assert!(
            run.status.success(),
            "lsstseries batch {function} --cluster: {said}"
        );
        assert!(
            said.contains(&format!("on the cluster {cluster}")),
            "{said}"
        );
        let (a, b) = (
            std::fs::read(&local).unwrap(),
            std::fs::read(&remote).unwrap(),
        );
        assert!(
            a.iter().filter(|&&c| c == b'\n').count() > 50,
            "{function}: too few rows"
        );
        assert!(
            a == b,
            "{function}: cluster output differs from local output"
        );
    }
    // The executors as the scheduler lists them, through the command line.
    let info = Command::new(&core)
        .arg("info")
        .arg(&data)
        .args(["--cluster", &cluster])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&info.stdout);
    assert!(info.status.success(), "{text}");
    assert!(
        text.contains("executors:          2 (4 active slots)"),
        "{text}"
    );
    drop(started);
}

/// Whether `dir` holds a file anywhere below it.
fn has_file(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .any(|e| {
            let p = e.path();
            if p.is_dir() {
                has_file(&p)
            } else {
                true
            }
        })
}

#[test]
fn an_executor_killed_mid_run_gives_the_result_or_a_clear_error_in_bounded_time() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    common::dataset(&data, 3000, true);
    let mut started = Started(Vec::new());
    let port = cluster(&mut started, dir.path());
    let local = dir.path().join("local.csv");
    let status = batch_command("features", &data, &local, None)
        .args(["--partitions", "24"])
        .status()
        .unwrap();
    assert!(status.success());
    let remote = dir.path().join("cluster.csv");
    let mut run = batch_command(
        "features",
        &data,
        &remote,
        Some(&format!("df://127.0.0.1:{port}")),
    )
    .args(["--partitions", "24", "--timeout", "60s"])
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    // Mid-run for certain: the victim has written shuffle data (so it ran first-stage
    // tasks whose output the next stage needs) and the client is still waiting.
    let victim_work = dir.path().join("work1");
    let waited = std::time::Instant::now();
    while !has_file(&victim_work) {
        assert!(
            run.try_wait().unwrap().is_none(),
            "the run ended before the second executor wrote shuffle data"
        );
        assert!(
            waited.elapsed() < Duration::from_secs(60),
            "no shuffle data in 60 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        run.try_wait().unwrap().is_none(),
        "the run ended before the kill"
    );
    let victim = started.0.last_mut().unwrap();
    victim.kill().unwrap();
    victim.wait().unwrap();
    let killed_at = std::time::Instant::now();
    // Never hangs: the client's own deadline is 60 s.
    let output = loop {
        if run.try_wait().unwrap().is_some() {
            break run.wait_with_output().unwrap();
        }
        if killed_at.elapsed() > Duration::from_secs(150) {
            let _ = run.kill();
            panic!("the run neither finished nor failed 150 s after the kill");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = String::from_utf8_lossy(&output.stderr);
    eprintln!(
        "after the kill: {} in {:.1} s",
        if output.status.success() {
            "completed"
        } else {
            "failed"
        },
        killed_at.elapsed().as_secs_f64()
    );
    if output.status.success() {
        // Ballista re-ran the lost tasks: the result is whole and right.
        assert!(std::fs::read(&local).unwrap() == std::fs::read(&remote).unwrap());
    } else {
        // Or it says so, and writes nothing that could pass for a result.
        assert!(
            text.contains("error: cluster df://127.0.0.1:") || text.contains("deadline of 60s"),
            "{text}"
        );
        assert!(!remote.exists(), "a failed run left {}", remote.display());
    }
}
