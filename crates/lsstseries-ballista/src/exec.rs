//! Our two DataFusion operators: [`ScanExec`] (one DataFusion partition per partition
//! slice of a source, decoded by the core's reader) and [`StageExec`] (a stage's fused
//! chain of per-partition operators, run by the core on one partition's rows).

use crate::wire;
use arrow::array::{ArrayRef, AsArray, RecordBatch, UInt64Array};
use arrow::compute::concat_batches;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, UInt64Type};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result as DfResult};
use datafusion::datasource::memory::MemorySourceConfig;
use datafusion::execution::TaskContext;
use datafusion::physical_expr::expressions::Column;
use datafusion::physical_expr::{
    Distribution, EquivalenceProperties, PhysicalExpr, PhysicalSortExpr,
};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    ChildrenPropertiesMode, DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties,
    Partitioning, PlanProperties, ReplaceChildrenOptions, SendableRecordBatchStream,
};
use futures::{StreamExt, TryStreamExt};
use lsstseries::io::SourceSpec;
use lsstseries::physical::{read_scan_partition, run_ops, sort_by_id_stable};
use lsstseries::plan::{PartitionOp, ScanNode};
use lsstseries::Cancellation;
use std::fmt;
use std::sync::Arc;

/// Our error as DataFusion's, keeping the message (file, column, value) for the user.
pub(crate) fn df_err(e: lsstseries::Error) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

/// Reads a source's partition slices: partition `i` of this node is slice `i` of the scan,
/// decoded to the canonical types exactly as a local run decodes it.
///
/// Ballista runs a task on a subset of a stage's partitions and renumbers them, restricting
/// the leaves it knows (in-memory sources among them) and leaving others whole. So the
/// node's partitions come from a child: an in-memory source of one-row batches, batch `i`
/// holding the slice number `i`. A task reads the numbers of its partitions there, and
/// each output row carries its slice number (the partition column) for the stage above.
#[derive(Debug)]
pub struct ScanExec {
    scan: ScanNode,
    spec: SourceSpec,
    tokens: Arc<dyn ExecutionPlan>,
    props: Arc<PlanProperties>,
}

fn token_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new(
        wire::PARTITION_COLUMN,
        DataType::UInt64,
        false,
    )]))
}

impl ScanExec {
    /// A node over the partitions `scan` produces (its aligned cuts if it uses them).
    pub fn new(scan: ScanNode) -> DfResult<Self> {
        let partitions: Vec<Vec<RecordBatch>> = (0..scan.slices().len() as u64)
            .map(|i| {
                let column: ArrayRef = Arc::new(UInt64Array::from(vec![i]));
                RecordBatch::try_new(token_schema(), vec![column]).map(|b| vec![b])
            })
            .collect::<std::result::Result<_, _>>()?;
        let tokens: Arc<dyn ExecutionPlan> =
            MemorySourceConfig::try_new_exec(&partitions, token_schema(), None)?;
        Ok(Self::with_tokens(scan, tokens))
    }

    /// A node over `scan` whose partitions are the slice numbers `tokens` holds.
    pub fn with_tokens(scan: ScanNode, tokens: Arc<dyn ExecutionPlan>) -> Self {
        let spec = SourceSpec::of(&scan.source, scan.slices());
        let props = plan_properties(
            wire::with_partition_column(&wire::flat_schema(&scan.schema())),
            tokens.output_partitioning().partition_count(),
            Vec::new(),
        );
        ScanExec {
            scan,
            spec,
            tokens,
            props,
        }
    }

    /// The scan (its source reopened where the node was decoded).
    pub fn scan(&self) -> &ScanNode {
        &self.scan
    }

    /// The source as shipped: files, roles, bands, policy and partitions.
    pub fn spec(&self) -> &SourceSpec {
        &self.spec
    }
}

impl DisplayAs for ScanExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "LsstScanExec: {} ({} partitions, columns {})",
            self.scan.source.label(),
            self.scan.slices().len(),
            self.scan.projection.join(", ")
        )
    }
}

