//! An object table from a file: one row per object, joined to the sources on the id.
//!
//! Object tables are small (one row per object, not per observation), so the file is read
//! whole and kept as Arrow arrays of their own types: any column can be joined to sources or
//! results ([`ObjectTable::take`]). Numeric columns are also kept as `f64` values, for object
//! queries that combine them with counts computed from the sources.

use super::id_key;
use crate::error::{Error, Result};
use arrow::array::{
    new_null_array, Array, ArrayRef, AsArray, Int64Array, RecordBatch, RecordBatchReader,
    UInt32Array,
};
use arrow::compute::{cast, concat_batches, sort_to_indices, take, take_record_batch};
use arrow::datatypes::{DataType, Field, Float64Type, Int64Type};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// An object file's rows, by object id (engine keys, see [`IdKey`](super::IdKey)).
#[derive(Clone)]
pub struct ObjectTable {
    /// The file read.
    pub path: PathBuf,
    /// The id column's name.
    pub id: String,
    /// The id mapping the file's ids were read under (the source's), so another process
    /// can read the file again to the same keys.
    pub key: super::IdKey,
    /// Row of each object id.
    rows: HashMap<i64, usize>,
    /// Every column of the file, the id included, in file order and with its own type.
    batch: RecordBatch,
    /// The numeric columns (Float64; integers converted, nulls as NaN), for object queries
    /// that also read counts.
    pub columns: Vec<(String, Vec<f64>)>,
    /// Columns that such queries cannot read, with why (e.g. a string column); joins and
    /// queries on object columns alone read them.
    pub skipped: Vec<(String, String)>,
}

impl std::fmt::Debug for ObjectTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ObjectTable({}, {} objects, {} columns)",
            self.path.display(),
            self.len(),
            self.batch.num_columns()
        )
    }
}

