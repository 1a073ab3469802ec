//! `explain_analyze()`: the optimized plan annotated with what a run did. The text (with
//! timings masked) is snapshot-tested; the JSON is checked against the run's own figures.
//! To accept a deliberate change: `UPDATE_SNAPSHOTS=1 cargo test --test explain_analyze`.

use lsstseries::executor::ComputeStatus;
use lsstseries::explain::{mask_varying, ANALYZE_SCHEMA_VERSION};
use lsstseries::io::generate::{generate, GeneratorConfig};
use lsstseries::{BatchMode, ColumnMap, Ensemble, Partitioning};

fn check(name: &str, text: &str) {
    let path = format!("tests/snapshots/{name}.txt");
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, text).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("missing snapshot {path}; run with UPDATE_SNAPSHOTS=1"));
    assert_eq!(
        text, want,
        "explain_analyze output changed for {name}:\n{text}"
    );
}

fn tape(partitioning: Partitioning, workers: usize) -> Ensemble {
    let mut ens = Ensemble::builder().n_workers(workers).build().unwrap();
    ens.from_parquet(
        "data/tape/test_source.parquet",
        ColumnMap::tape(),
        partitioning,
    )
    .unwrap();
    ens
}

#[test]
fn grouped_stetson_j_text_snapshot() {
    let ens = tape(Partitioning::size("5KB").unwrap(), 1);
    let frame = ens
        .batch_named_with("stetson_j", BatchMode::Grouped)
        .unwrap();
    check(
        "analyze_grouped_5kb",
        &mask_varying(&frame.explain_analyze().unwrap()),
    );
}

#[test]
fn fused_filters_show_each_operator() {
    let ens = tape(Partitioning::Count(3), 2);
    let frame = ens
        .source()
        .unwrap()
        .query("psFlux > 0 and filterName == 'r'")
        .unwrap()
        .batch_named("nobs")
        .unwrap();
    check(
        "analyze_query_nobs",
        &mask_varying(&frame.explain_analyze().unwrap()),
    );
}