impl ExecutionPlan for ScanExec {
    fn name(&self) -> &str {
        "LsstScanExec"
    }
    fn properties(&self) -> &Arc<PlanProperties> {
        &self.props
    }
    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.tokens]
    }
    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        vec![false]
    }
    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }
    fn replace_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let [tokens] = <[_; 1]>::try_from(children).map_err(|c| {
            DataFusionError::Internal(format!("LsstScanExec has one input, got {}", c.len()))
        })?;
        Ok(Arc::new(ScanExec::with_tokens(self.scan.clone(), tokens)))
    }
    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        self.replace_children(
            children,
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
        )
    }
    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        let tokens = self.tokens.execute(partition, context)?;
        let scan = self.scan.clone();
        let schema = self.schema();
        let out = wire::flat_schema(&scan.schema());
        let read = async move {
            let batches: Vec<RecordBatch> = tokens.try_collect().await?;
            let slice = batches
                .iter()
                .find(|b| b.num_rows() > 0)
                .map(|b| b.column(0).as_primitive::<UInt64Type>().value(0) as usize)
                .ok_or_else(|| {
                    DataFusionError::Internal(format!("no slice number for partition {partition}"))
                })?;
            // Decoding is CPU work: keep it off the async threads.
            tokio::task::spawn_blocking(move || {
                let (batch, _) = read_scan_partition(&scan, slice).map_err(df_err)?;
                wire::append_partition(&wire::flatten(&batch, &out)?, slice)
            })
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?
        };
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            schema,
            futures::stream::once(read),
        )))
    }
}

/// Where a stage's rows come from and go, beyond its operators.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct StageShape {
    /// The input arrives through a shuffle: rows carry the order column, and are put back
    /// in the order a local shuffle reads them before the operators run.
    pub from_shuffle: bool,
    /// The order column is appended to the output: before a shuffle (so the next stage
    /// can restore the local order), and in the last stage (so the merge breaks ties by
    /// partition, then row, as a local collect does).
    pub append_order: bool,
    /// Id column the input must be hash-partitioned by (the stage needs whole
    /// lightcurves and its input is a shuffle).
    pub hash_by: Option<String>,
    /// Id column each partition's output is ordered by (the last stage, as a local run's
    /// collect orders it).
    pub sort_by: Option<String>,
}

/// One stage of our plan on one partition: gathers the partition's rows, runs the stage's
/// fused operators through the core, and emits the result as one batch.
#[derive(Debug)]
pub struct StageExec {
    input: Arc<dyn ExecutionPlan>,
    input_schema: SchemaRef,
    ops: Vec<(PartitionOp, SchemaRef)>,
    shape: StageShape,
    label: String,
    props: Arc<PlanProperties>,
}

impl StageExec {
    /// A stage reading `input` (whose rows have our `input_schema`, dictionaries flattened
    /// and, after a shuffle, with the order column), running `ops`.
    pub fn new(
        input: Arc<dyn ExecutionPlan>,
        input_schema: SchemaRef,
        ops: Vec<(PartitionOp, SchemaRef)>,
        shape: StageShape,
        label: String,
    ) -> DfResult<Self> {
        let ours = ops
            .last()
            .map(|(_, s)| s.clone())
            .unwrap_or_else(|| input_schema.clone());
        let mut out = wire::flat_schema(&ours);
        if shape.append_order {
            out = wire::with_order_column(&out);
        }
        let ordering = match (&shape.sort_by, shape.append_order) {
            (Some(id), true) => vec![sort_expr(id, &out)?, sort_expr(wire::ORDER_COLUMN, &out)?],
            (Some(id), false) => vec![sort_expr(id, &out)?],
            // Rows are numbered after any sort, so the numbers ascend in each partition.
            (None, true) => vec![sort_expr(wire::ORDER_COLUMN, &out)?],
            (None, false) => Vec::new(),
        };
        let props = plan_properties(out, input.output_partitioning().partition_count(), ordering);
        Ok(StageExec {
            input,
            input_schema,
            ops,
            shape,
            label,
            props,
        })
    }

    /// Our schema of the stage's input rows.
    pub fn input_schema(&self) -> &SchemaRef {
        &self.input_schema
    }

    /// The operators, innermost first, each with its output schema.
    pub fn ops(&self) -> &[(PartitionOp, SchemaRef)] {
        &self.ops
    }

    /// Where rows come from and go.
    pub fn shape(&self) -> &StageShape {
        &self.shape
    }

    /// The stage's label (its operators).
    pub fn label(&self) -> &str {
        &self.label
    }

