//! A stage's work as free functions, for engines other than ours (the Ballista backend):
//! read one scan partition, run a stage's operators on a batch, order a result by id.
//!
//! The same functions a task of `PhysicalPlan::execute` calls (`compute_partition` reads
//! through `scan_exec::read_partition` and runs each operator through [`run_op`]), without
//! our executor's memory reservations and spilling (the host engine does its own
//! accounting).

use super::{
    apply_exec, assign_exec, filter_exec, join_objects_exec, keep_objects_exec, project_exec,
    scan_exec, sort_exec,
};
use crate::error::{Error, Result};
use crate::executor::Cancellation;
use crate::io::BadValueCounts;
use crate::plan::{PartitionOp, ScanNode};
use arrow::array::{AsArray, RecordBatch, UInt32Array};
use arrow::compute::take_record_batch;
use arrow::datatypes::{Int64Type, SchemaRef};

/// Decodes partition `index` of `scan` (canonical types; row groups and pages ruled out by
/// pushed filters left out; columns read by name checked), as a task of a local run does;
/// also returns the bytes read.
pub fn read_scan_partition(scan: &ScanNode, index: usize) -> Result<(RecordBatch, u64)> {
    if index >= scan.slices().len() {
        return Err(Error::InvalidArgument(format!(
            "partition {index} of a scan of {} with {} partition(s)",
            scan.source.label(),
            scan.slices().len()
        )));
    }
    let read = scan_exec::read_partition(scan, index)?;
    Ok((read.batch, read.bytes_read))
}

/// What one operator made of a partition's batch.
pub(super) struct OpOutput {
    /// The operator's output.
    pub batch: RecordBatch,
    /// Rows a function left out for bad values.
    pub dropped: BadValueCounts,
    /// Lightcurves (or pieces) a per-lightcurve function saw.
    pub lightcurves: u64,
}

/// Runs one operator on `batch`; `schema` is its output schema. The one dispatch over
/// [`PartitionOp`] that local tasks and other engines share.
pub(super) fn run_op(
    batch: &RecordBatch,
    op: &PartitionOp,
    schema: &SchemaRef,
    cancel: &Cancellation,
) -> Result<OpOutput> {
    let mut dropped = BadValueCounts::default();
    let mut lightcurves = 0;
    let batch = match op {
        PartitionOp::Filter(p) => filter_exec::filter(batch, p)?,
        PartitionOp::Project(_) => project_exec::project(batch, schema)?,
        PartitionOp::Map(m) => m.call(batch, schema)?,
        PartitionOp::Apply(spec) => {
            let (out, d, n) = apply_exec::apply_counted(batch, spec, schema, cancel)?;
            dropped = d;
            lightcurves = n;
            out
        }
        PartitionOp::Assign(items) => assign_exec::assign(batch, items, schema)?,
        PartitionOp::SortLightcurves(c) => sort_exec::sort_lightcurves(batch, c)?,
        PartitionOp::JoinObjects(spec) => join_objects_exec::join_objects(batch, spec, schema)?,
        PartitionOp::KeepObjects(spec) => {
            let (out, d) = keep_objects_exec::keep_objects(batch, spec, cancel)?;
            dropped = d;
            out
        }
    };
    Ok(OpOutput {
        batch,
        dropped,
        lightcurves,
    })
}

/// Runs `ops` (innermost first, each with its output schema, as in
/// [`Stage::ops`](super::Stage::ops)) on one partition's batch; also returns the rows the
/// functions left out for bad values.
pub fn run_ops<'a>(
    batch: RecordBatch,
    ops: impl IntoIterator<Item = &'a (PartitionOp, SchemaRef)>,
    cancel: &Cancellation,
) -> Result<(RecordBatch, BadValueCounts)> {
    let mut batch = batch;
    let mut bad_values = BadValueCounts::default();
    for (op, schema) in ops {
        cancel.check()?;
        let out = run_op(&batch, op, schema, cancel)?;
        bad_values.add(&out.dropped);
        batch = out.batch;
    }
    Ok((batch, bad_values))
}

/// Orders `batch` by its Int64 column `id`, stable (rows of one id keep their order), as
/// the collect step of a local run orders each partition's output; a batch without that
/// column is returned as it is.
pub fn sort_by_id_stable(batch: RecordBatch, id: &str) -> Result<RecordBatch> {
    let Some(ids) = batch
        .column_by_name(id)
        .and_then(|c| c.as_primitive_opt::<Int64Type>())
    else {
        return Ok(batch);
    };
    let v = ids.values();
    if v.windows(2).all(|w| w[0] <= w[1]) {
        return Ok(batch);
    }
    let mut idx: Vec<u32> = (0..v.len() as u32).collect();
    idx.sort_by_key(|&i| v[i as usize]);
    take_record_batch(&batch, &UInt32Array::from(idx)).map_err(|e| Error::arrow("sort by id", e))
}
