//! Adding object-file columns to each row by its id.

use crate::error::{Error, Result};
use crate::plan::JoinObjectsSpec;
use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::{Int64Type, SchemaRef};

/// `batch` with `spec.columns` of the object table appended, looked up by each row's id
/// (null where the object table lacks the object); `schema` is the op's output schema.
pub fn join_objects(
    batch: &RecordBatch,
    spec: &JoinObjectsSpec,
    schema: &SchemaRef,
) -> Result<RecordBatch> {
    let ids = batch
        .column_by_name(&spec.id)
        .ok_or_else(|| Error::unknown_column(spec.id.clone(), "join objects", &batch.schema()))?;
    let keys = ids.as_primitive_opt::<Int64Type>().ok_or_else(|| {
        Error::InvalidData(format!(
            "join objects: id column '{}' is {}, not the scan's Int64 keys",
            spec.id,
            ids.data_type()
        ))
    })?;
    let rows = spec.table.rows_of(keys.values());
    let mut columns = batch.columns().to_vec();
    for name in &spec.columns {
        columns.push(spec.table.take(&rows, name)?);
    }
    RecordBatch::try_new(schema.clone(), columns)
        .map_err(|e| Error::arrow(format!("join objects from {}", spec.file_name()), e))
}
