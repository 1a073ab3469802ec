//! A Parquet source: files, their metadata, and the partitions cut from them.
//!
//! Opening a source reads only footers (and, when needed, the id and band columns once):
//! no partition is decoded until a task asks for it. Each partition is a row range inside
//! one file and knows its id range, from row-group statistics where they exist, else from
//! the id column read once at open time.

use super::column_map::{ColumnMap, Role};
use super::partitioning::Partitioning;
use crate::error::{Error, Result};
use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::compute::{cast, concat_batches};
use arrow::datatypes::{DataType, Field, Int64Type, Schema, SchemaRef};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder, RowSelection,
    RowSelector,
};
use parquet::arrow::ProjectionMask;
use parquet::file::statistics::Statistics;
use std::collections::BTreeSet;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// An inclusive range of object ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdRange {
    /// Smallest id.
    pub min: i64,
    /// Largest id.
    pub max: i64,
}

/// One partition of a source: a contiguous row range inside one file.
#[derive(Debug, Clone, PartialEq)]
pub struct PartitionSlice {
    /// Index into [`ParquetSource::files`].
    pub file: usize,
    /// First row (within the file).
    pub start: usize,
    /// Number of rows.
    pub rows: usize,
    /// Smallest and largest id in the slice, if known.
    pub id_range: Option<IdRange>,
    /// Whether the rows are sorted by id, if known.
    pub sorted: Option<bool>,
}

/// Facts about one file of a source.
#[derive(Debug, Clone)]
pub struct SourceFile {
    /// Path of the file.
    pub path: PathBuf,
    /// Rows in the file.
    pub rows: usize,
    /// Row groups: (first row, rows, id range from statistics).
    pub row_groups: Vec<(usize, usize, Option<IdRange>)>,
    meta: ArrowReaderMetadata,
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
}

impl SourceOptions {
    /// Options with the given mapping and partitioning, bands discovered from the data.
    pub fn new(columns: ColumnMap, partitioning: Partitioning) -> Self {
        SourceOptions {
            columns,
            partitioning,
            bands: None,
        }
    }
}

/// An opened Parquet source (one file or a directory of files).
#[derive(Debug)]
pub struct ParquetSource {
    /// The path given by the user.
    pub path: PathBuf,
    /// The files, in name order.
    pub files: Vec<SourceFile>,
    /// Column roles.
    pub columns: ColumnMap,
    /// The schema partitions have after decoding: id Int64, time/flux/err Float64, band
    /// Utf8, other columns as stored.
    pub schema: SchemaRef,
    /// Distinct bands, sorted.
    pub bands: Vec<String>,
    /// How partitions were requested.
    pub partitioning: Partitioning,
    /// The partitions as requested.
    pub partitions: Vec<PartitionSlice>,
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
}

