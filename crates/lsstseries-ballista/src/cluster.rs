//! Running a lowered plan on a Ballista cluster: submitting it as a physical plan, and an
//! in-process cluster (scheduler + executors on loopback) for tests and one-machine runs.

use crate::codec::LsstCodec;
use crate::error::{Error, Result};
use crate::lower::Lowered;
use arrow::array::RecordBatch;
use ballista_core::config::BallistaConfig;
use ballista_core::execution_plans::execute_physical_plan;
use ballista_core::extension::SessionConfigExt;
use ballista_core::serde::protobuf::scheduler_grpc_client::SchedulerGrpcClient;
use ballista_core::serde::BallistaCodec;
use ballista_core::utils::{default_config_producer, default_session_builder};
use ballista_core::{ConfigProducer, RuntimeProducer};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::SessionConfig;
use datafusion_proto::logical_plan::DefaultLogicalExtensionCodec;
use datafusion_proto::physical_plan::PhysicalExtensionCodec;
use datafusion_proto::protobuf::PhysicalPlanNode;
use futures::TryStreamExt;
use lsstseries::analysis::FunctionRegistry;
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
    let batches = match tokio::time::timeout(timeout, run).await {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => {
            return Err(Error::Cluster {
                address: address.to_string(),
                message: e.to_string(),
            })
        }
        Err(_) => {
            return Err(Error::Cluster {
                address: address.to_string(),
                message: format!("no result within {timeout:?}"),
            })
        }
    };
    lowered.finish(&batches)
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
    let codec = Arc::new(LsstCodec::new(registry));
    let config_codec = codec.clone();
    let config_producer: ConfigProducer = Arc::new(move || {
        default_config_producer().with_ballista_physical_extension_codec(config_codec.clone())
    });
    let addr = ballista_scheduler::standalone::new_standalone_scheduler_with_builder(
        Arc::new(default_session_builder),
        config_producer.clone(),
        ballista_codec(codec.clone()),
    )
    .await
    .map_err(|e| Error::Cluster {
        address: "localhost:0".into(),
        message: format!("starting the scheduler: {e}"),
    })?;
    let url = format!("http://localhost:{}", addr.port());
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
    Ok(format!("df://localhost:{}", addr.port()))
}
