//! Rule `remove_redundant_shuffle`: a shuffle whose input is already hash-partitioned by
//! id into the same number of partitions moves nothing, so it goes.

use super::{Rule, RuleReport};
use crate::error::Result;
use crate::plan::{LogicalPlan, PlanNode, Scheme};

/// See the module docs.
pub struct RemoveRedundantShuffle;

impl Rule for RemoveRedundantShuffle {
    fn name(&self) -> &'static str {
        "remove_redundant_shuffle"
    }

    fn apply(&self, plan: &mut LogicalPlan) -> Result<RuleReport> {
        let mut report = RuleReport::new(self.name());
        let mut removed = 0;
        for ix in plan.chain() {
            let PlanNode::Shuffle(s) = plan.node(ix) else {
                continue;
            };
            let Some(input) = plan.input(ix) else {
                continue;
            };
            let props = plan.props(input);
            if props.scheme == Scheme::HashById && props.partitions == s.partitions {
                report.notes.push(format!(
                    "removed {}: input already Hash(id, {})",
                    plan.node(ix).title(),
                    props.partitions
                ));
                plan.remove(ix);
                removed += 1;
            }
        }
        if removed > 0 {
            report.summary = format!("removed x{removed}");
        }
        Ok(report)
    }
}