impl ParquetSource {
    /// Opens `path` (a `.parquet` file or a directory of them), checks the schema against the
    /// column mapping, and plans partitions.
    pub fn open(path: impl AsRef<Path>, options: SourceOptions) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let paths = list_files(&path)?;
        let columns = options.columns;
        let mut files = Vec::with_capacity(paths.len());
        let mut file_schema: Option<SchemaRef> = None;
        for p in &paths {
            let file = File::open(p).map_err(|e| Error::io(p, e))?;
            let len = file.metadata().map_err(|e| Error::io(p, e))?.len();
            if len == 0 {
                return Err(Error::Empty(format!(
                    "{} is an empty file (0 bytes)",
                    p.display()
                )));
            }
            let meta = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())
                .map_err(|e| Error::parquet(p, e))?;
            let schema = meta.schema().clone();
            let meta = dictionary_band_reader(meta, &columns.band);
            match &file_schema {
                None => {
                    check_roles(p, &schema, &columns)?;
                    file_schema = Some(schema.clone());
                }
                Some(first) => check_same_schema(p, &paths[0], first, &schema)?,
            }
            let id_leaf = leaf_index(&meta, &columns.id);
            let mut first_row = 0usize;
            let mut row_groups = Vec::new();
            for rg in meta.metadata().row_groups() {
                let n = rg.num_rows().max(0) as usize;
                let range = id_leaf.and_then(|i| stats_range(rg.column(i).statistics()));
                row_groups.push((first_row, n, range));
                first_row += n;
            }
            files.push(SourceFile {
                path: p.clone(),
                rows: first_row,
                row_groups,
                meta,
            });
        }
        let file_schema = file_schema
            .ok_or_else(|| Error::Empty(format!("{} holds no .parquet files", path.display())))?;
        let rows: usize = files.iter().map(|f| f.rows).sum();
        if rows == 0 {
            return Err(Error::Empty(format!("{} holds no rows", path.display())));
        }
        let schema = canonical_schema(&file_schema, &columns);

        let mut source = ParquetSource {
            path,
            files,
            columns,
            schema,
            bands: Vec::new(),
            partitioning: options.partitioning.clone(),
            partitions: Vec::new(),
            aligned: None,
            sorted: None,
            rows,
            bytes_per_row: 0.0,
            id_scan: None,
        };

        // Read ids once when statistics cannot answer the planning questions.
        let recut = !matches!(
            options.partitioning,
            Partitioning::RowGroups | Partitioning::Files
        );
        let stats_missing = source
            .files
            .iter()
            .any(|f| f.row_groups.iter().any(|rg| rg.1 > 0 && rg.2.is_none()));
        let stats_disjoint = !stats_missing && disjoint(source.stat_ranges().iter().copied());
        let need_ids = recut || stats_missing || !stats_disjoint;
        let need_bands = options.bands.is_none();
        let scan = if need_ids || need_bands {
            Some(source.scan_ids_and_bands(need_ids, need_bands)?)
        } else {
            None
        };
        if need_ids {
            source.id_scan = Some(if recut {
                "partitions re-cut inside row groups"
            } else if stats_missing {
                "row groups lack id statistics"
            } else {
                "row-group id ranges overlap"
            });
        }
        let (ids, band_info) = match scan {
            Some((ids, bands)) => (ids, bands),
            None => (None, None),
        };
        let avg_band_len = match (&options.bands, &band_info) {
            (_, Some((_, total_len))) => *total_len as f64 / rows as f64,
            (Some(b), None) => {
                b.iter().map(|s| s.len()).sum::<usize>() as f64 / b.len().max(1) as f64
            }
            (None, None) => 1.0,
        };
        source.bands = match (options.bands, band_info) {
            (Some(b), _) => {
                let set: BTreeSet<String> = b.into_iter().collect();
                set.into_iter().collect()
            }
            (None, Some((set, _))) => set.into_iter().collect(),
            (None, None) => Vec::new(),
        };
        source.bytes_per_row = estimate_bytes_per_row(&source, avg_band_len);
        source.plan_partitions(ids.as_deref())?;
        Ok(source)
    }

    fn stat_ranges(&self) -> Vec<IdRange> {
        self.files
            .iter()
            .flat_map(|f| {
                f.row_groups
                    .iter()
                    .filter(|rg| rg.1 > 0)
                    .filter_map(|rg| rg.2)
            })
            .collect()
    }

    /// Reads the id column (as i64, per file) and/or the distinct bands with their total
    /// string length, one file per thread.
    #[allow(clippy::type_complexity)]
    fn scan_ids_and_bands(
        &self,
        ids: bool,
        bands: bool,
    ) -> Result<(Option<Vec<Vec<i64>>>, Option<(BTreeSet<String>, usize)>)> {
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(self.files.len())
            .max(1);
        let next = std::sync::atomic::AtomicUsize::new(0);
        type PerFile = (usize, Vec<i64>, BTreeSet<String>, usize);
        let results: Vec<Result<Vec<PerFile>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let mut out = Vec::new();
                        loop {
                            let fi = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            if fi >= self.files.len() {
                                break;
                            }
                            let (i, b, len) = self.scan_file(fi, ids, bands)?;
                            out.push((fi, i, b, len));
                        }
                        Ok(out)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err(Error::InvalidData("id/band scan panicked".into())))
                })
                .collect()
        });
        let mut per_file: Vec<PerFile> = Vec::with_capacity(self.files.len());
        for r in results {
            per_file.extend(r?);
        }
        per_file.sort_by_key(|p| p.0);
        let mut set = BTreeSet::new();
        let mut total_len = 0;
        let mut all_ids = Vec::with_capacity(per_file.len());
        for (_, i, b, len) in per_file {
            all_ids.push(i);
            set.extend(b);
            total_len += len;
        }
        Ok((ids.then_some(all_ids), bands.then_some((set, total_len))))
    }

    /// Ids and distinct bands (with total band string bytes) of one file.
    fn scan_file(
        &self,
        fi: usize,
        ids: bool,
        bands: bool,
    ) -> Result<(Vec<i64>, BTreeSet<String>, usize)> {
        let f = &self.files[fi];
        let mut set = BTreeSet::new();
        if f.rows == 0 {
            return Ok((Vec::new(), set, 0));
        }
        let mut wanted = Vec::new();
        if ids {
            wanted.push(self.columns.id.clone());
        }
        if bands {
            wanted.push(self.columns.band.clone());
        }
        // One read per row group: a batch inside one column chunk keeps the chunk's
        // dictionary, so distinct bands come from a few strings, not one per row.
        let mut id_values = Vec::with_capacity(if ids { f.rows } else { 0 });
        let mut total_len = 0;
        for &(start, rows, _) in f.row_groups.iter().filter(|rg| rg.1 > 0) {
            let slice = PartitionSlice {
                file: fi,
                start,
                rows,
                id_range: None,
                sorted: None,
            };
            let batch = self.read_raw(&slice, &wanted)?;
            self.scan_batch(
                fi,
                &batch,
                ids.then_some(&mut id_values),
                bands.then_some((&mut set, &mut total_len)),
            )?;
        }
        Ok((id_values, set, total_len))
    }

    fn scan_batch(
        &self,
        fi: usize,
        batch: &RecordBatch,
        ids: Option<&mut Vec<i64>>,
        bands: Option<(&mut BTreeSet<String>, &mut usize)>,
    ) -> Result<()> {
        let f = &self.files[fi];
        if let Some(id_values) = ids {
            let col = batch.column_by_name(&self.columns.id).ok_or_else(|| {
                Error::InvalidData(format!("id column missing in {}", f.path.display()))
            })?;
            let col = cast(col, &DataType::Int64).map_err(|e| Error::arrow("casting ids", e))?;
            if col.null_count() > 0 {
                return Err(Error::InvalidData(format!(
                    "{}: column '{}' (id) holds {} null value(s)",
                    f.path.display(),
                    self.columns.id,
                    col.null_count()
                )));
            }
            id_values.extend_from_slice(col.as_primitive::<Int64Type>().values());
        }
        if let Some((set, total_len)) = bands {
            let col = batch.column_by_name(&self.columns.band).ok_or_else(|| {
                Error::InvalidData(format!("band column missing in {}", f.path.display()))
            })?;
            let col = if col.data_type() == &band_type() {
                col.clone()
            } else {
                cast(col, &band_type()).map_err(|e| Error::arrow("casting bands", e))?
            };
            let dict = col.as_dictionary::<arrow::datatypes::Int32Type>();
            let values = dict.values().as_string::<i32>();
            // Only values some row refers to count as bands.
            let mut used = vec![0usize; values.len()];
            for k in dict.keys().iter().flatten() {
                used[k as usize] += 1;
            }
            for (k, n) in used.iter().enumerate() {
                if *n > 0 {
                    let v = values.value(k);
                    *total_len += v.len() * n;
                    if !set.contains(v) {
                        set.insert(v.to_string());
                    }
                }
            }
        }
        Ok(())
    }

    fn plan_partitions(&mut self, ids: Option<&[Vec<i64>]>) -> Result<()> {
        let mut cuts: Vec<(usize, usize, usize)> = Vec::new(); // (file, start, rows)
        match &self.partitioning {
            Partitioning::RowGroups => {
                for (fi, f) in self.files.iter().enumerate() {
                    for rg in f.row_groups.iter().filter(|rg| rg.1 > 0) {
                        cuts.push((fi, rg.0, rg.1));
                    }
                }
            }
            Partitioning::Files => {
                for (fi, f) in self.files.iter().enumerate() {
                    if f.rows > 0 {
                        cuts.push((fi, 0, f.rows));
                    }
                }
            }
            Partitioning::Bytes(b) => {
                if *b == 0 {
                    return Err(Error::InvalidArgument(
                        "partition size must be > 0 bytes".into(),
                    ));
                }
                for (fi, f) in self.files.iter().enumerate() {
                    let bytes = f.rows as f64 * self.bytes_per_row;
                    let n = ((bytes / *b as f64).ceil() as usize).clamp(1, f.rows.max(1));
                    equal_cuts(fi, f.rows, n, &mut cuts);
                }
            }
            Partitioning::Rows(r) => {
                if *r == 0 {
                    return Err(Error::InvalidArgument(
                        "rows per partition must be > 0".into(),
                    ));
                }
                for (fi, f) in self.files.iter().enumerate() {
                    let mut s = 0;
                    while s < f.rows {
                        let n = (*r).min(f.rows - s);
                        cuts.push((fi, s, n));
                        s += n;
                    }
                }
            }
            Partitioning::Count(n) => {
                if *n == 0 {
                    return Err(Error::InvalidArgument("partition count must be > 0".into()));
                }
                let per_file =
                    apportion(&self.files.iter().map(|f| f.rows).collect::<Vec<_>>(), *n);
                for (fi, f) in self.files.iter().enumerate() {
                    equal_cuts(fi, f.rows, per_file[fi], &mut cuts);
                }
            }
        }
        self.partitions = cuts
            .iter()
            .map(|&(file, start, rows)| self.describe(file, start, rows, ids))
            .collect();
        if let Some(ids) = ids {
            let sorted = self.partitions.iter().all(|p| p.sorted == Some(true))
                && self
                    .partitions
                    .windows(2)
                    .all(|w| match (w[0].id_range, w[1].id_range) {
                        (Some(a), Some(b)) => a.max <= b.min,
                        _ => false,
                    });
            self.sorted = Some(sorted);
            if sorted {
                let aligned = self.align(&cuts, ids);
                self.aligned = (!aligned.is_empty()).then_some(aligned);
            }
        }
        Ok(())
    }

    /// Describes a slice: id range from statistics when the slice is made of whole row
    /// groups, else from the ids read at open time.
    fn describe(
        &self,
        file: usize,
        start: usize,
        rows: usize,
        ids: Option<&[Vec<i64>]>,
    ) -> PartitionSlice {
        if let Some(ids) = ids {
            let v = &ids[file][start..start + rows];
            let (mut lo, mut hi, mut sorted) = (i64::MAX, i64::MIN, true);
            for (i, &x) in v.iter().enumerate() {
                lo = lo.min(x);
                hi = hi.max(x);
                if i > 0 && v[i - 1] > x {
                    sorted = false;
                }
            }
            return PartitionSlice {
                file,
                start,
                rows,
                id_range: Some(IdRange { min: lo, max: hi }),
                sorted: Some(sorted),
            };
        }
        let f = &self.files[file];
        let mut range: Option<IdRange> = None;
        let mut known = true;
        for rg in f.row_groups.iter().filter(|rg| rg.1 > 0) {
            let overlaps = rg.0 < start + rows && start < rg.0 + rg.1;
            if !overlaps {
                continue;
            }
            match rg.2 {
                Some(r) => {
                    range = Some(match range {
                        None => r,
                        Some(a) => IdRange {
                            min: a.min.min(r.min),
                            max: a.max.max(r.max),
                        },
                    })
                }
                None => known = false,
            }
        }
        PartitionSlice {
            file,
            start,
            rows,
            id_range: if known { range } else { None },
            sorted: None,
        }
    }

    /// Moves every cut forward to the next id change, so no lightcurve straddles a cut.
    fn align(&self, cuts: &[(usize, usize, usize)], ids: &[Vec<i64>]) -> Vec<PartitionSlice> {
        // Lightcurves continuing across a file boundary cannot be re-cut without moving rows:
        // such sources get no aligned cut (empty result), and the optimizer shuffles.
        let mut starts: Vec<(usize, usize)> = Vec::new(); // (file, start) of each aligned slice
        for &(file, start, _) in cuts {
            let v = &ids[file];
            let mut s = start;
            if s > 0 {
                let prev = v[s - 1];
                while s < v.len() && v[s] == prev {
                    s += 1;
                }
            }
            starts.push((file, s));
        }
        let mut out = Vec::new();
        for (k, &(file, start)) in starts.iter().enumerate() {
            let end = match starts.get(k + 1) {
                Some(&(f2, s2)) if f2 == file => s2.max(start),
                _ => ids[file].len(),
            };
            if end > start {
                out.push(self.describe(file, start, end - start, Some(ids)));
            }
        }
        let crosses_files = self.files.iter().enumerate().skip(1).any(|(f, _)| {
            let prev = (0..f).rev().find(|&p| !ids[p].is_empty());
            match (prev, ids[f].first()) {
                (Some(p), Some(first)) => ids[p].last() == Some(first),
                _ => false,
            }
        });
        if crosses_files {
            return Vec::new();
        }
        out
    }

    /// Reads a slice with only `columns` (by name), undecoded types (as stored).
    fn read_raw(&self, slice: &PartitionSlice, columns: &[String]) -> Result<RecordBatch> {
        let f = &self.files[slice.file];
        let file = File::open(&f.path).map_err(|e| Error::io(&f.path, e))?;
        let file_schema = f.meta.schema();
        let mut indices = Vec::with_capacity(columns.len());
        for c in columns {
            let i = file_schema.index_of(c).map_err(|_| Error::UnknownColumn {
                column: c.clone(),
                operation: format!("scan of {}", f.path.display()),
                available: file_schema
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .collect(),
            })?;
            indices.push(i);
        }
        indices.sort_unstable();
        let mask = ProjectionMask::roots(f.meta.parquet_schema(), indices);
        // Select the row groups overlapping the slice and the rows inside them.
        let end = slice.start + slice.rows;
        let mut groups = Vec::new();
        let mut first = None;
        let mut covered = 0usize;
        for (i, rg) in f.row_groups.iter().enumerate() {
            if rg.0 < end && slice.start < rg.0 + rg.1 {
                groups.push(i);
                first.get_or_insert(rg.0);
                covered += rg.1;
            }
        }
        let first = first.unwrap_or(0);
        let skip = slice.start - first;
        let mut selectors = vec![RowSelector::skip(skip), RowSelector::select(slice.rows)];
        let tail = covered.saturating_sub(skip + slice.rows);
        if tail > 0 {
            selectors.push(RowSelector::skip(tail));
        }
        let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(file, f.meta.clone())
            .with_projection(mask)
            .with_row_groups(groups)
            .with_row_selection(RowSelection::from(selectors))
            .with_batch_size(slice.rows.max(1))
            .build()
            .map_err(|e| Error::parquet(&f.path, e))?;
        let mut batches = Vec::new();
        for b in reader {
            batches.push(b.map_err(|e| Error::parquet(&f.path, e))?);
        }
        let schema = match batches.first() {
            Some(b) => b.schema(),
            None => {
                return Err(Error::parquet(
                    &f.path,
                    format!("rows {}..{} could not be read", slice.start, end),
                ))
            }
        };
        let batch = if batches.len() == 1 {
            batches
                .pop()
                .unwrap_or_else(|| RecordBatch::new_empty(schema.clone()))
        } else {
            concat_batches(&schema, &batches)
                .map_err(|e| Error::arrow("concatenating row groups", e))?
        };
        if batch.num_rows() != slice.rows {
            return Err(Error::parquet(
                &f.path,
                format!(
                    "expected {} rows at {}..{}, read {} (truncated file?)",
                    slice.rows,
                    slice.start,
                    end,
                    batch.num_rows()
                ),
            ));
        }
        Ok(batch)
    }

    /// Reads a partition, decodes `columns` (by name, in the canonical schema's order),
    /// casts the role columns to their canonical types, and validates values.
    pub fn read(&self, slice: &PartitionSlice, columns: &[String]) -> Result<RecordBatch> {
        let raw = self.read_raw(slice, columns)?;
        let f = &self.files[slice.file];
        let mut fields = Vec::with_capacity(columns.len());
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(columns.len());
        for name in columns {
            let target = self
                .schema
                .field_with_name(name)
                .map_err(|e| Error::arrow("canonical schema", e))?;
            let col = raw
                .column_by_name(name)
                .ok_or_else(|| Error::UnknownColumn {
                    column: name.clone(),
                    operation: format!("scan of {}", f.path.display()),
                    available: raw
                        .schema()
                        .fields()
                        .iter()
                        .map(|f| f.name().clone())
                        .collect(),
                })?;
            let col = if col.data_type() == target.data_type() {
                col.clone()
            } else {
                cast(col, target.data_type()).map_err(|e| {
                    Error::arrow(
                        format!("casting column '{name}' in {}", f.path.display()),
                        e,
                    )
                })?
            };
            if let Some(role) = self.columns.role_of(name) {
                validate(&f.path, slice, name, role, &col, &raw, &self.columns)?;
            }
            fields.push(target.clone());
            arrays.push(col);
        }
        RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
            .map_err(|e| Error::arrow(format!("assembling partition of {}", f.path.display()), e))
    }

    /// Number of row groups over all files.
    pub fn row_group_count(&self) -> usize {
        self.files.iter().map(|f| f.row_groups.len()).sum()
    }
}

