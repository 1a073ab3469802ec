//! A Parquet source: files, their metadata, and the partitions cut from them.
//!
//! Opening a source reads only footers (and, when needed, the id and band columns once):
//! no partition is decoded until a task asks for it. Each partition is a row range inside
//! one file and knows its id range, from row-group statistics where they exist, else from
//! the id column read once at open time.

use super::bad_values::BadValues;
use super::column_map::ColumnMap;
use super::decode;
use super::discovery::{discover, SkipReason, SourcePaths};
use super::footer;
use super::id_key::IdKey;
use super::id_scan::{self, ScanColumns, SourceScan};
use super::partitioning::cut::{self, PartitionPlan};
use super::partitioning::{PartitionSlice, Partitioning, MIN_SIZED_PARTITION_ROWS};
use super::schema_check::{canonical_schema, check_roles, dictionary_band_reader, merge_schema};
use super::statistics::{self, disjoint, RowGroup};
use crate::error::{Error, Result};
use crate::executor::Executor;
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use parquet::file::metadata::PageIndexPolicy;
use std::collections::BTreeSet;
use std::fs::File;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Facts about one file of a source.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path of the file.
    pub path: PathBuf,
    /// Rows in the file.
    pub rows: usize,
    /// Row groups, in file order, with id ranges from statistics.
    pub row_groups: Vec<RowGroup>,
    /// Footer metadata; the band column decodes as a dictionary when stored as Utf8.
    pub(crate) meta: ArrowReaderMetadata,
    /// `key=value` parts of the file's path (hive, HiPSCat) that the file does not hold as
    /// columns: each is a column with that value on every row of the file.
    pub path_keys: Vec<(String, String)>,
}

impl SourceFile {
    /// Reads the footer of `path`. Also returns the file's Arrow schema as stored (before
    /// the dictionary hint for the band column), for the schema checks.
    pub(super) fn open(path: &Path, columns: &ColumnMap) -> Result<(SourceFile, SchemaRef)> {
        let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        if len == 0 {
            return Err(Error::Empty(format!(
                "{} is an empty file (0 bytes)",
                path.display()
            )));
        }
        // The offset index (where each page starts) lets a partition that starts inside a
        // row group skip the pages before it instead of decoding them: without it, many
        // small partitions of one big row group cost partitions x rows.
        // A page index that does not decode only costs that speed-up: load without it.
        let with_index =
            ArrowReaderOptions::new().with_page_index_policy(PageIndexPolicy::Optional);
        // arrow-ipc 59 panics (instead of erring) on some malformed Arrow schemas embedded
        // in the footer (`ARROW:schema`, e.g. an unknown float precision; found by fuzzing):
        // such a file is bad data, not a reason to abort the caller.
        let load = |options: ArrowReaderOptions| {
            catch_unwind(AssertUnwindSafe(|| {
                ArrowReaderMetadata::load(&file, options)
            }))
            .map_err(|panic| footer::embedded_schema_error(path, panic))
        };
        let loaded = match load(with_index)? {
            Ok(meta) => Ok(meta),
            Err(_) => load(ArrowReaderOptions::new())?,
        };
        let meta = loaded.map_err(|e| footer::explain_load_error(path, &mut file, e))?;
        // Sizes in a footer are untrusted: check them before anything is sized from them.
        footer::check_sizes(path, len, meta.metadata())?;
        let schema = meta.schema().clone();
        let meta = dictionary_band_reader(meta, &columns.band);
        let row_groups = statistics::row_groups(&meta, &columns.id);
        let source_file = SourceFile {
            path: path.to_path_buf(),
            rows: row_groups.iter().map(|rg| rg.rows).sum(),
            row_groups,
            meta,
            path_keys: Vec::new(),
        };
        Ok((source_file, schema))
    }
}

/// Options of [`ParquetSource::open`].
#[derive(Debug, Clone)]
pub struct SourceOptions {
    /// Which columns play the lightcurve roles.
    pub columns: ColumnMap,
    /// How to cut partitions.
    pub partitioning: Partitioning,
    /// The bands, if known; otherwise the band column is read once to find them.
    pub bands: Option<Vec<String>>,
    /// What to do with null, NaN or infinite times, fluxes and errors and non-positive
    /// errors (see [`BadValues`]); `None`: the ensemble's policy
    /// ([`EnsembleBuilder::bad_values`](crate::EnsembleBuilder::bad_values)), which is
    /// [`BadValues::Drop`] unless set.
    pub bad_values: Option<BadValues>,
}

impl SourceOptions {
    /// Options with the given mapping and partitioning, bands discovered from the data.
    pub fn new(columns: ColumnMap, partitioning: Partitioning) -> Self {
        SourceOptions {
            columns,
            partitioning,
            bands: None,
            bad_values: None,
        }
    }
}

