//! Main's newer plan elements travel: an object-file join (`JoinObjects`, the file read
//! again by each executor), `batch_on` keys (`ApplySpec::on`), page-index skips and the
//! columns decoding checks by name (`ScanNode::checked`). Cluster and decoded plans give
//! the local result, floats bit for bit.

use super::common;

use arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
};
use arrow::datatypes::{DataType, Field, Int64Type, Schema};
use common::{assert_identical, dataset, ensemble, executor, LIMIT};
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionContext;
use datafusion_proto::physical_plan::AsExecutionPlan;
use datafusion_proto::protobuf::PhysicalPlanNode;
use lsstseries::analysis::{closure_function_with_columns, LightcurveFunction};
use lsstseries::io::{write_parquet, BadValues};
use lsstseries::{ColumnMap, Ensemble, FunctionRegistry, Partitioning, Role};
use lsstseries_ballista::exec::ScanExec;
use lsstseries_ballista::{lower_frame, run_on_cluster, Error, LsstCodec};
use parquet::arrow::ArrowWriter;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use std::collections::BTreeSet;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// An object file for `ids`: `redshift` (null for every 7th id), `class` (id mod 3) and a
/// string `name`.
fn object_file(path: &Path, ids: &[i64]) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("redshift", DataType::Float64, true),
        Field::new("class", DataType::Int32, false),
        Field::new("name", DataType::Utf8, false),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(ids.to_vec())),
        Arc::new(Float64Array::from_iter(
            ids.iter()
                .map(|&i| (i % 7 != 0).then_some((i % 10) as f64 / 10.0)),
        )),
        Arc::new(Int32Array::from_iter_values(
            ids.iter().map(|&i| (i % 3) as i32),
        )),
        Arc::new(StringArray::from_iter_values(
            ids.iter().map(|i| format!("obj{i}")),
        )),
    ];
    write_parquet(path, &RecordBatch::try_new(schema, columns).unwrap()).unwrap();
}

fn ids(batch: &RecordBatch) -> BTreeSet<i64> {
    batch
        .column_by_name("id")
        .unwrap()
        .as_primitive::<Int64Type>()
        .values()
        .iter()
        .copied()
        .collect()
}

#[test]
fn object_joins_and_batch_on_keys_match_local_on_the_cluster() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("lc");
    dataset(&data, 40, true);
    let mut ens = ensemble(&data);
    // The object file lacks every fourth object: those rows get nulls.
    let all = ids(&ens.source().unwrap().compute().unwrap());
    let in_file: Vec<i64> = all.iter().copied().filter(|i| i % 4 != 0).collect();
    assert!(in_file.len() < all.len());
    let objects = dir.path().join("objects.parquet");
    object_file(&objects, &in_file);
    ens.from_parquet_objects(&objects).unwrap();
    let src = ens.source().unwrap();
    let frames = [
        (
            "sources joined",
            src.join_objects(&["redshift", "class", "name"]).unwrap(),
        ),
        (
            "stetson_j joined",
            src.batch_named("stetson_j")
                .unwrap()
                .join_objects(&["name", "redshift"])
                .unwrap(),
        ),
        (
            "stetson_j on band",
            src.batch_on_named("stetson_j", &["band"]).unwrap(),
        ),
        (
            "features on an object column",
            // `batch_on` joins an object-file key column first.
            src.batch_on_named("features", &["class"]).unwrap(),
        ),
        (
            // Object-file columns alone: a join, a filter and a projection.
            "query_objects on object columns",
            src.query_objects("class == 1 or name == 'obj1000002'")
                .unwrap(),
        ),
    ];
    // Counts with object-file columns: the function holds the table, so it stays local,
    // refused before submission and named.
    let mixed = src
        .query_objects("redshift > 0.3 and nobs_total >= 5")
        .unwrap();
    match LsstCodec::builtins().check_shippable(lower_frame(&mixed).unwrap().plan.as_ref()) {
        Err(Error::LocalOnly { node, .. }) => assert!(node.contains("(objects)"), "{node}"),
        other => panic!("expected LocalOnly, got {other:?}"),
    }
    let rt = common::runtime(4);
    let address = common::standalone(&rt, FunctionRegistry::with_builtins());
    let codec = Arc::new(LsstCodec::builtins());
    for (name, frame) in frames {
        let local = frame.compute().unwrap();
        // The joins leave nulls where the file lacks the object; the keys are there.
        if let Some(r) = local.column_by_name("redshift") {
            assert!(
                r.null_count() > 0,
                "{name}: some objects are not in the file"
            );
        }
        let lowered = lower_frame(&frame).unwrap();
        let remote = rt
            .block_on(run_on_cluster(&lowered, &address, codec.clone(), LIMIT))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_identical(name, &local, &remote);
    }
    let keyed = src.batch_on_named("stetson_j", &["band"]).unwrap();
    let keyed = keyed.compute().unwrap();
    assert_eq!(keyed.schema().field(1).name(), "band");
    assert!(keyed.num_rows() > all.len(), "several bands per object");
    rt.shutdown_timeout(Duration::from_secs(5));
}

const ROWS: usize = 6000;
const PAGE_ROWS: usize = 100;

