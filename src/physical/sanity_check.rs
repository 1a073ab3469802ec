//! Physical planning's last check (DataFusion's `SanityCheckPlan`): every node's declared
//! [`InputRequirement`] must be met by what its input provides, and every edge must match
//! its node (an exchange by id goes into a shuffle, nothing else moves rows). A plan built
//! without `enforce_cohesion`, or broken by a faulty rule, is refused here instead of
//! silently computing per-lightcurve results on pieces of lightcurves.

use crate::error::{Error, Result};
use crate::plan::{InputRequirement, LogicalPlan, Movement, PlanNode, Scheme};

/// Checks `plan`; the error names the first node whose requirement is not met.
pub(crate) fn check(plan: &LogicalPlan) -> Result<()> {
    for ix in plan.chain() {
        let node = plan.node(ix);
        let reject = |message: String| Error::PlanCheck {
            node: node.short_name(),
            message,
        };
        let movement = plan.movement_into(ix);
        let is_shuffle = matches!(node, PlanNode::Shuffle(_));
        if is_shuffle != (movement == Some(Movement::ExchangeById)) {
            return Err(reject(format!(
                "rows reach it by {movement:?}; a shuffle needs an exchange by id and nothing else may have one"
            )));
        }
        let Some(input) = plan.input(ix) else {
            continue;
        };
        let provided = plan.props(input);
        let met = match node.requirement() {
            InputRequirement::Any | InputRequirement::PiecesAccepted => true,
            InputRequirement::WholeLightcurves => provided.cohesion.is_whole(),
            InputRequirement::HashById => provided.scheme == Scheme::HashById,
        };
        if !met {
            let wanted = match node.requirement() {
                InputRequirement::HashById => "rows hash-partitioned by id (mode=grouped)",
                _ => "whole lightcurves",
            };
            return Err(reject(format!(
                "requires {wanted}, but its input provides {provided} ({}); the enforce_cohesion rule inserts what is missing",
                provided.cohesion.reason()
            )));
        }
    }
    Ok(())
}
