//! Reading a row range of one file: the raw columns as stored, or a partition in the
//! canonical schema with its role columns validated.

use super::bad_values::BadValues;
use super::column_map::{ColumnMap, Role};
use super::id_key;
use super::parquet_source::SourceFile;
use super::partitioning::PartitionSlice;
use crate::error::{Error, Result};
use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::compute::{cast, concat_batches};
use arrow::datatypes::{DataType, Float64Type, Schema};
use arrow::util::display::array_value_to_string;
use bytes::Bytes;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReaderBuilder, RowSelection, RowSelector};
use parquet::arrow::ProjectionMask;
use parquet::file::reader::{ChunkReader, Length};
use std::fs::File;
use std::io::Read;
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// The most rows decoded into one batch; larger ranges are read in several and joined.
/// Row counts come from footers, which may lie, so buffers are sized from this at most.
pub(crate) const MAX_BATCH_ROWS: usize = 1 << 20;

/// Reads rows `start..start + rows` of `f` with only `columns` (by name), in the types the
/// reader metadata gives (as stored, the band column possibly as a dictionary).
pub(crate) fn read_raw(
    f: &SourceFile,
    start: usize,
    rows: usize,
    columns: &[String],
) -> Result<RecordBatch> {
    Ok(read_raw_counted(f, std::slice::from_ref(&(start..start + rows)), columns)?.0)
}

/// [`read_raw`] of the rows of `ranges` (sorted, disjoint, not empty), one after the other
/// in one batch, also returning the bytes read from the file. One reader serves every range:
/// with the offset index it fetches only the pages holding selected rows, each once.
pub(crate) fn read_raw_counted(
    f: &SourceFile,
    ranges: &[Range<usize>],
    columns: &[String],
) -> Result<(RecordBatch, u64)> {
    let file = CountingFile::open(&f.path)?;
    let counter = file.read.clone();
    let file_schema = f.meta.schema();
    let mut indices = Vec::with_capacity(columns.len());
    for c in columns {
        let i = file_schema.index_of(c).map_err(|_| {
            Error::unknown_column(
                c.clone(),
                format!("scan of {}", f.path.display()),
                file_schema,
            )
        })?;
        indices.push(i);
    }
    indices.sort_unstable();
    let mask = ProjectionMask::roots(f.meta.parquet_schema(), indices);
    let rows: usize = ranges.iter().map(|r| r.end - r.start).sum();
    let (start, end) = match (ranges.first(), ranges.last()) {
        (Some(a), Some(b)) => (a.start, b.end),
        _ => (0, 0),
    };
    // Select the row groups holding wanted rows, and those rows inside them.
    let mut groups = Vec::new();
    let mut selectors = Vec::new();
    for (i, rg) in f.row_groups.iter().enumerate() {
        let wanted: Vec<Range<usize>> = ranges
            .iter()
            .map(|r| r.start.max(rg.start)..r.end.min(rg.start + rg.rows))
            .filter(|r| r.start < r.end)
            .collect();
        if wanted.is_empty() {
            continue;
        }
        groups.push(i);
        let mut at = rg.start;
        for r in wanted {
            if r.start > at {
                selectors.push(RowSelector::skip(r.start - at));
            }
            selectors.push(RowSelector::select(r.end - r.start));
            at = r.end;
        }
        if rg.start + rg.rows > at {
            selectors.push(RowSelector::skip(rg.start + rg.rows - at));
        }
    }
    let reader = ParquetRecordBatchReaderBuilder::new_with_metadata(file, f.meta.clone())
        .with_projection(mask)
        .with_row_groups(groups)
        .with_row_selection(RowSelection::from(selectors))
        // `rows` comes from the footer: never size a buffer from it unbounded.
        .with_batch_size(rows.clamp(1, MAX_BATCH_ROWS))
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
                format!("rows {start}..{end} could not be read"),
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
    if batch.num_rows() != rows {
        return Err(Error::parquet(
            &f.path,
            format!(
                "expected {rows} rows at {start}..{end}, read {} (truncated file?)",
                batch.num_rows()
            ),
        ));
    }
    Ok((batch, counter.load(Ordering::Relaxed)))
}

