//! The cluster hook: `Ensemble::builder().cluster(addr)` picks the backend registered for
//! the address's scheme, every compute of its frames goes there, `explain()` marks what
//! cannot ship and shows the backend's stages, and `executor_info()` shows the cluster.
//! The backend here is a stand-in that runs plans locally and counts them; the Ballista
//! backend is tested in crates/lsstseries-ballista.

use arrow::array::{Float64Array, RecordBatch};
use arrow::datatypes::{DataType, Field};
use lsstseries::cluster::{register_cluster_scheme, ClusterBackend};
use lsstseries::executor::{ClusterExecutor, ClusterInfo};
use lsstseries::plan::MapFunction;
use lsstseries::{ColumnMap, Ensemble, Error, Frame, Partitioning};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// Runs plans in this process and counts them; refuses what the core says cannot ship.
struct StandIn {
    address: String,
    computes: Arc<AtomicUsize>,
}

impl ClusterBackend for StandIn {
    fn address(&self) -> &str {
        &self.address
    }
    fn compute(&self, frame: &Frame) -> lsstseries::Result<RecordBatch> {
        let optimized = frame.optimize()?;
        for ix in optimized.plan.chain() {
            if let Some(why) = optimized.plan.node(ix).local_only_reason(frame.registry()) {
                return Err(Error::InvalidArgument(format!("local only: {why}")));
            }
        }
        self.computes.fetch_add(1, Ordering::SeqCst);
        frame.local().compute()
    }
    fn stages(&self, _frame: &Frame) -> lsstseries::Result<String> {
        Ok("stand-in stage 1: everything\n".into())
    }
    fn info(&self) -> ClusterInfo {
        ClusterInfo {
            engine: "stand-in".into(),
            scheduler: self.address.clone(),
            unreachable: None,
            executors: vec![ClusterExecutor {
                id: "e1".into(),
                address: "127.0.0.1:1".into(),
                slots: 3,
                status: "active".into(),
                heartbeat_age_s: Some(0),
            }],
        }
    }
}

/// Registers the stand-in for `standin://` and returns its compute counter.
fn register() -> Arc<AtomicUsize> {
    let computes = Arc::new(AtomicUsize::new(0));
    let counter = computes.clone();
    register_cluster_scheme(
        "standin",
        Arc::new(move |address, _registry| {
            Ok(Arc::new(StandIn {
                address: address.to_string(),
                computes: counter.clone(),
            }) as Arc<dyn ClusterBackend>)
        }),
    );
    computes
}

/// `explain()` text is part of the API (`UPDATE_SNAPSHOTS=1` accepts a deliberate change).
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

/// An ensemble of one thread whose computes go to the stand-in.
fn on_standin() -> Ensemble {
    register();
    Ensemble::builder()
        .n_workers(1)
        .cluster("standin://scheduler:1")
        .build()
        .unwrap()
}

fn open(ens: &mut Ensemble) {
    ens.from_parquet(
        "data/tape/test_source.parquet",
        ColumnMap::tape(),
        Partitioning::size("5KB").unwrap(),
    )
    .unwrap();
}

fn halve_flux() -> MapFunction {
    MapFunction::new(
        "halve_flux",
        vec![Field::new("half", DataType::Float64, true)],
        |b: &RecordBatch| {
            let flux = b
                .column_by_name("psFlux")
                .unwrap()
                .as_any()
                .downcast_ref::<Float64Array>()
                .unwrap();
            let half: Float64Array = flux.iter().map(|v| v.map(|x| x / 2.0)).collect();
            let mut cols = b.columns().to_vec();
            cols.push(Arc::new(half));
            let mut fields: Vec<Field> = b
                .schema()
                .fields()
                .iter()
                .map(|f| f.as_ref().clone())
                .collect();
            fields.push(Field::new("half", DataType::Float64, true));
            RecordBatch::try_new(Arc::new(arrow::datatypes::Schema::new(fields)), cols)
                .map_err(|e| Error::arrow("halve_flux", e))
        },
    )
}

#[test]
fn computes_go_to_the_cluster_and_equal_local_ones() {
    let computes = register();
    let mut ens = Ensemble::builder()
        .n_workers(1)
        .cluster("standin://scheduler:1")
        .build()
        .unwrap();
    open(&mut ens);
    let frame = ens.batch_named("stetson_j").unwrap();
    let before = computes.load(Ordering::SeqCst);
    let remote = frame.compute().unwrap();
    let streamed: Vec<RecordBatch> = frame
        .compute_stream()
        .unwrap()
        .collect::<lsstseries::Result<_>>()
        .unwrap();
    assert_eq!(computes.load(Ordering::SeqCst), before + 2);
    let local = frame.local().compute().unwrap();
    assert_eq!(
        computes.load(Ordering::SeqCst),
        before + 2,
        "local() ran remotely"
    );
    assert_eq!(remote, local);
    let schema = remote.schema();
    assert_eq!(
        arrow::compute::concat_batches(&schema, &streamed).unwrap(),
        local
    );
    let (batch, metrics) = frame.compute_with_metrics().unwrap();
    assert_eq!(metrics.rows_out, batch.num_rows() as u64);
    // Rows in and page rows skipped come from the plan: the local run's counts.
    let (_, here) = frame.local().compute_with_metrics().unwrap();
    assert_eq!(metrics.rows_in, here.rows_in);
    assert_eq!(metrics.rows_in, 2000);
    assert_eq!(metrics.page_rows_skipped, here.page_rows_skipped);
    // Per-task analysis is this process's; on a cluster it is refused, with the way out.
    let e = frame.explain_analyze().unwrap_err().to_string();
    assert!(
        e.contains("standin://scheduler:1") && e.contains("local()"),
        "{e}"
    );
}

