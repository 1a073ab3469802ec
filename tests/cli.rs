//! The command-line tool, end to end.

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

#[test]
fn help_teaches_the_commands() {
    let (ok, out, _) = cli(&["--help"]);
    assert!(ok);
    for word in [
        "batch",
        "explain",
        "generate",
        "--partition-size",
        "--mode",
        "per-partition",
    ] {
        assert!(out.contains(word), "help lacks {word}");
    }
}

#[test]
fn batch_on_the_tape_file_writes_one_row_per_object() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sj.csv");
    let (ok, _, err) = cli(&[
        "batch",
        "stetson_j",
        "data/tape/test_source.parquet",
        "--id",
        "ps1_objid",
        "--time",
        "midPointTai",
        "--flux",
        "psFlux",
        "--err",
        "psFluxErr",
        "--band",
        "filterName",
        "--partition-size",
        "5KB",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(err.contains("2000 rows in, 15 result rows out"), "{err}");
    let text = std::fs::read_to_string(&out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "ps1_objid,stetson_j_g,stetson_j_r");
    assert_eq!(lines.len(), 16);
    assert!(
        lines[2].starts_with("88472935274829959,-0.04174"),
        "{}",
        lines[2]
    );
}

#[test]
fn per_partition_mode_warns_on_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pieces.parquet");
    let (ok, _, err) = cli(&[
        "batch",
        "stetson_j",
        "data/tape/test_source.parquet",
        "--columns",
        "tape",
        "--partitions",
        "32",
        "--mode",
        "per-partition",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(
        err.contains("warning:") && err.contains("45 result rows out"),
        "{err}"
    );
}

#[test]
fn generate_then_explain_and_info() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("lc");
    let (ok, _, err) = cli(&[
        "generate",
        data.to_str().unwrap(),
        "--objects",
        "50",
        "--files",
        "2",
        "--scatter",
    ]);
    assert!(ok, "{err}");
    let (ok, out, err) = cli(&["explain", "stetson_j", data.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("Shuffle[hash(id) -> 2]"), "{out}");
    let (ok, out, err) = cli(&["info", data.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(
        out.contains("Object table: 50 rows") && out.contains("Source table: 10,000 rows"),
        "{out}"
    );
}

#[test]
fn mistakes_get_clear_errors() {
    let (ok, _, err) = cli(&[
        "batch",
        "stetson_j",
        "data/tape/test_source.parquet",
        "--out",
        "x.csv",
    ]);
    assert!(!ok);
    assert!(
        err.contains("missing column(s)") && err.contains("ps1_objid"),
        "{err}"
    );
    let (ok, _, err) = cli(&["frobnicate"]);
    assert!(!ok && err.contains("unknown command 'frobnicate'"), "{err}");
    let (ok, _, err) = cli(&[
        "batch",
        "stetson_j",
        "data/tape/test_source.parquet",
        "--columns",
        "tape",
        "--mode",
        "sometimes",
        "--out",
        "x.csv",
    ]);
    assert!(!ok && err.contains("mode 'sometimes'"), "{err}");
    let (ok, _, err) = cli(&[
        "batch",
        "stetson_j",
        "data/tape/test_source.parquet",
        "--columns",
        "tape",
        "--partition-size",
        "5 parsecs",
        "--out",
        "x.csv",
    ]);
    assert!(!ok && err.contains("unknown unit"), "{err}");
}

#[test]
fn sf2_per_object_and_combined() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sf.csv");
    let (ok, _, err) = cli(&[
        "sf2",
        "data/tape/test_source.parquet",
        "--columns",
        "tape",
        "--method",
        "macleod_2012",
        "--bootstrap",
        "20",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.starts_with("ps1_objid,band,dt,sf2,sf2_err,n_pairs\n"),
        "{text}"
    );
    let (ok, _, err) = cli(&[
        "sf2",
        "data/tape/test_source.parquet",
        "--columns",
        "tape",
        "--combine",
        "--bins",
        "0,1,10,100,1000",
        "--out",
        out.to_str().unwrap(),
        "--overwrite",
    ]);
    assert!(ok, "{err}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("band,dt,sf2,sf2_err,n_pairs\n"), "{text}");
    let (ok, _, err) = cli(&[
        "sf2",
        "data/tape/test_source.parquet",
        "--columns",
        "tape",
        "--method",
        "nope",
        "--out",
        "x.csv",
    ]);
    assert!(!ok && err.contains("macleod_2012"), "{err}");
}

#[test]
fn version_prints_the_crate_version() {
    let (ok, out, err) = cli(&["--version"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("lsstseries") && out.contains(env!("CARGO_PKG_VERSION")),
        "{out}"
    );
}

#[test]
fn help_names_sf2_where_it_belongs() {
    let (ok, out, err) = cli(&["--help"]);
    assert!(ok, "{err}");
    assert!(out.contains("sf2") && out.contains("completions"), "{out}");
    let (ok, out, err) = cli(&["functions", "--help"]);
    assert!(ok, "{err}");
    assert!(out.contains("sf2"), "{out}");
    let (ok, out, err) = cli(&["sf2", "--help"]);
    assert!(ok, "{err}");
    for word in [
        "--method",
        "macleod_2012",
        "--bootstrap",
        "--columns",
        "--bands",
    ] {
        assert!(out.contains(word), "sf2 --help lacks {word}: {out}");
    }
    let (ok, out, err) = cli(&["batch", "--help"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("complete band set") && out.contains("per-partition"),
        "{out}"
    );
}

#[test]
fn a_typo_gets_a_suggestion() {
    let (ok, _, err) = cli(&["bacth", "stetson_j", "x"]);
    assert!(!ok);
    assert!(
        err.contains("unknown command 'bacth'") && err.contains("'batch'"),
        "{err}"
    );
    let (ok, _, err) = cli(&["info", "x", "--partition-szie", "5KB"]);
    assert!(!ok);
    assert!(err.contains("--partition-size"), "{err}");
}

#[test]
fn stray_positional_arguments_are_errors() {
    let (ok, _, err) = cli(&[
        "info",
        "data/tape/test_source.parquet",
        "--columns",
        "tape",
        "leftover",
    ]);
    // info takes several paths now: the stray one is read as a path, and named.
    assert!(!ok);
    assert!(err.contains("leftover"), "{err}");
    let (ok, _, err) = cli(&["generate", "x", "leftover"]);
    assert!(!ok && err.contains("'leftover'"), "{err}");
    let (ok, _, err) = cli(&["functions", "extra"]);
    assert!(!ok && err.contains("'extra'"), "{err}");
}

#[test]
fn repeated_options_are_errors() {
    let (ok, _, err) = cli(&[
        "info",
        "data/tape/test_source.parquet",
        "--columns",
        "tape",
        "--threads",
        "1",
        "--threads",
        "2",
    ]);
    assert!(!ok);
    assert!(
        err.contains("--threads") && err.contains("cannot be used multiple times"),
        "{err}"
    );
    let (ok, _, err) = cli(&["generate", "x", "--shuffle", "--shuffle"]);
    assert!(!ok && err.contains("--shuffle"), "{err}");
}

#[test]
fn bad_values_name_the_option_and_the_value() {
    let (ok, _, err) = cli(&[
        "info",
        "data/tape/test_source.parquet",
        "--partition-size",
        "5QB",
    ]);
    assert!(!ok);
    assert!(
        err.contains("--partition-size") && err.contains("5QB") && err.contains("unknown unit"),
        "{err}"
    );
    let (ok, _, err) = cli(&[
        "explain",
        "stetson_j",
        "data/tape/test_source.parquet",
        "--mode",
        "nonsense",
    ]);
    assert!(!ok);
    assert!(
        err.contains("--mode") && err.contains("nonsense") && err.contains("per-partition"),
        "{err}"
    );
    let (ok, _, err) = cli(&["info", "x", "--partition-size", "5KB", "--partitions", "3"]);
    assert!(!ok && err.contains("cannot be used with"), "{err}");
    let (ok, _, err) = cli(&["batch", "stetson_j", "x", "--out", "x.txt"]);
    assert!(
        !ok && err.contains("x.txt") && err.contains(".csv"),
        "{err}"
    );
    let (ok, _, err) = cli(&["batch", "stetson_j", "x"]);
    assert!(!ok && err.contains("--out"), "{err}");
}

#[test]
fn completions_for_bash() {
    let (ok, out, err) = cli(&["completions", "bash"]);
    assert!(ok, "{err}");
    assert!(
        out.contains("lsstseries") && out.contains("partition-size"),
        "{out}"
    );
}

/// `--memory-limit` spills a grouped run and writes the same bytes as the unlimited run;
/// the run reports its peak; a bad limit or timeout is refused; a timeout stops the run.
#[test]
fn memory_limit_and_timeout_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("lc");
    let data = data.to_str().unwrap();
    let (ok, _, err) = cli(&["generate", data, "--objects", "400", "--files", "3"]);
    assert!(ok, "{err}");
    let free = dir.path().join("free.csv");
    let limited = dir.path().join("limited.csv");
    let common = [
        "batch",
        "stetson_j",
        data,
        "--mode",
        "grouped",
        "--partitions",
        "24",
    ];
    let (ok, _, err) = cli(&[&common[..], &["--out", free.to_str().unwrap()]].concat());
    assert!(ok, "{err}");
    let spill = dir.path().join("spill");
    std::fs::create_dir(&spill).unwrap();
    let (ok, _, err) = cli(&[
        &common[..],
        &[
            "--out",
            limited.to_str().unwrap(),
            "--memory-limit",
            "1MB",
            "--spill-dir",
            spill.to_str().unwrap(),
        ],
    ]
    .concat());
    assert!(ok, "{err}");
    assert!(err.contains("memory: peak"), "{err}");
    assert!(!err.contains("spilled 0 B"), "expected a spill: {err}");
    assert_eq!(
        std::fs::read(&free).unwrap(),
        std::fs::read(&limited).unwrap()
    );
    assert_eq!(
        std::fs::read_dir(&spill).unwrap().count(),
        0,
        "spill dir left"
    );
    for (flag, value, says) in [
        ("--memory-limit", "0", "at least one byte"),
        ("--memory-limit", "lots", "lots"),
        ("--timeout", "5 fortnights", "unknown unit"),
        ("--timeout", "99999999999999999999999h", "out of range"),
    ] {
        let out = dir.path().join("x.csv");
        let (ok, _, err) =
            cli(&[&common[..], &["--out", out.to_str().unwrap(), flag, value]].concat());
        assert!(!ok);
        assert!(
            err.contains(flag) && err.contains(says),
            "{flag} {value}: {err}"
        );
    }
    let out = dir.path().join("late.csv");
    let (ok, _, err) = cli(&[
        &common[..],
        &["--out", out.to_str().unwrap(), "--timeout", "0s"],
    ]
    .concat());
    assert!(!ok);
    assert!(err.contains("deadline"), "{err}");
    assert!(!out.exists(), "no output after a stopped run");
}

/// The example: `--prune 10` gives 11 objects whose nobs_total sums to 1,991; object
/// and source queries select before the function; a bad query names its position.
#[test]
fn batch_selects_with_prune_and_queries() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("n.csv");
    let out_s = out.to_str().unwrap();
    let base = [
        "batch",
        "nobs",
        "data/tape/test_source.parquet",
        "--columns",
        "tape",
    ];
    let (ok, _, err) = cli(&[&base[..], &["--prune", "10", "--out", out_s]].concat());
    assert!(ok, "{err}");
    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let total = header.iter().position(|h| *h == "nobs_total").unwrap();
    let rows: Vec<Vec<String>> = lines
        .map(|l| l.split(',').map(String::from).collect())
        .collect();
    assert_eq!(rows.len(), 11);
    let sum: f64 = rows.iter().map(|r| r[total].parse::<f64>().unwrap()).sum();
    assert_eq!(sum, 1991.0);
    let (ok, _, err) = cli(&[
        &base[..],
        &[
            "--query-objects",
            "nobs_r >= 50 and nobs_g >= 50",
            "--query",
            "psFlux > 0",
            "--out",
            out_s,
            "--overwrite",
        ],
    ]
    .concat());
    assert!(ok, "{err}");
    let n = std::fs::read_to_string(&out).unwrap().lines().count() - 1;
    assert!(n <= 5 && n > 0, "{n}");
    let (ok, _, err) = cli(&[
        &base[..],
        &["--query", "psFlux >", "--out", out_s, "--overwrite"],
    ]
    .concat());
    assert!(!ok);
    assert!(err.contains("position 8"), "{err}");
}

#[test]
fn bad_values_are_dropped_and_counted_or_rejected_with_the_flag() {
    use lsstseries::io::{source_batch, write_parquet};
    use lsstseries::ColumnMap;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("nan.parquet");
    let batch = source_batch(
        &ColumnMap::generated(),
        vec![1, 1, 1, 2, 2],
        vec![1.0, 2.0, 3.0, 1.0, 2.0],
        vec![1.0, f64::NAN, 2.0, f64::NAN, 3.0],
        vec![0.1, 0.1, -0.1, 0.1, 0.1],
        vec!["g"; 5],
    )
    .unwrap();
    write_parquet(&data, &batch).unwrap();
    let data = data.to_str().unwrap();
    let out = dir.path().join("sj.csv");
    let out = out.to_str().unwrap();
    let (ok, _, err) = cli(&["batch", "stetson_j", data, "--out", out]);
    assert!(ok, "{err}");
    assert!(
        err.contains(
            "dropped 3 rows: flux NaN 2, flux_err <= 0 1 (--bad-values reject to fail instead)"
        ),
        "{err}"
    );
    // sf2 reads the same columns (and time): the same line.
    let sf = dir.path().join("sf.csv");
    let (ok, _, err) = cli(&["sf2", data, "--out", sf.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(
        err.contains("dropped 3 rows: flux NaN 2, flux_err <= 0 1"),
        "{err}"
    );
    // nobs reads only the band: nothing dropped, no line.
    let (ok, _, err) = cli(&["batch", "nobs", data, "--out", out, "--overwrite"]);
    assert!(ok && !err.contains("dropped"), "{err}");

    let (ok, _, err) = cli(&[
        "batch",
        "stetson_j",
        data,
        "--out",
        out,
        "--overwrite",
        "--bad-values",
        "reject",
    ]);
    assert!(!ok);
    assert!(
        err.contains("nan.parquet")
            && err.contains("'flux'")
            && err.contains("row 1")
            && err.contains("object 1"),
        "{err}"
    );
    let (ok, _, err) = cli(&[
        "batch",
        "stetson_j",
        data,
        "--out",
        out,
        "--bad-values",
        "ignore",
    ]);
    assert!(!ok);
    assert!(
        err.contains("--bad-values") && err.contains("drop, reject or keep"),
        "{err}"
    );
}

#[test]
fn bin_sources_on_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("bins.csv");
    let (ok, _, err) = cli(&[
        "bin-sources",
        "data/tape/test_source.parquet",
        "--columns",
        "tape",
        "--window",
        "1",
        "--offset",
        "-0.2",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let text = std::fs::read_to_string(&out).unwrap();
    assert!(
        text.starts_with("ps1_objid,band,time,flux,err,nbin\n"),
        "{text}"
    );
    let counts: usize = text
        .lines()
        .skip(1)
        .map(|l| l.rsplit(',').next().unwrap().parse::<usize>().unwrap())
        .sum();
    assert_eq!(counts, 2000, "every observation in one bin");
    let (ok, _, err) = cli(&[
        "bin-sources",
        "data/tape/test_source.parquet",
        "--columns",
        "tape",
        "--window",
        "0",
        "--out",
        out.to_str().unwrap(),
        "--overwrite",
    ]);
    assert!(!ok);
    assert!(err.contains("window"), "{err}");
}

/// --object-file: its string column selects objects, and --join-objects adds its columns
/// to each result row.
#[test]
fn batch_with_an_object_file_queries_and_joins_it() {
    use arrow::array::{ArrayRef, Int64Array, RecordBatch, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use lsstseries::io::generate::{generate, GeneratorConfig};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("lc");
    let cfg = GeneratorConfig {
        objects: 10,
        observations: 8,
        ..GeneratorConfig::default()
    };
    generate(&cfg, &data).unwrap();
    let first = cfg.first_id;
    let ids: Vec<i64> = (first..first + 10).collect();
    let kind: Vec<&str> = ids
        .iter()
        .map(|i| if i % 2 == 0 { "star" } else { "qso" })
        .collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("kind", DataType::Utf8, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(ids.clone())),
        Arc::new(StringArray::from(kind)),
    ];
    let objects = dir.path().join("objects.parquet");
    lsstseries::io::write_parquet(&objects, &RecordBatch::try_new(schema, columns).unwrap())
        .unwrap();
    let out = dir.path().join("n.csv");
    let (ok, _, err) = cli(&[
        "batch",
        "nobs",
        data.to_str().unwrap(),
        "--object-file",
        objects.to_str().unwrap(),
        "--query-objects",
        "kind == 'qso'",
        "--join-objects",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next().unwrap(),
        "id,nobs_g,nobs_i,nobs_r,nobs_total,kind"
    );
    let rows: Vec<(i64, String, String)> = lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].parse().unwrap(), f[4].to_string(), f[5].to_string())
        })
        .collect();
    let want: Vec<(i64, String, String)> = ids
        .iter()
        .filter(|i| *i % 2 != 0)
        .map(|&i| (i, "8".to_string(), "qso".to_string()))
        .collect();
    assert_eq!(rows, want);
    // --join-objects needs the file.
    let (ok, _, err) = cli(&[
        "batch",
        "nobs",
        data.to_str().unwrap(),
        "--join-objects",
        "--out",
        out.to_str().unwrap(),
        "--overwrite",
    ]);
    assert!(!ok);
    assert!(err.contains("--object-file"), "{err}");
}
