//! The crate's one error type: the core's errors, DataFusion's, and the cluster's.

use datafusion::common::DataFusionError;

/// What can go wrong lowering, shipping or running a plan on DataFusion or Ballista.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An error of the core engine (bad data, bad arguments, a failing function).
    #[error(transparent)]
    Core(#[from] lsstseries::Error),
    /// A plan node that cannot travel to executors: it holds code (a closure) that only
    /// this process has.
    #[error("plan node '{node}' runs only locally: {reason}")]
    LocalOnly {
        /// The node, as `explain()` names it.
        node: String,
        /// Why, and what to do instead.
        reason: String,
    },
    /// Bytes of a shipped plan that do not decode.
    #[error("cannot decode a shipped lsstseries plan node: {0}")]
    Decode(String),
    /// The cluster could not be reached or refused the job.
    #[error("cluster {address}: {message}")]
    Cluster {
        /// The scheduler's address.
        address: String,
        /// What happened.
        message: String,
    },
    /// An error of DataFusion or Ballista while running the plan.
    #[error("DataFusion: {0}")]
    DataFusion(#[from] DataFusionError),
}

impl From<Error> for DataFusionError {
    fn from(e: Error) -> Self {
        match e {
            Error::DataFusion(e) => e,
            other => DataFusionError::External(Box::new(other)),
        }
    }
}

/// Results of this crate.
pub type Result<T> = std::result::Result<T, Error>;
