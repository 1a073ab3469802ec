//! Running a lowered plan on a Ballista cluster: submitting it as a physical plan, and an
//! in-process cluster (scheduler + executors on loopback) for tests and one-machine runs.

use crate::codec::LsstCodec;
use crate::error::{Error, Result};
use crate::lower::Lowered;
use crate::server::{start_scheduler, CLUSTER_PATH};
use arrow::array::RecordBatch;
use ballista_core::config::{BallistaConfig, TaskSchedulingPolicy};
use ballista_core::execution_plans::execute_physical_plan;
use ballista_core::extension::SessionConfigExt;
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use ballista_core::serde::BallistaCodec;
use ballista_core::utils::default_config_producer;
use ballista_core::{ConfigProducer, RuntimeProducer};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::SessionConfig;
use datafusion_proto::logical_plan::DefaultLogicalExtensionCodec;
use datafusion_proto::physical_plan::PhysicalExtensionCodec;
use datafusion_proto::protobuf::PhysicalPlanNode;
use futures::TryStreamExt;
use lsstseries::analysis::FunctionRegistry;
use lsstseries::executor::{ClusterExecutor, ClusterInfo};
use lsstseries::Cancellation;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The `http://HOST:PORT` gRPC address of a scheduler given as `df://HOST:PORT`,
/// `http://HOST:PORT` or `HOST:PORT`.
pub fn scheduler_url(address: &str) -> Result<String> {
    let rest = address
        .strip_prefix("df://")
        .or_else(|| address.strip_prefix("http://"))
        .unwrap_or(address);
    let valid = rest
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
    if !valid {
        return Err(Error::Core(lsstseries::Error::InvalidArgument(format!(
            "cluster address '{address}': expected df://HOST:PORT"
        ))));
    }
    Ok(format!("http://{rest}"))
}

/// A session config carrying our codec (Ballista reads codecs from it in places).
pub fn session_config(codec: Arc<LsstCodec>) -> SessionConfig {
    SessionConfig::new_with_ballista().with_ballista_physical_extension_codec(codec)
}

/// The Ballista codec pair with ours for physical plans.
pub fn ballista_codec(codec: Arc<LsstCodec>) -> BallistaCodec {
    BallistaCodec::new(Arc::new(DefaultLogicalExtensionCodec {}), codec)
}

/// Submits `lowered` to the scheduler at `address` (`df://HOST:PORT`) and returns our
/// result, failing after `timeout` instead of waiting on a cluster that does not answer.
pub async fn run_on_cluster(
    lowered: &Lowered,
    address: &str,
    codec: Arc<LsstCodec>,
    timeout: Duration,
) -> Result<RecordBatch> {
    let cancel = Cancellation::new().timeout(timeout);
    run_on_cluster_until(lowered, address, codec, &cancel).await
}

/// [`run_on_cluster`] that stops when `cancel` is cancelled or its deadline passes
/// (checked every 50 ms), with the cancellation's error.
pub async fn run_on_cluster_until(
    lowered: &Lowered,
    address: &str,
    codec: Arc<LsstCodec>,
    cancel: &Cancellation,
) -> Result<RecordBatch> {
    let url = scheduler_url(address)?;
    // Encode first: a plan that cannot travel fails here, naming its node, before any
    // connection is made.
    codec.check_shippable(lowered.plan.as_ref())?;
    let session_id = format!(
        "lsstseries-{}-{}",
        std::process::id(),
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    );
    let config = session_config(codec.clone());
    let run = async {
        let stream = execute_physical_plan::<PhysicalPlanNode>(
            url.clone(),
            &BallistaConfig::default(),
            lowered.plan.clone(),
            codec.as_ref() as &dyn PhysicalExtensionCodec,
            session_id,
            config,
        )
        .await?;
        let batches: Vec<RecordBatch> = stream.try_collect().await?;
        Ok::<_, datafusion::common::DataFusionError>(batches)
    };
    let stopped = async {
        while !cancel.is_cancelled() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    };
    let batches = tokio::select! {
        r = run => r.map_err(|e| Error::Cluster {
            address: address.to_string(),
            message: e.to_string(),
        })?,
        () = stopped => {
            cancel.check()?;
            return Err(Error::Cluster {
                address: address.to_string(),
                message: "stopped".into(),
            });
        }
    };
    lowered.finish(&batches)
}