/// Rejects nulls, NaN/inf in time, flux and error, and non-positive errors, naming the file,
/// row and object.
fn validate(
    path: &Path,
    slice: &PartitionSlice,
    name: &str,
    role: Role,
    col: &ArrayRef,
    raw: &RecordBatch,
    columns: &ColumnMap,
) -> Result<()> {
    let id_at = |i: usize| -> String {
        raw.column_by_name(&columns.id)
            .and_then(|c| cast(c, &DataType::Int64).ok())
            .map(|c| c.as_primitive::<Int64Type>().value(i).to_string())
            .unwrap_or_else(|| "?".into())
    };
    if col.null_count() > 0 {
        let i = (0..col.len()).find(|&i| col.is_null(i)).unwrap_or(0);
        return Err(Error::InvalidData(format!(
            "{}: column '{name}' ({role}) is null at row {} (object {}); {} null(s) in rows {}..{}",
            path.display(),
            slice.start + i,
            id_at(i),
            col.null_count(),
            slice.start,
            slice.start + slice.rows
        )));
    }
    if matches!(role, Role::Time | Role::Flux | Role::Err) {
        let v = col.as_primitive::<arrow::datatypes::Float64Type>().values();
        // Branch-free scan first (vectorizes); find the first offender only on failure.
        let ok = |x: f64| {
            if role == Role::Err {
                x.is_finite() && x > 0.0
            } else {
                x.is_finite()
            }
        };
        let all_ok = v
            .chunks(1024)
            .all(|c| c.iter().fold(true, |acc, &x| acc & ok(x)));
        let bad = if all_ok {
            None
        } else {
            v.iter().position(|&x| !ok(x))
        };
        if let Some(i) = bad {
            let what = if role == Role::Err {
                "must be finite and > 0"
            } else {
                "must be finite"
            };
            return Err(Error::InvalidData(format!(
                "{}: column '{name}' ({role}) {what}, found {} at row {} (object {})",
                path.display(),
                v[i],
                slice.start + i,
                id_at(i)
            )));
        }
    }
    Ok(())
}