/// An opened Parquet source (files, directories and glob patterns, see [`SourcePaths`]).
#[derive(Debug)]
pub struct ParquetSource {
    /// The first path given by the user (the only one, usually); all are in `paths`.
    pub path: PathBuf,
    /// The paths given by the user, in the order given.
    pub paths: SourcePaths,
    /// The files, in sorted path order.
    pub files: Vec<SourceFile>,
    /// Entries under the given paths that were not read, and why (hidden names such as
    /// `_SUCCESS`, files without a `.parquet` extension), in path order.
    pub skipped: Vec<(PathBuf, SkipReason)>,
    /// Column roles.
    pub columns: ColumnMap,
    /// The schema partitions have after decoding: id Int64, time/flux/err Float64, band
    /// [`band_type`](crate::io::band_type), other columns as stored.
    pub schema: SchemaRef,
    /// Distinct bands, sorted.
    pub bands: Vec<String>,
    /// How partitions were requested.
    pub partitioning: Partitioning,
    /// The partitions as requested.
    pub partitions: Vec<PartitionSlice>,
    /// Whether a [`Partitioning::Bytes`] size was so small that the floor of
    /// [`MIN_SIZED_PARTITION_ROWS`] rows per partition decided some file's cuts.
    pub min_rows_applied: bool,
    /// The same rows re-cut at lightcurve boundaries, when the source is sorted by id and
    /// the id column was read (the optimizer's cheap alternative to a shuffle).
    pub aligned: Option<Vec<PartitionSlice>>,
    /// Whether the whole source (files in order) is sorted by id, if known.
    pub sorted: Option<bool>,
    /// Total rows.
    pub rows: usize,
    /// Estimated decoded bytes per row (all columns).
    pub bytes_per_row: f64,
    /// Whether the id column was read at open time (and why).
    pub id_scan: Option<&'static str>,
    /// How the stored id type maps onto the engine's `Int64` key (id ranges above are
    /// keys; results carry the user's ids).
    pub id_key: IdKey,
    /// The bad-value policy of this source (decoding rejects under `Reject`; functions
    /// drop or keep under the others).
    pub bad_values: BadValues,
    /// A scratch directory holding the files, for data given from memory: removed when the
    /// last frame reading this source is dropped.
    pub keep_alive: Option<std::sync::Arc<super::OwnedDir>>,
}

