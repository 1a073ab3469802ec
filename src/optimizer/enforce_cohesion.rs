//! Rule `enforce_cohesion`: every per-lightcurve operation gets whole lightcurves.
//!
//! For each node that declares an [`InputRequirement`] (a per-lightcurve function, alone or
//! inside a fused chain) the rule compares it with what the input provides:
//! - input proven whole: nothing to do (and says why it is whole);
//! - mode `grouped`: a hash shuffle by id, as the user asked;
//! - input split but the source is sorted by id: the scan's cuts move to lightcurve
//!   boundaries (no data movement at all);
//! - otherwise: a hash shuffle by id, with the evidence that the input is split;
//! - mode `per-partition`: nothing, and a warning when the input is not proven whole.
//!
//! A shuffle's target partition count is part of the plan (`Shuffle[hash(id) -> n]` in
//! `explain()`): see `shuffle_width` for how it is chosen.

use super::{Rule, RuleReport};
use crate::error::Result;
use crate::io::MIN_SIZED_PARTITION_ROWS;
use crate::plan::{
    Cohesion, InputRequirement, LogicalPlan, Movement, PartitionOp, PlanNode, Props, Scheme,
    ShuffleNode,
};

/// The most target partitions a hash shuffle inserted by this rule asks for.
///
/// Every task of the stage before a shuffle routes its rows to every target, so the
/// writer's work grows with tasks x targets; beyond a thousand or so targets nothing is
/// gained (at 1024, a 100 GB shuffle still gives targets of about 100 MB, and there are far
/// more targets than cores to balance load). A fixed number rather than a multiple of the
/// executor's threads: the plan, and so `explain()`, must not depend on the machine that
/// printed it (plans can be shipped, snapshots are compared).
pub const MAX_SHUFFLE_PARTITIONS: usize = 1024;

/// The target partitions of a hash shuffle over an input with `props`: as many as the input
/// has (the user's partition size carries over), but at most [`MAX_SHUFFLE_PARTITIONS`] and,
/// when the input's rows are known, at most one per [`MIN_SIZED_PARTITION_ROWS`] rows (the
/// floor a size request gets: tiny explicit cuts do not become tiny shuffle targets).
fn shuffle_width(props: &Props) -> usize {
    let by_rows = props
        .rows
        .map_or(usize::MAX, |r| r.div_ceil(MIN_SIZED_PARTITION_ROWS));
    props
        .partitions
        .min(MAX_SHUFFLE_PARTITIONS)
        .min(by_rows)
        .max(1)
}

/// See the module docs.
pub struct EnforceCohesion;