fn list_files(path: &Path) -> Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).map_err(|e| Error::io(path, e))? {
        let entry = entry.map_err(|e| Error::io(path, e))?;
        let p = entry.path();
        if p.is_file() && p.extension().is_some_and(|e| e == "parquet") {
            files.push(p);
        }
    }
    if files.is_empty() {
        return Err(Error::Empty(format!(
            "directory {} holds no .parquet files",
            path.display()
        )));
    }
    files.sort();
    Ok(files)
}

fn check_roles(path: &Path, schema: &Schema, columns: &ColumnMap) -> Result<()> {
    let present: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let missing: Vec<Role> = Role::ALL
        .into_iter()
        .filter(|r| schema.field_with_name(columns.column(*r)).is_err())
        .collect();
    if !missing.is_empty() {
        return Err(Error::MissingColumns {
            path: path.to_path_buf(),
            missing: missing
                .iter()
                .map(|r| columns.column(*r).to_string())
                .collect(),
            roles: missing
                .iter()
                .map(|r| r.name())
                .collect::<Vec<_>>()
                .join(", "),
            present,
        });
    }
    for role in Role::ALL {
        let name = columns.column(role);
        let dt = schema
            .field_with_name(name)
            .map(|f| f.data_type().clone())
            .ok();
        let Some(dt) = dt else { continue };
        let ok = match role {
            Role::Id => dt.is_integer(),
            Role::Time | Role::Flux | Role::Err => dt.is_floating() || dt.is_integer(),
            Role::Band => {
                matches!(
                    &dt,
                    DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
                ) || matches!(&dt, DataType::Dictionary(_, v) if matches!(**v, DataType::Utf8 | DataType::LargeUtf8))
            }
        };
        if !ok {
            return Err(Error::ColumnType {
                column: name.to_string(),
                role: role.name().to_string(),
                found: dt.to_string(),
                expected: match role {
                    Role::Id => "an integer type".into(),
                    Role::Band => "a string type".into(),
                    _ => "a floating-point or integer type".into(),
                },
                context: format!(" in {}", path.display()),
            });
        }
    }
    Ok(())
}

