//! # lsstseries
//!
//! A lazy dataflow engine for survey-scale astronomical lightcurves: the Rust engine behind
//! the workflow of the Python lsstseries/TAPE `Ensemble`.
//!
//! Calls build a typed DAG of partition operations ([`plan`]); an optimizer ([`optimizer`])
//! fuses per-partition maps and inserts a shuffle only where lightcurves span partitions;
//! a work-stealing executor ([`executor`]) runs the physical stages ([`physical`]) on
//! [`Frame::compute`]; [`Frame::explain`] shows the plan and why.
//!
//! ```no_run
//! use lsstseries::{BatchMode, ColumnMap, Ensemble, Partitioning};
//! let mut ens = Ensemble::new()?;
//! ens.from_parquet("data/tape/test_source.parquet", ColumnMap::tape(), Partitioning::size("5KB")?)?;
//! let frame = ens.batch_named("stetson_j")?;
//! println!("{}", frame.explain()?);
//! let result = frame.compute()?;
//! assert_eq!(result.num_rows(), 15);
//! # Ok::<(), lsstseries::Error>(())
//! ```

// Every type in a public signature must be nameable by users, and documented.
#![warn(unnameable_types, missing_docs)]

pub mod analysis;
pub mod cluster;
pub mod dashboard;
mod ensemble;
pub mod error;
pub mod executor;
pub mod explain;
pub mod format;
mod frame;
pub mod io;
pub mod lightcurve;
pub mod optimizer;
pub mod physical;
pub mod plan;
pub mod rng;

pub use analysis::{
    closure_function, closure_function_with_columns, FunctionRegistry, LightcurveFunction,
};
pub use cluster::ClusterBackend;
pub use ensemble::{ColumnInfo, Ensemble, EnsembleBuilder, EnsembleInfo, TableInfo};
pub use error::{Error, Result};
pub use executor::{
    Cancellation, ClusterInfo, Executor, ExecutorConfig, ExecutorInfo, ExecutorStatus, MemoryPool,
};
pub use frame::{DropNa, Frame, ZeroPoint, PART_ROWS};
pub use io::{BadValueCounts, BadValues, ColumnMap, Partitioning, Role};
pub use lightcurve::{ExtraColumns, LightcurveView};
pub use physical::{ResultStream, RunMetrics};
pub use plan::{col, lit, parse_query, BatchMode, Expr, Predicate};

/// The names most programs need, in one import: `use lsstseries::prelude::*;`.
///
/// ```no_run
/// use lsstseries::prelude::*;
/// let mut ens = Ensemble::new()?;
/// ens.from_parquet("data/tape/test_source.parquet", ColumnMap::tape(), Partitioning::Count(32))?;
/// let sj = ens.source()?.batch_named("stetson_j")?.compute()?;
/// # Ok::<(), lsstseries::Error>(())
/// ```
pub mod prelude {
    pub use crate::analysis::structure_function::{Bootstrap, Estimator, SfOptions};
    pub use crate::analysis::{
        closure_function, closure_function_with_columns, BandScope, Feature, FeatureSet,
        FunctionRegistry, LightcurveFunction, Periodogram,
    };
    pub use crate::io::IfExists;
    pub use crate::plan::{col, lit, BatchMode, Expr, MapFunction, Predicate};
    pub use crate::{
        BadValues, Cancellation, ColumnMap, DropNa, Ensemble, Error, Executor, ExecutorConfig,
        Frame, LightcurveView, Partitioning, Result, Role, ZeroPoint,
    };
}
