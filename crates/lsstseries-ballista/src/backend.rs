//! The core's cluster hook filled with Ballista: [`install`] registers `df://`, so
//! `Ensemble::builder().cluster("df://HOST:PORT")` (and the command line's `--cluster`)
//! runs every compute on a Ballista cluster.

use crate::cluster::{
    cluster_info, connect_tcp, run_on_cluster_until, scheduler_url, session_config,
};
use crate::codec::LsstCodec;
use crate::error::Error;
use crate::lower::lower_frame;
use arrow::array::RecordBatch;
use ballista_core::JobId;
use ballista_scheduler::planner::{DefaultDistributedPlanner, DistributedPlanner};
use datafusion::physical_plan::displayable;
use lsstseries::analysis::FunctionRegistry;
use lsstseries::cluster::{register_cluster_scheme, ClusterBackend};
use lsstseries::executor::ClusterInfo;
use lsstseries::Frame;
use std::fmt::Write;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// How long `executor_info()` waits for the scheduler to answer.
const INFO_WAIT: Duration = Duration::from_secs(2);

/// Registers the Ballista backend for `df://` addresses with the core, so
/// `Ensemble::builder().cluster("df://HOST:PORT")` reaches a Ballista scheduler. Call it
/// once, before building ensembles (calling it again is harmless).
///
/// ```no_run
/// use lsstseries::prelude::*;
/// lsstseries_ballista::install();
/// let mut ens = Ensemble::builder().cluster("df://127.0.0.1:50050").build()?;
/// ens.from_parquet("survey/*.parquet", ColumnMap::generated(), Partitioning::Count(64))?;
/// let sj = ens.batch_named("stetson_j")?.compute()?;
/// # Ok::<(), lsstseries::Error>(())
/// ```
pub fn install() {
    register_cluster_scheme(
        "df",
        Arc::new(|address: &str, registry: &FunctionRegistry| {
            Ok(
                Arc::new(BallistaBackend::connect(address, registry.clone())?)
                    as Arc<dyn ClusterBackend>,
            )
        }),
    );
}

/// A Ballista scheduler that runs frames' plans (see [`install`]).
pub struct BallistaBackend {
    address: String,
    codec: Arc<LsstCodec>,
    runtime: tokio::runtime::Runtime,
}

impl std::fmt::Debug for BallistaBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BallistaBackend")
            .field("address", &self.address)
            .finish()
    }
}

impl BallistaBackend {
    /// A backend for the scheduler at `address` (`df://HOST:PORT`) whose executors resolve
    /// functions in `registry`. Checks the address and that something listens there, so
    /// a wrong address fails when the ensemble is built, not at the first compute.
    pub fn connect(address: &str, registry: FunctionRegistry) -> lsstseries::Result<Self> {
        // A malformed address is the core's InvalidArgument, as before any connection.
        scheduler_url(address).map_err(core_error)?;
        if let Err(why) = connect_tcp(address, INFO_WAIT) {
            return Err(lsstseries::Error::Cluster {
                address: address.to_string(),
                message: format!("scheduler not reachable: {why}"),
            });
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("lsstseries-ballista-client")
            .enable_all()
            .build()
            .map_err(|e| lsstseries::Error::Cluster {
                address: address.to_string(),
                message: format!("starting the client's async runtime: {e}"),
            })?;
        Ok(BallistaBackend {
            address: address.to_string(),
            codec: Arc::new(LsstCodec::new(registry)),
            runtime,
        })
    }

    /// Runs `fut` on the backend's runtime from any thread, including one inside another
    /// tokio runtime (which may not block on a runtime itself).
    fn block_on<T: Send>(&self, fut: impl Future<Output = T> + Send) -> T {
        std::thread::scope(|s| {
            s.spawn(|| self.runtime.block_on(fut))
                .join()
                .unwrap_or_else(|p| std::panic::resume_unwind(p))
        })
    }
}

/// Our error as the core's: the core's own errors as they are, the rest named for the
/// cluster.
fn core_error(e: Error) -> lsstseries::Error {
    match e {
        Error::Core(e) => e,
        Error::LocalOnly { node, reason } => lsstseries::Error::LocalOnly { node, reason },
        Error::Cluster { address, message } => lsstseries::Error::Cluster { address, message },
        Error::Decode(m) => lsstseries::Error::InvalidData(format!("shipped plan: {m}")),
        Error::DataFusion(e) => lsstseries::Error::Cluster {
            address: String::new(),
            message: e.to_string(),
        },
    }
}

impl ClusterBackend for BallistaBackend {
    fn address(&self) -> &str {
        &self.address
    }

    fn compute(&self, frame: &Frame) -> lsstseries::Result<RecordBatch> {
        let lowered = lower_frame(frame).map_err(core_error)?;
        let cancel = frame.cancellation().clone();
        self.block_on(run_on_cluster_until(
            &lowered,
            &self.address,
            self.codec.clone(),
            &cancel,
        ))
        .map_err(|e| match core_error(e) {
            lsstseries::Error::Cluster { address, message } if address.is_empty() => {
                lsstseries::Error::Cluster {
                    address: self.address.clone(),
                    message,
                }
            }
            other => other,
        })
    }

    /// Ballista's query stages for the lowered plan, as its distributed planner cuts them
    /// (a shuffle writer per stage; later stages read earlier ones' output).
    fn stages(&self, frame: &Frame) -> lsstseries::Result<String> {
        let lowered = lower_frame(frame).map_err(core_error)?;
        let config = session_config(self.codec.clone());
        let stages = DefaultDistributedPlanner::new()
            .plan_query_stages(
                &JobId::new("explain"),
                lowered.plan.clone(),
                config.options(),
            )
            .map_err(|e| lsstseries::Error::Cluster {
                address: self.address.clone(),
                message: format!("planning Ballista stages: {e}"),
            })?;
        let mut out = format!("Ballista stages: {}\n", stages.len());
        for stage in &stages {
            writeln!(
                out,
                "Stage {} ({} task{})",
                stage.stage_id(),
                stage.input_partition_count(),
                if stage.input_partition_count() == 1 {
                    ""
                } else {
                    "s"
                }
            )
            .ok();
            let text = displayable(stage.as_ref()).indent(false).to_string();
            for line in text.lines() {
                writeln!(out, "  {line}").ok();
            }
        }
        Ok(out)
    }

    fn info(&self) -> ClusterInfo {
        cluster_info(&self.address, INFO_WAIT)
    }
}
