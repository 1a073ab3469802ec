//! Our scheduler and executor programs, built from Ballista's library crates with our codec
//! (and so our function registry) installed: Ballista's documented extension pattern.

use crate::codec::LsstCodec;
use crate::error::{Error, Result};
use ballista_core::config::TaskSchedulingPolicy;
use ballista_core::extension::SessionConfigExt;
use ballista_core::serde::protobuf::executor_status::Status;
use ballista_core::serde::protobuf::scheduler_grpc_server::SchedulerGrpcServer;
use ballista_core::utils::default_config_producer;
use ballista_core::ConfigProducer;
use ballista_executor::executor_process::{start_executor_process, ExecutorProcessConfig};
use ballista_scheduler::cluster::{BallistaCluster, ClusterState};
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::create_scheduler;
use datafusion_proto::logical_plan::DefaultLogicalExtensionCodec;
use datafusion_proto::protobuf::{LogicalPlanNode, PhysicalPlanNode};
use lsstseries::analysis::FunctionRegistry;
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `port`, or a port the system says is free when it is 0.
pub fn port_or_free(host: &str, port: u16) -> Result<u16> {
    if port != 0 {
        return Ok(port);
    }
    let l = TcpListener::bind((host, 0)).map_err(|e| cluster_err(host, e))?;
    Ok(l.local_addr().map_err(|e| cluster_err(host, e))?.port())
}

fn cluster_err(address: &str, e: impl std::fmt::Display) -> Error {
    Error::Cluster {
        address: address.to_string(),
        message: e.to_string(),
    }
}

fn socket(host: &str, port: u16) -> Result<SocketAddr> {
    (host, port)
        .to_socket_addrs()
        .map_err(|e| cluster_err(host, e))?
        .next()
        .ok_or_else(|| cluster_err(host, "the host name resolves to no address"))
}

