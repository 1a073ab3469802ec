//! The physical plan: stages of tasks, one task per partition, split at shuffles.
//!
//! A stage reads its partitions (from the scan or from a shuffle), runs its fused chain of
//! per-partition operators inside one task, and hands the result on (shuffle buckets or the
//! final collect). Stages run one after another on the executor; inside a stage every task
//! is independent, so partitions stream through and only the shuffle holds data between
//! stages.

mod apply_exec;
mod collect_exec;
mod display;
mod filter_exec;
mod project_exec;
mod sanity_check;
mod scan_exec;
mod shuffle_exec;

pub(crate) use shuffle_exec::ShuffleStore;

use crate::error::{Error, Result};
use crate::executor::Executor;
use crate::plan::{LogicalPlan, PartitionOp, PlanNode, ScanNode};
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Where a stage's partitions come from.
#[derive(Debug, Clone)]
pub enum StageInput {
    /// Partitions of a Parquet scan.
    Scan(ScanNode),
    /// The output buckets of an earlier stage's shuffle.
    Shuffle {
        /// Which shuffle.
        shuffle: usize,
        /// Its partitions.
        partitions: usize,
    },
}

/// Where a stage's results go.
#[derive(Debug, Clone)]
pub enum StageOutput {
    /// Split by hash of the id for the next stage.
    Shuffle {
        /// Which shuffle.
        shuffle: usize,
        /// Target partitions.
        partitions: usize,
        /// Id column.
        id_column: String,
    },
    /// Gathered into the final result.
    Collect,
}

/// The operators of one logical node inside a stage: one operation, or a fused chain.
#[derive(Debug, Clone)]
pub struct Step {
    /// Operators, innermost first, each with its output schema.
    pub ops: Vec<(PartitionOp, SchemaRef)>,
    /// Whether the logical node was a fused chain (`explain()` shows it as one).
    pub fused: bool,
}

/// A set of identical tasks, one per partition.
#[derive(Debug, Clone)]
pub struct Stage {
    /// Input.
    pub input: StageInput,
    /// Schema of the input partitions.
    pub input_schema: SchemaRef,
    /// The logical nodes run inside each task, in order.
    pub steps: Vec<Step>,
    /// Output.
    pub output: StageOutput,
}

impl Stage {
    /// Operators run inside each task, innermost first, each with its output schema.
    pub fn ops(&self) -> impl Iterator<Item = &(PartitionOp, SchemaRef)> {
        self.steps.iter().flat_map(|s| s.ops.iter())
    }

    /// Number of tasks.
    pub fn tasks(&self) -> usize {
        match &self.input {
            StageInput::Scan(s) => s.slices().len(),
            StageInput::Shuffle { partitions, .. } => *partitions,
        }
    }

    fn output_schema(&self) -> SchemaRef {
        self.ops()
            .last()
            .map(|(_, s)| s.clone())
            .unwrap_or_else(|| self.input_schema.clone())
    }
}

/// The stages of an optimized plan.
#[derive(Debug, Clone)]
pub struct PhysicalPlan {
    /// Stages in execution order.
    pub stages: Vec<Stage>,
    /// Schema of the result.
    pub schema: SchemaRef,
    /// Id column used to order the result, when the result has it.
    pub id_column: Option<String>,
    /// A whole-result aggregation run after the collect, if the plan ends with one.
    pub aggregate: Option<crate::plan::AggregateNode>,
}

/// Counters of one stage of a run.
#[derive(Debug, Clone, Default)]
pub struct StageMetrics {
    /// The stage's label.
    pub label: String,
    /// Tasks run.
    pub tasks: usize,
    /// Rows entering the stage.
    pub rows_in: u64,
    /// Rows leaving the stage.
    pub rows_out: u64,
    /// Fastest, median and slowest task.
    pub task_min: Duration,
    /// Median task duration.
    pub task_median: Duration,
    /// Slowest task.
    pub task_max: Duration,
    /// Sum of task durations (CPU time spent in tasks).
    pub busy: Duration,
    /// Wall time of the stage.
    pub wall: Duration,
}