fn check_same_schema(path: &Path, first_path: &Path, first: &Schema, this: &Schema) -> Result<()> {
    let names = |s: &Schema| -> Vec<(String, DataType)> {
        s.fields()
            .iter()
            .map(|f| (f.name().clone(), f.data_type().clone()))
            .collect()
    };
    let (a, b) = (names(first), names(this));
    if a != b {
        let detail = format!(
            "columns {:?} vs {:?}",
            b.iter()
                .map(|(n, t)| format!("{n}: {t}"))
                .collect::<Vec<_>>(),
            a.iter()
                .map(|(n, t)| format!("{n}: {t}"))
                .collect::<Vec<_>>()
        );
        return Err(Error::SchemaMismatch {
            path: path.to_path_buf(),
            first: first_path.to_path_buf(),
            detail,
        });
    }
    Ok(())
}

fn canonical_schema(file: &Schema, columns: &ColumnMap) -> SchemaRef {
    let fields: Vec<Field> = file
        .fields()
        .iter()
        .map(|f| {
            let dt = match columns.role_of(f.name()) {
                Some(Role::Id) => DataType::Int64,
                Some(Role::Time | Role::Flux | Role::Err) => DataType::Float64,
                Some(Role::Band) => band_type(),
                None => f.data_type().clone(),
            };
            Field::new(
                f.name(),
                dt,
                columns.role_of(f.name()).is_none() && f.is_nullable(),
            )
        })
        .collect();
    Arc::new(Schema::new(fields))
}