/// Waits until something accepts connections at `addr` (the server is up), for up to `wait`.
async fn wait_listening(addr: SocketAddr, wait: Duration) -> Result<()> {
    let start = Instant::now();
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        if start.elapsed() > wait {
            return Err(cluster_err(
                &addr.to_string(),
                format!("nothing listening after {wait:?}"),
            ));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

fn config_producer(codec: Arc<LsstCodec>) -> ConfigProducer {
    Arc::new(move || {
        default_config_producer().with_ballista_physical_extension_codec(codec.clone())
    })
}

/// Seconds without a heartbeat after which our scheduler declares an executor lost and
/// re-runs its tasks (and the stages whose output it held). Ballista's default, 180 s,
/// would leave a job waiting three minutes on a dead executor.
pub const EXECUTOR_TIMEOUT_S: u64 = 20;

/// Seconds between our executors' heartbeats (Ballista's default: 60).
pub const HEARTBEAT_S: u64 = 3;

/// The path where our scheduler answers with its executors as JSON (`executor_info()`
/// reads it); Ballista's own gRPC service shares the port.
pub const CLUSTER_PATH: &str = "/lsstseries/cluster";

/// Starts a scheduler listening on `host:port` (0: a free port), with our codec resolving
/// functions in `registry`, handing tasks out as `policy` says (executors must use the
/// same: Ballista's executor programs default to push, in-process executors poll);
/// returns the address it listens on and the task serving it. Besides Ballista's gRPC
/// service it answers `GET` [`CLUSTER_PATH`] with its executors.
pub async fn start_scheduler(
    host: &str,
    port: u16,
    registry: FunctionRegistry,
    policy: TaskSchedulingPolicy,
) -> Result<(SocketAddr, tokio::task::JoinHandle<Result<()>>)> {
    let listener = tokio::net::TcpListener::bind((host, port))
        .await
        .map_err(|e| cluster_err(&format!("{host}:{port}"), e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| cluster_err(&format!("{host}:{port}"), e))?;
    let codec = Arc::new(LsstCodec::new(registry));
    let config = SchedulerConfig {
        bind_host: host.to_string(),
        bind_port: addr.port(),
        external_host: host.to_string(),
        override_physical_codec: Some(codec.clone()),
        override_logical_codec: Some(Arc::new(DefaultLogicalExtensionCodec {})),
        override_config_producer: Some(config_producer(codec.clone())),
        scheduling_policy: policy,
        executor_timeout_seconds: EXECUTOR_TIMEOUT_S,
        expire_dead_executor_interval_seconds: 2,
        ..SchedulerConfig::default()
    };
    let (decoding, encoding) = (
        config.grpc_server_max_decoding_message_size as usize,
        config.grpc_server_max_encoding_message_size as usize,
    );
    let liveness = Liveness {
        timeout_s: config.executor_timeout_seconds,
        polled: matches!(policy, TaskSchedulingPolicy::PullStaged),
    };
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(|e| cluster_err(&addr.to_string(), e))?;
    let state = cluster.cluster_state();
    let scheduler =
        create_scheduler::<LogicalPlanNode, PhysicalPlanNode>(cluster, Arc::new(config))
            .await
            .map_err(|e| cluster_err(&addr.to_string(), e))?;
    let grpc = SchedulerGrpcServer::new(scheduler)
        .max_decoding_message_size(decoding)
        .max_encoding_message_size(encoding);
    let mut routes = tonic::service::RoutesBuilder::default();
    routes.add_service(grpc);
    let router = routes.routes().into_axum_router().route(
        CLUSTER_PATH,
        axum::routing::get(move || executors_json(state.clone(), liveness)),
    );
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .map_err(|e| cluster_err(&addr.to_string(), e))
    });
    Ok((addr, task))
}

/// How the scheduler tells a live executor (Ballista's own rule): its last heartbeat is
/// recent and says active; a polled executor's heartbeat carries no status, and counts as
/// active when recent.
#[derive(Debug, Clone, Copy)]
struct Liveness {
    timeout_s: u64,
    polled: bool,
}

/// The registered executors with their slots, status and heartbeat age, as JSON.
async fn executors_json(state: Arc<dyn ClusterState>, liveness: Liveness) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut executors = Vec::new();
    for m in state.registered_executor_metadata().await {
        let beat = state.get_executor_heartbeat(&m.id);
        let age = beat.as_ref().map(|b| now.saturating_sub(b.timestamp));
        let recent = age.is_some_and(|a| a < liveness.timeout_s);
        let status = match beat
            .as_ref()
            .and_then(|b| b.status.as_ref()?.status.as_ref())
        {
            Some(Status::Dead(_)) => "dead",
            Some(Status::Terminating(_)) => "terminating",
            _ if !recent => "lost",
            Some(Status::Active(_)) => "active",
            None if liveness.polled => "active",
            Some(Status::Unknown(_)) | None => "unknown",
        };
        executors.push(serde_json::json!({
            "id": m.id,
            "address": format!("{}:{}", m.host, m.port),
            "slots": m.specification.vcores,
            "status": status,
            "heartbeat_age_s": age,
        }));
    }
    serde_json::json!({
        "engine": format!("Apache DataFusion Ballista {}", ballista_core::BALLISTA_VERSION),
        "executors": executors,
    })
    .to_string()
}