/// A Parquet file that counts the bytes read from it (for `RunMetrics::bytes_read`).
struct CountingFile {
    file: File,
    read: Arc<AtomicU64>,
}

impl CountingFile {
    fn open(path: &std::path::Path) -> Result<Self> {
        Ok(CountingFile {
            file: File::open(path).map_err(|e| Error::io(path, e))?,
            read: Arc::new(AtomicU64::new(0)),
        })
    }
}

impl Length for CountingFile {
    fn len(&self) -> u64 {
        self.file.len()
    }
}

impl ChunkReader for CountingFile {
    type T = CountingRead<<File as ChunkReader>::T>;

    fn get_read(&self, start: u64) -> parquet::errors::Result<Self::T> {
        Ok(CountingRead {
            inner: self.file.get_read(start)?,
            read: self.read.clone(),
        })
    }

    fn get_bytes(&self, start: u64, length: usize) -> parquet::errors::Result<Bytes> {
        let bytes = self.file.get_bytes(start, length)?;
        self.read.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        Ok(bytes)
    }
}

/// A reader that adds what it reads to a counter.
struct CountingRead<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Reads the rows `at` (the ranges read of a partition) of `f`, decodes
/// `columns` (by name, in the given order) to their types in `schema` (the canonical
/// schema), and validates the role columns named by `roles`: ids and bands always; time,
/// flux and error values, and those of the columns `checked` (read by name by a function),
/// only under [`BadValues::Reject`] (the other policies act where functions read them, see
/// `bad_values`). Errors name rows of the file. Also returns the bytes read from the file.
pub(crate) fn read(
    f: &SourceFile,
    at: RowsRead<'_>,
    columns: &[String],
    schema: &Schema,
    roles: &ColumnMap,
    policy: BadValues,
    checked: &[String],
) -> Result<(RecordBatch, u64)> {
    let ranges = at.ranges;
    // Columns other files have and this one lacks read as nulls (see `merge_schema`).
    let file_schema = f.meta.schema();
    let present: Vec<String> = columns
        .iter()
        .filter(|c| file_schema.field_with_name(c).is_ok() || schema.field_with_name(c).is_err())
        .cloned()
        .collect();
    let (raw, bytes_read) = read_raw_counted(f, ranges, &present)?;
    // With no stored column read, the batch has no rows to count: the ranges say how many.
    let rows = if present.is_empty() {
        ranges.iter().map(|r| r.end - r.start).sum()
    } else {
        raw.num_rows()
    };
    let mut fields = Vec::with_capacity(columns.len());
    let mut arrays: Vec<ArrayRef> = Vec::with_capacity(columns.len());
    for name in columns {
        let target = schema
            .field_with_name(name)
            .map_err(|e| Error::arrow("canonical schema", e))?;
        if let Some((_, value)) = f.path_keys.iter().find(|(k, _)| k == name) {
            fields.push(target.clone());
            arrays.push(path_key_array(value, target.data_type(), rows)?);
            continue;
        }
        if !present.contains(name) {
            fields.push(target.clone());
            arrays.push(arrow::array::new_null_array(target.data_type(), rows));
            continue;
        }
        let col = raw.column_by_name(name).ok_or_else(|| {
            Error::unknown_column(
                name.clone(),
                format!("scan of {}", f.path.display()),
                &raw.schema(),
            )
        })?;
        let col = if roles.role_of(name) == Some(Role::Id) {
            // Ids become engine keys (see `id_key`): exact for every integer type.
            id_key::keys(col)?
        } else if let Some(codes) = roles
            .band_codes
            .as_ref()
            .filter(|_| roles.role_of(name) == Some(Role::Band))
        {
            codes.decode(col, &f.path, name)?
        } else if col.data_type() == target.data_type() {
            col.clone()
        } else {
            cast(col, target.data_type()).map_err(|e| {
                Error::arrow(
                    format!("casting column '{name}' in {}", f.path.display()),
                    e,
                )
            })?
        };
        let values = matches!(
            roles.role_of(name),
            Some(Role::Time | Role::Flux | Role::Err)
        );
        if let Some(role) = roles
            .role_of(name)
            .filter(|_| !values || policy == BadValues::Reject)
        {
            validate(&f.path, &at, name, Some(role), &col, &raw, roles)?;
        } else if policy == BadValues::Reject && checked.contains(name) && !values {
            validate(&f.path, &at, name, None, &col, &raw, roles)?;
        }
        fields.push(target.clone());
        arrays.push(col);
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays)
        .map_err(|e| Error::arrow(format!("assembling partition of {}", f.path.display()), e))?;
    Ok((batch, bytes_read))
}

