//! Executors: tailored, shared between ensembles, closed cleanly.

use lsstseries::{ColumnMap, Ensemble, Executor, ExecutorConfig, ExecutorStatus, Partitioning};

#[test]
fn tailored_executor_reports_its_shape() {
    let ens = Ensemble::builder()
        .n_workers(3)
        .threads_per_worker(2)
        .memory_limit(1 << 30)
        .build()
        .unwrap();
    let info = ens.executor_info();
    assert_eq!(
        (info.workers, info.threads_per_worker, info.total_threads),
        (3, 2, 6)
    );
    assert_eq!(info.memory_limit, Some(1 << 30));
    assert_eq!(info.status, ExecutorStatus::Running);
    let text = info.to_string();
    assert!(
        text.contains("total threads:      6") && text.contains("memory limit:       1.07 GB"),
        "{text}"
    );
}

#[test]
fn two_ensembles_share_one_executor_and_dropping_one_does_not_close_it() {
    let shared = Executor::new(ExecutorConfig::default().n_workers(2)).unwrap();
    let mut a = Ensemble::with_executor(shared.clone());
    let b = Ensemble::builder()
        .executor(shared.clone())
        .build()
        .unwrap();
    a.from_parquet(
        "data/tape/test_source.parquet",
        ColumnMap::tape(),
        Partitioning::RowGroups,
    )
    .unwrap();
    let before = b.executor_info().tasks_run;
    a.batch_named("nobs").unwrap().compute().unwrap();
    // b sees the work a did: same pool.
    assert!(b.executor_info().tasks_run > before);
    assert_eq!(a.executor_info(), b.executor_info());
    a.close();
    drop(b);
    assert_eq!(shared.info().status, ExecutorStatus::Running);
    assert_eq!(shared.run(vec![|| 7]).unwrap(), vec![Ok(7)]);
    shared.shutdown();
    assert_eq!(shared.info().status, ExecutorStatus::Closed);
}

#[test]
fn closing_an_owned_executor_stops_it() {
    let ens = Ensemble::builder().n_workers(1).build().unwrap();
    let handle = ens.executor().clone();
    ens.close();
    assert_eq!(handle.info().status, ExecutorStatus::Closed);
    assert!(handle.run(vec![|| 1]).is_err());
}

#[test]
fn giving_both_an_executor_and_a_config_is_refused() {
    let shared = Executor::new(ExecutorConfig::default().n_workers(1)).unwrap();
    let err = Ensemble::builder()
        .executor(shared)
        .n_workers(2)
        .build()
        .unwrap_err()
        .to_string();
    assert!(err.contains("not both"), "{err}");
}