impl Rule for EnforceCohesion {
    fn name(&self) -> &'static str {
        "enforce_cohesion"
    }

    fn apply(&self, plan: &mut LogicalPlan) -> Result<RuleReport> {
        let mut report = RuleReport::new(self.name());
        let (mut shuffles, mut recuts, mut avoided) = (0, 0, 0);
        for ix in plan.chain() {
            // The node's own declaration decides, for single and fused operations alike.
            let requirement = plan.node(ix).requirement();
            if requirement == InputRequirement::Any {
                continue;
            }
            let Some(input) = plan.input(ix) else {
                continue;
            };
            let Some(id) = id_column(plan.node(ix)) else {
                continue;
            };
            let props = plan.props(input);
            let what = plan.node(ix).short_name();
            let width = shuffle_width(&props);
            // Said only when it differs, so plans of ordinary sizes read as before.
            let narrowed = (width < props.partitions).then(|| {
                format!(
                    "; shuffle into {width} partitions, not the input's {}: at most {MAX_SHUFFLE_PARTITIONS}, and about {MIN_SIZED_PARTITION_ROWS} rows or more each",
                    props.partitions
                )
            });
            let narrowed = narrowed.unwrap_or_default();
            let shuffle = |reason: String| {
                PlanNode::Shuffle(ShuffleNode {
                    partitions: width,
                    id_column: id.clone(),
                    reason,
                })
            };
            match requirement {
                InputRequirement::Any => {}
                InputRequirement::PiecesAccepted => {
                    if !props.cohesion.is_whole() {
                        report.notes.push(format!(
                            "{what}: mode=per-partition, no shuffle although lightcurves are {} ({})",
                            props.cohesion.word(),
                            props.cohesion.reason()
                        ));
                        report.warnings.push(format!(
                            "{what} runs per partition on {} lightcurves ({}): an object cut across partitions gets one result per piece, computed on part of its data; use mode auto or grouped for one result per object",
                            props.cohesion.word(),
                            props.cohesion.reason()
                        ));
                    } else {
                        report.notes.push(format!(
                            "{what}: mode=per-partition, lightcurves already whole ({})",
                            props.cohesion.reason()
                        ));
                    }
                }
                InputRequirement::HashById => {
                    if props.scheme == Scheme::HashById {
                        report.notes.push(format!(
                            "{what}: mode=grouped, input already hash-partitioned by id"
                        ));
                        continue;
                    }
                    let node = shuffle("mode=grouped: always regroup by id (use_map=False)".into());
                    plan.insert_below(ix, node, Movement::ExchangeById);
                    shuffles += 1;
                    report.notes.push(format!(
                        "{what}: shuffle inserted, mode=grouped regroups by id whatever the input ({}){narrowed}",
                        props.cohesion.reason()
                    ));
                }
                InputRequirement::WholeLightcurves => {
                    if let Cohesion::Whole(reason) = &props.cohesion {
                        avoided += 1;
                        report
                            .notes
                            .push(format!("{what}: no shuffle, lightcurves whole: {reason}"));
                        continue;
                    }
                    if let Some(n) = try_align_scan(plan, input) {
                        recuts += 1;
                        report.notes.push(format!(
                            "{what}: no shuffle, source sorted by id; partition cuts moved to lightcurve boundaries ({} -> {n} partitions, id column read once) instead of a shuffle; was: {}",
                            props.partitions,
                            props.cohesion.reason()
                        ));
                        continue;
                    }
                    let node = shuffle(format!(
                        "input {}: {}",
                        props.cohesion.word(),
                        props.cohesion.reason()
                    ));
                    plan.insert_below(ix, node, Movement::ExchangeById);
                    shuffles += 1;
                    report.notes.push(format!(
                        "{what}: shuffle inserted, input {} ({}){narrowed}",
                        props.cohesion.word(),
                        props.cohesion.reason()
                    ));
                }
            }
        }
        let mut parts = Vec::new();
        if shuffles > 0 {
            parts.push(format!("shuffle x{shuffles}"));
        }
        if recuts > 0 {
            parts.push(format!("boundary re-cut x{recuts}"));
        }
        if avoided > 0 {
            parts.push(format!("avoided x{avoided}"));
        }
        report.summary = parts.join(", ");
        Ok(report)
    }
}

/// The id column a requiring node groups by (its per-lightcurve function's column map).
fn id_column(node: &PlanNode) -> Option<String> {
    let ops: &[PartitionOp] = match node {
        PlanNode::Op(op) => std::slice::from_ref(op),
        PlanNode::Fused(ops) => ops,
        _ => return None,
    };
    ops.iter().find_map(|op| match op {
        PartitionOp::Apply(a) => Some(a.columns.id.clone()),
        PartitionOp::KeepObjects(k) => Some(k.apply.columns.id.clone()),
        PartitionOp::SortLightcurves(c) => Some(c.id.clone()),
        _ => None,
    })
}

