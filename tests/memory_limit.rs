//! A memory limit covers every operator: runs under a small limit spill shuffle buckets and
//! results to disk and give results identical to the unlimited run; what cannot spill (one
//! partition, a result gathered into one batch) fails with a clear error; streamed results
//! equal `compute()` row for row; spill files are removed; cancelled computes stop and
//! leave the executor usable.

use arrow::array::{Array, RecordBatch};
use arrow::compute::concat_batches;
use arrow::datatypes::{DataType, Field};
use lsstseries::io::generate::{generate, GeneratorConfig};
use lsstseries::prelude::*;
use lsstseries::Cancellation;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use proptest::prelude::*;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn dataset(dir: &Path, objects: usize, files: usize, scatter: bool, seed: u64) {
    let cfg = GeneratorConfig {
        objects,
        observations: 40,
        files,
        row_groups_per_file: 3,
        shuffle_rows: scatter,
        scatter,
        seed,
        ..GeneratorConfig::default()
    };
    generate(&cfg, dir).unwrap();
}

fn ensemble(dir: &Path, limit: Option<usize>, spill: Option<&Path>, parts: usize) -> Ensemble {
    let mut b = Ensemble::builder().n_workers(2);
    if let Some(l) = limit {
        b = b.memory_limit(l);
    }
    if let Some(s) = spill {
        b = b.spill_dir(s);
    }
    let mut ens = b.build().unwrap();
    ens.from_parquet(dir, ColumnMap::generated(), Partitioning::Count(parts))
        .unwrap();
    ens
}

fn stream_to_batch(frame: &Frame) -> RecordBatch {
    let stream = frame.compute_stream().unwrap();
    let schema = stream.schema();
    let batches: Vec<RecordBatch> = stream.map(|b| b.unwrap()).collect();
    concat_batches(&schema, &batches).unwrap()
}

/// `factor` partitions' worth of the decoded source: room for a few tasks' batches, far
/// less than the whole dataset when there are many partitions.
fn limit_for(ens: &Ensemble, parts: usize, factor: usize) -> usize {
    let total = ens
        .source()
        .unwrap()
        .compute()
        .unwrap()
        .get_array_memory_size();
    total / parts * factor + 16 * 1024
}

fn is_empty_dir(dir: &Path) -> bool {
    std::fs::read_dir(dir).unwrap().next().is_none()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// Grouped (shuffling) Stetson J and the default features under limits small enough to
    /// spill: results equal the unlimited run exactly, the pool's peak stays under the
    /// limit, and the spill directory is left empty.
    #[test]
    fn spilled_runs_equal_in_memory_runs(
        objects in 20usize..120,
        files in 1usize..4,
        scatter in any::<bool>(),
        parts in 6usize..14,
        factor in 3usize..6,
        seed in 0u64..1000,
    ) {
        let data = tempfile::tempdir().unwrap();
        let spill = tempfile::tempdir().unwrap();
        dataset(data.path(), objects, files, scatter, seed);
        let free = ensemble(data.path(), None, None, parts);
        let limit = limit_for(&free, parts, factor);
        let limited = ensemble(data.path(), Some(limit), Some(spill.path()), parts);
        for function in ["stetson_j", "features", "nobs"] {
            let want = free.batch_named_with(function, BatchMode::Grouped).unwrap().compute().unwrap();
            let frame = limited.batch_named_with(function, BatchMode::Grouped).unwrap();
            let mut stream = frame.compute_stream().unwrap();
            let schema = stream.schema();
            let got: Vec<RecordBatch> = (&mut stream).map(|b| b.unwrap()).collect();
            let metrics = stream.metrics().clone();
            drop(stream);
            prop_assert_eq!(&concat_batches(&schema, &got).unwrap(), &want, "{}", function);
            prop_assert_eq!(metrics.rows_out as usize, want.num_rows());
            prop_assert!(metrics.peak_memory <= limit,
                "{}: peak {} over limit {}", function, metrics.peak_memory, limit);
            prop_assert!(is_empty_dir(spill.path()), "spill files left behind");
        }
    }

    /// A plain filtered frame (many result rows) streams in the same order as `compute()`,
    /// with and without spilled results.
    #[test]
    fn streams_equal_compute(
        objects in 5usize..80,
        files in 1usize..4,
        scatter in any::<bool>(),
        parts in 6usize..14,
        seed in 0u64..1000,
    ) {
        let data = tempfile::tempdir().unwrap();
        dataset(data.path(), objects, files, scatter, seed);
        let free = ensemble(data.path(), None, None, parts);
        let frame = free.source().unwrap().filter(col("flux").gt(0.0)).unwrap();
        let want = frame.compute().unwrap();
        prop_assert_eq!(&stream_to_batch(&frame), &want);
        let limited = ensemble(data.path(), Some(limit_for(&free, parts, 3)), None, parts);
        let frame = limited.source().unwrap().filter(col("flux").gt(0.0)).unwrap();
        prop_assert_eq!(&stream_to_batch(&frame), &want);
    }
}

