//! Opening a source again elsewhere (another process or machine) with partitions planned
//! by the process that opened it first: footers only, no id or band scan.

use super::bad_values::BadValues;
use super::column_map::ColumnMap;
use super::discovery::SourcePaths;
use super::id_key::IdKey;
use super::parquet_source::{ParquetSource, SourceFile};
use super::partitioning::{PartitionSlice, Partitioning};
use super::schema_check::{canonical_schema, check_roles, merge_schema};
use super::statistics;
use crate::error::{Error, Result};
use std::path::PathBuf;

/// What a process needs to read partitions of a source that another process planned.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceSpec {
    /// Every file of the source, in the source's order (partition slices index into it).
    pub files: Vec<PathBuf>,
    /// Column roles.
    pub columns: ColumnMap,
    /// The source's bands, sorted.
    pub bands: Vec<String>,
    /// The source's bad-value policy.
    pub bad_values: BadValues,
    /// The partitions, as the planning process cut them.
    pub partitions: Vec<PartitionSlice>,
    /// Each file's path keys (`key=value` parts of its path that are columns).
    pub path_keys: Vec<Vec<(String, String)>>,
}

impl SourceSpec {
    /// What `source` is, with `partitions` as its partitions (e.g. the aligned cuts a scan
    /// uses).
    pub fn of(source: &ParquetSource, partitions: &[PartitionSlice]) -> Self {
        SourceSpec {
            files: source.files.iter().map(|f| f.path.clone()).collect(),
            columns: source.columns.clone(),
            bands: source.bands.clone(),
            bad_values: source.bad_values,
            partitions: partitions.to_vec(),
            path_keys: source.files.iter().map(|f| f.path_keys.clone()).collect(),
        }
    }
}

impl ParquetSource {
    /// Opens the files of `spec` (footers only) with its partitions, bands and policy as
    /// given: no id or band column is read, so partitions decode exactly as where the
    /// source was first opened. Fails when a file is missing or its schema does not
    /// match the first's, naming the file.
    pub fn reopen(spec: &SourceSpec) -> Result<Self> {
        let mut files: Vec<SourceFile> = Vec::with_capacity(spec.files.len());
        let mut first_schema: Option<arrow::datatypes::SchemaRef> = None;
        for (i, p) in spec.files.iter().enumerate() {
            let (mut file, schema) = SourceFile::open(p, &spec.columns)?;
            file.path_keys = spec.path_keys.get(i).cloned().unwrap_or_default();
            // The same checks and schema merge as the first open.
            check_roles(p, &schema, &spec.columns)?;
            first_schema = Some(match first_schema {
                None => schema,
                Some(merged) if merged.fields() == schema.fields() => merged,
                Some(merged) => std::sync::Arc::new(merge_schema(
                    p,
                    &spec.files[0],
                    &merged,
                    &schema,
                    &spec.columns,
                )?),
            });
            files.push(file);
        }
        let file_schema = first_schema
            .ok_or_else(|| Error::InvalidArgument("a source spec with no files".into()))?;
        let file_schema = super::parquet_source::with_path_keys(&file_schema, &files);
        for (i, s) in spec.partitions.iter().enumerate() {
            let rows = files.get(s.file).map(|f| f.rows);
            if rows.is_none_or(|rows| s.start + s.rows > rows) {
                return Err(Error::InvalidArgument(format!(
                    "partition {i} (file {}, rows {}..{}) is outside the source's {} file(s)",
                    s.file,
                    s.start,
                    s.start + s.rows,
                    files.len()
                )));
            }
        }
        let schema = canonical_schema(&file_schema, &spec.columns);
        let id_key = file_schema
            .field_with_name(&spec.columns.id)
            .map(|f| IdKey::of_type(f.data_type()))
            .unwrap_or_default();
        let rows: usize = files.iter().map(|f| f.rows).sum();
        let avg_band_len = spec.bands.iter().map(|s| s.len()).sum::<usize>() as f64
            / spec.bands.len().max(1) as f64;
        let bytes_per_row =
            statistics::bytes_per_row(&files, &schema, &spec.columns, rows, avg_band_len);
        Ok(ParquetSource {
            path: spec.files[0].clone(),
            paths: SourcePaths::new(&spec.files),
            files,
            skipped: Vec::new(),
            columns: spec.columns.clone(),
            schema,
            bands: spec.bands.clone(),
            partitioning: Partitioning::Count(spec.partitions.len()),
            partitions: spec.partitions.clone(),
            min_rows_applied: false,
            aligned: None,
            sorted: None,
            rows,
            bytes_per_row,
            id_scan: None,
            id_key,
            bad_values: spec.bad_values,
            keep_alive: None,
        })
    }
}
