//! The physical plan: stages of tasks, one task per partition, split at shuffles.
//!
//! A stage reads its partitions (from the scan or from a shuffle), runs its fused chain of
//! per-partition operators inside one task, and hands the result on (shuffle buckets or the
//! final collect). Stages run one after another on the executor; inside a stage every task
//! is independent, so partitions stream through and only the shuffle holds data between
//! stages.

mod apply_exec;
mod assign_exec;
mod collect_exec;
mod display;
mod filter_exec;
mod join_objects_exec;
mod keep_objects_exec;
mod portable;
mod project_exec;
mod sanity_check;
mod scan_exec;
mod shuffle_exec;
mod sort_exec;
mod spill;

pub use collect_exec::{BatchMap, ResultStream, CHUNK_ROWS};
pub use portable::{read_scan_partition, run_ops, sort_by_id_stable};

use crate::error::{Error, Result};
use crate::executor::{Cancellation, ComputeHandle, Executor, MemoryPool, TaskReservation};
use crate::io::BadValueCounts;
use crate::plan::{LogicalPlan, PartitionOp, PlanNode, ScanNode};
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use collect_exec::ResultStore;
use petgraph::stable_graph::NodeIndex;
use shuffle_exec::ShuffleStore;
use spill::SpillDir;
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
    /// Where each node of the logical plan runs (what `explain_analyze` annotates).
    pub nodes: Vec<(NodeIndex, NodeLocation)>,
}

/// Where a logical plan node runs in the physical plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeLocation {
    /// The scan feeding `stage`.
    Scan {
        /// Stage index.
        stage: usize,
    },
    /// Step `step` of `stage` (one operation or a fused chain).
    Step {
        /// Stage index.
        stage: usize,
        /// Step index inside the stage.
        step: usize,
    },
    /// The shuffle written by `stage`.
    Shuffle {
        /// Stage index of the writer.
        stage: usize,
    },
    /// The final gather of the last stage's outputs.
    Collect,
    /// The whole-result aggregation after the collect.
    Aggregate,
}

/// Counters of one operator (inside a step) over all tasks of a stage.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpMetrics {
    /// Rows entering the operator.
    pub rows_in: u64,
    /// Rows leaving it.
    pub rows_out: u64,
    /// Lightcurves (or pieces) a per-lightcurve function saw.
    pub lightcurves: u64,
    /// Time spent in it, summed over tasks.
    pub busy: Duration,
    /// Rows it left out for bad values, per column and reason.
    pub bad_values: BadValueCounts,
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
    /// Per operator, in the order of [`Stage::ops`].
    pub ops: Vec<OpMetrics>,
    /// Time spent reading the input (decoding a scan or reading shuffle buckets), summed.
    pub read_busy: Duration,
    /// Bytes read from Parquet by this stage.
    pub bytes_read: u64,
    /// Rows of its scan's partitions not read because the page index rules them out.
    pub page_rows_skipped: u64,
    /// Bytes this stage wrote into its output shuffle.
    pub bytes_shuffled: usize,
    /// Tasks stolen from another thread while the stage ran.
    pub steals: u64,
    /// Rows functions left out for bad values in this stage.
    pub bad_values: BadValueCounts,
}

/// Counters of a whole run: rows in and out, per stage.
#[derive(Debug, Clone, Default)]
pub struct RunMetrics {
    /// Per stage.
    pub stages: Vec<StageMetrics>,
    /// Rows read from the source.
    pub rows_in: u64,
    /// Bytes read from Parquet files (pages and footers the reader fetched).
    pub bytes_read: u64,
    /// Rows not read because pushed filters rule out their pages (page index).
    pub page_rows_skipped: u64,
    /// Rows in the result.
    pub rows_out: u64,
    /// Bytes moved through shuffles.
    pub bytes_shuffled: usize,
    /// Most bytes held in shuffle buckets in memory at once, per shuffle, summed.
    pub peak_shuffle_bytes: usize,
    /// Most bytes reserved at once over every operator of the run (partitions in flight,
    /// buckets, results), as counted by the run's memory pool.
    pub peak_memory: usize,
    /// Bytes written to spill files (their size in memory).
    pub bytes_spilled: usize,
    /// Spill files written.
    pub spill_files: usize,
    /// Wall time of the run.
    pub wall: Duration,
    /// Rows that functions left out for bad values (policy [`BadValues::Drop`](crate::io::BadValues)),
    /// summed over tasks: per column and reason.
    pub bad_values: BadValueCounts,
    /// Tasks stolen from another thread's deque during the run.
    pub steals: u64,
    /// Time the whole-result aggregation took, if the plan has one.
    pub aggregate_wall: Duration,
}