/// Counters of a whole run: rows in and out, per stage.
#[derive(Debug, Clone, Default)]
pub struct RunMetrics {
    /// Per stage.
    pub stages: Vec<StageMetrics>,
    /// Rows read from the source.
    pub rows_in: u64,
    /// Rows in the result.
    pub rows_out: u64,
    /// Bytes moved through shuffles.
    pub bytes_shuffled: usize,
    /// Most bytes held in shuffle buckets at once, per shuffle, summed.
    pub peak_shuffle_bytes: usize,
    /// Wall time of the run.
    pub wall: Duration,
}

impl PhysicalPlan {
    /// Cuts an optimized logical plan into stages at its shuffles, after checking that
    /// every node's declared requirement is met (see `sanity_check`).
    pub fn from_logical(plan: &LogicalPlan) -> Result<Self> {
        sanity_check::check(plan)?;
        let mut stages = Vec::new();
        let mut id_column: Option<String> = None;
        let mut current: Option<Stage> = None;
        let mut aggregate = None;
        let new_stage = |input: StageInput, input_schema: SchemaRef| Stage {
            input,
            input_schema,
            steps: Vec::new(),
            output: StageOutput::Collect,
        };
        for ix in plan.chain() {
            let schema = plan.schema(ix)?;
            match plan.node(ix) {
                PlanNode::Scan(s) => {
                    id_column = Some(s.source.columns.id.clone());
                    current = Some(new_stage(StageInput::Scan(s.clone()), schema));
                }
                PlanNode::Op(op) => {
                    if let Some(st) = current.as_mut() {
                        st.steps.push(Step {
                            ops: vec![(op.clone(), schema)],
                            fused: false,
                        });
                    }
                }
                PlanNode::Fused(ops) => {
                    if let Some(st) = current.as_mut() {
                        let mut s = st.output_schema();
                        let mut step = Step {
                            ops: Vec::with_capacity(ops.len()),
                            fused: true,
                        };
                        for op in ops {
                            s = op.output_schema(&s)?;
                            step.ops.push((op.clone(), s.clone()));
                        }
                        st.steps.push(step);
                    }
                }
                PlanNode::Shuffle(sh) => {
                    let mut st = current.take().ok_or_else(|| Error::PlanCheck {
                        node: plan.node(ix).title(),
                        message: "a shuffle needs an input stage".into(),
                    })?;
                    let shuffle = stages.len();
                    st.output = StageOutput::Shuffle {
                        shuffle,
                        partitions: sh.partitions,
                        id_column: sh.id_column.clone(),
                    };
                    stages.push(st);
                    current = Some(new_stage(
                        StageInput::Shuffle {
                            shuffle,
                            partitions: sh.partitions,
                        },
                        schema,
                    ));
                }
                PlanNode::Collect => {}
                PlanNode::Aggregate(a) => aggregate = Some(a.clone()),
            }
        }
        let last = current.ok_or_else(|| Error::PlanCheck {
            node: "plan".into(),
            message: "no scan: nothing to read".into(),
        })?;
        let schema = last.output_schema();
        stages.push(last);
        let id_column = id_column.filter(|c| schema.field_with_name(c).is_ok());
        Ok(PhysicalPlan {
            stages,
            schema,
            id_column,
            aggregate,
        })
    }

    /// Tasks over all stages.
    pub fn tasks(&self) -> usize {
        self.stages.iter().map(|s| s.tasks()).sum()
    }