    fn run(&self, mut batches: Vec<RecordBatch>, partition: usize) -> DfResult<RecordBatch> {
        let wire_in = self.input.schema();
        if self.shape.from_shuffle {
            // Each shuffled batch is usually a run of one source partition's rows in
            // order: ordering the batches by their first key then leaves nothing for
            // `restore_order` to sort, which otherwise sorts every row.
            wire::order_batches(&mut batches)?;
        }
        let batch = concat_batches(&wire_in, &batches)?;
        // After a scan, the slice number: the partition a local run numbers these rows by.
        let (batch, partition) = wire::take_partition(batch, partition)?;
        let batch = if self.shape.from_shuffle {
            wire::restore_order(&batch)?
        } else {
            batch
        };
        let batch = wire::restore_types(&batch, &self.input_schema)?;
        let (out, _) = run_ops(batch, &self.ops, &Cancellation::new()).map_err(df_err)?;
        let out = match &self.shape.sort_by {
            Some(id) => sort_by_id_stable(out, id).map_err(df_err)?,
            None => out,
        };
        let flat = wire::flatten(&out, &wire::flat_schema(&out.schema()))?;
        if self.shape.append_order {
            wire::append_order(&flat, partition)
        } else {
            Ok(flat)
        }
    }
}

impl DisplayAs for StageExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "LsstStageExec: {}", self.label)?;
        if let Some(id) = &self.shape.hash_by {
            write!(f, " (needs whole lightcurves: input hashed by {id})")?;
        }
        Ok(())
    }
}

impl ExecutionPlan for StageExec {
    fn name(&self) -> &str {
        "LsstStageExec"
    }
    fn properties(&self) -> &Arc<PlanProperties> {
        &self.props
    }
    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }
    fn required_input_distribution(&self) -> Vec<Distribution> {
        let by_id = self.shape.hash_by.as_ref().and_then(|id| {
            let schema = self.input.schema();
            let ix = schema.index_of(id).ok()?;
            Some(Distribution::KeyPartitioned(vec![
                Arc::new(Column::new(id, ix)) as Arc<dyn PhysicalExpr>,
            ]))
        });
        vec![by_id.unwrap_or(Distribution::UnspecifiedDistribution)]
    }
    fn benefits_from_input_partitioning(&self) -> Vec<bool> {
        // Partitions are our partitions (cuts, aligned cuts, hash buckets): never re-cut.
        vec![false]
    }
    fn maintains_input_order(&self) -> Vec<bool> {
        vec![false]
    }
    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> DfResult<TreeNodeRecursion>,
    ) -> DfResult<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }
    fn replace_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        let [input] = <[_; 1]>::try_from(children).map_err(|c| {
            DataFusionError::Internal(format!("LsstStageExec has one input, got {}", c.len()))
        })?;
        Ok(Arc::new(StageExec::new(
            input,
            self.input_schema.clone(),
            self.ops.clone(),
            self.shape.clone(),
            self.label.clone(),
        )?))
    }
    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> DfResult<Arc<dyn ExecutionPlan>> {
        self.replace_children(
            children,
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
        )
    }
    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> DfResult<SendableRecordBatchStream> {
        let input = self.input.execute(partition, context)?;
        let me = StageExec {
            input: self.input.clone(),
            input_schema: self.input_schema.clone(),
            ops: self.ops.clone(),
            shape: self.shape.clone(),
            label: self.label.clone(),
            props: self.props.clone(),
        };
        let run = async move {
            // A task holds its whole partition, as a local task does.
            let batches: Vec<RecordBatch> = input.try_collect().await?;
            tokio::task::spawn_blocking(move || me.run(batches, partition))
                .await
                .map_err(|e| DataFusionError::External(Box::new(e)))?
        };
        Ok(Box::pin(RecordBatchStreamAdapter::new(
            self.schema(),
            futures::stream::once(run).boxed(),
        )))
    }
}

fn sort_expr(id: &str, schema: &SchemaRef) -> DfResult<PhysicalSortExpr> {
    let ix = schema.index_of(id)?;
    Ok(PhysicalSortExpr::new_default(Arc::new(Column::new(id, ix))))
}

fn plan_properties(
    schema: SchemaRef,
    partitions: usize,
    ordering: Vec<PhysicalSortExpr>,
) -> Arc<PlanProperties> {
    let eq = if ordering.is_empty() {
        EquivalenceProperties::new(schema)
    } else {
        EquivalenceProperties::new_with_orderings(schema, [ordering])
    };
    Arc::new(PlanProperties::new(
        eq,
        Partitioning::UnknownPartitioning(partitions),
        EmissionType::Final,
        Boundedness::Bounded,
    ))
}
