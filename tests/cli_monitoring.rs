//! Seeing the work from the command line: `explain --analyze [--json]`, `--svg`, `--log`,
//! and the progress bar (drawn on a terminal only).

use std::path::Path;
use std::process::{Command, Output};

const TAPE: &str = "data/tape/test_source.parquet";

fn lsstseries(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lsstseries"))
        .args(args)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn explain_analyze_prints_the_annotated_plan() {
    let out = lsstseries(&[
        "explain",
        "stetson_j",
        TAPE,
        "--columns",
        "tape",
        "--mode",
        "grouped",
        "--analyze",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.starts_with("== Analyzed plan =="), "{stdout}");
    assert!(stdout.contains("Apply[stetson_j]"), "{stdout}");
    assert!(stdout.contains("lightcurves=15"), "{stdout}");
    assert!(stdout.contains("Shuffle[hash(ps1_objid)"), "{stdout}");
    assert!(stdout.contains("bytes_shuffled="), "{stdout}");
    // Not a terminal: no progress bar on stderr.
    assert!(
        !text(&out.stderr).contains("tasks"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn explain_analyze_json_is_versioned() {
    let out = lsstseries(&[
        "explain",
        "nobs",
        TAPE,
        "--columns",
        "tape",
        "--analyze",
        "--json",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["rows_in"], 2000);
    assert_eq!(v["rows_out"], 15);
    assert_eq!(v["nodes"][0]["kind"], "collect");
    // --json alone is a usage error naming what it needs.
    let out = lsstseries(&["explain", "nobs", TAPE, "--columns", "tape", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--analyze"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn svg_picture_or_a_clear_error_without_graphviz() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("plan.svg");
    let svg_arg = svg.to_str().unwrap();
    let args = [
        "explain",
        "stetson_j",
        TAPE,
        "--columns",
        "tape",
        "--svg",
        svg_arg,
    ];
    // Without Graphviz on PATH: an error that says what is missing, and no file.
    let out = Command::new(env!("CARGO_BIN_EXE_lsstseries"))
        .args(args)
        .env("PATH", dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("Graphviz"),
        "{}",
        text(&out.stderr)
    );
    assert!(!svg.exists());
    if !Path::new("/usr/bin/dot").exists() {
        eprintln!("skipped the SVG rendering: Graphviz's dot is not installed");
        return;
    }
    let out = lsstseries(&args);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let picture = std::fs::read_to_string(&svg).unwrap();
    assert!(picture.contains("<svg"), "{picture}");
    assert!(picture.contains("Apply[stetson_j]"), "{picture}");
}

#[test]
fn log_prints_stage_and_task_spans_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("sj.csv");
    let out = lsstseries(&[
        "--log",
        "debug",
        "batch",
        "stetson_j",
        TAPE,
        "--columns",
        "tape",
        "--partitions",
        "2",
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("task{stage=0 partition=1}"), "{stderr}");
    assert!(stderr.contains("stage{index=0 tasks=2"), "{stderr}");
    // Not a terminal: no colour codes.
    assert!(!stderr.contains('\u{1b}'), "{stderr}");
    let out = lsstseries(&["--log", "loud", "functions"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("loud"));
}

#[test]
fn progress_bar_draws_on_a_terminal_only() {
    if !Path::new("/usr/bin/script").exists() {
        eprintln!("skipped: util-linux `script` (a pseudo-terminal) is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let gen = lsstseries(&[
        "generate",
        data.to_str().unwrap(),
        "--objects",
        "3000",
        "--observations",
        "200",
        "--files",
        "4",
    ]);
    assert!(gen.status.success(), "{}", text(&gen.stderr));
    let csv = dir.path().join("f.csv");
    let command = format!(
        "{} batch features {} --partitions 64 --mode grouped --out {}",
        env!("CARGO_BIN_EXE_lsstseries"),
        data.display(),
        csv.display()
    );
    // `script` runs the command on a pseudo-terminal, so stderr is a terminal.
    let out = Command::new("script")
        .args(["-qfec", &command, "/dev/null"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stdout));
    let screen = text(&out.stdout);
    assert!(screen.contains("/128 tasks"), "{screen}");
    assert!(screen.contains("rows/s"), "{screen}");
    // --no-progress: the same run draws nothing.
    let out = Command::new("script")
        .args([
            "-qfec",
            &format!("{command} --overwrite --no-progress"),
            "/dev/null",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert!(
        !text(&out.stdout).contains("/128 tasks"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn dot_draws_the_logical_or_the_physical_plan() {
    let base = [
        "explain",
        "stetson_j",
        TAPE,
        "--columns",
        "tape",
        "--mode",
        "grouped",
        "--dot",
    ];
    let logical = lsstseries(&base);
    assert!(logical.status.success(), "{}", text(&logical.stderr));
    assert!(text(&logical.stdout).starts_with("digraph plan {"));
    let mut args = base.to_vec();
    args.extend(["--plan", "physical"]);
    let physical = lsstseries(&args);
    assert!(physical.status.success(), "{}", text(&physical.stderr));
    let dot = text(&physical.stdout);
    assert!(dot.starts_with("digraph physical {"), "{dot}");
    assert!(
        dot.contains("cluster_s1") && dot.contains("exchange by id"),
        "{dot}"
    );
}