impl ParquetSource {
    /// Opens `paths` (one path, e.g. `"data/file.parquet"`, or several: [`SourcePaths`];
    /// each a `.parquet` file, a directory read recursively, or a glob pattern), checks the
    /// schema of every file against the column mapping and the first file, and plans
    /// partitions. When the id or band column must be read, each file is read as one task
    /// on `executor`.
    pub fn open(
        paths: impl Into<SourcePaths>,
        options: SourceOptions,
        executor: &Executor,
    ) -> Result<Self> {
        let given: SourcePaths = paths.into();
        let discovered = discover(&given)?;
        let path = given.as_slice().first().cloned().unwrap_or_default();
        let paths = discovered.files;
        let columns = options.columns;
        let mut files = Vec::with_capacity(paths.len());
        let mut file_schema: Option<SchemaRef> = None;
        let roots = given.roots();
        for p in &paths {
            let (mut file, schema) = SourceFile::open(p, &columns)?;
            // A key the file also stores as a column is that column (HiPSCat files hold
            // Norder/Dir/Npix themselves).
            file.path_keys = super::discovery::path_keys(p, &roots)
                .into_iter()
                .filter(|(k, _)| schema.field_with_name(k).is_err())
                .collect();
            // Every file has the five role columns with usable types; other columns may
            // differ (see `merge_schema`).
            check_roles(p, &schema, &columns)?;
            file_schema = Some(match file_schema {
                None => schema,
                Some(merged) if merged.fields() == schema.fields() => merged,
                Some(merged) => Arc::new(merge_schema(p, &paths[0], &merged, &schema, &columns)?),
            });
            files.push(file);
        }
        let file_schema =
            file_schema.ok_or_else(|| Error::Empty(format!("{given} holds no .parquet files")))?;
        let file_schema = with_path_keys(&file_schema, &files);
        let rows: usize = files.iter().map(|f| f.rows).sum();
        if rows == 0 {
            return Err(Error::Empty(format!("{given} holds no rows")));
        }
        let schema = canonical_schema(&file_schema, &columns);
        let id_key = file_schema
            .field_with_name(&columns.id)
            .map(|f| IdKey::of_type(f.data_type()))
            .unwrap_or_default();

        // Read ids once when statistics cannot answer the planning questions.
        let recut = !matches!(
            options.partitioning,
            Partitioning::RowGroups | Partitioning::Files
        );
        let stats_missing = statistics::stats_missing(&files);
        let stats_disjoint =
            !stats_missing && disjoint(statistics::stat_ranges(&files).into_iter());
        let need_ids = recut || stats_missing || !stats_disjoint;
        let need_bands = options.bands.is_none();
        let id_scan = need_ids.then_some(if recut {
            "partitions re-cut inside row groups"
        } else if stats_missing {
            "row groups lack id statistics"
        } else {
            "row-group id ranges overlap"
        });
        // The scan tasks outlive this frame as far as the executor knows: they share the
        // file list, which is unwrapped again once they are done.
        let files = Arc::new(files);
        let scan = if need_ids || need_bands {
            let wanted = ScanColumns {
                id: need_ids.then(|| columns.id.clone()),
                band: need_bands.then(|| columns.band.clone()),
                band_codes: columns.band_codes.clone(),
            };
            id_scan::scan(&files, wanted, executor)?
        } else {
            SourceScan::default()
        };
        let files = Arc::try_unwrap(files).unwrap_or_else(|shared| (*shared).clone());

        let avg_band_len = match (&options.bands, &scan.bands) {
            (_, Some(found)) => found.total_len as f64 / rows as f64,
            (Some(b), None) => {
                b.iter().map(|s| s.len()).sum::<usize>() as f64 / b.len().max(1) as f64
            }
            (None, None) => 1.0,
        };
        let bands = match (options.bands, scan.bands) {
            (Some(b), _) => {
                let set: BTreeSet<String> = b.into_iter().collect();
                set.into_iter().collect()
            }
            (None, Some(found)) => found.distinct.into_iter().collect(),
            (None, None) => Vec::new(),
        };
        let bytes_per_row =
            statistics::bytes_per_row(&files, &schema, &columns, rows, avg_band_len);
        let PartitionPlan {
            partitions,
            aligned,
            sorted,
            min_rows_applied,
        } = cut::plan(
            &files,
            &options.partitioning,
            bytes_per_row,
            scan.ids.as_deref(),
        )?;
        Ok(ParquetSource {
            path,
            paths: given,
            files,
            skipped: discovered.skipped,
            columns,
            schema,
            bands,
            partitioning: options.partitioning,
            partitions,
            min_rows_applied,
            aligned,
            sorted,
            rows,
            bytes_per_row,
            id_scan,
            id_key,
            bad_values: options.bad_values.unwrap_or_default(),
            keep_alive: None,
        })
    }

    /// Reads a partition, decodes `columns` (by name, in the canonical schema's order),
    /// casts the role columns to their canonical types, and validates values.
    pub fn read(&self, slice: &PartitionSlice, columns: &[String]) -> Result<RecordBatch> {
        Ok(self.read_counted(slice, columns)?.0)
    }

    /// [`ParquetSource::read`], also returning the bytes read from the file.
    pub fn read_counted(
        &self,
        slice: &PartitionSlice,
        columns: &[String],
    ) -> Result<(RecordBatch, u64)> {
        self.read_checked(slice, columns, &[])
    }

    /// [`ParquetSource::read_counted`] that, under [`BadValues::Reject`], also refuses
    /// null, NaN and infinite values in the columns `checked` (those functions read by
    /// name), naming file, column, row and object.
    pub fn read_checked(
        &self,
        slice: &PartitionSlice,
        columns: &[String],
        checked: &[String],
    ) -> Result<(RecordBatch, u64)> {
        let whole = slice.start..slice.start + slice.rows;
        self.read_rows_checked(slice, std::slice::from_ref(&whole), columns, checked)
    }

    /// [`ParquetSource::read_counted`] of only the rows of `ranges` of the slice's file
    /// (sorted, disjoint, inside the slice; the rows a scan's pruning leaves in), in one
    /// batch. No range: an empty batch, nothing read.
    pub fn read_rows_counted(
        &self,
        slice: &PartitionSlice,
        ranges: &[std::ops::Range<usize>],
        columns: &[String],
    ) -> Result<(RecordBatch, u64)> {
        self.read_rows_checked(slice, ranges, columns, &[])
    }

