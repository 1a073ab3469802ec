//! An in-process Ballista cluster (scheduler + 2 executors on loopback, our codec) runs the
//! lowered plans with the local executor's results, floats bit for bit; an unreachable
//! scheduler and a closure in the plan give clear errors. Every wait is bounded.

use super::common;

use common::{assert_identical, dataset, ensemble, frames, LIMIT};
use lsstseries::plan::MapFunction;
use lsstseries::FunctionRegistry;
use lsstseries_ballista::{lower_frame, run_on_cluster, Error, LsstCodec};
use std::sync::Arc;
use std::time::Duration;

#[test]
fn standalone_cluster_matches_local_exactly() {
    let dir = tempfile::tempdir().unwrap();
    dataset(dir.path(), 60, true);
    let ens = ensemble(dir.path());
    let rt = common::runtime(4);
    let address = common::standalone(&rt, FunctionRegistry::with_builtins());
    let codec = Arc::new(LsstCodec::builtins());
    for (name, frame) in frames(&ens) {
        let local = frame.compute().unwrap();
        let lowered = lower_frame(&frame).unwrap();
        let remote = rt
            .block_on(run_on_cluster(&lowered, &address, codec.clone(), LIMIT))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_identical(name, &local, &remote);
    }
    // Sorted data: no shuffle, one Ballista stage.
    let sorted = tempfile::tempdir().unwrap();
    dataset(sorted.path(), 30, false);
    let ens = ensemble(sorted.path());
    for (name, frame) in frames(&ens) {
        let local = frame.compute().unwrap();
        let remote = rt
            .block_on(run_on_cluster(
                &lower_frame(&frame).unwrap(),
                &address,
                codec.clone(),
                LIMIT,
            ))
            .unwrap();
        assert_identical(name, &local, &remote);
    }
    // A closure cannot travel: refused before submission, naming the node.
    let mapped = ens
        .source()
        .unwrap()
        .map(MapFunction::new("my_closure", vec![], |b| Ok(b.clone())))
        .unwrap();
    let err = rt
        .block_on(run_on_cluster(
            &lower_frame(&mapped).unwrap(),
            &address,
            codec,
            LIMIT,
        ))
        .unwrap_err();
    assert!(
        matches!(&err, Error::LocalOnly { node, .. } if node.contains("my_closure")),
        "{err}"
    );
    rt.shutdown_timeout(Duration::from_secs(5));
}

#[test]
fn unreachable_scheduler_is_a_clear_error_in_bounded_time() {
    let dir = tempfile::tempdir().unwrap();
    dataset(dir.path(), 5, false);
    let ens = ensemble(dir.path());
    let frame = ens.source().unwrap().batch_named("stetson_j").unwrap();
    // A port nothing listens on: bind one, note it, close it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let rt = common::runtime(4);
    let err = rt
        .block_on(run_on_cluster(
            &lower_frame(&frame).unwrap(),
            &format!("df://127.0.0.1:{port}"),
            Arc::new(LsstCodec::builtins()),
            Duration::from_secs(30),
        ))
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Cluster { .. }), "{text}");
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
}