/// The memory limit applies to the shuffle, so the spill path really runs: a grouped run
/// under a small limit writes spill files, and the metrics say so.
#[test]
fn a_small_limit_spills_the_shuffle() {
    let data = tempfile::tempdir().unwrap();
    dataset(data.path(), 300, 3, true, 7);
    let ens = ensemble(data.path(), Some(96 * 1024), None, 8);
    let (stream, metrics) = {
        let mut s = ens
            .batch_named_with("stetson_j", BatchMode::Grouped)
            .unwrap()
            .compute_stream()
            .unwrap();
        let rows: usize = (&mut s).map(|b| b.unwrap().num_rows()).sum();
        (rows, s.metrics().clone())
    };
    assert_eq!(stream, 300);
    assert!(metrics.spill_files > 0, "{metrics:?}");
    assert!(metrics.bytes_spilled > 0);
    assert!(metrics.bytes_shuffled > metrics.peak_shuffle_bytes);
}

/// A result larger than the limit cannot be gathered into one batch: `compute()` says so
/// and points at the streaming calls, which succeed.
#[test]
fn a_result_larger_than_the_limit_must_be_streamed() {
    let data = tempfile::tempdir().unwrap();
    dataset(data.path(), 200, 2, false, 3);
    let ens = ensemble(data.path(), Some(96 * 1024), None, 16);
    let frame = ens.source().unwrap();
    let err = frame.compute().unwrap_err();
    assert!(matches!(err, Error::MemoryLimit { .. }), "{err}");
    assert!(err.to_string().contains("compute_stream"), "{err}");
    let out = tempfile::tempdir().unwrap();
    let path = out.path().join("all.parquet");
    let rows = frame.write_parquet(&path, IfExists::Refuse).unwrap();
    assert_eq!(rows, 200 * 40);
    let free = ensemble(data.path(), None, None, 16);
    let want = free.source().unwrap().compute().unwrap();
    let file = std::fs::File::open(&path).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let batches: Vec<RecordBatch> = reader.map(|b| b.unwrap()).collect();
    let got = concat_batches(&batches[0].schema(), &batches).unwrap();
    assert_eq!(got.num_rows(), want.num_rows());
    for c in ["id", "mjd", "flux"] {
        assert_eq!(
            got.column_by_name(c).unwrap().as_ref(),
            want.column_by_name(c).unwrap().as_ref(),
            "{c}"
        );
    }
}

/// One partition bigger than the limit cannot be processed: a clear error naming the
/// operation and partition, not an abort.
#[test]
fn a_partition_larger_than_the_limit_is_a_clear_error() {
    let data = tempfile::tempdir().unwrap();
    dataset(data.path(), 200, 1, false, 5);
    let ens = ensemble(data.path(), Some(4 * 1024), None, 1);
    let err = ens.batch_named("stetson_j").unwrap().compute().unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::MemoryLimit { .. }), "{text}");
    assert!(text.contains("partition 0"), "{text}");
}