/// Runs a scheduler on `host:port` (0: a free port) until it fails; `on_listening` is
/// called with the address once it accepts connections.
pub async fn run_scheduler(
    host: &str,
    port: u16,
    registry: FunctionRegistry,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<()> {
    let (addr, server) =
        start_scheduler(host, port, registry, TaskSchedulingPolicy::PushStaged).await?;
    serve(addr, server, on_listening).await
}

/// Waits until `task` listens at `addr` (then tells `on_listening`) and for it to end; a
/// task that ends first (a port in use, a scheduler not reachable) is an error.
async fn serve<E: std::fmt::Display>(
    addr: SocketAddr,
    mut task: tokio::task::JoinHandle<std::result::Result<(), E>>,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<()> {
    let ended = |r: std::result::Result<std::result::Result<(), E>, tokio::task::JoinError>| match r
    {
        Ok(Ok(())) => Err(cluster_err(&addr.to_string(), "stopped")),
        Ok(Err(e)) => Err(cluster_err(&addr.to_string(), e)),
        Err(e) => Err(cluster_err(&addr.to_string(), e)),
    };
    tokio::select! {
        up = wait_listening(addr, Duration::from_secs(30)) => up?,
        r = &mut task => return ended(r),
    }
    on_listening(addr);
    ended(task.await)
}

/// Prints `KIND listening on HOST:PORT` (the first line our programs print) and flushes
/// it, for the `on_listening` of [`run_scheduler`] and [`run_executor`].
pub fn print_listening(kind: &'static str) -> impl FnOnce(SocketAddr) {
    move |addr| {
        println!("{kind} listening on {addr}");
        let _ = std::io::Write::flush(&mut std::io::stdout());
    }
}

/// Where a scheduler listens: the `scheduler` command's flags (Ballista's names).
#[derive(Debug, Clone, clap::Args)]
pub struct SchedulerOptions {
    /// Host to bind.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind_host: String,
    /// Port (0: a free one).
    #[arg(long, default_value_t = 50050)]
    pub bind_port: u16,
}

/// Where an executor listens and which scheduler it serves: the `executor` command's
/// flags (Ballista's names).
#[derive(Debug, Clone, clap::Args)]
pub struct ExecutorOptions {
    /// Host to bind (and advertise).
    #[arg(long, default_value = "127.0.0.1")]
    pub bind_host: String,
    /// Arrow Flight port, where shuffle data is served (0: a free one).
    #[arg(long, default_value_t = 50051)]
    pub bind_port: u16,
    /// gRPC port (0: a free one).
    #[arg(long, default_value_t = 50052)]
    pub bind_grpc_port: u16,
    /// The scheduler's host.
    #[arg(long, default_value = "127.0.0.1")]
    pub scheduler_host: String,
    /// The scheduler's port.
    #[arg(long, default_value_t = 50050)]
    pub scheduler_port: u16,
    /// Tasks run at once.
    #[arg(long, default_value_t = 2)]
    pub concurrent_tasks: usize,
    /// Directory of shuffle files (default: a temporary directory).
    #[arg(long)]
    pub work_dir: Option<String>,
}

/// Runs an executor until it fails; `on_listening` is called with its Flight address once
/// it accepts connections.
pub async fn run_executor(
    opts: ExecutorOptions,
    registry: FunctionRegistry,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<()> {
    let port = port_or_free(&opts.bind_host, opts.bind_port)?;
    let mut grpc_port = port_or_free(&opts.bind_host, opts.bind_grpc_port)?;
    while grpc_port == port {
        grpc_port = port_or_free(&opts.bind_host, 0)?;
    }
    let addr = socket(&opts.bind_host, port)?;
    let codec = Arc::new(LsstCodec::new(registry));
    let config = ExecutorProcessConfig {
        bind_host: opts.bind_host.clone(),
        external_host: Some(opts.bind_host.clone()),
        port,
        grpc_port,
        scheduler_host: opts.scheduler_host.clone(),
        scheduler_port: opts.scheduler_port,
        scheduler_connect_timeout_seconds: 10,
        vcores: opts.concurrent_tasks.max(1),
        executor_heartbeat_interval_seconds: HEARTBEAT_S,
        work_dir: opts.work_dir.clone(),
        override_physical_codec: Some(codec.clone()),
        override_logical_codec: Some(Arc::new(DefaultLogicalExtensionCodec {})),
        override_config_producer: Some(config_producer(codec.clone())),
        ..ExecutorProcessConfig::default()
    };
    let process = tokio::spawn(start_executor_process(Arc::new(config)));
    serve(addr, process, on_listening).await
}
