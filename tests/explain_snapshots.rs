//! `explain()` text is part of the API: these snapshots change only on purpose.
//! To accept a deliberate change: `UPDATE_SNAPSHOTS=1 cargo test --test explain_snapshots`.

use arrow::array::{AsArray, Float64Array, RecordBatch};
use arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema};
use lsstseries::analysis::StetsonJ;
use lsstseries::optimizer::Optimizer;
use lsstseries::plan::{col, MapFunction};
use lsstseries::{BatchMode, ColumnMap, Ensemble, Frame, Partitioning};
use std::sync::Arc;

fn check(name: &str, text: &str) {
    let path = format!("tests/snapshots/{name}.txt");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, text).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing snapshot {path}; run with UPDATE_SNAPSHOTS=1"));
    assert_eq!(text, want, "explain output changed for {name}:\n{text}");
}

fn tape(partitioning: Partitioning) -> Ensemble {
    let mut ens = Ensemble::builder().n_workers(1).build().unwrap();
    ens.from_parquet(
        "data/tape/test_source.parquet",
        ColumnMap::tape(),
        partitioning,
    )
    .unwrap();
    ens
}

#[test]
fn auto_on_5kb_partitions_recuts_instead_of_shuffling() {
    let ens = tape(Partitioning::size("5KB").unwrap());
    check(
        "auto_5kb",
        &ens.batch_named("stetson_j").unwrap().explain().unwrap(),
    );
}

#[test]
fn grouped_always_shuffles() {
    let ens = tape(Partitioning::size("5KB").unwrap());
    let frame = ens
        .batch_named_with("stetson_j", BatchMode::Grouped)
        .unwrap();
    check("grouped_5kb", &frame.explain().unwrap());
    check(
        "grouped_5kb_dot_physical",
        &frame.explain_dot_physical().unwrap(),
    );
}

#[test]
fn per_partition_warns() {
    let ens = tape(Partitioning::size("5KB").unwrap());
    check(
        "per_partition_5kb",
        &ens.batch_named_with("stetson_j", BatchMode::PerPartition)
            .unwrap()
            .explain()
            .unwrap(),
    );
}

#[test]
fn whole_row_group_needs_nothing() {
    let ens = tape(Partitioning::RowGroups);
    check(
        "auto_row_groups",
        &ens.batch_named("nobs").unwrap().explain().unwrap(),
    );
}

fn add_snr(b: &RecordBatch) -> lsstseries::Result<RecordBatch> {
    let flux = b
        .column_by_name("psFlux")
        .unwrap()
        .as_primitive::<Float64Type>();
    let err = b
        .column_by_name("psFluxErr")
        .unwrap()
        .as_primitive::<Float64Type>();
    let snr: Float64Array = flux
        .values()
        .iter()
        .zip(err.values())
        .map(|(f, e)| f / e)
        .collect();
    let mut fields: Vec<Field> = b.schema().fields().iter().map(|f| (**f).clone()).collect();
    fields.push(Field::new("snr", DataType::Float64, false));
    let mut cols = b.columns().to_vec();
    cols.push(Arc::new(snr));
    Ok(RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap())
}

fn pipeline(ens: &Ensemble) -> Frame {
    let snr = MapFunction::new(
        "add_snr",
        vec![Field::new("snr", DataType::Float64, false)],
        add_snr,
    );
    ens.source()
        .unwrap()
        .filter(col("filterName").eq("r"))
        .unwrap()
        .map(snr)
        .unwrap()
        .filter(col("psFluxErr").lt(0.1))
        .unwrap()
        .batch(Arc::new(StetsonJ))
        .unwrap()
}

#[test]
fn a_map_that_declares_its_reads_lets_the_scan_skip_columns() {
    let ens = tape(Partitioning::RowGroups);
    let snr = MapFunction::new(
        "add_snr",
        vec![Field::new("snr", DataType::Float64, false)],
        add_snr,
    )
    .reading(&["psFlux", "psFluxErr"]);
    let frame = ens
        .source()
        .unwrap()
        .map(snr)
        .unwrap()
        .filter(col("snr").gt(10.0))
        .unwrap()
        .batch(Arc::new(StetsonJ))
        .unwrap();
    let text = frame.explain().unwrap();
    assert!(
        text.contains("prune_columns(5->4)") && text.contains("skips [midPointTai]"),
        "{text}"
    );
    assert_eq!(frame.compute().unwrap().num_rows(), 15);
}