/// A slow function: sleeps per lightcurve, counting how many it saw.
fn slow(counter: Arc<AtomicUsize>) -> Arc<dyn LightcurveFunction> {
    closure_function(
        "slow",
        &[Role::Flux],
        vec![Field::new("n", DataType::Float64, false)],
        move |lc, out| {
            counter.fetch_add(1, Ordering::Relaxed);
            std::thread::sleep(Duration::from_millis(20));
            out.push(lc.flux.len() as f64);
        },
    )
}

/// A deadline stops a compute that would run for minutes; the executor then runs the next
/// compute correctly.
#[test]
fn a_deadline_stops_the_compute_and_the_executor_is_reusable() {
    let data = tempfile::tempdir().unwrap();
    // 3,000 objects x 20 ms / 2 threads = 30 s if it ran to the end.
    dataset(data.path(), 3000, 2, false, 11);
    let ens = ensemble(data.path(), None, None, 4);
    let seen = Arc::new(AtomicUsize::new(0));
    let frame = ens.source().unwrap().batch(slow(seen.clone())).unwrap();
    let t0 = Instant::now();
    let err = frame
        .with_cancellation(Cancellation::new().timeout(Duration::from_millis(300)))
        .compute()
        .unwrap_err();
    assert!(matches!(err, Error::Cancelled(_)), "{err}");
    assert!(err.to_string().contains("deadline"), "{err}");
    // Stopped well before the end (each task checks every 64 lightcurves).
    assert!(
        seen.load(Ordering::Relaxed) < 1500,
        "ran on after the deadline"
    );
    assert!(t0.elapsed() < Duration::from_secs(25));
    let sj = ens.batch_named("stetson_j").unwrap().compute().unwrap();
    assert_eq!(sj.num_rows(), 3000);
    assert_eq!(sj.column(0).null_count(), 0);
}

/// Cancelling from another thread stops a running compute; a pre-cancelled token stops
/// before anything runs.
#[test]
fn cancel_from_another_thread() {
    let data = tempfile::tempdir().unwrap();
    dataset(data.path(), 3000, 2, false, 13);
    let ens = ensemble(data.path(), None, None, 4);
    let seen = Arc::new(AtomicUsize::new(0));
    let frame = ens.source().unwrap().batch(slow(seen.clone())).unwrap();
    let token = Cancellation::new();
    let remote = token.clone();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(200));
        remote.cancel();
    });
    let err = frame
        .with_cancellation(token.clone())
        .compute()
        .unwrap_err();
    canceller.join().unwrap();
    assert!(err.to_string().contains("cancelled"), "{err}");
    assert!(seen.load(Ordering::Relaxed) < 1500);
    let before = seen.load(Ordering::Relaxed);
    let err = frame.with_cancellation(token).compute_stream().unwrap_err();
    assert!(matches!(err, Error::Cancelled(_)));
    assert_eq!(seen.load(Ordering::Relaxed), before, "nothing ran");
}

/// An error inside a run (a panicking function) under a limit that spills still removes
/// the run's spill directory.
#[test]
fn failed_runs_remove_their_spill_files() {
    let data = tempfile::tempdir().unwrap();
    let spill = tempfile::tempdir().unwrap();
    dataset(data.path(), 300, 3, true, 17);
    let ens = ensemble(data.path(), Some(96 * 1024), Some(spill.path()), 8);
    let boom = closure_function(
        "boom",
        &[Role::Flux],
        vec![Field::new("x", DataType::Float64, false)],
        |lc, out| {
            assert!(lc.id != 1_000_150, "boom at object 1000150");
            out.push(1.0);
        },
    );
    let err = ens
        .source()
        .unwrap()
        .batch_with(boom, BatchMode::Grouped)
        .unwrap()
        .compute()
        .unwrap_err();
    assert!(err.to_string().contains("boom at object 1000150"), "{err}");
    assert!(is_empty_dir(spill.path()));
}
