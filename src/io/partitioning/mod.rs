//! How a source is cut into partitions, and size strings such as `"5KB"`.
//!
//! The cutting itself is in `cut`; this module holds the request and its parsing.

pub(crate) mod cut;

use crate::error::{Error, Result};
use crate::format::human_bytes;
use std::fmt;

pub use cut::PartitionSlice;

/// The fewest rows a [`Partitioning::Bytes`] request puts in a partition (a file with fewer
/// rows is one partition).
///
/// A byte size is converted to rows through an estimated bytes per row; a size of a few
/// rows' worth (`"1KB"`, `"1B"`) would give one task per handful of rows, and each task has
/// fixed costs (scheduling, seeking into the file, decoding at least one Parquet page,
/// building a batch) worth hundreds of rows of work: a 5 M-row file at 1 KB would be 200,000
/// tasks. 100 rows is below every size the documentation and tests use (TAPE's 2,000 rows
/// at 5 KB are 134 rows a partition). Explicit [`Partitioning::Rows`] and
/// [`Partitioning::Count`] are honoured as given (tests use them to cut inside
/// lightcurves); whatever the request, re-cutting at lightcurve boundaries merges every cut
/// inside one lightcurve, so no lightcurve ever spans more than one aligned partition.
pub const MIN_SIZED_PARTITION_ROWS: usize = 100;

/// How `from_parquet` cuts a source into partitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Partitioning {
    /// One partition per Parquet row group (the default: free to plan, statistics apply).
    RowGroups,
    /// One partition per file.
    Files,
    /// Re-cut so that each partition holds about this many bytes of decoded Arrow data, but
    /// never fewer than [`MIN_SIZED_PARTITION_ROWS`] rows (the source's
    /// [`min_rows_applied`](crate::io::ParquetSource::min_rows_applied) says when that
    /// floor decided, and `info()` and `explain()` say so too).
    Bytes(usize),
    /// Re-cut into this many partitions of (nearly) equal row counts. Every partition holds
    /// at least one row: a count above the source's rows gives one partition per row.
    Count(usize),
    /// Re-cut into partitions of this many rows.
    Rows(usize),
}

impl Partitioning {
    /// Parses `"5KB"`, `"64MiB"`, `"1000"` (bytes) into [`Partitioning::Bytes`].
    pub fn size(text: &str) -> Result<Self> {
        parse_size(text).map(Partitioning::Bytes)
    }
}

impl fmt::Display for Partitioning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Partitioning::RowGroups => write!(f, "by row group"),
            Partitioning::Files => write!(f, "by file"),
            Partitioning::Bytes(b) => write!(f, "by size {}", human_bytes(*b)),
            Partitioning::Count(n) => write!(f, "into {n} partitions"),
            Partitioning::Rows(n) => write!(f, "by {n} rows"),
        }
    }
}

/// Parses a byte size like Dask does: `KB` = 1000, `KiB` = 1024, bare numbers are bytes.
///
/// ```
/// assert_eq!(lsstseries::io::parse_size("5KB").unwrap(), 5000);
/// assert_eq!(lsstseries::io::parse_size("2 MiB").unwrap(), 2 * 1024 * 1024);
/// assert!(lsstseries::io::parse_size("5 parsecs").is_err());
/// assert!(lsstseries::io::parse_size("99999999999999999999999GB").is_err());
/// ```
pub fn parse_size(text: &str) -> Result<usize> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let value: f64 = num.parse().map_err(|_| {
        Error::InvalidArgument(format!(
            "size '{text}': expected a number with an optional unit (B, KB, MB, GB, KiB, MiB, GiB)"
        ))
    })?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" | "k" => 1e3,
        "mb" | "m" => 1e6,
        "gb" | "g" => 1e9,
        "kib" => 1024.0,
        "mib" => 1024.0 * 1024.0,
        "gib" => 1024.0 * 1024.0 * 1024.0,
        other => {
            return Err(Error::InvalidArgument(format!(
                "size '{text}': unknown unit '{other}' (use B, KB, MB, GB, KiB, MiB or GiB)"
            )))
        }
    };
    let bytes = (value * mult).round();
    if bytes.is_nan() || bytes < 1.0 {
        return Err(Error::InvalidArgument(format!(
            "size '{text}' must be at least one byte"
        )));
    }
    // Beyond 2^63 a size means nothing on any machine; refuse it rather than saturate.
    if bytes >= 2f64.powi(63) || bytes >= usize::MAX as f64 {
        return Err(Error::InvalidArgument(format!(
            "size '{text}' is too large (more than {} bytes)",
            usize::MAX
        )));
    }
    Ok(bytes as usize)
}