#[test]
fn explain_marks_what_cannot_ship_and_shows_the_cluster_stages() {
    let mut ens = on_standin();
    open(&mut ens);
    let shipping = ens.batch_named("stetson_j").unwrap().explain().unwrap();
    assert!(
        shipping.contains("== Cluster ==  standin://scheduler:1"),
        "{shipping}"
    );
    assert!(shipping.contains("ships: every node"), "{shipping}");
    assert!(
        shipping.contains("  stand-in stage 1: everything"),
        "{shipping}"
    );
    assert!(!shipping.contains("local only"), "{shipping}");

    let with_map = ens.source().unwrap().map(halve_flux()).unwrap();
    let text = with_map
        .batch_named("stetson_j")
        .unwrap()
        .explain()
        .unwrap();
    check("cluster_map_local_only", &text);
    let marked: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("[local only:"))
        .collect();
    assert_eq!(marked.len(), 1, "{text}");
    assert!(
        marked[0].contains("halve_flux") && marked[0].contains("closure"),
        "{text}"
    );
    assert!(text.contains("ships: no; 1 node is local only"), "{text}");
    let e = with_map
        .batch_named("stetson_j")
        .unwrap()
        .compute()
        .unwrap_err()
        .to_string();
    assert!(e.contains("halve_flux"), "{e}");
    // The same frame on the local executor runs, and its explain has no cluster section.
    let local = with_map.batch_named("stetson_j").unwrap().local();
    assert!(!local.explain().unwrap().contains("== Cluster =="));
    assert_eq!(local.compute().unwrap().num_rows(), 15);
}

#[test]
fn an_unnamed_function_is_local_only() {
    let mut ens = on_standin();
    open(&mut ens);
    let f = lsstseries::closure_function(
        "my_count",
        &[],
        vec![Field::new("my_count", DataType::Float64, true)],
        |lc, out| out.push(lc.len() as f64),
    );
    let text = ens.batch(f).unwrap().explain().unwrap();
    let line = text
        .lines()
        .find(|l| l.contains("[local only:"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(
        line.contains("'my_count' is not in the function registry"),
        "{line}"
    );
}

#[test]
fn executor_info_shows_the_cluster() {
    let ens = on_standin();
    let info = ens.executor_info();
    let cluster = info.cluster.clone().unwrap();
    assert_eq!(cluster.active_slots(), 3);
    let text = info.to_string();
    assert!(text.contains("Cluster (stand-in)"), "{text}");
    assert!(
        text.contains("scheduler:          standin://scheduler:1"),
        "{text}"
    );
    assert!(
        text.contains("e1 at 127.0.0.1:1: 3 slots, active"),
        "{text}"
    );
    // The monitor (and so the dashboard's /api/status) sees it too.
    let status = ens.executor().monitor().status();
    assert_eq!(status.cluster.unwrap().executors.len(), 1);
}

#[test]
fn addresses_without_a_backend_are_named() {
    let e = Ensemble::builder()
        .cluster("nosuch://host:1")
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("nosuch://host:1") && e.contains("lsstseries_ballista::install()"),
        "{e}"
    );
    let e = Ensemble::builder()
        .cluster("127.0.0.1:50050")
        .build()
        .unwrap_err()
        .to_string();
    assert!(e.contains("expected SCHEME://HOST:PORT"), "{e}");
}

/// The command line hands `--cluster` commands to `lsstseries-ballista` beside it; alone,
/// it says what is missing. Commands that read partitions in this process refuse it.
#[test]
fn the_cli_names_the_missing_cluster_program() {
    let dir = tempfile::tempdir().unwrap();
    let alone = dir.path().join("lsstseries");
    std::fs::copy(env!("CARGO_BIN_EXE_lsstseries"), &alone).unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(&alone)
            .args(args)
            .output()
            .unwrap();
        assert!(!out.status.success(), "{args:?} succeeded");
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let e = run(&[
        "batch",
        "stetson_j",
        "data/tape/test_source.parquet",
        "--columns",
        "tape",
        "--out",
        dir.path().join("sj.csv").to_str().unwrap(),
        "--cluster",
        "df://127.0.0.1:1",
    ]);
    assert!(
        e.contains("--cluster df://127.0.0.1:1")
            && e.contains("lsstseries-ballista is not beside it"),
        "{e}"
    );
    assert!(!dir.path().join("sj.csv").exists());
    let e = run(&[
        "head",
        "data/tape/test_source.parquet",
        "--cluster",
        "df://127.0.0.1:1",
    ]);
    assert!(e.contains("run it without --cluster"), "{e}");
}

/// The dashboard's status (what its Cluster panel draws) carries the cluster's executors.
#[test]
fn the_dashboard_status_carries_the_cluster() {
    use std::io::{Read, Write};
    register();
    let ens = Ensemble::builder()
        .n_workers(1)
        .dashboard("127.0.0.1:0")
        .cluster("standin://scheduler:1")
        .build()
        .unwrap();
    let url = ens.dashboard_url().unwrap();
    let host = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    let mut stream = std::net::TcpStream::connect(&host).unwrap();
    write!(stream, "GET /api/status HTTP/1.0\r\nHost: {host}\r\n\r\n").unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).unwrap();
    let body = text.split_once("\r\n\r\n").unwrap().1;
    let status: serde_json::Value = serde_json::from_str(body).unwrap();
    let cluster = &status["cluster"];
    assert_eq!(cluster["engine"], "stand-in", "{body}");
    assert_eq!(cluster["scheduler"], "standin://scheduler:1", "{body}");
    assert_eq!(cluster["executors"][0]["slots"], 3, "{body}");
    assert_eq!(cluster["executors"][0]["status"], "active", "{body}");
}
