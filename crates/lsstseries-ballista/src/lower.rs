//! Lowering our optimized physical plan to DataFusion `ExecutionPlan`s.
//!
//! ```text
//! ours:        Scan ─ ops ─ ShuffleWrite(hash id, n) │ ShuffleRead ─ ops ─ Collect
//! DataFusion:  LsstScanExec ─ LsstStageExec ─ RepartitionExec(Hash([id]), n)
//!                 ─ LsstStageExec (needs KeyPartitioned([id]))   then, on the client:
//!                 gather the partitions, order by (id, row number)
//! ```
//!
//! Ballista cuts stages exactly where we do: at the hash repartition. One DataFusion
//! partition is one of our partitions throughout.

use crate::error::Result;
use crate::exec::{ScanExec, StageExec, StageShape};
use crate::wire;
use arrow::array::RecordBatch;
use arrow::compute::{concat_batches, lexsort_to_indices, take_record_batch, SortColumn};
use arrow::datatypes::SchemaRef;
use datafusion::common::DataFusionError;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::{ExecutionPlan, Partitioning};
use datafusion::prelude::SessionContext;
use lsstseries::io::IdKey;
use lsstseries::physical::{PhysicalPlan, StageInput, StageOutput};
use lsstseries::plan::AggregateNode;
use lsstseries::Frame;
use std::sync::Arc;

/// A plan lowered to DataFusion, with what turns its output into our result.
#[derive(Debug, Clone)]
pub struct Lowered {
    /// The DataFusion plan: one output partition per partition of the last stage, each in
    /// id order; [`Lowered::finish`] orders the gathered rows.
    pub plan: Arc<dyn ExecutionPlan>,
    /// Our schema of its rows (dictionaries as the plan has them).
    pub schema: SchemaRef,
    /// The whole-result aggregation run on the gathered rows, if the plan ends with one.
    pub aggregate: Option<AggregateNode>,
    /// How the source's ids map to the engine's keys (restored in the result).
    pub id_key: IdKey,
    /// The id column of the result, if it has one.
    pub id_column: Option<String>,
}

/// Lowers `frame`'s plan after the default optimizer.
pub fn lower_frame(frame: &Frame) -> Result<Lowered> {
    let optimized = frame.optimize()?;
    lower(&PhysicalPlan::from_logical(&optimized.plan)?)
}

/// Lowers an optimized physical plan: each stage becomes a [`StageExec`] over a
/// [`ScanExec`] or a hash `RepartitionExec` on the id column; the result is merged from
/// the last stage's partitions in id order (ties by partition, then row, as a local run
/// orders them).
pub fn lower(plan: &PhysicalPlan) -> Result<Lowered> {
    let mut current: Option<Arc<dyn ExecutionPlan>> = None;
    let mut pending_shuffle: Option<(usize, String)> = None;
    let mut id_key = IdKey::default();
    let last = plan.stages.len().saturating_sub(1);
    for (i, stage) in plan.stages.iter().enumerate() {
        let (input, from_shuffle): (Arc<dyn ExecutionPlan>, bool) = match &stage.input {
            StageInput::Scan(scan) => {
                id_key = scan.source.id_key;
                (Arc::new(ScanExec::new(scan.clone())?), false)
            }
            StageInput::Shuffle { partitions, .. } => {
                let (prev, (n, id)) =
                    current.take().zip(pending_shuffle.take()).ok_or_else(|| {
                        lsstseries::Error::PlanCheck {
                            node: plan.stage_label(i),
                            message: "a shuffle read without a stage writing it".into(),
                        }
                    })?;
                debug_assert_eq!(n, *partitions);
                let ix = prev.schema().index_of(&id).map_err(DataFusionError::from)?;
                let hash = Partitioning::Hash(vec![Arc::new(Column::new(&id, ix))], *partitions);
                (Arc::new(RepartitionExec::try_new(prev, hash)?), true)
            }
        };
        let mut shape = StageShape {
            from_shuffle,
            ..StageShape::default()
        };
        if let StageOutput::Shuffle {
            partitions,
            id_column,
            ..
        } = &stage.output
        {
            shape.append_order = true;
            pending_shuffle = Some((*partitions, id_column.clone()));
        }
        let needs_whole = stage.ops().any(|(op, _)| {
            op.requirement() >= lsstseries::plan::InputRequirement::WholeLightcurves
        });
        if from_shuffle && needs_whole {
            shape.hash_by = pending_id(plan, i);
        }
        if i == last {
            shape.sort_by = plan.id_column.clone();
            shape.append_order = true;
        }
        let ops: Vec<_> = stage.ops().cloned().collect();
        let node = StageExec::new(
            input,
            stage.input_schema.clone(),
            ops,
            shape,
            plan.stage_label(i),
        )?;
        current = Some(Arc::new(node));
    }
    let last_node = current.ok_or_else(|| lsstseries::Error::PlanCheck {
        node: "plan".into(),
        message: "no stages".into(),
    })?;
    // The last stage numbers its rows (see `StageShape::append_order`); the client orders
    // the gathered rows by (id, number), so ties go by partition, then row, as a local
    // collect orders them. Merging on the cluster would cost Ballista a stage of its own.
    let plan_node = last_node;
    Ok(Lowered {
        plan: plan_node,
        schema: plan.schema.clone(),
        aggregate: plan.aggregate.clone(),
        id_key,
        id_column: plan.id_column.clone(),
    })
}

