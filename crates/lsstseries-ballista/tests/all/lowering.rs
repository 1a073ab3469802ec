//! Our plans lowered to DataFusion and run in a plain `SessionContext` (no Ballista) give
//! the local executor's results row for row, floats bit for bit.

use super::common;

use common::{assert_identical, dataset, ensemble, frames};
use datafusion::physical_plan::displayable;
use datafusion::prelude::SessionContext;
use lsstseries::{col, lit, BatchMode};
use lsstseries_ballista::lower_frame;

#[test]
fn scattered_lightcurves_need_a_shuffle_and_match_local() {
    let dir = tempfile::tempdir().unwrap();
    dataset(dir.path(), 60, true);
    let ens = ensemble(dir.path());
    let rt = common::runtime(2);
    let ctx = SessionContext::new();
    for (name, frame) in frames(&ens) {
        let local = frame.compute().unwrap();
        let lowered = lower_frame(&frame).unwrap();
        let text = displayable(lowered.plan.as_ref()).indent(false).to_string();
        assert!(
            text.contains("RepartitionExec: partitioning=Hash([id@"),
            "{name}:\n{text}"
        );
        assert!(text.contains("needs whole lightcurves"), "{name}:\n{text}");
        // No merge on the cluster: the client orders the gathered rows.
        assert!(!text.contains("SortPreservingMergeExec"), "{name}:\n{text}");
        let df = rt.block_on(lowered.collect(&ctx)).unwrap();
        assert_identical(name, &local, &df);
        // The same lowered plan runs again (its repartition starts afresh).
        let again = rt.block_on(lowered.collect(&ctx)).unwrap();
        assert_identical(name, &local, &again);
    }
}

#[test]
fn sorted_lightcurves_need_no_shuffle_and_match_local() {
    let dir = tempfile::tempdir().unwrap();
    dataset(dir.path(), 40, false);
    let ens = ensemble(dir.path());
    let rt = common::runtime(2);
    let ctx = SessionContext::new();
    for (name, frame) in frames(&ens) {
        let local = frame.compute().unwrap();
        let lowered = lower_frame(&frame).unwrap();
        let text = displayable(lowered.plan.as_ref()).indent(false).to_string();
        assert!(!text.contains("RepartitionExec"), "{name}:\n{text}");
        let df = rt.block_on(lowered.collect(&ctx)).unwrap();
        assert_identical(name, &local, &df);
    }
}

#[test]
fn filters_assignments_and_modes_match_local() {
    let dir = tempfile::tempdir().unwrap();
    dataset(dir.path(), 30, true);
    let ens = ensemble(dir.path());
    let rt = common::runtime(2);
    let ctx = SessionContext::new();
    let src = ens.source().unwrap();
    let cases = vec![
        (
            "filter+assign+stetson_j",
            src.filter(col("flux").gt(lit(0.0)))
                .unwrap()
                .assign(&[("flux2", col("flux") * 2.0)])
                .unwrap()
                .batch_named("stetson_j")
                .unwrap(),
        ),
        (
            "grouped nobs",
            src.batch_named_with("nobs", BatchMode::Grouped).unwrap(),
        ),
        (
            "per-partition nobs",
            src.batch_named_with("nobs", BatchMode::PerPartition)
                .unwrap(),
        ),
        ("sorted rows", src.sort_lightcurves().unwrap()),
        (
            "sources as stored",
            src.select(&["id", "mjd", "flux"]).unwrap(),
        ),
        ("bin_sources", src.bin_sources(1.0, 0.0).unwrap()),
        (
            "query_objects",
            src.query_objects("nobs_total > 38").unwrap(),
        ),
    ];
    for (name, frame) in cases {
        let local = frame.compute().unwrap();
        let df = rt
            .block_on(lower_frame(&frame).unwrap().collect(&ctx))
            .unwrap();
        assert_identical(name, &local, &df);
    }
}