/// What the scheduler at `address` says of itself and its executors: our scheduler
/// answers [`CLUSTER_PATH`]; one that does not answer (or is not ours) gives a
/// [`ClusterInfo`] saying so. Waits at most `wait`.
pub fn cluster_info(address: &str, wait: Duration) -> ClusterInfo {
    let mut info = ClusterInfo {
        engine: format!(
            "Apache DataFusion Ballista {}",
            ballista_core::BALLISTA_VERSION
        ),
        scheduler: address.to_string(),
        unreachable: None,
        executors: Vec::new(),
    };
    match fetch_executors(address, wait) {
        Ok(v) => {
            if let Some(engine) = v["engine"].as_str() {
                info.engine = engine.to_string();
            }
            for e in v["executors"].as_array().into_iter().flatten() {
                info.executors.push(ClusterExecutor {
                    id: e["id"].as_str().unwrap_or_default().to_string(),
                    address: e["address"].as_str().unwrap_or_default().to_string(),
                    slots: e["slots"].as_u64().unwrap_or(0) as usize,
                    status: e["status"].as_str().unwrap_or("unknown").to_string(),
                    heartbeat_age_s: e["heartbeat_age_s"].as_u64(),
                });
            }
        }
        Err(why) => info.unreachable = Some(why),
    }
    info
}

/// A TCP connection to the scheduler at `address` (`df://HOST:PORT`), waiting at most
/// `wait`, with its `HOST:PORT`; the error says why not.
pub(crate) fn connect_tcp(
    address: &str,
    wait: Duration,
) -> std::result::Result<(std::net::TcpStream, String), String> {
    let url = scheduler_url(address).map_err(|e| e.to_string())?;
    let host_port = url.trim_start_matches("http://").to_string();
    let addr = std::net::ToSocketAddrs::to_socket_addrs(host_port.as_str())
        .map_err(|e| e.to_string())?
        .next()
        .ok_or("the host name resolves to no address")?;
    let stream = std::net::TcpStream::connect_timeout(&addr, wait).map_err(|e| e.to_string())?;
    Ok((stream, host_port))
}

/// `GET` [`CLUSTER_PATH`] over plain HTTP/1.0 (the scheduler's port serves HTTP/1 and
/// gRPC alike), parsed as JSON.
fn fetch_executors(
    address: &str,
    wait: Duration,
) -> std::result::Result<serde_json::Value, String> {
    use std::io::{Read, Write};
    let (mut stream, host_port) = connect_tcp(address, wait)?;
    stream
        .set_read_timeout(Some(wait))
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(wait))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET {CLUSTER_PATH} HTTP/1.0\r\nHost: {host_port}\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut text = String::new();
    stream
        .take(1 << 20)
        .read_to_string(&mut text)
        .map_err(|e| e.to_string())?;
    let (head, body) = text.split_once("\r\n\r\n").ok_or("no HTTP answer")?;
    let status = head.lines().next().unwrap_or_default();
    if !status.contains(" 200") {
        return Err(format!(
            "the scheduler answered '{status}' for {CLUSTER_PATH}: not an lsstseries-ballista \
             scheduler?"
        ));
    }
    serde_json::from_str(body).map_err(|e| format!("unreadable executor list: {e}"))
}

/// Connects to the scheduler at `url`, retrying for up to `wait`.
pub async fn connect_scheduler(
    url: &str,
    wait: Duration,
) -> Result<SchedulerGrpcClient<tonic::transport::Channel>> {
    let start = std::time::Instant::now();
    loop {
        match SchedulerGrpcClient::connect(url.to_string()).await {
            Ok(c) => return Ok(c),
            Err(e) if start.elapsed() >= wait => {
                return Err(Error::Cluster {
                    address: url.to_string(),
                    message: format!("scheduler not reachable: {e}"),
                })
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

/// Starts a scheduler and `executors` executors (each with `slots` task slots) inside this
/// process, on loopback with ports the system chooses, all with our codec resolving
/// functions in `registry`; returns the scheduler's `df://HOST:PORT`. They run until the
/// tokio runtime ends.
pub async fn start_standalone(
    registry: FunctionRegistry,
    executors: usize,
    slots: usize,
) -> Result<String> {
    let codec = Arc::new(LsstCodec::new(registry.clone()));
    let config_codec = codec.clone();
    let config_producer: ConfigProducer = Arc::new(move || {
        default_config_producer().with_ballista_physical_extension_codec(config_codec.clone())
    });
    // In-process executors poll for work.
    let (addr, _server) =
        start_scheduler("127.0.0.1", 0, registry, TaskSchedulingPolicy::PullStaged).await?;
    let url = format!("http://127.0.0.1:{}", addr.port());
    for _ in 0..executors.max(1) {
        let scheduler = connect_scheduler(&url, Duration::from_secs(10)).await?;
        let runtime = Arc::new(
            RuntimeEnvBuilder::new()
                .build()
                .map_err(Error::DataFusion)?,
        );
        let runtime_producer: RuntimeProducer =
            Arc::new(move |_: &SessionConfig| Ok(runtime.clone()));
        ballista_executor::new_standalone_executor_from_builder(
            scheduler,
            slots.max(1),
            config_producer.clone(),
            runtime_producer,
            ballista_codec(codec.clone()),
            Default::default(),
        )
        .await
        .map_err(|e| Error::Cluster {
            address: url.clone(),
            message: format!("starting an executor: {e}"),
        })?;
    }
    Ok(format!("df://127.0.0.1:{}", addr.port()))
}
