//! Keeping some columns.

use crate::error::{Error, Result};
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;

/// `batch` reduced to the columns of `schema` (zero-copy).
pub fn project(batch: &RecordBatch, schema: &SchemaRef) -> Result<RecordBatch> {
    let mut idx = Vec::with_capacity(schema.fields().len());
    for f in schema.fields() {
        idx.push(
            batch
                .schema()
                .index_of(f.name())
                .map_err(|e| Error::arrow("project", e))?,
        );
    }
    batch.project(&idx).map_err(|e| Error::arrow("project", e))
}
