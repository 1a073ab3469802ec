//! Keeping the rows of the objects whose per-object values pass a predicate.

use super::apply_exec;
use crate::error::{Error, Result};
use crate::executor::Cancellation;
use crate::io::BadValueCounts;
use crate::plan::{KeepObjectsSpec, PartitionOp};
use arrow::array::{AsArray, BooleanArray, RecordBatch};
use arrow::compute::filter_record_batch;
use arrow::datatypes::Int64Type;
use std::collections::HashSet;

/// Rows of `batch` whose object passes `spec.predicate`, evaluated on the per-object values
/// of `spec.apply` for the objects of this partition (each whole, as the plan ensures).
pub fn keep_objects(
    batch: &RecordBatch,
    spec: &KeepObjectsSpec,
    cancel: &Cancellation,
) -> Result<(RecordBatch, BadValueCounts)> {
    let per_object_schema =
        PartitionOp::Apply(spec.apply.clone()).output_schema(&batch.schema())?;
    let (objects, dropped) = apply_exec::apply(batch, &spec.apply, &per_object_schema, cancel)?;
    let pass = spec.predicate.evaluate(&objects)?;
    let id = &spec.apply.columns.id;
    let object_ids = objects
        .column_by_name(id)
        .and_then(|c| c.as_primitive_opt::<Int64Type>())
        .ok_or_else(|| Error::InvalidData(format!("per-object values lack the id '{id}'")))?;
    let kept: HashSet<i64> = object_ids
        .values()
        .iter()
        .zip(pass.iter())
        .filter(|(_, p)| *p == Some(true))
        .map(|(id, _)| *id)
        .collect();
    let ids = batch
        .column_by_name(id)
        .and_then(|c| c.as_primitive_opt::<Int64Type>())
        .ok_or_else(|| Error::InvalidData(format!("rows lack the id column '{id}'")))?;
    let mask: BooleanArray = ids
        .values()
        .iter()
        .map(|i| Some(kept.contains(i)))
        .collect();
    let kept = filter_record_batch(batch, &mask)
        .map_err(|e| Error::arrow(format!("keep objects ({id})"), e))?;
    Ok((kept, dropped))
}
