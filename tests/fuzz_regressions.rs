//! Fuzzing's findings, kept: every input under `tests/fixtures/fuzz/TARGET/` (crashes the
//! fuzz targets found, minimized) and every seed under `fuzz/seeds/TARGET/` is replayed
//! through the fuzz target's own harness (`fuzz/harness/TARGET.rs`), which panics on a
//! failure. Named tests below pin what each crash now gives instead.
//!
//! `fixtures/fuzz/parquet_open/`: `arrow-schema-unknown-float-precision` (fixed, see the
//! named test); `parquet-bit-width-over-32-in-dictionary-page` (a corrupt data page trips a
//! debug assertion inside parquet 59 while the id column is scanned; the executor turns
//! that task's panic into `Error::Task`, which the harness accepts only for panics located
//! in the arrow/parquet crates).

#[path = "../fuzz/harness/cli_args.rs"]
mod cli_args;
#[path = "../fuzz/harness/parquet_open.rs"]
mod parquet_open;
#[path = "../fuzz/harness/size_string.rs"]
mod size_string;
#[path = "../fuzz/harness/text_parsers.rs"]
mod text_parsers;

use std::path::Path;

/// Replays every file of the target's seeds and fixtures; returns how many ran.
fn replay(target: &str, run: fn(&[u8])) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut count = 0;
    for dir in [
        root.join("fuzz/seeds").join(target),
        root.join("tests/fixtures/fuzz").join(target),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut paths: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        paths.sort();
        for path in paths.iter().filter(|p| p.is_file() && !is_hidden(p)) {
            let data = std::fs::read(path).unwrap();
            eprintln!("replaying {}", path.display());
            run(&data);
            count += 1;
        }
    }
    count
}

#[test]
fn parquet_open_inputs_replay() {
    assert!(replay("parquet_open", parquet_open::run) >= 10);
}

#[test]
fn size_string_inputs_replay() {
    assert!(replay("size_string", size_string::run) >= 5);
}

#[test]
fn text_parser_inputs_replay() {
    assert!(replay("text_parsers", text_parsers::run) >= 5);
}

#[test]
fn cli_args_inputs_replay() {
    assert!(replay("cli_args", cli_args::run) >= 5);
}

/// `.gitkeep` and the like.
fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with('.'))
}

/// A footer whose embedded Arrow schema declares a float of unknown precision: arrow-ipc
/// panicked (an abort under `panic = "abort"`, a task failure otherwise); now the file is
/// refused as bad data, named.
#[test]
fn malformed_embedded_arrow_schema_is_invalid_data() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let input = std::fs::read(
        root.join("tests/fixtures/fuzz/parquet_open/arrow-schema-unknown-float-precision"),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.parquet");
    // Byte 0 is the harness's option selector; the file follows.
    std::fs::write(&path, &input[1..]).unwrap();
    let mut ens = lsstseries::Ensemble::builder()
        .n_workers(1)
        .build()
        .unwrap();
    let err = ens
        .from_parquet(
            &path,
            lsstseries::ColumnMap::generated(),
            lsstseries::Partitioning::RowGroups,
        )
        .unwrap_err();
    match err {
        lsstseries::Error::InvalidData(m) => {
            assert!(
                m.contains("bad.parquet") && m.contains("ARROW:schema"),
                "{m}"
            );
        }
        other => panic!("expected InvalidData, got {other:?}"),
    }
}
