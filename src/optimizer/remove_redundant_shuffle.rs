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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::executor::{Executor, ExecutorConfig};
    use crate::io::{ColumnMap, ParquetSource, Partitioning, SourceOptions};
    use crate::plan::{Movement, ScanNode, ShuffleNode};
    use std::sync::Arc;

    fn shuffle(n: usize) -> PlanNode {
        PlanNode::Shuffle(ShuffleNode {
            partitions: n,
            id_column: "ps1_objid".into(),
            reason: "test".into(),
        })
    }

    #[test]
    fn a_shuffle_on_a_shuffle_of_the_same_width_goes() {
        let source = ParquetSource::open(
            "data/tape/test_source.parquet",
            SourceOptions::new(ColumnMap::tape(), Partitioning::Count(4)),
            &Executor::new(ExecutorConfig::default().n_workers(1)).unwrap(),
        )
        .unwrap();
        let scan = ScanNode::new(Arc::new(source));
        let plan = LogicalPlan::scan(scan)
            .push_with(shuffle(4), Movement::ExchangeById)
            .unwrap();
        let mut same = plan.push_with(shuffle(4), Movement::ExchangeById).unwrap();
        let report = RemoveRedundantShuffle.apply(&mut same).unwrap();
        assert_eq!(report.summary, "removed x1");
        assert_eq!(same.len(), 2);
        // A different width really moves rows: it stays.
        let mut wider = plan.push_with(shuffle(8), Movement::ExchangeById).unwrap();
        let report = RemoveRedundantShuffle.apply(&mut wider).unwrap();
        assert!(report.summary.is_empty());
        assert_eq!(wider.len(), 3);
    }
}
