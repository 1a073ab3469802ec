//! The one error type of the crate.
//!
//! Every variant names what went wrong in terms a user can act on: the file, the column, the
//! value, the operation and the partition.

use std::path::PathBuf;

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// An underlying error kept as the source of an [`Error`].
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong in `lsstseries`. New kinds of mistakes may be added, so
/// match with a catch-all arm.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or directory could not be opened, read or written.
    #[error("cannot access {path}: {source}")]
    Io {
        /// The path that failed.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: std::io::Error,
    },

    /// The executor could not start its threads.
    #[error("cannot start a worker thread: {0}")]
    Thread(#[source] std::io::Error),

    /// A Parquet file is corrupt, truncated or not Parquet at all, or could not be written.
    #[error("{path} is not a readable Parquet file: {source}")]
    Parquet {
        /// The offending file.
        path: PathBuf,
        /// What the Parquet (or Arrow) reader reported.
        #[source]
        source: BoxError,
    },

    /// A directory holds no `.parquet` files, or a file holds no rows.
    #[error("no data: {0}")]
    Empty(String),

    /// Columns named in the column mapping are missing from a file.
    #[error(
        "{path}: missing column(s) {missing:?} (mapped as {roles}); columns present: {present:?}"
    )]
    MissingColumns {
        /// The file whose schema lacks the columns.
        path: PathBuf,
        /// The missing column names.
        missing: Vec<String>,
        /// Which roles (id, time, ...) the missing columns play.
        roles: String,
        /// The columns the file does have.
        present: Vec<String>,
    },

    /// A column exists but has a type the engine cannot use for its role.
    #[error("column '{column}' ({role}) has type {found}; expected {expected}{context}")]
    ColumnType {
        /// The column name.
        column: String,
        /// The role it plays (id, time, flux, error, band, or a user column).
        role: String,
        /// The Arrow type found.
        found: String,
        /// What would have been accepted.
        expected: String,
        /// Where, e.g. " in data/a.parquet".
        context: String,
    },

    /// A column referenced by a plan operation does not exist in its input.
    #[error("unknown column '{column}' in {operation}; available: {available:?}")]
    UnknownColumn {
        /// The missing column.
        column: String,
        /// The operation that referenced it.
        operation: String,
        /// Columns the input does provide.
        available: Vec<String>,
    },

    /// Files of one source disagree on their schema.
    #[error("{path}: schema differs from {first}: {detail}")]
    SchemaMismatch {
        /// The file that differs.
        path: PathBuf,
        /// The first file, whose schema sets the rule.
        first: PathBuf,
        /// What differs.
        detail: String,
    },

    /// A value in the data is not acceptable (NaN/inf, non-positive error, null id,
    /// unknown band); the message names the file, column, row and object where known.
    #[error("invalid data: {0}")]
    InvalidData(String),

    /// An argument of an API call or the command line is malformed, out of range or
    /// inconsistent (a size string, a mode name, an option's value).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// A plan breaks a requirement one of its nodes declares (e.g. a per-lightcurve
    /// function over split lightcurves because `enforce_cohesion` was left out); physical
    /// planning refuses it rather than compute a wrong answer.
    #[error("plan rejected at {node}: {message}")]
    PlanCheck {
        /// The node whose requirement is not met.
        node: String,
        /// What it requires and what its input provides.
        message: String,
    },

    /// A task failed or panicked while running an operation on a partition.
    #[error("task failed in {operation} on partition {partition}: {message}")]
    Task {
        /// The operation (fused chain) that failed.
        operation: String,
        /// The partition index.
        partition: usize,
        /// The panic message or the error.
        message: String,
    },

    /// A user function returned a result that does not match its declared schema.
    #[error("function '{function}' broke its contract: {message}")]
    Function {
        /// The function name.
        function: String,
        /// What was wrong.
        message: String,
    },

    /// A named function is not in the registry.
    #[error("unknown function '{name}'; registered: {known:?}")]
    UnknownFunction {
        /// The requested name.
        name: String,
        /// Names that are registered.
        known: Vec<String>,
    },

    /// The executor was shut down before or during a run.
    #[error("executor is shut down")]
    ExecutorClosed,

    /// A configured memory limit would be exceeded by data that cannot spill (one task's
    /// partition, or a result gathered into one batch).
    #[error("memory limit exceeded in {operation}: needs {needed} bytes, limit {limit} bytes")]
    MemoryLimit {
        /// What needed the memory.
        operation: String,
        /// Bytes it needed.
        needed: usize,
        /// The configured limit.
        limit: usize,
    },

    /// A query string does not parse; `position` counts characters from 0.
    #[error("{message} at position {position} of the query\n  {query}\n  {caret}^", caret = " ".repeat(*position))]
    QuerySyntax {
        /// The query as given.
        query: String,
        /// Where the mistake is (in characters).
        position: usize,
        /// What is wrong.
        message: String,
    },

    /// A compute was cancelled or ran past its deadline (see
    /// [`Cancellation`](crate::Cancellation)); the executor stays usable.
    #[error("stopped: {0}")]
    Cancelled(String),

    /// A plan node cannot be shipped to a cluster's executors: it holds code (a closure)
    /// that only this process has, or a function executors cannot find by name.
    #[error("plan node '{node}' runs only locally: {reason}")]
    LocalOnly {
        /// The node, as `explain()` names it.
        node: String,
        /// Why, and what to do instead.
        reason: String,
    },

    /// A cluster could not be reached, refused the job, lost it, or did not answer in time.
    #[error("cluster {address}: {message}")]
    Cluster {
        /// The scheduler's address.
        address: String,
        /// What happened.
        message: String,
    },

    /// An Arrow kernel failed.
    #[error("arrow error in {context}: {source}")]
    Arrow {
        /// Where it happened.
        context: String,
        /// The Arrow error.
        #[source]
        source: arrow::error::ArrowError,
    },
}

impl Error {
    /// Wraps an Arrow error with the place it happened.
    pub fn arrow(context: impl Into<String>, source: arrow::error::ArrowError) -> Self {
        Error::Arrow {
            context: context.into(),
            source,
        }
    }

    /// A column `column` missing from `schema`, in `operation`; lists what `schema` has.
    pub fn unknown_column(
        column: impl Into<String>,
        operation: impl Into<String>,
        schema: &arrow::datatypes::Schema,
    ) -> Self {
        Error::UnknownColumn {
            column: column.into(),
            operation: operation.into(),
            available: schema.fields().iter().map(|f| f.name().clone()).collect(),
        }
    }

    /// Wraps an I/O error with its path.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Wraps a Parquet (or Arrow) error, or a message, with its file.
    pub fn parquet(path: impl Into<PathBuf>, err: impl Into<BoxError>) -> Self {
        Error::Parquet {
            path: path.into(),
            source: err.into(),
        }
    }
}