/// If only row-local operations lie between `from` and an id-sorted scan with aligned cuts,
/// switch the scan to those cuts and return the new partition count.
fn try_align_scan(
    plan: &mut LogicalPlan,
    from: petgraph::stable_graph::NodeIndex,
) -> Option<usize> {
    let mut ix = from;
    loop {
        match plan.node(ix) {
            PlanNode::Op(
                PartitionOp::Filter(_)
                | PartitionOp::Project(_)
                | PartitionOp::Map(_)
                | PartitionOp::Assign(_)
                | PartitionOp::JoinObjects(_),
            ) => {
                ix = plan.input(ix)?;
            }
            PlanNode::Scan(s) if !s.aligned && s.source.aligned.is_some() => break,
            _ => return None,
        }
    }
    if let PlanNode::Scan(s) = plan.node_mut(ix) {
        s.aligned = true;
        return Some(s.slices().len());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::StetsonJ;
    use crate::io::{ColumnMap, ParquetSource, Partitioning, SourceOptions};
    use crate::optimizer::Optimizer;
    use crate::plan::{ApplySpec, BatchMode, ScanNode};
    use std::sync::Arc;

    /// The TAPE file in 5 KB partitions: lightcurves split across partitions.
    fn split_scan() -> LogicalPlan {
        let source = ParquetSource::open(
            "data/tape/test_source.parquet",
            SourceOptions::new(ColumnMap::tape(), Partitioning::size("5KB").unwrap()),
            &crate::executor::Executor::new(
                crate::executor::ExecutorConfig::default().n_workers(1),
            )
            .unwrap(),
        )
        .unwrap();
        LogicalPlan::scan(ScanNode::new(Arc::new(source)))
    }

    fn apply(mode: BatchMode) -> PartitionOp {
        PartitionOp::Apply(ApplySpec {
            function: Arc::new(StetsonJ),
            mode,
            columns: ColumnMap::tape(),
            bands: Arc::new(vec!["g".into(), "r".into()]),
            bad_values: Default::default(),
            on: Vec::new(),
        })
    }

    #[test]
    fn reads_the_requirement_inside_a_fused_node() {
        let fused = PlanNode::Fused(vec![
            PartitionOp::Filter(crate::plan::col("psFlux").gt(0.0)),
            apply(BatchMode::Grouped),
        ]);
        let mut plan = split_scan().push(fused).unwrap();
        let report = EnforceCohesion.apply(&mut plan).unwrap();
        assert_eq!(report.summary, "shuffle x1", "{report:?}");
        assert!(report.notes[0].starts_with("Fused[stetson_j"), "{report:?}");
        let below = plan.input(plan.root()).unwrap();
        assert!(matches!(plan.node(below), PlanNode::Shuffle(_)));
        assert_eq!(plan.movement_into(below), Some(Movement::ExchangeById));
        assert_eq!(plan.movement_into(plan.root()), Some(Movement::Pipeline));
        crate::physical::PhysicalPlan::from_logical(&plan).unwrap();

        // In mode auto the sorted source is re-cut at lightcurve boundaries instead.
        let fused = PlanNode::Fused(vec![apply(BatchMode::Auto)]);
        let mut plan = split_scan().push(fused).unwrap();
        let report = EnforceCohesion.apply(&mut plan).unwrap();
        assert_eq!(report.summary, "boundary re-cut x1", "{report:?}");
        crate::physical::PhysicalPlan::from_logical(&plan).unwrap();
    }

    #[test]
    fn a_plan_without_the_rule_is_refused_by_physical_planning() {
        for mode in [BatchMode::Auto, BatchMode::Grouped] {
            let plan = split_scan()
                .push(PlanNode::Op(apply(mode)))
                .unwrap()
                .push(PlanNode::Collect)
                .unwrap();
            let without = Optimizer::default()
                .without("enforce_cohesion")
                .optimize(&plan)
                .unwrap();
            let err = crate::physical::PhysicalPlan::from_logical(&without.plan).unwrap_err();
            assert!(
                matches!(&err, crate::Error::PlanCheck { node, .. } if node.contains("stetson_j")),
                "{err}"
            );
            // With the rule, the same plan passes.
            let with = Optimizer::default().optimize(&plan).unwrap();
            crate::physical::PhysicalPlan::from_logical(&with.plan).unwrap();
        }
    }

    #[test]
    fn per_partition_is_allowed_on_split_input_with_a_warning() {
        let mut plan = split_scan()
            .push(PlanNode::Op(apply(BatchMode::PerPartition)))
            .unwrap();
        let report = EnforceCohesion.apply(&mut plan).unwrap();
        assert_eq!(report.warnings.len(), 1);
        crate::physical::PhysicalPlan::from_logical(&plan).unwrap();
    }
}
