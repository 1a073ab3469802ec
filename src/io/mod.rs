//! Parquet in and out: sources, partition planning, the synthetic generator, and writers.

mod column_map;
pub mod generate;
mod output;
mod parquet_source;
mod partitioning;

pub use column_map::{ColumnMap, Role};
pub use output::{source_batch, write_csv, write_parquet};
pub use parquet_source::{
    band_type, disjoint, IdRange, ParquetSource, PartitionSlice, SourceFile, SourceOptions,
};
pub use partitioning::{human_bytes, parse_size, Partitioning};