/// The columns the plan's functions read by name (what decoding checks under
/// [`BadValues::Reject`](crate::io::BadValues::Reject)).
fn read_by_name(plan: &LogicalPlan) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let mut add = |op: &PartitionOp| {
        let apply = match op {
            PartitionOp::Apply(a) => a,
            PartitionOp::KeepObjects(k) => &k.apply,
            _ => return,
        };
        for c in apply.function.extra_columns() {
            if !names.contains(c) {
                names.push(c.clone());
            }
        }
    };
    for ix in plan.chain() {
        match plan.node(ix) {
            PlanNode::Op(op) => add(op),
            PlanNode::Fused(ops) => ops.iter().for_each(&mut add),
            _ => {}
        }
    }
    names
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
        let mut nodes = Vec::new();
        let new_stage = |input: StageInput, input_schema: SchemaRef| Stage {
            input,
            input_schema,
            steps: Vec::new(),
            output: StageOutput::Collect,
        };
        let checked = read_by_name(plan);
        for ix in plan.chain() {
            let schema = plan.schema(ix)?;
            match plan.node(ix) {
                PlanNode::Scan(s) => {
                    let mut s = s.clone();
                    s.checked = checked
                        .iter()
                        .filter(|c| s.projection.contains(c))
                        .cloned()
                        .collect();
                    nodes.push((
                        ix,
                        NodeLocation::Scan {
                            stage: stages.len(),
                        },
                    ));
                    id_column = Some(s.source.columns.id.clone());
                    current = Some(new_stage(StageInput::Scan(s), schema));
                }
                PlanNode::Op(op) => {
                    if let Some(st) = current.as_mut() {
                        let location = NodeLocation::Step {
                            stage: stages.len(),
                            step: st.steps.len(),
                        };
                        nodes.push((ix, location));
                        st.steps.push(Step {
                            ops: vec![(op.clone(), schema)],
                            fused: false,
                        });
                    }
                }
                PlanNode::Fused(ops) => {
                    if let Some(st) = current.as_mut() {
                        let location = NodeLocation::Step {
                            stage: stages.len(),
                            step: st.steps.len(),
                        };
                        nodes.push((ix, location));
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
                    nodes.push((ix, NodeLocation::Shuffle { stage: shuffle }));
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
                PlanNode::Collect => nodes.push((ix, NodeLocation::Collect)),
                PlanNode::Aggregate(a) => {
                    nodes.push((ix, NodeLocation::Aggregate));
                    aggregate = Some(a.clone());
                }
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
            nodes,
        })
    }

    /// Rows the plan's scans read and rows the page index leaves out, summed over
    /// partitions: known before the run (the same counts a local run reports).
    pub fn planned_scan_rows(&self) -> (u64, u64) {
        let mut total = (0, 0);
        for stage in &self.stages {
            if let StageInput::Scan(scan) = &stage.input {
                for i in 0..scan.slices().len() {
                    let (rows, skipped) = scan_exec::planned_rows(scan, i);
                    total.0 += rows;
                    total.1 += skipped;
                }
            }
        }
        total
    }

    /// Tasks over all stages.
    pub fn tasks(&self) -> usize {
        self.stages.iter().map(|s| s.tasks()).sum()
    }

    /// Runs the stages on `executor` and returns the result in id order, as one batch.
    pub fn execute(&self, executor: &Executor) -> Result<(RecordBatch, RunMetrics)> {
        self.execute_with(executor, &Cancellation::new())
    }

    /// [`PhysicalPlan::execute`], stopping early when `cancel` says so.
    pub fn execute_with(
        &self,
        executor: &Executor,
        cancel: &Cancellation,
    ) -> Result<(RecordBatch, RunMetrics)> {
        self.execute_monitored(executor, cancel, None)
    }

    /// [`PhysicalPlan::execute_with`], reporting tasks and memory to `compute` as they go
    /// (the caller records the outcome).
    pub fn execute_monitored(
        &self,
        executor: &Executor,
        cancel: &Cancellation,
        compute: Option<&Arc<ComputeHandle>>,
    ) -> Result<(RecordBatch, RunMetrics)> {
        let (ctx, mut metrics) = self.run(executor, cancel, compute)?;
        let result = ctx.results.take_batch(&ctx)?;
        let result = match &self.aggregate {
            Some(a) => aggregate(a, &result, &mut metrics)?,
            None => result,
        };
        metrics.rows_out = result.num_rows() as u64;
        ctx.finish(&mut metrics);
        Ok((result, metrics))
    }

    /// Runs the stages and returns the result as a stream of batches in id order; results
    /// larger than the memory limit stay in spill files until read.
    pub fn execute_stream(
        &self,
        executor: &Executor,
        cancel: &Cancellation,
    ) -> Result<(ResultStream, RunMetrics)> {
        self.execute_stream_monitored(executor, cancel, None)
    }

    /// [`PhysicalPlan::execute_stream`], reporting tasks and memory to `compute`.
    pub fn execute_stream_monitored(
        &self,
        executor: &Executor,
        cancel: &Cancellation,
        compute: Option<&Arc<ComputeHandle>>,
    ) -> Result<(ResultStream, RunMetrics)> {
        let (ctx, mut metrics) = self.run(executor, cancel, compute)?;
        let ctx = Arc::new(ctx);
        let mut stream = match &self.aggregate {
            Some(a) => {
                let result = aggregate(a, &ctx.results.take_batch(&ctx)?, &mut metrics)?;
                let store = ResultStore::new(1, result.schema(), None);
                store.push(0, result, &ctx)?;
                store.take_stream(ctx.clone())?
            }
            None => ctx.results.take_stream(ctx.clone())?,
        };
        ctx.finish(&mut metrics);
        stream.set_metrics(RunMetrics {
            rows_out: 0,
            ..metrics.clone()
        });
        Ok((stream, metrics))
    }

    /// Runs only the partitions `indices` of a plan with one stage and no aggregate (no
    /// shuffle: each partition's output is final) and returns their outputs in the order
    /// given, rows as the partition holds them. What `head`, `tail` and the eager checks
    /// read, so they decode only the partitions they need.
    pub fn execute_partitions(
        &self,
        executor: &Executor,
        cancel: &Cancellation,
        indices: &[usize],
    ) -> Result<Vec<RecordBatch>> {
        let [stage] = self.stages.as_slice() else {
            return Err(Error::PlanCheck {
                node: "partitions".into(),
                message: format!(
                    "reading single partitions needs a plan of one stage, not {}",
                    self.stages.len()
                ),
            });
        };
        if self.aggregate.is_some() {
            return Err(Error::PlanCheck {
                node: "partitions".into(),
                message: "an aggregate needs every partition".into(),
            });
        }
        if let Some(&bad) = indices.iter().find(|&&i| i >= stage.tasks()) {
            return Err(Error::InvalidArgument(format!(
                "partition {bad} does not exist (the plan has {})",
                stage.tasks()
            )));
        }
        let config = executor.config();
        let ctx = Arc::new(RunContext {
            pool: MemoryPool::new(config.memory_limit),
            spill: SpillDir::new(config.spill_dir.as_deref()),
            stores: Vec::new(),
            results: ResultStore::new(0, stage.output_schema(), None),
            cancel: cancel.clone(),
        });
        let label = Arc::new(self.stage_label(0));
        let stage = Arc::new(stage.clone());
        let tasks: Vec<_> = indices
            .iter()
            .map(|&i| {
                let (stage, ctx, label) = (stage.clone(), ctx.clone(), label.clone());
                move || -> Result<RecordBatch> {
                    ctx.cancel.check()?;
                    Ok(compute_admitted(&stage, &label, i, &ctx)?.batch)
                }
            })
            .collect();
        let mut out = Vec::with_capacity(indices.len());
        for (r, &i) in executor.run(tasks)?.into_iter().zip(indices) {
            match r {
                Ok(batch) => out.push(batch?),
                Err(message) => {
                    return Err(Error::Task {
                        operation: label.to_string(),
                        partition: i,
                        message,
                    })
                }
            }
        }
        Ok(out)
    }

    /// Runs every stage; the last one's outputs wait in the context's result store.
    fn run(
        &self,
        executor: &Executor,
        cancel: &Cancellation,
        compute: Option<&Arc<ComputeHandle>>,
    ) -> Result<(RunContext, RunMetrics)> {
        let started = Instant::now();
        let steals_before = executor.info().steals;
        let config = executor.config();
        let stores = self
            .stages
            .iter()
            .filter_map(|s| match &s.output {
                StageOutput::Shuffle { partitions, .. } => {
                    Some(ShuffleStore::new(*partitions, s.output_schema()))
                }
                StageOutput::Collect => None,
            })
            .collect();
        let last_tasks = self.stages.last().map_or(0, Stage::tasks);
        let last_schema = self
            .stages
            .last()
            .map_or_else(|| self.schema.clone(), Stage::output_schema);
        let ctx = Arc::new(RunContext {
            pool: MemoryPool::new(config.memory_limit),
            spill: SpillDir::new(config.spill_dir.as_deref()),
            stores,
            results: ResultStore::new(last_tasks, last_schema, self.id_column.clone()),
            cancel: cancel.clone(),
        });
        let mut metrics = RunMetrics::default();
        for (si, stage) in self.stages.iter().enumerate() {
            cancel.check()?;
            let label = self.stage_label(si);
            let stage_span =
                tracing::info_span!("stage", index = si, tasks = stage.tasks(), label = %label);
            let _entered = stage_span.enter();
            let stage_start = Instant::now();
            let stage_steals = executor.info().steals;
            let shared = Arc::new((stage.clone(), label.clone()));
            let tasks: Vec<_> = (0..stage.tasks())
                .map(|i| {
                    let st = shared.clone();
                    let ctx = ctx.clone();
                    let compute = compute.cloned();
                    let span = tracing::debug_span!(parent: &stage_span, "task", stage = si, partition = i);
                    move || {
                        let _entered = span.enter();
                        let token = compute.as_ref().map(|c| c.task_started(si, i));
                        let out = run_task(&st.0, &st.1, i, &ctx);
                        if let (Some(c), Some(token)) = (&compute, token) {
                            let (rows_in, rows_out) =
                                out.as_ref().map_or((0, 0), |o| (o.rows_in, o.rows_out));
                            c.task_finished(token, rows_in, rows_out, out.is_ok());
                            c.memory(ctx.pool.used(), ctx.pool.peak());
                        }
                        out
                    }
                })
                .collect();
            let results = executor.run(tasks)?;
            let mut m = StageMetrics {
                label: label.clone(),
                tasks: results.len(),
                ops: vec![OpMetrics::default(); stage.ops().count()],
                ..Default::default()
            };
            let mut durations = Vec::with_capacity(results.len());
            let mut first_error = None;
            for (i, r) in results.into_iter().enumerate() {
                let out = match r {
                    Ok(Ok(out)) => out,
                    // A cancelled run reports why it stopped, not the first task it stopped.
                    Ok(Err(e @ Error::Cancelled(_))) => return Err(e),
                    Ok(Err(e)) => {
                        first_error.get_or_insert(e);
                        continue;
                    }
                    Err(message) => {
                        first_error.get_or_insert(Error::Task {
                            operation: label.clone(),
                            partition: i,
                            message,
                        });
                        continue;
                    }
                };
                m.rows_in += out.rows_in;
                m.rows_out += out.rows_out;
                m.bytes_read += out.bytes_read;
                m.page_rows_skipped += out.page_rows_skipped;
                m.read_busy += out.read_busy;
                for (total, op) in m.ops.iter_mut().zip(&out.ops) {
                    total.rows_in += op.rows_in;
                    total.rows_out += op.rows_out;
                    total.lightcurves += op.lightcurves;
                    total.busy += op.busy;
                    total.bad_values.add(&op.bad_values);
                }
                metrics.bytes_read += out.bytes_read;
                metrics.page_rows_skipped += out.page_rows_skipped;
                m.bad_values.add(&out.bad_values);
                metrics.bad_values.add(&out.bad_values);
                durations.push(out.elapsed);
            }
            if let Some(e) = first_error {
                return Err(e);
            }
            durations.sort();
            if !durations.is_empty() {
                m.task_min = durations[0];
                m.task_median = durations[durations.len() / 2];
                m.task_max = durations[durations.len() - 1];
                m.busy = durations.iter().sum();
            }
            m.wall = stage_start.elapsed();
            m.steals = executor.info().steals.saturating_sub(stage_steals);
            if let StageOutput::Shuffle { shuffle, .. } = &stage.output {
                m.bytes_shuffled = ctx.stores[*shuffle].bytes_shuffled();
            }
            tracing::debug!(
                rows_in = m.rows_in,
                rows_out = m.rows_out,
                wall_ms = m.wall.as_millis() as u64,
                "stage done"
            );
            if metrics.stages.is_empty() {
                metrics.rows_in = m.rows_in;
            }
            metrics.stages.push(m);
        }
        cancel.check()?;
        metrics.wall = started.elapsed();
        metrics.steals = executor.info().steals.saturating_sub(steals_before);
        let ctx = Arc::try_unwrap(ctx).map_err(|_| Error::Task {
            operation: "run".into(),
            partition: 0,
            message: "a task outlived its stage".into(),
        })?;
        Ok((ctx, metrics))
    }
}

