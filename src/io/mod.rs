//! Parquet in and out: sources, partition planning, the synthetic generator, and writers.

mod bad_values;
mod band_codes;
mod column_map;
mod decode;
mod discovery;
mod footer;
pub mod generate;
mod id_key;
mod id_scan;
mod object_table;
mod output;
mod owned_dir;
mod page_pruning;
mod parquet_source;
mod partitioning;
mod reopen;
mod schema_check;
mod statistics;

pub(crate) use bad_values::{nulls_as_nan, screen, screen_batch, Screened};
pub use bad_values::{BadReason, BadValueCounts, BadValues};
pub use band_codes::BandCodes;
pub use column_map::{ColumnMap, Role};
pub use discovery::{SkipReason, SourcePaths};
pub(crate) use id_key::keys as id_keys;
pub use id_key::IdKey;
pub use object_table::ObjectTable;
pub use output::{
    csv_text, part_name, source_batch, write_bytes_atomically, write_csv, write_csv_stream,
    write_csv_with, write_parquet, write_parquet_stream, write_parquet_with, IfExists, PartsWriter,
};
pub use owned_dir::OwnedDir;
pub use page_pruning::{page_stats, PageSkip, PageStats, RowRanges};
pub use parquet_source::{ParquetSource, SourceFile, SourceOptions};
pub use partitioning::{parse_size, PartitionSlice, Partitioning, MIN_SIZED_PARTITION_ROWS};
pub use reopen::SourceSpec;
pub use schema_check::band_type;
pub use statistics::{
    column_stats, disjoint, ColumnStats, IdRange, RowGroup, RowGroupSkip, StatValue,
};
