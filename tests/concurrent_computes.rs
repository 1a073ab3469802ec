//! Many computes at once from several threads on one shared executor: every result equals
//! the one computed alone, and the whole run finishes in bounded time (a deadlock fails the
//! test instead of hanging it).

use arrow::array::RecordBatch;
use lsstseries::prelude::*;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

const TAPE: &str = "data/tape/test_source.parquet";
const THREADS: usize = 8;
const ROUNDS: usize = 25;

fn compute(executor: &Arc<Executor>, partitioning: Partitioning, mode: BatchMode) -> RecordBatch {
    let mut ens = Ensemble::with_executor(executor.clone());
    ens.from_parquet(TAPE, ColumnMap::tape(), partitioning)
        .unwrap();
    ens.batch_named_with("stetson_j", mode)
        .unwrap()
        .compute()
        .unwrap()
}

#[test]
fn concurrent_computes_on_one_executor_are_all_right() {
    let executor = Executor::new(ExecutorConfig::default().n_workers(2)).unwrap();
    let alone = compute(&executor, Partitioning::RowGroups, BatchMode::Auto);
    assert_eq!(alone.num_rows(), 15);
    let (tx, rx) = mpsc::channel();
    for t in 0..THREADS {
        let (executor, tx, alone) = (executor.clone(), tx.clone(), alone.clone());
        std::thread::spawn(move || {
            for round in 0..ROUNDS {
                // Every thread mixes cuts and modes, so shuffling and streaming stages of
                // different computes interleave on the same workers.
                let partitioning = match (t + round) % 4 {
                    0 => Partitioning::RowGroups,
                    1 => Partitioning::Count(7),
                    2 => Partitioning::Rows(97),
                    _ => Partitioning::size("5KB").unwrap(),
                };
                let mode = if (t + round) % 2 == 0 {
                    BatchMode::Grouped
                } else {
                    BatchMode::Auto
                };
                let got = compute(&executor, partitioning, mode);
                let same = got.num_rows() == alone.num_rows()
                    && got
                        .columns()
                        .iter()
                        .zip(alone.columns())
                        .all(|(a, b)| a == b);
                tx.send((t, round, same)).unwrap();
            }
        });
    }
    drop(tx);
    let mut done = 0;
    while done < THREADS * ROUNDS {
        let (t, round, same) = rx
            .recv_timeout(Duration::from_secs(300))
            .expect("a compute did not finish within 300 s (deadlock?)");
        assert!(
            same,
            "thread {t} round {round}: result differs from the lone compute"
        );
        done += 1;
    }
    assert!(executor.info().tasks_run > (THREADS * ROUNDS) as u64);
}
