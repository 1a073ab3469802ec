//! Rule `enforce_cohesion`: every per-lightcurve operation gets whole lightcurves.
//!
//! For each `Apply` the rule compares what it requires with what its input provides:
//! - input proven whole: nothing to do (and says why it is whole);
//! - mode `grouped`: a hash shuffle by id, as the user asked;
//! - input split but the source is sorted by id: the scan's cuts move to lightcurve
//!   boundaries (no data movement at all);
//! - otherwise: a hash shuffle by id, with the evidence that the input is split;
//! - mode `per-partition`: nothing, and a warning when the input is not proven whole.

use super::{Rule, RuleReport};
use crate::error::Result;
use crate::plan::{BatchMode, Cohesion, LogicalPlan, PartitionOp, PlanNode, Scheme, ShuffleNode};

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
            let PlanNode::Op(PartitionOp::Apply(spec)) = plan.node(ix) else {
                continue;
            };
            let (name, mode, id) = (
                spec.function.name().to_string(),
                spec.mode,
                spec.columns.id.clone(),
            );
            let Some(input) = plan.input(ix) else {
                continue;
            };
            let props = plan.props(input);
            let what = format!("Apply[{name}]");
            match mode {
                BatchMode::PerPartition => {
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
                BatchMode::Grouped => {
                    if props.scheme == Scheme::HashById {
                        report.notes.push(format!(
                            "{what}: mode=grouped, input already hash-partitioned by id"
                        ));
                        continue;
                    }
                    plan.insert_below(
                        ix,
                        PlanNode::Shuffle(ShuffleNode {
                            partitions: props.partitions.max(1),
                            id_column: id,
                            reason: "mode=grouped: always regroup by id (use_map=False)".into(),
                        }),
                    );
                    shuffles += 1;
                    report.notes.push(format!(
                        "{what}: shuffle inserted, mode=grouped regroups by id whatever the input ({})",
                        props.cohesion.reason()
                    ));
                }
                BatchMode::Auto => {
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
                    plan.insert_below(
                        ix,
                        PlanNode::Shuffle(ShuffleNode {
                            partitions: props.partitions.max(1),
                            id_column: id,
                            reason: format!(
                                "input {}: {}",
                                props.cohesion.word(),
                                props.cohesion.reason()
                            ),
                        }),
                    );
                    shuffles += 1;
                    report.notes.push(format!(
                        "{what}: shuffle inserted, input {} ({})",
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
                PartitionOp::Filter(_) | PartitionOp::Project(_) | PartitionOp::Map(_),
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
