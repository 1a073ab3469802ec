//! The core's cluster hook with Ballista: `install()` then
//! `Ensemble::builder().cluster("df://...")` runs every compute on an in-process cluster,
//! with the local results; `explain()` shows Ballista's stages and marks what cannot
//! ship; `executor_info()` lists the executors; an unreachable scheduler is named at build.

use super::common;

use common::{assert_identical, dataset};
use lsstseries::analysis::structure_function::SfOptions;
use lsstseries::plan::MapFunction;
use lsstseries::{ColumnMap, Ensemble, Error, FunctionRegistry, Partitioning};
use std::time::Duration;

#[test]
fn an_ensemble_on_a_cluster_computes_there_with_local_results() {
    lsstseries_ballista::install();
    let rt = common::runtime(4);
    let address = common::standalone(&rt, FunctionRegistry::with_builtins());
    let dir = tempfile::tempdir().unwrap();
    dataset(dir.path(), 40, true);
    let mut ens = Ensemble::builder()
        .n_workers(1)
        .cluster(address.as_str())
        .build()
        .unwrap();
    ens.from_parquet(dir.path(), ColumnMap::generated(), Partitioning::RowGroups)
        .unwrap();

    let info = ens.executor_info();
    let cluster = info.cluster.clone().expect("cluster in executor_info");
    assert!(cluster.unreachable.is_none(), "{info}");
    assert_eq!(cluster.executors.len(), 2, "{info}");
    assert_eq!(cluster.active_slots(), 4, "{info}");
    assert!(
        info.to_string().contains("Apache DataFusion Ballista"),
        "{info}"
    );

    let src = ens.source().unwrap();
    for frame in [
        src.batch_named("stetson_j").unwrap(),
        src.query("flux > 0")
            .unwrap()
            .batch_named("features")
            .unwrap(),
        src.structure_function(&SfOptions::default()).unwrap(),
        // Options travel with the name: the executors build sf2 and bin_sources from them.
        src.structure_function(&SfOptions {
            estimator: lsstseries::analysis::structure_function::Estimator::Macleod2012,
            bin_count_target: 30,
            ..SfOptions::default()
        })
        .unwrap(),
        src.bin_sources(2.5, 0.25).unwrap(),
    ] {
        let remote = frame.compute().unwrap();
        let local = frame.local().compute().unwrap();
        assert_identical("ensemble on cluster", &local, &remote);
    }
    // Rows in (known from the plan) as a local run counts them.
    let filtered = src
        .query("flux > 0")
        .unwrap()
        .batch_named("stetson_j")
        .unwrap();
    let (_, remote) = filtered.compute_with_metrics().unwrap();
    let (_, here) = filtered.local().compute_with_metrics().unwrap();
    assert_eq!(remote.rows_in, here.rows_in);
    assert_eq!(remote.page_rows_skipped, here.page_rows_skipped);
    // Streams and files go through the cluster too.
    let out = dir.path().join("sj.parquet");
    let rows = src
        .batch_named("stetson_j")
        .unwrap()
        .write_parquet(&out, lsstseries::io::IfExists::Refuse)
        .unwrap();
    assert_eq!(rows, 40);

    let text = src.batch_named("stetson_j").unwrap().explain().unwrap();
    assert!(
        text.contains(&format!("== Cluster ==  {address}")),
        "{text}"
    );
    assert!(text.contains("ships: every node"), "{text}");
    // Scan and shuffle write; the function over the shuffled rows (the client orders the
    // gathered rows by id).
    assert!(text.contains("Ballista stages: 2"), "{text}");
    assert!(
        text.contains("UnresolvedShuffleExec: stage=1, partitioning: Hash([id@0], 6)"),
        "{text}"
    );
    assert!(!text.contains("SortPreservingMergeExec"), "{text}");

    // A closure cannot travel: marked in explain, refused before submission.
    let map = MapFunction::new("identity", vec![], |b: &arrow::array::RecordBatch| {
        Ok(b.clone())
    });
    let with_map = src.map(map).unwrap().batch_named("stetson_j").unwrap();
    let text = with_map.explain().unwrap();
    assert!(
        text.lines()
            .any(|l| l.contains("identity") && l.contains("[local only: a map holds a closure")),
        "{text}"
    );
    match with_map.compute() {
        Err(Error::LocalOnly { node, .. }) => assert!(node.contains("identity"), "{node}"),
        other => panic!("expected LocalOnly, got {other:?}"),
    }
    assert_eq!(with_map.local().compute().unwrap().num_rows(), 40);
    drop(rt);
}

#[test]
fn an_unreachable_scheduler_is_named_when_the_ensemble_is_built() {
    lsstseries_ballista::install();
    // A port nothing listens on: bind one, note it, free it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let address = format!("df://127.0.0.1:{port}");
    let started = std::time::Instant::now();
    let e = Ensemble::builder()
        .cluster(address.as_str())
        .build()
        .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10));
    let text = e.to_string();
    assert!(
        matches!(e, Error::Cluster { .. })
            && text.contains(&address)
            && text.contains("not reachable"),
        "{text}"
    );
}

/// A function of your own runs on executors whose registry has it (compiled into their
/// program, as `examples/custom_executor.rs` does); executors without it refuse the plan,
/// naming the function, and the run fails with that, not a wrong result.
#[test]
fn a_function_of_your_own_runs_where_the_executors_know_it() {
    use arrow::datatypes::{DataType, Field};
    lsstseries_ballista::install();
    let rt = common::runtime(4);
    let ours = lsstseries::closure_function(
        "flux_span",
        &[lsstseries::Role::Flux],
        vec![Field::new("flux_span", DataType::Float64, true)],
        |lc, out| {
            let hi = lc.flux.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let lo = lc.flux.iter().cloned().fold(f64::INFINITY, f64::min);
            out.push(hi - lo)
        },
    );
    let mut registry = FunctionRegistry::with_builtins();
    registry.register(ours);
    let knowing = common::standalone(&rt, registry.clone());
    let unknowing = common::standalone(&rt, FunctionRegistry::with_builtins());
    let dir = tempfile::tempdir().unwrap();
    dataset(dir.path(), 30, true);
    for (address, knows) in [(&knowing, true), (&unknowing, false)] {
        let mut ens = Ensemble::builder()
            .n_workers(1)
            .registry(registry.clone())
            .cluster(address.as_str())
            .build()
            .unwrap();
        ens.from_parquet(dir.path(), ColumnMap::generated(), Partitioning::RowGroups)
            .unwrap();
        let frame = ens
            .batch_named("flux_span")
            .unwrap()
            .with_cancellation(lsstseries::Cancellation::new().timeout(Duration::from_secs(60)));
        let local = frame.local().compute().unwrap();
        match frame.compute() {
            Ok(remote) => {
                assert!(knows, "executors without flux_span gave a result");
                assert_identical("flux_span", &local, &remote);
            }
            Err(e) => {
                assert!(!knows, "{e}");
                let text = e.to_string();
                assert!(text.contains("flux_span"), "{text}");
            }
        }
    }
    drop(rt);
}
