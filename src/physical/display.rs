//! How stages are named in `explain()`, run metrics and task errors, kept apart from the
//! planning itself: `Scan -> filter(...) -> stetson_j -> ShuffleWrite(hash(id) -> 8)`.

use super::{PhysicalPlan, Stage, StageInput, StageOutput, Step};
use crate::plan::PlanNode;

impl PhysicalPlan {
    /// The chain of operators stage `index` runs, e.g.
    /// `ShuffleRead -> stetson_j -> Collect`.
    pub fn stage_label(&self, index: usize) -> String {
        let Some(stage) = self.stages.get(index) else {
            return String::new();
        };
        let mut parts = stage_parts(stage);
        if matches!(stage.output, StageOutput::Collect) {
            if let Some(a) = &self.aggregate {
                parts.push(PlanNode::Aggregate(a.clone()).title());
            }
        }
        parts.join(" -> ")
    }
}

impl PhysicalPlan {
    /// The parts of stage `index` in order: its input, each step, its output (what
    /// [`PhysicalPlan::stage_label`] joins with arrows, without the aggregate).
    pub fn stage_steps(&self, index: usize) -> Vec<String> {
        self.stages.get(index).map(stage_parts).unwrap_or_default()
    }
}

fn stage_parts(stage: &Stage) -> Vec<String> {
    let mut parts = vec![match stage.input {
        StageInput::Scan(_) => "Scan".to_string(),
        StageInput::Shuffle { .. } => "ShuffleRead".to_string(),
    }];
    parts.extend(stage.steps.iter().map(step_label));
    parts.push(match &stage.output {
        StageOutput::Shuffle {
            partitions,
            id_column,
            ..
        } => format!("ShuffleWrite(hash({id_column}) -> {partitions})"),
        StageOutput::Collect => "Collect".to_string(),
    });
    parts
}

fn step_label(step: &Step) -> String {
    if step.fused {
        let ops = step.ops.iter().map(|(op, _)| op.clone()).collect();
        PlanNode::Fused(ops).title()
    } else {
        step.ops
            .iter()
            .map(|(op, _)| op.label())
            .collect::<Vec<_>>()
            .join(" -> ")
    }
}