/// Runs the whole-result aggregation on the collected rows, counting its time and the rows
/// it left out for bad values.
fn aggregate(
    a: &crate::plan::AggregateNode,
    collected: &RecordBatch,
    metrics: &mut RunMetrics,
) -> Result<RecordBatch> {
    let t0 = Instant::now();
    let (out, dropped) = a.call_counted(collected)?;
    metrics.aggregate_wall = t0.elapsed();
    metrics.bad_values.add(&dropped);
    Ok(out)
}

/// What one run holds while it runs: its memory budget, spill directory, shuffle buckets,
/// results and cancellation flag. Dropping it removes the spill files.
#[derive(Debug)]
pub struct RunContext {
    pool: MemoryPool,
    spill: SpillDir,
    stores: Vec<ShuffleStore>,
    results: ResultStore,
    cancel: Cancellation,
}

impl RunContext {
    /// Spills every buffer still in memory, so a task can have its room.
    fn make_room(&self) -> Result<()> {
        for store in &self.stores {
            store.spill_all(&self.pool, &self.spill)?;
        }
        self.results.spill_all(self)
    }

    fn finish(&self, metrics: &mut RunMetrics) {
        metrics.bytes_shuffled = self.stores.iter().map(|s| s.bytes_shuffled()).sum();
        metrics.peak_shuffle_bytes = self.stores.iter().map(|s| s.peak_bytes()).sum();
        metrics.peak_memory = self.pool.peak();
        metrics.bytes_spilled = self.spill.bytes();
        metrics.spill_files = self.spill.files();
    }
}

