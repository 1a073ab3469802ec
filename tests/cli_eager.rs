//! `lsstseries head` and `lsstseries day-gap-offset` on the bundled TAPE file.

use std::process::{Command, Output};

const TAPE: &str = "data/tape/test_source.parquet";

fn lsstseries(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_lsstseries"))
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn day_gap_offset_prints_tapes_value() {
    let out = lsstseries(&["day-gap-offset", TAPE, "--columns", "tape"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "0.7916666666666666\n");
}

#[test]
fn head_and_tail_print_csv_rows() {
    let out = lsstseries(&[
        "head",
        TAPE,
        "--columns",
        "tape",
        "-n",
        "3",
        "--partitions",
        "8",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert_eq!(
        lines[0],
        "midPointTai,psFlux,psFluxErr,filterName,ps1_objid"
    );
    assert!(lines[1].ends_with(",r,88472468910699998"), "{text}");
    let out = lsstseries(&["head", TAPE, "--columns", "tape", "-n", "2", "--tail"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(text.lines().count(), 3, "{text}");
    assert!(text.lines().all(|l| !l.is_empty()));
    // With a query: only matching rows.
    let out = lsstseries(&[
        "head",
        TAPE,
        "--columns",
        "tape",
        "-n",
        "5",
        "--query",
        "filterName == 'g'",
    ]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert_eq!(text.lines().count(), 6, "{text}");
    assert!(text.lines().skip(1).all(|l| l.contains(",g,")), "{text}");
    // Closed pipe: quiet success (`lsstseries head ... | head -1`).
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{} head {TAPE} --columns tape -n 100000 | head -1",
            env!("CARGO_BIN_EXE_lsstseries")
        ))
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