#[test]
fn fused_pipeline_and_rule_switches() {
    let ens = tape(Partitioning::Count(4));
    let frame = pipeline(&ens);
    check("pipeline_fused", &frame.explain().unwrap());
    check(
        "pipeline_without_fuse",
        &frame
            .explain_with(&Optimizer::default().without("fuse_maps"))
            .unwrap(),
    );
    check("pipeline_dot", &frame.explain_dot().unwrap());
    check(
        "pipeline_dot_physical",
        &frame.explain_dot_physical().unwrap(),
    );
    // The fused pipeline computes what the unfused rows say: one result per object that
    // has r-band points with error < 0.1.
    let result = frame.compute().unwrap();
    let rows = ens
        .source()
        .unwrap()
        .filter(col("filterName").eq("r").and(col("psFluxErr").lt(0.1)))
        .unwrap()
        .compute()
        .unwrap();
    let ids = rows
        .column_by_name("ps1_objid")
        .unwrap()
        .as_primitive::<Int64Type>();
    let mut distinct: Vec<i64> = ids.values().to_vec();
    distinct.dedup();
    assert!(!distinct.is_empty());
    assert_eq!(result.num_rows(), distinct.len());
    let grouped = tape(Partitioning::RowGroups)
        .source()
        .unwrap()
        .filter(col("filterName").eq("r"))
        .unwrap()
        .filter(col("psFluxErr").lt(0.1))
        .unwrap()
        .batch_with(Arc::new(StetsonJ), BatchMode::Grouped)
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(result, grouped);
}

#[test]
fn combined_structure_function_is_an_aggregate_on_the_collect() {
    use lsstseries::analysis::structure_function::SfOptions;
    let ens = tape(Partitioning::Count(4));
    let frame = ens
        .source()
        .unwrap()
        .structure_function_pooled(&SfOptions::default())
        .unwrap();
    check("sf2_combined", &frame.explain().unwrap());
    // Nothing may follow the aggregate.
    let err = frame.filter(col("sf2").gt(0.0)).unwrap_err().to_string();
    assert!(
        err.contains("cannot follow Aggregate[sf2 combined, basic]"),
        "{err}"
    );
    assert!(frame.compute().unwrap().num_rows() > 0);
}

#[test]
fn a_plan_without_enforce_cohesion_is_refused_not_run() {
    // 5 KB partitions cut lightcurves; without the rule nothing makes them whole, and
    // physical planning refuses the plan instead of computing one result per piece.
    let ens = tape(Partitioning::size("5KB").unwrap());
    let frame = ens.batch_named("stetson_j").unwrap();
    let err = frame
        .explain_with(&Optimizer::default().without("enforce_cohesion"))
        .unwrap_err();
    assert!(
        matches!(&err, lsstseries::Error::PlanCheck { node, .. } if node == "Apply[stetson_j]"),
        "{err}"
    );
    assert!(
        err.to_string().contains("requires whole lightcurves"),
        "{err}"
    );
    // Per partition is the user's explicit choice: allowed, with its warning.
    let per_partition = ens
        .batch_named_with("stetson_j", BatchMode::PerPartition)
        .unwrap();
    assert!(per_partition
        .explain_with(&Optimizer::default().without("enforce_cohesion"))
        .is_ok());
}

/// TAPE's operations as plan nodes: a pushed source query (row groups skipped by
/// statistics), an assignment, and an object filter whose sources follow (re-cut so each
/// lightcurve is whole before it).
#[test]
fn query_assign_and_object_filter() {
    let ens = tape(Partitioning::Count(4));
    let frame = ens
        .source()
        .unwrap()
        .query("filterName in ('g', 'r') and psFlux > 0")
        .unwrap()
        .assign(&[("snr", col("psFlux") / col("psFluxErr"))])
        .unwrap()
        .prune(50)
        .unwrap()
        .query_objects("nobs_g >= 50")
        .unwrap();
    check("tape_operations", &frame.explain().unwrap());
}

/// Sorting lightcurves and binning them need whole lightcurves: on 5 KB cuts of the
/// id-sorted TAPE file the cuts move to lightcurve boundaries, no shuffle.
#[test]
fn sort_lightcurves_and_bin_sources() {
    let ens = tape(Partitioning::size("5KB").unwrap());
    let frame = ens
        .source()
        .unwrap()
        .sort_lightcurves()
        .unwrap()
        .bin_sources(1.0, 0.0)
        .unwrap();
    check("sort_and_bin", &frame.explain().unwrap());
}
