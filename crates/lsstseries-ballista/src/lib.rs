//! lsstseries on Apache DataFusion Ballista, and lsstseries inside DataFusion.
//!
//! - [`mod@lower`]: our optimized physical plan as DataFusion `ExecutionPlan`s (scan, hash
//!   repartition by id, one node per stage's fused operators, merge in id order); it runs
//!   in a plain DataFusion `SessionContext` or on a Ballista cluster with the same result
//!   as a local run.
//! - [`codec`]: the `PhysicalExtensionCodec` that ships our nodes to executors.
//! - [`cluster`]: submitting a plan to a scheduler; an in-process cluster.

#![warn(missing_docs)]

pub mod cluster;
pub mod codec;
pub mod error;
pub mod exec;
pub mod lower;
pub mod server;
pub mod udaf;
pub mod wire;

pub use cluster::{run_on_cluster, scheduler_url, start_standalone};
pub use codec::LsstCodec;
pub use error::{Error, Result};
pub use lower::{lower, lower_frame, Lowered};
pub use udaf::{register_lightcurve_functions, LightcurveUdaf};
