//! Rule `prune_columns`: the scan decodes only the columns some operation above it reads.

use super::{Rule, RuleReport};
use crate::error::Result;
use crate::io::Role;
use crate::plan::{LogicalPlan, PartitionOp, PlanNode};
use std::collections::BTreeSet;

/// See the module docs.
pub struct PruneColumns;

/// Columns needed from a node's output: `None` means all of them.
type Needed = Option<BTreeSet<String>>;

fn through_op(op: &PartitionOp, needed: Needed) -> Needed {
    match op {
        PartitionOp::Filter(p) => needed.map(|mut n| {
            n.extend(p.columns());
            n
        }),
        PartitionOp::Project(cols) => Some(match needed {
            None => cols.iter().cloned().collect(),
            Some(n) => cols.iter().filter(|c| n.contains(*c)).cloned().collect(),
        }),
        // A map keeps its input columns and adds its own: it needs what is needed above
        // (less what it adds) plus what it reads; undeclared reads mean any column.
        PartitionOp::Map(m) => match (&m.reads, needed) {
            (Some(reads), Some(mut n)) => {
                for a in &m.added {
                    n.remove(a.name());
                }
                n.extend(reads.iter().cloned());
                Some(n)
            }
            _ => None,
        },
        PartitionOp::SortLightcurves(c) => needed.map(|mut n| {
            n.insert(c.id.clone());
            n.insert(c.time.clone());
            n
        }),
        // Later assignments may read earlier ones: walk them backwards.
        PartitionOp::Assign(items) => needed.map(|mut n| {
            for (name, e) in items.iter().rev() {
                n.remove(name);
                n.extend(e.columns());
            }
            n
        }),
        // Adds object columns by id: what is needed above, less what it adds, plus the id.
        PartitionOp::JoinObjects(j) => needed.map(|mut n| {
            for c in &j.columns {
                n.remove(c);
            }
            n.insert(j.id.clone());
            n
        }),
        // Keeps whole input rows: what is needed above, plus what its function reads.
        PartitionOp::KeepObjects(k) => needed.map(|mut n| {
            n.extend(k.apply.reads());
            n
        }),
        // Its output is new columns: it needs only what it reads (keys included).
        PartitionOp::Apply(a) => Some(a.reads().into_iter().collect()),
    }
}

impl Rule for PruneColumns {
    fn name(&self) -> &'static str {
        "prune_columns"
    }

    fn apply(&self, plan: &mut LogicalPlan) -> Result<RuleReport> {
        let mut report = RuleReport::new(self.name());
        let mut needed: Needed = None;
        let chain = plan.chain();
        for &ix in chain.iter().rev() {
            // A projection keeps only what is needed above it: the columns it would pass on
            // unread may be pruned from the scan below it.
            if let (Some(n), PlanNode::Op(PartitionOp::Project(cols))) = (&needed, plan.node(ix)) {
                let keep: Vec<String> = cols.iter().filter(|c| n.contains(*c)).cloned().collect();
                if keep.len() < cols.len() {
                    *plan.node_mut(ix) = PlanNode::Op(PartitionOp::Project(keep));
                }
            }
            needed = match plan.node(ix) {
                PlanNode::Op(op) => through_op(op, needed),
                PlanNode::Fused(ops) => ops.iter().rev().fold(needed, |n, op| through_op(op, n)),
                PlanNode::Shuffle(s) => needed.map(|mut n| {
                    n.insert(s.id_column.clone());
                    n
                }),
                PlanNode::Collect => needed,
                // The aggregation may read any collected column.
                PlanNode::Aggregate(_) => None,
                PlanNode::Scan(scan) => {
                    let Some(n) = &needed else { break };
                    let id = scan.source.columns.column(Role::Id).to_string();
                    let before = scan.projection.len();
                    let keep: Vec<String> = scan
                        .projection
                        .iter()
                        .filter(|c| n.contains(*c) || **c == id)
                        .cloned()
                        .collect();
                    let skipped: Vec<String> = scan
                        .projection
                        .iter()
                        .filter(|c| !keep.contains(c))
                        .cloned()
                        .collect();
                    if !skipped.is_empty() {
                        report.summary = format!("{before}->{}", keep.len());
                        report.notes.push(format!(
                            "scan decodes {} of {before} columns [{}]; skips [{}]",
                            keep.len(),
                            keep.join(", "),
                            skipped.join(", ")
                        ));
                        if let PlanNode::Scan(s) = plan.node_mut(ix) {
                            s.projection = keep;
                        }
                    }
                    break;
                }
            };
        }
        Ok(report)
    }
}