fn estimate_bytes_per_row(source: &ParquetSource, avg_band_len: f64) -> f64 {
    let mut total = 0.0;
    for (i, f) in source.schema.fields().iter().enumerate() {
        total += match f.data_type().primitive_width() {
            Some(w) => w as f64,
            None if source.columns.role_of(f.name()) == Some(Role::Band) => 4.0 + avg_band_len,
            None => {
                // Variable-width extra column: uncompressed Parquet bytes per row.
                let bytes: i64 = source
                    .files
                    .iter()
                    .flat_map(|file| file.meta.metadata().row_groups().iter())
                    .filter_map(|rg| rg.columns().get(i).map(|c| c.uncompressed_size()))
                    .sum();
                4.0 + bytes as f64 / source.rows.max(1) as f64
            }
        };
    }
    total
}

/// The canonical type of the band column: dictionary-encoded strings, as Parquet stores
/// them, so band lookups touch a handful of strings per partition instead of one per row.
pub fn band_type() -> DataType {
    DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8))
}

/// Reader metadata that decodes a Utf8 band column as a dictionary (no per-row strings).
fn dictionary_band_reader(meta: ArrowReaderMetadata, band: &str) -> ArrowReaderMetadata {
    let schema = meta.schema();
    let Ok(i) = schema.index_of(band) else {
        return meta;
    };
    if schema.field(i).data_type() != &DataType::Utf8 {
        return meta;
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(k, f)| {
            let f = (**f).clone();
            if k == i {
                f.with_data_type(band_type())
            } else {
                f
            }
        })
        .collect();
    let hinted = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    ArrowReaderMetadata::try_new(
        meta.metadata().clone(),
        ArrowReaderOptions::new().with_schema(hinted),
    )
    .unwrap_or(meta)
}

