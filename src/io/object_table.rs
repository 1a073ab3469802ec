//! An object table from a file: one row per object, joined to the sources on the id.
//!
//! Object tables are small (one row per object, not per observation), so the file is read
//! whole. Its numeric columns become per-object values that object filters can use; other
//! columns are listed as skipped.

use super::id_key;
use crate::error::{Error, Result};
use arrow::array::{Array, AsArray, RecordBatchReader};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Float64Type, Int64Type};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// The numeric columns of an object file, by object id (engine keys, see [`IdKey`](super::IdKey)).
#[derive(Debug, Clone)]
pub struct ObjectTable {
    /// The file read.
    pub path: PathBuf,
    /// Row of each object id.
    rows: HashMap<i64, usize>,
    /// Column names and values (Float64; integers converted, nulls as NaN).
    pub columns: Vec<(String, Vec<f64>)>,
    /// Columns not read, with why (e.g. a string column).
    pub skipped: Vec<(String, String)>,
}

impl ObjectTable {
    /// Reads `path`, whose column `id` holds the object ids (each at most once).
    pub fn read(path: impl AsRef<Path>, id: &str) -> Result<ObjectTable> {
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
            rows: HashMap::new(),
            columns: Vec::new(),
            skipped: Vec::new(),
        };
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
            let ids = id_key::keys(batch.column(id_index)).map_err(|e| match e {
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
        }
        Ok(table)
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