    /// Runs the stages on `executor` and returns the result in id order.
    pub fn execute(&self, executor: &Executor) -> Result<(RecordBatch, RunMetrics)> {
        let started = Instant::now();
        let n_shuffles = self
            .stages
            .iter()
            .filter(|s| matches!(s.output, StageOutput::Shuffle { .. }))
            .count();
        let stores: Arc<Vec<ShuffleStore>> =
            Arc::new((0..n_shuffles).map(|_| ShuffleStore::default()).collect());
        let limit = executor.config().memory_limit;
        let mut metrics = RunMetrics::default();
        let mut collected: Vec<RecordBatch> = Vec::new();
        for (si, stage) in self.stages.iter().enumerate() {
            let label = self.stage_label(si);
            let stage_start = Instant::now();
            let shared = Arc::new(stage.clone());
            let tasks: Vec<_> = (0..stage.tasks())
                .map(|i| {
                    let st = shared.clone();
                    let stores = stores.clone();
                    move || run_task(&st, i, &stores, limit)
                })
                .collect();
            let results = executor.run(tasks)?;
            let mut m = StageMetrics {
                label: label.clone(),
                tasks: results.len(),
                ..Default::default()
            };
            let mut durations = Vec::with_capacity(results.len());
            for (i, r) in results.into_iter().enumerate() {
                let out = r.map_err(|message| Error::Task {
                    operation: label.clone(),
                    partition: i,
                    message,
                })??;
                m.rows_in += out.rows_in;
                m.rows_out += out.rows_out;
                durations.push(out.elapsed);
                if let Some(b) = out.batch {
                    collected.push(b);
                }
            }
            durations.sort();
            if !durations.is_empty() {
                m.task_min = durations[0];
                m.task_median = durations[durations.len() / 2];
                m.task_max = durations[durations.len() - 1];
                m.busy = durations.iter().sum();
            }
            m.wall = stage_start.elapsed();
            if metrics.stages.is_empty() {
                metrics.rows_in = m.rows_in;
            }
            metrics.stages.push(m);
        }
        let result = match &self.id_column {
            Some(id) => collect_exec::collect(&collected, &self.schema, id)?,
            None => arrow::compute::concat_batches(&self.schema, &collected)
                .map_err(|e| Error::arrow("collect", e))?,
        };
        let result = match &self.aggregate {
            Some(a) => a.call(&result)?,
            None => result,
        };
        metrics.rows_out = result.num_rows() as u64;
        metrics.bytes_shuffled = stores.iter().map(|s| s.bytes_shuffled()).sum();
        metrics.peak_shuffle_bytes = stores.iter().map(|s| s.peak_bytes()).sum();
        metrics.wall = started.elapsed();
        Ok((result, metrics))
    }
}

struct TaskOutput {
    rows_in: u64,
    rows_out: u64,
    batch: Option<RecordBatch>,
    elapsed: Duration,
}

fn run_task(
    stage: &Stage,
    index: usize,
    stores: &[ShuffleStore],
    limit: Option<usize>,
) -> Result<TaskOutput> {
    let t0 = Instant::now();
    let mut batch = match &stage.input {
        StageInput::Scan(scan) => scan_exec::read_partition(scan, index)?,
        StageInput::Shuffle { shuffle, .. } => stores[*shuffle].read(index, &stage.input_schema)?,
    };
    let rows_in = batch.num_rows() as u64;
    for (op, schema) in stage.ops() {
        batch = match op {
            PartitionOp::Filter(p) => filter_exec::filter(&batch, p)?,
            PartitionOp::Project(_) => project_exec::project(&batch, schema)?,
            PartitionOp::Map(m) => m.call(&batch, schema)?,
            PartitionOp::Apply(spec) => apply_exec::apply(&batch, spec, schema)?,
        };
    }
    let rows_out = batch.num_rows() as u64;
    let batch = match &stage.output {
        StageOutput::Shuffle {
            shuffle,
            partitions,
            id_column,
        } => {
            stores[*shuffle].write(&batch, id_column, *partitions, index, limit)?;
            None
        }
        StageOutput::Collect => Some(batch),
    };
    Ok(TaskOutput {
        rows_in,
        rows_out,
        batch,
        elapsed: t0.elapsed(),
    })
}