fn leaf_index(meta: &ArrowReaderMetadata, name: &str) -> Option<usize> {
    meta.parquet_schema()
        .columns()
        .iter()
        .position(|c| c.path().parts().len() == 1 && c.name() == name)
}

fn stats_range(stats: Option<&Statistics>) -> Option<IdRange> {
    match stats? {
        Statistics::Int64(s) => Some(IdRange {
            min: *s.min_opt()?,
            max: *s.max_opt()?,
        }),
        Statistics::Int32(s) => Some(IdRange {
            min: *s.min_opt()? as i64,
            max: *s.max_opt()? as i64,
        }),
        _ => None,
    }
}

/// True when no two ranges share an id.
pub fn disjoint(ranges: impl Iterator<Item = IdRange>) -> bool {
    let mut v: Vec<IdRange> = ranges.collect();
    v.sort_by_key(|r| (r.min, r.max));
    v.windows(2).all(|w| w[0].max < w[1].min)
}

fn equal_cuts(file: usize, rows: usize, n: usize, cuts: &mut Vec<(usize, usize, usize)>) {
    if rows == 0 {
        return;
    }
    let n = n.clamp(1, rows);
    let mut start = 0;
    for k in 0..n {
        let end = rows * (k + 1) / n;
        if end > start {
            cuts.push((file, start, end - start));
        }
        start = end;
    }
}

