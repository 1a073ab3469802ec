//! The command line's outputs: result files written whole, never over an input or an
//! existing file unasked, unique and round-tripping CSV columns, and standard output that
//! may be closed or full.

use lsstseries::io::{source_batch, write_parquet, ColumnMap};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_lsstseries");
const TAPE: &str = "data/tape/test_source.parquet";

fn cli(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `batch FUNCTION` on the TAPE file into `out`, with `extra` arguments.
fn tape_batch(function: &str, out: &Path, extra: &[&str]) -> Command {
    let mut c = Command::new(BIN);
    c.args([
        "batch",
        function,
        TAPE,
        "--columns",
        "tape",
        "--out",
        s(out),
    ])
    .args(extra);
    c
}

/// Reads CSV as RFC 4180 (and Python's `csv` module) does: quoted fields may hold commas,
/// doubled quotes, `\r` and `\n`; an unquoted `\r`, `\n` or `\r\n` ends a record.
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut records = Vec::new();
    let (mut record, mut field) = (Vec::new(), String::new());
    let (mut quoted, mut open) = (false, false);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => quoted = true,
            ',' => record.push(std::mem::take(&mut field)),
            '\r' | '\n' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
                open = false;
                continue;
            }
            _ => field.push(c),
        }
        open = true;
    }
    if open {
        record.push(field);
        records.push(record);
    }
    records
}

/// A source of `objects` lightcurves, `per_band` observations in each of `bands`.
fn write_source(path: &Path, bands: &[&str], objects: i64, per_band: usize) {
    let (mut id, mut t, mut f, mut e, mut b) = (vec![], vec![], vec![], vec![], vec![]);
    for o in 1..=objects {
        for (k, band) in bands.iter().enumerate() {
            for i in 0..per_band {
                id.push(o);
                t.push((i * bands.len() + k) as f64 * 1.7);
                f.push(10.0 + ((i * 7 + k * 3 + o as usize) % 11) as f64);
                e.push(0.5);
                b.push(*band);
            }
        }
    }
    let batch = source_batch(&ColumnMap::generated(), id, t, f, e, b).unwrap();
    write_parquet(path, &batch).unwrap();
}

fn temp_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "tmp"))
        .collect()
}

