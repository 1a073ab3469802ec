//! lsstseries on Apache DataFusion Ballista, and lsstseries inside DataFusion.
//!
//! - [`mod@lower`]: our optimized physical plan as DataFusion `ExecutionPlan`s (scan, hash
//!   repartition by id, one node per stage's fused operators, merge in id order); it runs
//!   in a plain DataFusion `SessionContext` or on a Ballista cluster with the same result
//!   as a local run.
//! - [`codec`]: the `PhysicalExtensionCodec` that ships our nodes to executors.
//! - [`cluster`]: submitting a plan to a scheduler; an in-process cluster.
//! - [`backend`]: the core's cluster hook for `df://` addresses ([`install`]), so
//!   `Ensemble::builder().cluster("df://HOST:PORT")` runs computes on Ballista.
//! - [`server`]: our scheduler and executor programs.
//! - [`udaf`]: named lightcurve functions as DataFusion aggregate functions.

#![warn(missing_docs)]

pub mod backend;
pub mod cluster;
pub mod codec;
pub mod error;
pub mod exec;
pub mod lower;
pub mod server;
pub mod udaf;
pub mod wire;

pub use backend::{install, BallistaBackend};
pub use cluster::{
    cluster_info, run_on_cluster, run_on_cluster_until, scheduler_url, start_standalone,
};
pub use codec::LsstCodec;
pub use error::{Error, Result};
pub use lower::{lower, lower_frame, Lowered};
pub use udaf::{register_lightcurve_functions, LightcurveUdaf};