/// Splits `n` partitions over files in proportion to their rows (largest remainder), at
/// least one per non-empty file.
fn apportion(rows: &[usize], n: usize) -> Vec<usize> {
    let total: usize = rows.iter().sum();
    let nonempty = rows.iter().filter(|&&r| r > 0).count();
    let n = n.max(nonempty);
    let mut out: Vec<usize> = rows
        .iter()
        .map(|&r| {
            if r == 0 {
                0
            } else {
                (r * n / total.max(1)).max(1)
            }
        })
        .collect();
    let mut assigned: usize = out.iter().sum();
    let mut order: Vec<usize> = (0..rows.len()).filter(|&i| rows[i] > 0).collect();
    order.sort_by_key(|&i| std::cmp::Reverse((rows[i] * n) % total.max(1)));
    let mut k = 0;
    while assigned < n && !order.is_empty() {
        out[order[k % order.len()]] += 1;
        assigned += 1;
        k += 1;
    }
    out
}

impl ParquetSource {
    /// Non-null values of `column` from Parquet statistics, when every row group has a
    /// null count for it.
    pub fn non_null_count(&self, column: &str) -> Option<usize> {
        let mut nulls = 0u64;
        for f in &self.files {
            let leaf = leaf_index(&f.meta, column)?;
            for rg in f.meta.metadata().row_groups() {
                nulls += rg.column(leaf).statistics()?.null_count_opt()?;
            }
        }
        Some(self.rows - nulls as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apportion_sums_to_request() {
        assert_eq!(apportion(&[100, 100], 4), vec![2, 2]);
        assert_eq!(apportion(&[300, 100], 4).iter().sum::<usize>(), 4);
        assert_eq!(apportion(&[10, 0, 10], 1), vec![1, 0, 1]);
    }

    #[test]
    fn equal_cuts_cover_all_rows() {
        let mut cuts = Vec::new();
        equal_cuts(0, 2000, 15, &mut cuts);
        assert_eq!(cuts.len(), 15);
        assert_eq!(cuts.iter().map(|c| c.2).sum::<usize>(), 2000);
        assert!(cuts.windows(2).all(|w| w[0].1 + w[0].2 == w[1].1));
    }

    #[test]
    fn disjoint_ranges() {
        let r = |a, b| IdRange { min: a, max: b };
        assert!(disjoint([r(0, 1), r(2, 3)].into_iter()));
        assert!(!disjoint([r(0, 2), r(2, 3)].into_iter()));
        assert!(!disjoint([r(5, 9), r(0, 6)].into_iter()));
    }
}
