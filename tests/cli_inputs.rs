//! The command line's inputs: several paths, globs (quoted, so we expand them), nested
//! directories, what is skipped and said so, and `generate` into a non-empty directory.
//! No input is ever dropped or doubled silently (issue 7, items 2, 3 and 5).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn cli(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lsstseries"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// 12 objects x 10 observations in `files` part files under `dir`.
fn generate(dir: &Path, files: usize) -> Vec<PathBuf> {
    let (ok, _, err) = cli(&[
        "generate",
        s(dir),
        "--objects",
        "12",
        "--observations",
        "10",
        "--files",
        &files.to_string(),
    ]);
    assert!(ok, "{err}");
    (0..files)
        .map(|i| dir.join(format!("part-{i:05}.parquet")))
        .collect()
}

/// `info` of the given paths: (source rows, whole stdout).
fn info(paths: &[&str]) -> (usize, String) {
    let mut args = vec!["info"];
    args.extend_from_slice(paths);
    let (ok, out, err) = cli(&args);
    assert!(ok, "{err}");
    let rows = out
        .lines()
        .find_map(|l| l.strip_prefix("Source table: "))
        .and_then(|l| l.split(' ').next())
        .unwrap()
        .replace(',', "")
        .parse()
        .unwrap();
    (rows, out)
}

/// Rows of a CSV written by `batch` (header excluded).
fn csv_rows(path: &Path) -> usize {
    fs::read_to_string(path).unwrap().lines().count() - 1
}

#[test]
fn batch_reads_every_file_given() {
    let d = tempfile::tempdir().unwrap();
    let files = generate(&d.path().join("lc"), 3);
    let out = d.path().join("nobs.csv");
    // What the shell passes for `lc/*.parquet`: three paths, all read.
    let mut args = vec!["batch", "nobs"];
    args.extend(files.iter().map(|f| s(f)));
    args.extend(["--out", s(&out)]);
    let (ok, _, err) = cli(&args);
    assert!(ok, "{err}");
    assert_eq!(csv_rows(&out), 12);
    assert!(err.contains("120 rows in"), "{err}");
    // Two of the three: exactly their objects.
    let (ok, _, err) = cli(&[
        "batch",
        "nobs",
        s(&files[0]),
        s(&files[2]),
        "--out",
        s(&out),
        "--overwrite",
    ]);
    assert!(ok, "{err}");
    assert_eq!(csv_rows(&out), 8);
}

#[test]
fn a_quoted_glob_is_expanded_for_every_command() {
    let d = tempfile::tempdir().unwrap();
    let lc = d.path().join("lc");
    generate(&lc, 3);
    let pattern = lc.join("*.parquet");
    let (rows, out) = info(&[s(&pattern)]);
    assert_eq!(rows, 120);
    assert!(out.contains("Files: 3 Parquet file(s)"), "{out}");

    let csv = d.path().join("sj.csv");
    let (ok, _, err) = cli(&["batch", "stetson_j", s(&pattern), "--out", s(&csv)]);
    assert!(ok, "{err}");
    assert_eq!(csv_rows(&csv), 12);

    let (ok, out, err) = cli(&["explain", "nobs", s(&pattern)]);
    assert!(ok, "{err}");
    assert!(
        out.contains("Scan[parquet ") && out.contains("*.parquet"),
        "{out}"
    );

    let sf = d.path().join("sf.csv");
    let (ok, _, err) = cli(&["sf2", s(&pattern), "--combine", "--out", s(&sf)]);
    assert!(ok, "{err}");
}

#[test]
fn a_glob_matching_nothing_is_an_error_naming_it() {
    let d = tempfile::tempdir().unwrap();
    generate(d.path(), 1);
    let pattern = d.path().join("*.csv");
    let (ok, _, err) = cli(&["info", s(&pattern)]);
    assert!(!ok);
    assert!(
        err.contains(&format!("'{}' matched no files", s(&pattern))),
        "{err}"
    );
}

#[test]
fn the_same_file_twice_is_an_error_naming_it() {
    let d = tempfile::tempdir().unwrap();
    let files = generate(d.path(), 2);
    let (ok, _, err) = cli(&["info", s(&files[1]), s(&files[0]), s(&files[1])]);
    assert!(!ok);
    assert!(err.contains(s(&files[1])) && err.contains("twice"), "{err}");
    // A directory and a file inside it double rows the same way.
    let out = d.path().join("x.csv");
    let (ok, _, err) = cli(&["batch", "nobs", s(d.path()), s(&files[0]), "--out", s(&out)]);
    assert!(!ok);
    assert!(
        err.contains("part-00000.parquet") && err.contains("twice"),
        "{err}"
    );
}