/// A path key's value on every one of `rows` rows, as `data_type` (Int64 or Utf8).
fn path_key_array(value: &str, data_type: &DataType, rows: usize) -> Result<ArrayRef> {
    Ok(match data_type {
        DataType::Int64 => {
            let v: i64 = value.parse().map_err(|_| {
                Error::InvalidData(format!("path key value '{value}' is not an integer"))
            })?;
            Arc::new(arrow::array::Int64Array::from_value(v, rows))
        }
        _ => Arc::new(arrow::array::StringArray::from_iter_values(
            std::iter::repeat_n(value, rows),
        )),
    })
}

/// Where the rows of a batch come from: the ranges read of a partition's slice.
#[derive(Clone, Copy)]
pub(crate) struct RowsRead<'a> {
    /// The partition.
    pub(crate) slice: &'a PartitionSlice,
    /// The rows read of it (sorted, disjoint, not empty, inside `slice`).
    pub(crate) ranges: &'a [Range<usize>],
}

impl RowsRead<'_> {
    /// The file row of batch row `i`.
    fn row(&self, i: usize) -> usize {
        let mut left = i;
        for r in self.ranges {
            if left < r.end - r.start {
                return r.start + left;
            }
            left -= r.end - r.start;
        }
        self.slice.start + i
    }
}

/// Rejects nulls, NaN/inf in time, flux, error and columns read by name (`role` `None`; a
/// numeric type, read as Float64), and non-positive errors, naming the file, row and
/// object.
fn validate(
    path: &Path,
    at: &RowsRead<'_>,
    name: &str,
    role: Option<Role>,
    col: &ArrayRef,
    raw: &RecordBatch,
    columns: &ColumnMap,
) -> Result<()> {
    // The object as the user knows it: the id as stored, not its key.
    let id_at = |i: usize| -> String {
        raw.column_by_name(&columns.id)
            .and_then(|c| array_value_to_string(c, i).ok())
            .unwrap_or_else(|| "?".into())
    };
    let what = role.map_or("read by name", Role::name);
    if col.null_count() > 0 {
        let i = (0..col.len()).find(|&i| col.is_null(i)).unwrap_or(0);
        return Err(Error::InvalidData(format!(
            "{}: column '{name}' ({what}) is null at row {} (object {}); {} null(s) in rows {}..{}",
            path.display(),
            at.row(i),
            id_at(i),
            col.null_count(),
            at.slice.start,
            at.slice.start + at.slice.rows
        )));
    }
    if matches!(role, None | Some(Role::Time | Role::Flux | Role::Err)) {
        // A column read by name may be of any numeric type; integers are always finite.
        let floats;
        let col = match col.data_type() {
            DataType::Float64 => col,
            DataType::Float16 | DataType::Float32 => {
                floats = cast(col, &DataType::Float64)
                    .map_err(|e| Error::arrow(format!("checking column '{name}'"), e))?;
                &floats
            }
            _ => return Ok(()),
        };
        let positive = role == Some(Role::Err);
        let v = col.as_primitive::<Float64Type>().values();
        // Branch-free scan first (vectorizes); find the first offender only on failure.
        let ok = |x: f64| {
            if positive {
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
            let rule = if positive {
                "must be finite and > 0"
            } else {
                "must be finite"
            };
            return Err(Error::InvalidData(format!(
                "{}: column '{name}' ({what}) {rule}, found {} at row {} (object {})",
                path.display(),
                v[i],
                at.row(i),
                id_at(i)
            )));
        }
    }
    Ok(())
}