/// Two runs racing for one output with --overwrite both succeed, and the file is one of
/// theirs, whole (before: both wrote into one truncated file at once).
#[test]
fn concurrent_runs_leave_one_whole_output() {
    let dir = tempfile::tempdir().unwrap();
    let mut expected = Vec::new();
    for function in ["stetson_j", "nobs"] {
        let out = dir.path().join(format!("{function}.csv"));
        let o = tape_batch(function, &out, &[]).output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        expected.push(std::fs::read(&out).unwrap());
    }
    assert_ne!(expected[0], expected[1]);
    let shared = dir.path().join("shared.csv");
    for round in 0..4 {
        let children: Vec<_> = ["stetson_j", "nobs", "stetson_j", "nobs"]
            .iter()
            .map(|f| {
                tape_batch(f, &shared, &["--overwrite"])
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for c in children {
            let o = c.wait_with_output().unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
        let got = std::fs::read(&shared).unwrap();
        assert!(
            expected.contains(&got),
            "round {round}: torn output ({} bytes)",
            got.len()
        );
    }
    assert!(temp_files(dir.path()).is_empty());
}

/// Without --overwrite, of two runs racing for a new output exactly one writes it; the
/// other fails and says how to replace it (before: both "succeeded").
#[test]
fn concurrent_runs_without_overwrite_write_once() {
    let dir = tempfile::tempdir().unwrap();
    let shared = dir.path().join("shared.parquet");
    let children: Vec<_> = ["stetson_j", "nobs"]
        .iter()
        .map(|f| {
            tape_batch(f, &shared, &[])
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().unwrap())
        .collect();
    let ok = outputs.iter().filter(|o| o.status.success()).count();
    assert_eq!(ok, 1, "exactly one run may write a new output");
    let failed = outputs.iter().find(|o| !o.status.success()).unwrap();
    let err = String::from_utf8_lossy(&failed.stderr);
    assert!(
        err.contains("already exists") && err.contains("--overwrite"),
        "{err}"
    );
    // The file is whole: its footer and every row group read.
    let file = std::fs::File::open(&shared).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let rows: usize = reader.map(|b| b.unwrap().num_rows()).sum();
    assert_eq!(rows, 15);
    assert!(temp_files(dir.path()).is_empty());
}

#[test]
fn an_input_is_never_an_output() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.parquet");
    std::fs::copy(TAPE, &input).unwrap();
    let before = std::fs::read(&input).unwrap();
    for extra in [&[][..], &["--overwrite"][..]] {
        let mut args = vec![
            "batch",
            "stetson_j",
            s(&input),
            "--columns",
            "tape",
            "--out",
            s(&input),
        ];
        args.extend_from_slice(extra);
        let (ok, _, err) = cli(&args);
        assert!(!ok && err.contains("is the input"), "{err}");
        // The same file by another spelling.
        let other = format!("{}/./in.parquet", s(dir.path()));
        args[6] = &other;
        let (ok, _, err) = cli(&args);
        assert!(!ok && err.contains("is the input"), "{err}");
    }
    #[cfg(unix)]
    {
        let link = dir.path().join("link.parquet");
        std::os::unix::fs::symlink(&input, &link).unwrap();
        let (ok, _, err) = cli(&[
            "batch",
            "stetson_j",
            s(&input),
            "--columns",
            "tape",
            "--out",
            s(&link),
            "--overwrite",
        ]);
        assert!(!ok && err.contains("is the input"), "{err}");
    }
    assert_eq!(std::fs::read(&input).unwrap(), before);
    // sf2 checks too.
    let (ok, _, err) = cli(&[
        "sf2",
        s(&input),
        "--columns",
        "tape",
        "--out",
        s(&input),
        "--overwrite",
    ]);
    assert!(!ok && err.contains("is the input"), "{err}");
    assert_eq!(std::fs::read(&input).unwrap(), before);
}

/// A .parquet result inside an input directory would be read as input next time; a .csv
/// result there is fine.
#[test]
fn a_parquet_output_inside_an_input_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(TAPE, dir.path().join("in.parquet")).unwrap();
    let args = |out: &Path| {
        let (ok, _, err) = cli(&[
            "batch",
            "stetson_j",
            s(dir.path()),
            "--columns",
            "tape",
            "--out",
            s(out),
        ]);
        (ok, err)
    };
    let (ok, err) = args(&dir.path().join("result.parquet"));
    assert!(!ok && err.contains("inside the input directory"), "{err}");
    assert!(!dir.path().join("result.parquet").exists());
    let (ok, err) = args(&dir.path().join("result.csv"));
    assert!(ok, "{err}");
}

#[test]
fn an_existing_output_needs_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sj.csv");
    std::fs::write(&out, "keep me\n").unwrap();
    let o = tape_batch("stetson_j", &out, &[]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success());
    assert!(
        err.contains("already exists") && err.contains("--overwrite"),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "keep me\n");
    let o = tape_batch("stetson_j", &out, &["--overwrite"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .starts_with("ps1_objid,stetson_j_g"));
}

/// A band named `total` would make two `nobs_total` columns: refused when the plan is
/// built, naming the column and the function, and nothing is written.
#[test]
fn a_band_named_total_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.parquet");
    write_source(&input, &["g", "total"], 3, 4);
    let out = dir.path().join("nobs.csv");
    let (ok, _, err) = cli(&["batch", "nobs", s(&input), "--out", s(&out)]);
    assert!(!ok, "{err}");
    assert!(
        err.contains("'nobs_total' would appear twice") && err.contains("function 'nobs'"),
        "{err}"
    );
    assert!(!out.exists());
    // Other functions are not affected.
    let (ok, _, err) = cli(&["batch", "stetson_j", s(&input), "--out", s(&out)]);
    assert!(ok, "{err}");
}

/// Band names holding a comma, a quote or a carriage return come back from the CSV as
/// they went in, in the header (nobs) and in values (sf2's band column).
#[test]
fn nasty_band_names_round_trip_through_csv() {
    let bands = ["a,b", "say \"hi\"", "cr\rx", "lf\nx", "plain"];
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.parquet");
    write_source(&input, &bands, 2, 12);
    let out = dir.path().join("nobs.csv");
    let (ok, _, err) = cli(&["batch", "nobs", s(&input), "--out", s(&out)]);
    assert!(ok, "{err}");
    let records = parse_csv(&std::fs::read_to_string(&out).unwrap());
    assert_eq!(records.len(), 3, "{records:?}");
    let mut sorted: Vec<&str> = bands.to_vec();
    sorted.sort();
    let mut header = vec!["id".to_string()];
    header.extend(sorted.iter().map(|b| format!("nobs_{b}")));
    header.push("nobs_total".into());
    assert_eq!(records[0], header);
    assert_eq!(records[1], ["1", "12", "12", "12", "12", "12", "60"]);

    let out = dir.path().join("sf.csv");
    let (ok, _, err) = cli(&["sf2", s(&input), "--out", s(&out)]);
    assert!(ok, "{err}");
    let records = parse_csv(&std::fs::read_to_string(&out).unwrap());
    let band_col = records[0].iter().position(|c| c == "band").unwrap();
    let width = records[0].len();
    let mut seen: Vec<&str> = Vec::new();
    for r in &records[1..] {
        assert_eq!(r.len(), width, "{r:?}");
        assert!(bands.contains(&r[band_col].as_str()), "{r:?}");
        if !seen.contains(&r[band_col].as_str()) {
            seen.push(&r[band_col]);
        }
    }
    assert_eq!(seen.len(), bands.len(), "{seen:?}");
}

/// Standard output closed early (`| head`): a quiet, successful exit, no panic.
#[test]
fn closed_stdout_exits_quietly() {
    for args in [
        vec!["functions"],
        vec!["info", TAPE, "--columns", "tape"],
        vec!["explain", "stetson_j", TAPE, "--columns", "tape"],
        vec!["completions", "bash"],
    ] {
        let mut child = Command::new(BIN)
            .args(&args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before the command has written anything.
        drop(child.stdout.take());
        let o = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{args:?}: {:?} {err}", o.status);
        assert!(err.is_empty(), "{args:?}: {err}");
    }
    // The shell's way: the reader takes one line and leaves.
    let o = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "'{BIN}' explain stetson_j {TAPE} --columns tape | head -1"
        ))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.is_empty(), "{err}");
}