/// The id column the shuffle into stage `i` hashed by.
fn pending_id(plan: &PhysicalPlan, i: usize) -> Option<String> {
    let prev = plan.stages.get(i.checked_sub(1)?)?;
    match &prev.output {
        StageOutput::Shuffle { id_column, .. } => Some(id_column.clone()),
        StageOutput::Collect => None,
    }
}

impl Lowered {
    /// Our result from the plan's output batches: our types back, the aggregation run,
    /// ids mapped back to the source's.
    pub fn finish(&self, batches: &[RecordBatch]) -> Result<RecordBatch> {
        let wire_schema = wire::with_order_column(&wire::flat_schema(&self.schema));
        let all = concat_batches(&wire_schema, batches)
            .map_err(|e| lsstseries::Error::arrow("gathering the cluster's result", e))?;
        let mut all = self.in_id_order(all)?;
        all.remove_column(all.num_columns() - 1);
        let result = wire::restore_types(&all, &self.schema)?;
        let result = match &self.aggregate {
            Some(a) => a.call(&result)?,
            None => result,
        };
        Ok(match &self.id_column {
            Some(id) => self.id_key.restore(result, id)?,
            None => result,
        })
    }

    /// `batch` (the gathered partitions) ordered by id, then by the order column.
    fn in_id_order(&self, batch: RecordBatch) -> Result<RecordBatch> {
        let order = batch.num_columns() - 1;
        let mut keys = Vec::new();
        if let Some(id) = &self.id_column {
            let ix = batch.schema().index_of(id).map_err(DataFusionError::from)?;
            keys.push(SortColumn {
                values: batch.column(ix).clone(),
                options: None,
            });
        }
        keys.push(SortColumn {
            values: batch.column(order).clone(),
            options: None,
        });
        let sort = |e| lsstseries::Error::arrow("ordering the cluster's result", e);
        let idx = lexsort_to_indices(&keys, None).map_err(sort)?;
        Ok(take_record_batch(&batch, &idx).map_err(sort)?)
    }

    /// Runs the plan in `ctx` (plain DataFusion, this process) and returns our result; it
    /// may run again (each run starts from fresh operator state: a DataFusion
    /// `RepartitionExec` can be executed only once).
    pub async fn collect(&self, ctx: &SessionContext) -> Result<RecordBatch> {
        let plan = datafusion::physical_plan::execution_plan::reset_plan_states(self.plan.clone())?;
        let batches = datafusion::physical_plan::collect(plan, ctx.task_ctx()).await?;
        self.finish(&batches)
    }
}