    /// [`ParquetSource::read_rows_counted`] with the checks of
    /// [`ParquetSource::read_checked`].
    pub fn read_rows_checked(
        &self,
        slice: &PartitionSlice,
        ranges: &[std::ops::Range<usize>],
        columns: &[String],
        checked: &[String],
    ) -> Result<(RecordBatch, u64)> {
        let inside = ranges.windows(2).all(|w| w[0].end <= w[1].start)
            && ranges.iter().all(|r| {
                slice.start <= r.start && r.start < r.end && r.end <= slice.start + slice.rows
            });
        if !inside {
            return Err(Error::InvalidArgument(format!(
                "row ranges {ranges:?} are not sorted, disjoint ranges inside partition rows {}..{}",
                slice.start,
                slice.start + slice.rows
            )));
        }
        if ranges.is_empty() {
            let fields: Vec<arrow::datatypes::FieldRef> = columns
                .iter()
                .filter_map(|c| self.schema.field_with_name(c).ok())
                .map(|f| Arc::new(f.clone()))
                .collect();
            let schema = Arc::new(arrow::datatypes::Schema::new(fields));
            return Ok((RecordBatch::new_empty(schema), 0));
        }
        let file = self.files.get(slice.file).ok_or_else(|| {
            Error::InvalidArgument(format!(
                "partition names file {} of a source with {} file(s)",
                slice.file,
                self.files.len()
            ))
        })?;
        decode::read(
            file,
            decode::RowsRead { slice, ranges },
            columns,
            &self.schema,
            &self.columns,
            self.bad_values,
            checked,
        )
    }

    /// The paths as given, for labels: the one path, or the first and how many more.
    pub fn label(&self) -> String {
        self.paths.to_string()
    }

    /// How partitions were requested, and the row floor when it decided
    /// (`"by size 1 B, at least 100 rows each"`).
    pub fn partitioning_label(&self) -> String {
        if self.min_rows_applied {
            format!(
                "{}, at least {MIN_SIZED_PARTITION_ROWS} rows each",
                self.partitioning
            )
        } else {
            self.partitioning.to_string()
        }
    }

    /// Number of row groups over all files.
    pub fn row_group_count(&self) -> usize {
        self.files.iter().map(|f| f.row_groups.len()).sum()
    }

    /// Non-null values of `column` from Parquet statistics, when every row group has a
    /// null count for it.
    pub fn non_null_count(&self, column: &str) -> Option<usize> {
        statistics::non_null_count(&self.files, self.rows, column)
    }
}

/// `schema` with a column for each path key of `files` (see [`SourceFile::path_keys`]):
/// Int64 when every value is an integer, else Utf8; nullable when some file lacks the key.
/// A key named like a column of any file is left to that column.
pub(super) fn with_path_keys(schema: &SchemaRef, files: &[SourceFile]) -> SchemaRef {
    let mut keys: Vec<String> = Vec::new();
    for f in files {
        for (k, _) in &f.path_keys {
            if !keys.contains(k) && schema.field_with_name(k).is_err() {
                keys.push(k.clone());
            }
        }
    }
    if keys.is_empty() {
        return schema.clone();
    }
    let mut fields: Vec<arrow::datatypes::Field> =
        schema.fields().iter().map(|f| (**f).clone()).collect();
    for k in keys {
        let values: Vec<Option<&str>> = files
            .iter()
            .map(|f| {
                f.path_keys
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.as_str())
            })
            .collect();
        let integer = values.iter().flatten().all(|v| v.parse::<i64>().is_ok());
        let dt = if integer {
            arrow::datatypes::DataType::Int64
        } else {
            arrow::datatypes::DataType::Utf8
        };
        fields.push(arrow::datatypes::Field::new(
            k,
            dt,
            values.iter().any(Option::is_none),
        ));
    }
    Arc::new(arrow::datatypes::Schema::new_with_metadata(
        fields,
        schema.metadata().clone(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::executor::ExecutorConfig;
    use crate::io::generate::{generate, GeneratorConfig};

    #[test]
    fn open_scans_files_on_the_given_executor() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = GeneratorConfig {
            objects: 12,
            observations: 10,
            files: 3,
            row_groups_per_file: 2,
            ..Default::default()
        };
        generate(&cfg, dir.path()).unwrap();
        let ex = Executor::new(ExecutorConfig::default().n_workers(1)).unwrap();
        let before = ex.info().tasks_run;
        // Re-cutting needs the ids and no bands are given: every file is scanned.
        let options = SourceOptions::new(ColumnMap::generated(), Partitioning::Count(4));
        let source = ParquetSource::open(dir.path(), options, &ex).unwrap();
        assert_eq!(source.rows, 120);
        assert_eq!(source.bands, vec!["g", "i", "r"]);
        assert!(source.id_scan.is_some());
        assert_eq!(ex.info().tasks_run, before + 3);
        ex.shutdown();
    }

    #[test]
    fn open_needing_a_scan_fails_on_a_closed_executor() {
        let ex = Executor::new(ExecutorConfig::default().n_workers(1)).unwrap();
        ex.shutdown();
        let path = "data/tape/test_source.parquet";
        let recut = SourceOptions::new(ColumnMap::tape(), Partitioning::Count(4));
        assert!(matches!(
            ParquetSource::open(path, recut, &ex),
            Err(Error::ExecutorClosed)
        ));
    }
}
