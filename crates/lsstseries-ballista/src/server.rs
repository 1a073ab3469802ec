//! Our scheduler and executor programs, built from Ballista's library crates with our codec
//! (and so our function registry) installed: Ballista's documented extension pattern.

use crate::codec::LsstCodec;
use crate::error::{Error, Result};
use ballista_core::extension::SessionConfigExt;
use ballista_core::utils::default_config_producer;
use ballista_core::ConfigProducer;
use ballista_executor::executor_process::{start_executor_process, ExecutorProcessConfig};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use datafusion_proto::logical_plan::DefaultLogicalExtensionCodec;
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

/// Runs a scheduler on `host:port` (0: a free port) until it fails; `on_listening` is
/// called with the address once it accepts connections.
pub async fn run_scheduler(
    host: &str,
    port: u16,
    registry: FunctionRegistry,
    on_listening: impl FnOnce(SocketAddr),
) -> Result<()> {
    let port = port_or_free(host, port)?;
    let addr = socket(host, port)?;
    let codec = Arc::new(LsstCodec::new(registry));
    let config = SchedulerConfig {
        bind_host: host.to_string(),
        bind_port: port,
        external_host: host.to_string(),
        override_physical_codec: Some(codec.clone()),
        override_logical_codec: Some(Arc::new(DefaultLogicalExtensionCodec {})),
        override_config_producer: Some(config_producer(codec.clone())),
        ..SchedulerConfig::default()
    };
    let cluster = BallistaCluster::new_from_config(&config)
        .await
        .map_err(|e| cluster_err(&addr.to_string(), e))?;
    let server = tokio::spawn(start_server(cluster, addr, Arc::new(config)));
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

/// Where an executor listens and which scheduler it serves.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// Host to bind (and advertise).
    pub bind_host: String,
    /// Flight port (0: a free one).
    pub bind_port: u16,
    /// gRPC port (0: a free one).
    pub bind_grpc_port: u16,
    /// The scheduler's host.
    pub scheduler_host: String,
    /// The scheduler's port.
    pub scheduler_port: u16,
    /// Task slots.
    pub concurrent_tasks: usize,
    /// Directory of shuffle files (default: a temporary one).
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
        work_dir: opts.work_dir.clone(),
        override_physical_codec: Some(codec.clone()),
        override_logical_codec: Some(Arc::new(DefaultLogicalExtensionCodec {})),
        override_config_producer: Some(config_producer(codec.clone())),
        ..ExecutorProcessConfig::default()
    };
    let process = tokio::spawn(start_executor_process(Arc::new(config)));
    serve(addr, process, on_listening).await
}
