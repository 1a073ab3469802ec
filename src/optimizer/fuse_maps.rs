//! Rule `fuse_maps`: consecutive per-partition operations become one node, run as one task
//! per partition with no intermediate hand-off.

use super::{Rule, RuleReport};
use crate::error::Result;
use crate::plan::{LogicalPlan, PlanNode};

/// See the module docs.
pub struct FuseMaps;

impl Rule for FuseMaps {
    fn name(&self) -> &'static str {
        "fuse_maps"
    }

    fn apply(&self, plan: &mut LogicalPlan) -> Result<RuleReport> {
        let mut report = RuleReport::new(self.name());
        let chain = plan.chain();
        // Maximal runs of consecutive Op nodes.
        let mut runs: Vec<Vec<_>> = Vec::new();
        let mut current = Vec::new();
        for ix in chain {
            if matches!(plan.node(ix), PlanNode::Op(_)) {
                current.push(ix);
            } else if !current.is_empty() {
                runs.push(std::mem::take(&mut current));
            }
        }
        if !current.is_empty() {
            runs.push(current);
        }
        let (mut before, mut after) = (0, 0);
        for run in runs.into_iter().filter(|r| r.len() > 1) {
            let ops: Vec<_> = run
                .iter()
                .filter_map(|&ix| match plan.node(ix) {
                    PlanNode::Op(op) => Some(op.clone()),
                    _ => None,
                })
                .collect();
            before += ops.len();
            after += 1;
            let top = *run.last().unwrap_or(&run[0]);
            for &ix in &run[..run.len() - 1] {
                plan.remove(ix);
            }
            let fused = PlanNode::Fused(ops);
            report.notes.push(format!(
                "{} runs as one task per partition (fused={})",
                fused.title(),
                run.len()
            ));
            *plan.node_mut(top) = fused;
        }
        if after > 0 {
            report.summary = format!("{before}->{after}");
        }
        Ok(report)
    }
}