impl ObjectTable {
    /// Reads `path`, whose column `id` holds the object ids (each at most once), as keys
    /// under the source's id mapping `key` (see [`IdKey`](super::IdKey)).
    pub fn read(path: impl AsRef<Path>, id: &str, key: super::IdKey) -> Result<ObjectTable> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .map_err(|e| Error::parquet(path, e))?
            .build()
            .map_err(|e| Error::parquet(path, e))?;
        let schema = reader.schema();
        let id_index = schema.index_of(id).map_err(|_| {
            Error::unknown_column(id, format!("object table {}", path.display()), &schema)
        })?;
        let mut table = ObjectTable {
            path: path.to_path_buf(),
            id: id.to_string(),
            key,
            rows: HashMap::new(),
            batch: RecordBatch::new_empty(schema.clone()),
            columns: Vec::new(),
            skipped: Vec::new(),
        };
        let mut batches = Vec::new();
        let mut value_columns = Vec::new();
        for (i, f) in schema.fields().iter().enumerate() {
            if i == id_index {
                continue;
            }
            if f.data_type().is_numeric() {
                value_columns.push(i);
                table.columns.push((f.name().clone(), Vec::new()));
            } else {
                table.skipped.push((
                    f.name().clone(),
                    format!("{} is not numeric", f.data_type()),
                ));
            }
        }
        let mut n = 0usize;
        for batch in reader {
            let batch = batch.map_err(|e| Error::parquet(path, e))?;
            let ids = id_key::keys_as(batch.column(id_index), key).map_err(|e| match e {
                Error::InvalidData(m) => {
                    Error::InvalidData(format!("object table {}: {m}", path.display()))
                }
                other => other,
            })?;
            if ids.null_count() > 0 {
                return Err(Error::InvalidData(format!(
                    "object table {}: column '{id}' has a null id",
                    path.display()
                )));
            }
            for &key in ids.as_primitive::<Int64Type>().values() {
                if table.rows.insert(key, n).is_some() {
                    return Err(Error::InvalidData(format!(
                        "object table {}: object {} appears twice in column '{id}'",
                        path.display(),
                        array_id(batch.column(id_index), &ids, key)
                    )));
                }
                n += 1;
            }
            for (slot, &i) in value_columns.iter().enumerate() {
                let values = cast(batch.column(i), &DataType::Float64)
                    .map_err(|e| Error::arrow(format!("object table {}", path.display()), e))?;
                let values = values.as_primitive::<Float64Type>();
                table.columns[slot]
                    .1
                    .extend(values.iter().map(|v| v.unwrap_or(f64::NAN)));
            }
            batches.push(batch);
        }
        if n > u32::MAX as usize {
            return Err(Error::InvalidData(format!(
                "object table {}: {n} rows; at most {} are supported",
                path.display(),
                u32::MAX
            )));
        }
        table.batch = concat_batches(&schema, &batches)
            .map_err(|e| Error::arrow(format!("object table {}", path.display()), e))?;
        Ok(table)
    }

    /// Every column of the file (the id included), in file order.
    pub fn batch(&self) -> &RecordBatch {
        &self.batch
    }

    /// The file's columns other than the id, in file order.
    pub fn value_fields(&self) -> impl Iterator<Item = &Field> {
        self.batch
            .schema_ref()
            .fields()
            .iter()
            .map(|f| f.as_ref())
            .filter(|f| *f.name() != self.id)
    }

    /// The field of column `name`, if the file has it.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.batch
            .schema_ref()
            .fields()
            .iter()
            .find(|f| f.name() == name)
            .map(|f| f.as_ref())
    }

    /// The table row of each of `keys` (engine keys), in their order: null for an object the
    /// table lacks. Look the keys up once, then [`ObjectTable::take`] each column.
    pub fn rows_of(&self, keys: &[i64]) -> UInt32Array {
        keys.iter()
            .map(|k| self.rows.get(k).map(|&r| r as u32))
            .collect()
    }

    /// The values of `column` at `rows` (from [`ObjectTable::rows_of`]): null where a row
    /// is null.
    pub fn take(&self, rows: &UInt32Array, column: &str) -> Result<ArrayRef> {
        let values = self.batch.column_by_name(column).ok_or_else(|| {
            Error::unknown_column(
                column,
                format!("object table {}", self.path.display()),
                self.batch.schema_ref(),
            )
        })?;
        take(values.as_ref(), rows, None)
            .map_err(|e| Error::arrow(format!("object table {}", self.path.display()), e))
    }

    /// `batch` (one row per object, id-ordered, column `id` holding engine keys) with a row
    /// added for each object of this table it lacks, in id order: the table's own columns
    /// from the file, `Int64` columns (counts) 0, any other column null.
    pub fn add_missing(&self, batch: &RecordBatch, id: &str) -> Result<RecordBatch> {
        let ids = batch
            .column_by_name(id)
            .and_then(|c| c.as_primitive_opt::<Int64Type>())
            .ok_or_else(|| Error::unknown_column(id, "keep empty objects", &batch.schema()))?;
        let present: std::collections::HashSet<i64> = ids.values().iter().copied().collect();
        let mut missing: Vec<i64> = self
            .keys()
            .into_iter()
            .filter(|k| !present.contains(k))
            .collect();
        if missing.is_empty() {
            return Ok(batch.clone());
        }
        missing.sort_unstable();
        let rows = self.rows_of(&missing);
        let schema = batch.schema();
        let mut added = Vec::with_capacity(schema.fields().len());
        for field in schema.fields() {
            let column: ArrayRef = if field.name() == id {
                Arc::new(Int64Array::from(missing.clone()))
            } else if self.field(field.name()).is_some() {
                let values = self.take(&rows, field.name())?;
                if values.data_type() == field.data_type() {
                    values
                } else {
                    cast(&values, field.data_type()).map_err(|e| {
                        Error::arrow(format!("object table {}", self.path.display()), e)
                    })?
                }
            } else if field.data_type() == &DataType::Int64 {
                Arc::new(Int64Array::from(vec![0; missing.len()]))
            } else {
                new_null_array(field.data_type(), missing.len())
            };
            added.push(column);
        }
        let added = RecordBatch::try_new(schema.clone(), added)
            .map_err(|e| Error::arrow("keep empty objects", e))?;
        let all = concat_batches(&schema, [batch, &added])
            .map_err(|e| Error::arrow("keep empty objects", e))?;
        let order = sort_to_indices(
            all.column_by_name(id)
                .ok_or_else(|| Error::unknown_column(id, "keep empty objects", &schema))?,
            None,
            None,
        )
        .map_err(|e| Error::arrow("keep empty objects", e))?;
        take_record_batch(&all, &order).map_err(|e| Error::arrow("keep empty objects", e))
    }

    /// The engine keys of every object, in file order.
    pub fn keys(&self) -> Vec<i64> {
        let mut keys = vec![0; self.rows.len()];
        for (&k, &r) in &self.rows {
            keys[r] = k;
        }
        keys
    }

    /// Objects in the table.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table has no objects.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The row of object `key`, if the table has it.
    pub fn row_of(&self, key: i64) -> Option<usize> {
        self.rows.get(&key).copied()
    }
}

/// The id as the user wrote it, for messages.
fn array_id(raw: &arrow::array::ArrayRef, keys: &arrow::array::ArrayRef, key: i64) -> String {
    let keys = keys.as_primitive::<Int64Type>();
    keys.values()
        .iter()
        .position(|&k| k == key)
        .and_then(|i| arrow::util::display::array_value_to_string(raw, i).ok())
        .unwrap_or_else(|| key.to_string())
}