#[test]
fn json_figures_agree_with_the_run() {
    let ens = tape(Partitioning::size("5KB").unwrap(), 2);
    let frame = ens
        .batch_named_with("stetson_j", BatchMode::Grouped)
        .unwrap();
    let (result, metrics) = frame.compute_with_metrics().unwrap();
    let report = frame.explain_analyze_report().unwrap();
    let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
    assert_eq!(json["schema_version"], ANALYZE_SCHEMA_VERSION);
    assert_eq!(json["rows_out"], result.num_rows() as u64);
    assert_eq!(json["rows_in"], metrics.rows_in);
    assert_eq!(json["bytes_read"], metrics.bytes_read);
    assert_eq!(json["bytes_shuffled"], metrics.bytes_shuffled as u64);
    let nodes = json["nodes"].as_array().unwrap();
    let kinds: Vec<&str> = nodes.iter().map(|n| n["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["collect", "op", "shuffle", "scan"]);
    // The scan read every row of the file; the function saw each of its 15 lightcurves
    // once (grouped: whole lightcurves) and wrote one row each.
    assert_eq!(nodes[3]["rows_out"], 2000);
    assert_eq!(nodes[2]["rows_in"], 2000);
    assert!(nodes[2]["bytes_shuffled"].as_u64().unwrap() > 0);
    assert_eq!(nodes[1]["lightcurves"], 15);
    assert_eq!(nodes[1]["rows_out"], 15);
    assert_eq!(nodes[0]["rows"], serde_json::Value::Null);
    assert_eq!(nodes[0]["rows_out"], 15);
    let stages = json["stages"].as_array().unwrap();
    assert_eq!(stages.len(), 2);
    let tasks: u64 = stages.iter().map(|s| s["tasks"].as_u64().unwrap()).sum();
    assert_eq!(json["tasks"], tasks);
    for s in stages {
        let (min, med, max) = (
            s["task_min_ms"].as_f64().unwrap(),
            s["task_median_ms"].as_f64().unwrap(),
            s["task_max_ms"].as_f64().unwrap(),
        );
        assert!(min <= med && med <= max, "{s}");
    }
}

#[test]
fn pushed_filters_report_skipped_row_groups() {
    // 60 objects over 15 row groups (sorted ids): the first 10 objects are in 3 groups.
    let dir = tempfile::tempdir().unwrap();
    let cfg = GeneratorConfig {
        objects: 60,
        observations: 20,
        files: 3,
        row_groups_per_file: 5,
        ..GeneratorConfig::default()
    };
    generate(&cfg, dir.path()).unwrap();
    let mut ens = Ensemble::builder().n_workers(1).build().unwrap();
    ens.from_parquet(dir.path(), ColumnMap::generated(), Partitioning::RowGroups)
        .unwrap();
    let frame = ens.source().unwrap().query("id < 1000010").unwrap();
    let report = frame.explain_analyze_report().unwrap();
    let scan = report.nodes.iter().find(|n| n.kind == "scan").unwrap();
    assert_eq!((scan.row_groups_skipped, scan.row_groups_total), (12, 15));
    assert_eq!(scan.rows_out, 3 * 4 * 20);
    assert!(report.to_text().contains(&format!(
        "row_groups_skipped={}/{}",
        scan.row_groups_skipped, scan.row_groups_total
    )));
}

#[test]
fn every_compute_is_recorded_with_its_analysis() {
    let ens = tape(Partitioning::Count(4), 2);
    let monitor = ens.executor().monitor().clone();
    let events = monitor.subscribe();
    let frame = ens.batch_named("stetson_j").unwrap();
    frame.compute().unwrap();
    let computes = monitor.computes();
    assert_eq!(computes.len(), 1);
    let c = &computes[0];
    assert_eq!(c.status, ComputeStatus::Done);
    assert!(c.label.contains("stetson_j"), "{}", c.label);
    assert_eq!(c.tasks_done, c.tasks_total);
    assert_eq!(c.rows_in, 2000);
    assert_eq!(c.rows_out, 15);
    assert!(c.explain.contains("== Physical plan =="));
    assert!(c
        .analyze
        .as_ref()
        .unwrap()
        .starts_with("== Analyzed plan =="));
    let (spans, dropped) = monitor.task_spans(c.id).unwrap();
    assert_eq!((spans.len(), dropped), (c.tasks_total, 0));
    assert!(spans
        .iter()
        .all(|s| s.ok && s.end_us >= s.start_us && s.thread.is_some()));
    let json = monitor.analyze_json(c.id).unwrap();
    assert!(json.contains("\"schema_version\": 1"));
    // Events: started, a start and an end per task, finished.
    assert_eq!(events.try_iter().count(), 2 + 2 * c.tasks_total);

    // A failed compute is recorded as failed, with its error.
    let bad = ens
        .source()
        .unwrap()
        .map(lsstseries::plan::MapFunction::new("boom", vec![], |_| {
            panic!("boom")
        }))
        .unwrap();
    assert!(bad.compute().is_err());
    let last = &monitor.computes()[0];
    assert_eq!(last.status, ComputeStatus::Failed);
    assert!(last.error.as_ref().unwrap().contains("boom"), "{last:?}");
    assert!(monitor.status().running.is_empty());
}

#[test]
fn rows_dropped_for_bad_values_are_shown_on_the_node_that_dropped_them() {
    use arrow::array::{ArrayRef, Float64Array, Int64Array, StringArray};
    use std::sync::Arc;
    let mut ens = Ensemble::builder().n_workers(1).build().unwrap();
    ens.from_source_dict(
        vec![
            (
                "id",
                Arc::new(Int64Array::from(vec![1, 1, 1, 2, 2])) as ArrayRef,
            ),
            (
                "mjd",
                Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0, 1.0, 2.0])),
            ),
            (
                "flux",
                Arc::new(Float64Array::from(vec![
                    1.0,
                    f64::NAN,
                    3.0,
                    2.0,
                    f64::INFINITY,
                ])),
            ),
            (
                "flux_err",
                Arc::new(Float64Array::from(vec![0.1, 0.1, -0.1, 0.1, 0.1])),
            ),
            ("band", Arc::new(StringArray::from(vec!["g"; 5]))),
        ],
        ColumnMap::generated(),
        Partitioning::RowGroups,
    )
    .unwrap();
    let report = ens
        .batch_named("stetson_j")
        .unwrap()
        .explain_analyze_report()
        .unwrap();
    let apply = report
        .nodes
        .iter()
        .find(|n| n.title.contains("stetson_j"))
        .unwrap();
    let total: u64 = apply.dropped.iter().map(|d| d.rows).sum();
    assert_eq!(total, 3, "{:?}", apply.dropped);
    let text = report.to_text();
    assert!(
        text.contains("dropped=[") && text.contains("== Bad values"),
        "{text}"
    );
    // The scan dropped nothing: it passes rows as stored.
    let scan = report.nodes.iter().find(|n| n.kind == "scan").unwrap();
    assert!(scan.dropped.is_empty());
}
