//! Gathering task outputs into one result in id order.

use crate::error::{Error, Result};
use arrow::array::{AsArray, RecordBatch, UInt32Array};
use arrow::compute::{concat_batches, take_record_batch};
use arrow::datatypes::{Int64Type, SchemaRef};

/// Concatenates `parts` (in partition order) and sorts the rows by id, stably, so rows of
/// one id keep their partition order.
pub fn collect(parts: &[RecordBatch], schema: &SchemaRef, id_column: &str) -> Result<RecordBatch> {
    let all = concat_batches(schema, parts).map_err(|e| Error::arrow("collect", e))?;
    let Some(ids) = all
        .column_by_name(id_column)
        .and_then(|c| c.as_primitive_opt::<Int64Type>())
    else {
        return Ok(all);
    };
    let v = ids.values();
    if v.windows(2).all(|w| w[0] <= w[1]) {
        return Ok(all);
    }
    let mut idx: Vec<u32> = (0..v.len() as u32).collect();
    idx.sort_by_key(|&i| v[i as usize]);
    take_record_batch(&all, &UInt32Array::from(idx)).map_err(|e| Error::arrow("collect sort", e))
}
