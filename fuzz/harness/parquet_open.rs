//! Parquet ingestion: any bytes, written to a file and opened with `Ensemble::from_parquet`,
//! give an ensemble or an error, never a panic, an abort or a hang; an ensemble that opens
//! also answers `info()`, `explain()` and a computed batch function (with an error at most).
//!
//! Input layout: byte 0 chooses the options (below), the rest is the file. Seeds
//! (`fuzz/seeds/parquet_open/`) hold real files behind a selector byte.
//!
//! Shared by `fuzz/fuzz_targets/parquet_open.rs` and the replay in `tests/fuzz_regressions.rs`.

use lsstseries::io::SourceOptions;
use lsstseries::{
    BatchMode, ColumnMap, Ensemble, Error, Executor, ExecutorConfig, Partitioning, Result,
};
use std::io::Write;
use std::sync::{Arc, Once, OnceLock};

/// Lets panics raised inside arrow-ipc's schema conversion unwind instead of aborting:
/// `SourceFile::open` catches them and reports the file as bad data (arrow-ipc 59 panics on
/// malformed `ARROW:schema` footer metadata). libFuzzer's hook aborts on every other panic.
fn tolerate_caught_arrow_ipc_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let in_arrow_ipc = info.location().is_some_and(|l| {
                l.file().contains("arrow-ipc") && l.file().ends_with("convert.rs")
            });
            if !in_arrow_ipc {
                previous(info);
            }
        }));
    });
}

/// One executor for the whole run: starting threads per input would dominate.
fn executor() -> &'static Arc<Executor> {
    static EXECUTOR: OnceLock<Arc<Executor>> = OnceLock::new();
    EXECUTOR.get_or_init(|| {
        let config = ExecutorConfig::default()
            .n_workers(2)
            .memory_limit(256 << 20);
        Executor::new(config).expect("executor starts")
    })
}

/// Options from the selector byte: bit 0 the column map, bits 1-3 the partitioning, bit 4
/// declared bands, bits 5-6 the function, bit 7 the batch mode.
fn options(selector: u8) -> (SourceOptions, &'static str, BatchMode) {
    let columns = if selector & 1 == 0 {
        ColumnMap::generated()
    } else {
        ColumnMap::tape()
    };
    let partitioning = match (selector >> 1) & 7 {
        0 => Partitioning::RowGroups,
        1 => Partitioning::Files,
        2 => Partitioning::Bytes(2000),
        3 => Partitioning::Count(3),
        4 => Partitioning::Rows(7),
        5 => Partitioning::Count(1000),
        6 => Partitioning::Bytes(1),
        _ => Partitioning::Rows(1),
    };
    let mut options = SourceOptions::new(columns, partitioning);
    if selector & 16 != 0 {
        options.bands = Some(["g", "r", "i", "z", "y", "u"].map(String::from).to_vec());
    }
    let function = ["stetson_j", "nobs", "sf2", "features"][usize::from((selector >> 5) & 3)];
    let mode = if selector & 128 == 0 {
        BatchMode::Auto
    } else {
        BatchMode::Grouped
    };
    (options, function, mode)
}

/// One input; panics on a failure.
pub fn run(data: &[u8]) {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    tolerate_caught_arrow_ipc_panics();
    let mut file = tempfile::Builder::new()
        .suffix(".parquet")
        .tempfile()
        .expect("temporary file");
    file.write_all(bytes).expect("write the input file");
    let (options, function, mode) = options(selector);
    let mut ens = Ensemble::with_executor(executor().clone());
    if no_panic(ens.from_parquet_with(file.path(), options)).is_none() {
        return;
    }
    if let Some(info) = no_panic(ens.info()) {
        let _ = info.to_string();
    }
    if let Some(frame) = no_panic(ens.batch_named_with(function, mode)) {
        no_panic(frame.explain());
        no_panic(frame.compute());
    }
}

/// The value, or `None` for an error; panics on `Error::Task`, which is how the executor
/// reports a task that panicked (under libFuzzer the panic itself already aborts).
fn no_panic<T>(result: Result<T>) -> Option<T> {
    match result {
        Err(e @ Error::Task { .. }) => panic!("a task panicked: {e}"),
        r => r.ok(),
    }
}
