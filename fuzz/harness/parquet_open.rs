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
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Once, OnceLock};

/// Panics raised inside the arrow and parquet crates that the library contains: in
/// arrow-ipc's schema conversion (`SourceFile::open` catches them: arrow-ipc 59 panics on a
/// malformed `ARROW:schema` footer entry), or on an executor worker (a task's panic becomes
/// `Error::Task`; e.g. parquet 59's debug assertions on corrupt data pages). These unwind
/// instead of aborting and are counted; every other panic, ours above all, still aborts
/// (libFuzzer's hook) or fails the test.
static CONTAINED_DEPENDENCY_PANICS: AtomicUsize = AtomicUsize::new(0);

fn contain_dependency_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let file = info.location().map_or("", |l| l.file());
            let caught_by_open = file.contains("/arrow-ipc-") && file.ends_with("convert.rs");
            let on_worker = std::thread::current()
                .name()
                .is_some_and(|n| n.starts_with("lsstseries-worker"));
            let dependency = file.contains("/parquet-") || file.contains("/arrow-");
            if caught_by_open || (on_worker && dependency) {
                CONTAINED_DEPENDENCY_PANICS.fetch_add(1, Ordering::SeqCst);
            } else {
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
    contain_dependency_panics();
    let mut file = tempfile::Builder::new()
        .suffix(".parquet")
        .tempfile()
        .expect("temporary file");
    file.write_all(bytes).expect("write the input file");
    let (options, function, mode) = options(selector);
    let before = CONTAINED_DEPENDENCY_PANICS.load(Ordering::SeqCst);
    let mut ens = Ensemble::with_executor(executor().clone());
    if no_panic(before, ens.from_parquet_with(file.path(), options)).is_none() {
        return;
    }
    if let Some(info) = no_panic(before, ens.info()) {
        let _ = info.to_string();
    }
    if let Some(frame) = no_panic(before, ens.batch_named_with(function, mode)) {
        no_panic(before, frame.explain());
        no_panic(before, frame.compute());
    }
}

/// The value, or `None` for an error; panics on `Error::Task` (how the executor reports a
/// task that panicked) unless a contained dependency panic happened since `before`.
fn no_panic<T>(before: usize, result: Result<T>) -> Option<T> {
    match result {
        Err(e @ Error::Task { .. })
            if CONTAINED_DEPENDENCY_PANICS.load(Ordering::SeqCst) == before =>
        {
            panic!("a task panicked: {e}")
        }
        r => r.ok(),
    }
}
