//! Rows as they travel between stages: dictionary columns flattened, and an order column
//! that lets the receiving stage put rows back in the order a local shuffle reads them.
//!
//! Each partition decodes the band column with its own dictionary; Ballista writes a
//! shuffle partition as one Arrow IPC file, which cannot replace a dictionary midway, so
//! dictionaries travel as their values and are restored on arrival. The order column
//! holds `(source partition << 40) | row`: a local shuffle reads a target's buckets by
//! source partition, rows in order, and per-lightcurve results (float sums) depend on that
//! order, so restoring it keeps results bit-identical to a local run.

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch, UInt64Array};
use arrow::compute::{cast, sort_to_indices, take_record_batch};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, UInt64Type};
use datafusion::common::{DataFusionError, Result as DfResult};
use std::sync::Arc;

/// Name of the order column that travels with shuffled rows.
pub const ORDER_COLUMN: &str = "__lsst_order";

/// Name of the column a scan adds: the slice number of the rows (the partition of a local
/// run), for the stage above, which may run under another partition number.
pub const PARTITION_COLUMN: &str = "__lsst_partition";

const ROW_BITS: u32 = 40;

/// `schema` with dictionary columns as their value type.
pub fn flat_schema(schema: &SchemaRef) -> SchemaRef {
    if !schema
        .fields()
        .iter()
        .any(|f| matches!(f.data_type(), DataType::Dictionary(..)))
    {
        return schema.clone();
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Dictionary(_, v) => f.as_ref().clone().with_data_type((**v).clone()),
            _ => f.as_ref().clone(),
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// `schema` with the order column appended.
pub fn with_order_column(schema: &SchemaRef) -> SchemaRef {
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(Field::new(ORDER_COLUMN, DataType::UInt64, false));
    Arc::new(Schema::new(fields))
}

/// Casts `batch`'s columns to the types of `schema` (same names, same order).
fn cast_to(batch: &RecordBatch, schema: &SchemaRef) -> DfResult<RecordBatch> {
    if batch.schema().fields().len() != schema.fields().len() {
        return Err(DataFusionError::Internal(format!(
            "batch with columns {:?} where {:?} was expected",
            batch
                .schema()
                .fields()
                .iter()
                .map(|f| f.name())
                .collect::<Vec<_>>(),
            schema.fields().iter().map(|f| f.name()).collect::<Vec<_>>()
        )));
    }
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(batch.num_columns());
    for (c, f) in batch.columns().iter().zip(schema.fields()) {
        columns.push(if c.data_type() == f.data_type() {
            c.clone()
        } else {
            cast(c, f.data_type())?
        });
    }
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

/// `batch` with dictionaries flattened, as `schema` (= [`flat_schema`] of its schema).
pub fn flatten(batch: &RecordBatch, schema: &SchemaRef) -> DfResult<RecordBatch> {
    cast_to(batch, schema)
}

/// Travelled rows back to our types (`schema`: dictionaries as the plan has them).
pub fn restore_types(batch: &RecordBatch, schema: &SchemaRef) -> DfResult<RecordBatch> {
    cast_to(batch, schema)
}

/// Appends the order column for rows of `partition`.
pub fn append_order(batch: &RecordBatch, partition: usize) -> DfResult<RecordBatch> {
    let base = (partition as u64) << ROW_BITS;
    if batch.num_rows() as u64 >= 1 << ROW_BITS {
        return Err(DataFusionError::Execution(format!(
            "partition {partition} has {} rows, more than a shuffle's order column counts",
            batch.num_rows()
        )));
    }
    let order = UInt64Array::from_iter_values((0..batch.num_rows() as u64).map(|r| base | r));
    let schema = with_order_column(&batch.schema());
    let mut columns = batch.columns().to_vec();
    columns.push(Arc::new(order));
    Ok(RecordBatch::try_new(schema, columns)?)
}

/// Orders shuffled batches by the order key of their first row (empty batches dropped).
pub fn order_batches(batches: &mut Vec<RecordBatch>) -> DfResult<()> {
    batches.retain(|b| b.num_rows() > 0);
    let mut keyed = Vec::with_capacity(batches.len());
    for b in batches.drain(..) {
        let ix = b.schema().index_of(ORDER_COLUMN)?;
        let first = b.column(ix).as_primitive::<UInt64Type>().value(0);
        keyed.push((first, b));
    }
    keyed.sort_by_key(|(k, _)| *k);
    batches.extend(keyed.into_iter().map(|(_, b)| b));
    Ok(())
}

/// Sorts shuffled rows by the order column and drops it.
pub fn restore_order(batch: &RecordBatch) -> DfResult<RecordBatch> {
    let schema = batch.schema();
    let ix = schema.index_of(ORDER_COLUMN)?;
    let order = batch.column(ix);
    let sorted = order
        .as_primitive::<UInt64Type>()
        .values()
        .windows(2)
        .all(|w| w[0] <= w[1]);
    let batch = if sorted || order.is_empty() {
        batch.clone()
    } else {
        // Keys are unique, so any sort is the stable one.
        let idx = sort_to_indices(order, None, None)?;
        take_record_batch(batch, &idx)?
    };
    let mut batch = batch;
    batch.remove_column(ix);
    Ok(batch)
}

/// `schema` with the partition column appended.
pub fn with_partition_column(schema: &SchemaRef) -> SchemaRef {
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(Field::new(PARTITION_COLUMN, DataType::UInt64, false));
    Arc::new(Schema::new(fields))
}

/// Appends the partition column (every row: `partition`).
pub fn append_partition(batch: &RecordBatch, partition: usize) -> DfResult<RecordBatch> {
    let column = UInt64Array::from(vec![partition as u64; batch.num_rows()]);
    let mut columns = batch.columns().to_vec();
    columns.push(Arc::new(column));
    Ok(RecordBatch::try_new(
        with_partition_column(&batch.schema()),
        columns,
    )?)
}

/// Removes the partition column, if there is one, and returns the partition it names
/// (`fallback` when the column is absent or the batch empty).
pub fn take_partition(batch: RecordBatch, fallback: usize) -> DfResult<(RecordBatch, usize)> {
    let Ok(ix) = batch.schema().index_of(PARTITION_COLUMN) else {
        return Ok((batch, fallback));
    };
    let values = batch.column(ix).as_primitive::<UInt64Type>();
    let partition = if values.is_empty() {
        fallback
    } else {
        values.value(0) as usize
    };
    let mut batch = batch;
    batch.remove_column(ix);
    Ok((batch, partition))
}