struct TaskOutput {
    rows_in: u64,
    rows_out: u64,
    bytes_read: u64,
    page_rows_skipped: u64,
    elapsed: Duration,
    read_busy: Duration,
    bad_values: BadValueCounts,
    ops: Vec<OpMetrics>,
}

/// A partition after the stage's operators, with what it took.
struct PartitionOutput<'a> {
    batch: RecordBatch,
    rows_in: u64,
    bytes_read: u64,
    page_rows_skipped: u64,
    read_busy: Duration,
    reserved: TaskReservation<'a>,
    bad_values: BadValueCounts,
    ops: Vec<OpMetrics>,
}

fn run_task(stage: &Stage, label: &str, index: usize, ctx: &RunContext) -> Result<TaskOutput> {
    ctx.cancel.check()?;
    let t0 = Instant::now();
    let PartitionOutput {
        batch,
        rows_in,
        bytes_read,
        page_rows_skipped,
        read_busy,
        reserved,
        bad_values,
        ops,
    } = compute_admitted(stage, label, index, ctx)?;
    if let StageInput::Shuffle { shuffle, .. } = &stage.input {
        ctx.stores[*shuffle].release(index, &ctx.pool);
    }
    let rows_out = batch.num_rows() as u64;
    match &stage.output {
        StageOutput::Shuffle {
            shuffle, id_column, ..
        } => {
            ctx.stores[*shuffle].write(&batch, id_column, index, &ctx.pool, &ctx.spill)?;
            drop(reserved);
        }
        StageOutput::Collect => {
            // The result store reserves its own copy; the task's share goes first.
            drop(reserved);
            ctx.results.push(index, batch, ctx)?;
        }
    }
    Ok(TaskOutput {
        rows_in,
        rows_out,
        bytes_read,
        page_rows_skipped,
        elapsed: t0.elapsed(),
        read_busy,
        bad_values,
        ops,
    })
}