/// A time-sorted source (`mjd = 58000 + i / 10`, ids cycling over 50 objects, so a
/// function needs a shuffle) with an `airmass` column whose value is NaN on row `bad`;
/// two row groups of 3000 rows, pages of 100 rows with a page index.
fn paged_source(path: &Path, bad: usize) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("mjd", DataType::Float64, false),
        Field::new("flux", DataType::Float64, false),
        Field::new("flux_err", DataType::Float64, false),
        Field::new("band", DataType::Utf8, false),
        Field::new("airmass", DataType::Float64, true),
    ]));
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from_iter_values(
            (0..ROWS).map(|i| (i % 50) as i64 + 1),
        )),
        Arc::new(Float64Array::from_iter_values(
            (0..ROWS).map(|i| 58_000.0 + i as f64 / 10.0),
        )),
        Arc::new(Float64Array::from_iter_values(
            (0..ROWS).map(|i| ((i * 37) % 101) as f64 / 7.0),
        )),
        Arc::new(Float64Array::from_iter_values(
            (0..ROWS).map(|i| 0.1 + (i % 10) as f64 / 100.0),
        )),
        Arc::new(StringArray::from_iter_values(
            (0..ROWS).map(|i| ["g", "r", "i"][i % 3]),
        )),
        Arc::new(Float64Array::from_iter_values((0..ROWS).map(|i| {
            if i == bad {
                f64::NAN
            } else {
                1.0 + (i % 13) as f64 / 20.0
            }
        }))),
    ];
    let props = WriterProperties::builder()
        .set_dictionary_enabled(false)
        .set_max_row_group_row_count(Some(ROWS / 2))
        .set_data_page_row_count_limit(PAGE_ROWS)
        .set_write_batch_size(PAGE_ROWS)
        .set_statistics_enabled(EnabledStatistics::Page)
        .build();
    let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
    let mut w = ArrowWriter::try_new(File::create(path).unwrap(), schema, Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

fn mean_airmass() -> Arc<dyn LightcurveFunction> {
    closure_function_with_columns(
        "mean_airmass",
        &[Role::Flux],
        &["airmass"],
        vec![Field::new("mean_airmass", DataType::Float64, true)],
        |lc, out| {
            let a = lc.column("airmass").unwrap_or(&[]);
            out.push(a.iter().sum::<f64>() / a.len() as f64)
        },
    )
}

fn scans(plan: &Arc<dyn ExecutionPlan>, out: &mut Vec<lsstseries::plan::ScanNode>) {
    if let Some(scan) = plan.as_ref().downcast_ref::<ScanExec>() {
        out.push(scan.scan().clone());
    }
    for child in plan.children() {
        scans(child, out);
    }
}

fn encode(plan: Arc<dyn ExecutionPlan>, codec: &LsstCodec) -> Vec<u8> {
    let mut buf = Vec::new();
    PhysicalPlanNode::try_from_physical_plan(plan, codec)
        .unwrap()
        .try_encode(&mut buf)
        .unwrap();
    buf
}

#[test]
fn page_skips_and_checked_columns_travel() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("paged.parquet");
    // A NaN airmass in a page of the first row group that the time filter rules out.
    paged_source(&path, 550);
    let mut registry = FunctionRegistry::with_builtins();
    registry.register(mean_airmass());
    let mut ens = Ensemble::builder()
        .executor(executor())
        .registry(registry.clone())
        .bad_values(BadValues::Reject)
        .build()
        .unwrap();
    ens.from_parquet(&path, ColumnMap::generated(), Partitioning::Count(3))
        .unwrap();
    let codec = LsstCodec::new(registry);
    let ctx = SessionContext::new();
    let rt = common::runtime(4);
    let run = |q: &str| {
        let frame = ens
            .source()
            .unwrap()
            .query(q)
            .unwrap()
            .batch_named("mean_airmass")
            .unwrap();
        let lowered = lower_frame(&frame).unwrap();
        let bytes = encode(lowered.plan.clone(), &codec);
        let decoded = PhysicalPlanNode::try_decode(&bytes)
            .unwrap()
            .try_into_physical_plan(&ctx.task_ctx(), &codec)
            .unwrap();
        let (mut sent, mut got) = (Vec::new(), Vec::new());
        scans(&lowered.plan, &mut sent);
        scans(&decoded, &mut got);
        assert_eq!(sent.len(), 1, "{q}");
        assert_eq!(got.len(), 1, "{q}");
        assert_eq!(got[0].checked, ["airmass".to_string()], "{q}");
        assert_eq!(got[0].checked, sent[0].checked, "{q}");
        assert_eq!(got[0].page_skip(), sent[0].page_skip(), "{q}");
        assert_eq!(got[0].skip(), sent[0].skip(), "{q}");
        let out = rt
            .block_on(datafusion::physical_plan::collect(decoded, ctx.task_ctx()))
            .map_err(|e| e.to_string())
            .and_then(|b| lowered.finish(&b).map_err(|e| e.to_string()));
        (frame, sent.remove(0), out)
    };
    // 58,100 <= mjd < 58,120: rows 1000..1200. The second row group is skipped by its
    // statistics, 28 of the first's 30 time pages (the bad row's included) by the page
    // index: the decoded plan must skip them too, or Reject would fail on the NaN.
    let (frame, scan, remote) = run("mjd >= 58100 and mjd < 58120");
    let pages = scan.page_skip().expect("pushed filters");
    assert_eq!(pages.pages_skipped, 28);
    assert!(pages.of_file(0).unwrap().contains(&(550..551)));
    let local = frame.compute().unwrap();
    assert_eq!(local.num_rows(), 50);
    assert_identical("page-pruned", &local, &remote.unwrap());
    // Rows 500..700 hold the bad airmass: the receiver checks the column it reads by
    // name, as the local run does, and names it.
    let (frame, _, remote) = run("mjd >= 58050 and mjd < 58070");
    let local = frame.compute().unwrap_err().to_string();
    assert!(local.contains("airmass"), "{local}");
    let remote = remote.unwrap_err();
    assert!(remote.contains("airmass"), "{remote}");
    rt.shutdown_timeout(Duration::from_secs(5));
}