#[test]
fn nested_hive_and_hipscat_directories_are_read() {
    let d = tempfile::tempdir().unwrap();
    let files = generate(&d.path().join("gen"), 3);
    let root = d.path().join("hive");
    let targets = [
        "year=2024/month=01/part-0.parquet",
        "year=2024/month=02/part-0.parquet",
        "Norder=3/Dir=0/Npix=17.parquet",
    ];
    for (f, t) in files.iter().zip(targets) {
        let t = root.join(t);
        fs::create_dir_all(t.parent().unwrap()).unwrap();
        fs::copy(f, t).unwrap();
    }
    let (rows, out) = info(&[s(&root)]);
    assert_eq!(rows, 120, "{out}");
    assert!(out.contains("Files: 3 Parquet file(s)"), "{out}");
}

#[test]
fn the_extension_matches_in_any_case() {
    let d = tempfile::tempdir().unwrap();
    let files = generate(d.path(), 2);
    fs::rename(&files[1], d.path().join("PART-00001.PARQUET")).unwrap();
    let (rows, _) = info(&[s(d.path())]);
    assert_eq!(rows, 120);
}

#[cfg(unix)]
#[test]
fn a_broken_link_is_an_error_naming_it() {
    let d = tempfile::tempdir().unwrap();
    generate(d.path(), 1);
    let link = d.path().join("gone.parquet");
    std::os::unix::fs::symlink(d.path().join("moved-away.parquet"), &link).unwrap();
    let (ok, _, err) = cli(&["info", s(d.path())]);
    assert!(!ok);
    assert!(
        err.contains(s(&link)) && err.contains("broken symbolic link"),
        "{err}"
    );
}

#[test]
fn hidden_entries_are_skipped_and_reported() {
    let d = tempfile::tempdir().unwrap();
    generate(d.path(), 2);
    fs::write(d.path().join("_SUCCESS"), b"").unwrap();
    fs::write(d.path().join(".part-00000.parquet.crc"), b"crc").unwrap();
    let tmp = d.path().join("_temporary/0");
    fs::create_dir_all(&tmp).unwrap();
    fs::write(tmp.join("part-00009.parquet"), b"half written").unwrap();
    fs::write(d.path().join("README.txt"), b"notes").unwrap();

    let (rows, out) = info(&[s(d.path())]);
    assert_eq!(rows, 120);
    assert!(out.contains("4 entr(ies) skipped"), "{out}");
    for name in ["_SUCCESS", ".part-00000.parquet.crc", "_temporary"] {
        let line = format!("skipped {}: hidden", s(&d.path().join(name)));
        assert!(out.contains(&line), "{line} in\n{out}");
    }
    assert!(out.contains("README.txt: not a .parquet file"), "{out}");

    // Commands other than info say so on stderr.
    let csv = d.path().join("nobs.csv");
    let (ok, _, err) = cli(&["batch", "nobs", s(d.path()), "--out", s(&csv)]);
    assert!(ok, "{err}");
    assert!(err.contains("note: skipped 4 entr(ies)"), "{err}");
}

#[test]
fn generate_refuses_a_directory_with_parquet_files_unless_overwrite() {
    let d = tempfile::tempdir().unwrap();
    generate(d.path(), 3);
    let keep = d.path().join("notes.txt");
    fs::write(&keep, b"mine").unwrap();

    let (ok, _, err) = cli(&["generate", s(d.path()), "--objects", "5"]);
    assert!(!ok);
    assert!(
        err.contains("already holds 3 .parquet file(s)") && err.contains("--overwrite"),
        "{err}"
    );
    assert_eq!(info(&[s(d.path())]).0, 120, "refused run changed nothing");

    // Fewer files this time: none of the old parts may survive to double rows.
    let (ok, _, err) = cli(&[
        "generate",
        s(d.path()),
        "--objects",
        "5",
        "--observations",
        "10",
        "--files",
        "2",
        "--overwrite",
    ]);
    assert!(ok, "{err}");
    assert_eq!(info(&[s(d.path())]).0, 50);
    assert!(!d.path().join("part-00002.parquet").exists());
    assert_eq!(fs::read(&keep).unwrap(), b"mine");

    // Parquet files it did not write are never removed, and refused.
    let theirs = d.path().join("theirs.parquet");
    fs::copy(d.path().join("part-00000.parquet"), &theirs).unwrap();
    let (ok, _, err) = cli(&["generate", s(d.path()), "--overwrite"]);
    assert!(!ok);
    assert!(err.contains("theirs.parquet"), "{err}");
    assert!(theirs.exists() && d.path().join("part-00001.parquet").exists());
}

#[test]
fn commands_with_fixed_arguments_still_reject_strays() {
    let d = tempfile::tempdir().unwrap();
    let (ok, _, err) = cli(&["generate", s(d.path()), "extra"]);
    assert!(!ok && err.contains("'extra'"), "{err}");
    let (ok, _, err) = cli(&["completions", "bash", "zsh"]);
    assert!(!ok && err.contains("'zsh'"), "{err}");
    // Paths are required.
    let (ok, _, err) = cli(&["info"]);
    assert!(!ok && err.contains("<PATH>"), "{err}");
}