/// Admits partition `index` under the memory limit and computes it. Tasks are pure until
/// their output step (shuffle buckets stay until released), so a task that could not grow
/// while other tasks held the rest of the limit runs again, alone; only a partition that
/// does not fit by itself fails. Counts come from the attempt that succeeded only.
fn compute_admitted<'a>(
    stage: &Stage,
    label: &str,
    index: usize,
    ctx: &'a RunContext,
) -> Result<PartitionOutput<'a>> {
    // Room for the input and one operator's output side by side. (Admitting scans with x3,
    // for decode buffers, was measured on 100 M rows: the process's RSS did not drop and the
    // run was slower, so the RSS above the pool's peak is allocator retention, not tasks.)
    let estimate = match &stage.input {
        StageInput::Scan(scan) => scan_exec::estimated_bytes(scan, index),
        StageInput::Shuffle { shuffle, .. } => ctx.stores[*shuffle].target_bytes(index),
    }
    .saturating_mul(2);
    let operation = format!("{label} on partition {index}");
    let attempt = |exclusive| compute_partition(stage, index, ctx, estimate, &operation, exclusive);
    match attempt(false) {
        Err(Error::MemoryLimit { .. }) if ctx.pool.limit().is_some() => attempt(true),
        other => other,
    }
}

/// Reads partition `index` and runs the stage's operators on it, holding the batches'
/// bytes in a task reservation; also returns the rows functions left out for bad values.
fn compute_partition<'a>(
    stage: &Stage,
    index: usize,
    ctx: &'a RunContext,
    estimate: usize,
    operation: &str,
    exclusive: bool,
) -> Result<PartitionOutput<'a>> {
    let mut reserved = ctx.pool.admit_task(estimate, operation, exclusive);
    ctx.cancel.check()?;
    let make_room = || ctx.make_room();
    let read_start = Instant::now();
    let (mut batch, bytes_read, page_rows_skipped) = match &stage.input {
        StageInput::Scan(scan) => {
            let read = scan_exec::read_partition(scan, index)?;
            (read.batch, read.bytes_read, read.page_rows_skipped)
        }
        StageInput::Shuffle { shuffle, .. } => (ctx.stores[*shuffle].read(index)?, 0, 0),
    };
    let read_busy = read_start.elapsed();
    let mut ops = Vec::with_capacity(stage.steps.len());
    let mut held = batch.get_array_memory_size();
    reserved.resize(held, make_room)?;
    let rows_in = batch.num_rows() as u64;
    let mut bad_values = BadValueCounts::default();
    for (op, schema) in stage.ops() {
        ctx.cancel.check()?;
        let op_start = Instant::now();
        let portable::OpOutput {
            batch: out,
            dropped: dropped_here,
            lightcurves,
        } = portable::run_op(&batch, op, schema, &ctx.cancel)?;
        bad_values.add(&dropped_here);
        ops.push(OpMetrics {
            rows_in: batch.num_rows() as u64,
            rows_out: out.num_rows() as u64,
            lightcurves,
            busy: op_start.elapsed(),
            bad_values: dropped_here,
        });
        // Input and output are alive together for a moment.
        let out_bytes = out.get_array_memory_size();
        reserved.resize(held + out_bytes, make_room)?;
        batch = out;
        held = out_bytes;
        reserved.resize(held, make_room)?;
    }
    Ok(PartitionOutput {
        batch,
        rows_in,
        bytes_read,
        page_rows_skipped,
        read_busy,
        reserved,
        bad_values,
        ops,
    })
}
