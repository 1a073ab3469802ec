//! Running frames on a cluster instead of this process's executor.
//!
//! The core engine links no distributed engine (its build stays lean). A backend crate
//! implements [`ClusterBackend`] and registers a connector for its address scheme: the
//! `lsstseries-ballista` crate does so for `df://` (Apache DataFusion Ballista) in
//! `lsstseries_ballista::install()`. Then
//! [`EnsembleBuilder::cluster`](crate::EnsembleBuilder::cluster) picks the backend by the
//! address's scheme, and every compute of the ensemble's frames runs there:
//!
//! ```no_run
//! use lsstseries::prelude::*;
//! // lsstseries_ballista::install(); // registers df://
//! let mut ens = Ensemble::builder().cluster("df://127.0.0.1:50050").build()?;
//! ens.from_parquet("survey/*.parquet", ColumnMap::generated(), Partitioning::Count(64))?;
//! let sj = ens.batch_named("stetson_j")?.compute()?; // on the cluster
//! # Ok::<(), lsstseries::Error>(())
//! ```
//!
//! Plans travel by name: functions by their registry name and parameters, expressions as
//! text. A node that holds a closure cannot travel ([`PartitionOp::local_only_reason`]);
//! `explain()` marks it `[local only: ...]` and a cluster compute fails before submitting.

use crate::analysis::FunctionRegistry;
use crate::error::{Error, Result};
use crate::executor::ClusterInfo;
use crate::frame::Frame;
#[cfg(doc)]
use crate::plan::PartitionOp;
use arrow::array::RecordBatch;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

/// A cluster that runs frames' plans (implemented by backend crates).
pub trait ClusterBackend: Send + Sync {
    /// The scheduler's address as the user gave it, e.g. `df://127.0.0.1:50050`.
    fn address(&self) -> &str;

    /// Runs `frame`'s plan on the cluster and returns the same result a local
    /// [`Frame::compute`] gives (rows in id order, the source's id type). A plan with a
    /// node that cannot be shipped fails before anything is submitted, naming the node.
    fn compute(&self, frame: &Frame) -> Result<RecordBatch>;

    /// The cluster engine's own stages for `frame`'s plan, as text for `explain()`.
    fn stages(&self, frame: &Frame) -> Result<String>;

    /// The scheduler and its executors, asked now; a scheduler that does not answer gives
    /// a [`ClusterInfo`] saying why rather than an error.
    fn info(&self) -> ClusterInfo;
}

/// Makes a backend for an address of its scheme; gets the registry executors are
/// expected to have (to check names against it).
pub type ClusterConnector =
    Arc<dyn Fn(&str, &FunctionRegistry) -> Result<Arc<dyn ClusterBackend>> + Send + Sync>;

fn connectors() -> &'static Mutex<BTreeMap<String, ClusterConnector>> {
    static CONNECTORS: OnceLock<Mutex<BTreeMap<String, ClusterConnector>>> = OnceLock::new();
    CONNECTORS.get_or_init(|| Mutex::new(BTreeMap::new()))
}

/// Registers `connector` for addresses `scheme://...` (replacing an earlier one), so
/// [`EnsembleBuilder::cluster`](crate::EnsembleBuilder::cluster) can reach such clusters.
pub fn register_cluster_scheme(scheme: &str, connector: ClusterConnector) {
    connectors()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(scheme.to_ascii_lowercase(), connector);
}

/// Whether a connector is registered for `address`'s scheme.
pub fn cluster_scheme_registered(address: &str) -> bool {
    scheme_of(address).is_ok_and(|s| {
        connectors()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains_key(&s)
    })
}

fn scheme_of(address: &str) -> Result<String> {
    match address.split_once("://") {
        Some((scheme, rest)) if !scheme.is_empty() && !rest.is_empty() => {
            Ok(scheme.to_ascii_lowercase())
        }
        _ => Err(Error::InvalidArgument(format!(
            "cluster address '{address}': expected SCHEME://HOST:PORT, e.g. df://127.0.0.1:50050"
        ))),
    }
}

/// The backend for `address`, from the connector registered for its scheme.
pub(crate) fn connect(
    address: &str,
    registry: &FunctionRegistry,
) -> Result<Arc<dyn ClusterBackend>> {
    let scheme = scheme_of(address)?;
    let connector = connectors()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&scheme)
        .cloned();
    match connector {
        Some(c) => c(address, registry),
        None => Err(Error::InvalidArgument(format!(
            "cluster address '{address}': no backend for '{scheme}://' in this program; \
             link the lsstseries-ballista crate and call lsstseries_ballista::install() \
             (on the command line: put the lsstseries-ballista program beside lsstseries)"
        ))),
    }
}
