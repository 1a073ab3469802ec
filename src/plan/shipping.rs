//! Which operations can run on a cluster. What travels to executors is names and
//! parameters (functions by their registry name, expressions as text), so an operation
//! holding code only this process has, a closure, stays local.

use super::node::{ApplySpec, PartitionOp, PlanNode};
use super::query::parse_query;
use super::Expr;
use crate::analysis::FunctionRegistry;

impl PartitionOp {
    /// Why this operation cannot be shipped to a cluster's executors, or `None` when it
    /// can: executors rebuild it from `registry` (which must be the one compiled into
    /// them) by name.
    pub fn local_only_reason(&self, registry: &FunctionRegistry) -> Option<String> {
        match self {
            PartitionOp::Map(_) => Some(
                "a map holds a closure, which cannot be shipped; use expressions (assign, \
                 filter) or a registered function"
                    .into(),
            ),
            PartitionOp::Apply(a) => apply_reason(a, registry),
            PartitionOp::KeepObjects(k) => {
                apply_reason(&k.apply, registry).or_else(|| expr_reason(&k.predicate))
            }
            PartitionOp::Filter(e) => expr_reason(e),
            PartitionOp::Assign(items) => items.iter().find_map(|(_, e)| expr_reason(e)),
            PartitionOp::JoinObjects(j) => j.table.path.to_str().is_none().then(|| {
                format!(
                    "the object file's path {} is not UTF-8",
                    j.table.path.display()
                )
            }),
            PartitionOp::Project(_) | PartitionOp::SortLightcurves(_) => None,
        }
    }
}

impl PlanNode {
    /// Why this node cannot run on a cluster (naming the operation of a fused chain that
    /// stays local), or `None`.
    pub fn local_only_reason(&self, registry: &FunctionRegistry) -> Option<String> {
        match self {
            PlanNode::Op(op) => op.local_only_reason(registry),
            PlanNode::Fused(ops) => ops.iter().find_map(|op| {
                op.local_only_reason(registry)
                    .map(|why| format!("{}: {why}", op.label()))
            }),
            PlanNode::Scan(_) | PlanNode::Shuffle(_) | PlanNode::Collect => None,
            // Runs where the result is gathered, never on executors.
            PlanNode::Aggregate(_) => None,
        }
    }
}

fn apply_reason(a: &ApplySpec, registry: &FunctionRegistry) -> Option<String> {
    let name = a.function.name();
    match registry.get_with_parameters(name, &a.function.parameters()) {
        Ok(_) => None,
        Err(crate::error::Error::UnknownFunction { .. }) => Some(format!(
            "function '{name}' is not in the function registry, so executors cannot find it \
             by name; register it (and compile it into the executor program)"
        )),
        Err(e) => Some(e.to_string()),
    }
}

/// Expressions travel as text; one that does not read back as written stays local.
fn expr_reason(e: &Expr) -> Option<String> {
    let text = e.to_string();
    match parse_query(&text) {
        Ok(back) if back == *e => None,
        _ => Some(format!(
            "the expression '{text}' does not read back as written"
        )),
    }
}