/// Standard output that cannot take the text (a full disk): an error saying so, status 1.
#[test]
fn full_stdout_is_an_error() {
    let Ok(full) = std::fs::OpenOptions::new().write(true).open("/dev/full") else {
        return; // not Linux
    };
    for args in [
        vec!["functions"],
        vec!["info", TAPE, "--columns", "tape"],
        vec!["explain", "stetson_j", TAPE, "--columns", "tape"],
    ] {
        let o = Command::new(BIN)
            .args(&args)
            .stdout(full.try_clone().unwrap())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {err}");
        assert!(
            err.starts_with("error: cannot write to standard output:"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// A glob reads below its literal prefix: a .parquet result there is refused too, and so
/// is one among several input paths.
#[test]
fn a_parquet_output_under_a_glob_or_a_second_path_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(TAPE, dir.path().join("in.parquet")).unwrap();
    let other = tempfile::tempdir().unwrap();
    let pattern = format!("{}/*.parquet", s(dir.path()));
    let out = dir.path().join("result.parquet");
    for inputs in [vec![pattern.as_str()], vec![TAPE, s(dir.path())]] {
        let mut args = vec!["batch", "stetson_j"];
        args.extend(inputs);
        args.extend(["--columns", "tape", "--out", s(&out)]);
        let (ok, _, err) = cli(&args);
        assert!(!ok && err.contains("inside the input directory"), "{err}");
        assert!(!out.exists());
    }
    let elsewhere = other.path().join("result.parquet");
    let (ok, _, err) = cli(&[
        "batch",
        "stetson_j",
        &pattern,
        "--columns",
        "tape",
        "--out",
        s(&elsewhere),
    ]);
    assert!(ok && elsewhere.exists(), "{err}");
}
