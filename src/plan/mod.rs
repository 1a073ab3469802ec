//! The logical plan: a petgraph DAG of partition operations.
//!
//! Nodes are a closed enum ([`PlanNode`]); edges point from an input to its consumer and
//! state the data-movement contract ([`Movement`]): rows stay where they are, or are
//! exchanged by object id. The edge is the contract: whoever adds a node states the
//! movement into it, and a node's partitioning ([`LogicalPlan::props`]) follows from the
//! edge (after an exchange by id, rows are hash-partitioned by id and lightcurves whole). Every node knows its output schema ([`LogicalPlan::schema`]) and
//! partitioning ([`LogicalPlan::props`]); building a node with an unknown column fails at
//! once.

mod expr;
mod node;
mod properties;
mod query;
mod shipping;

pub use expr::{col, lit, ArithOp, CmpOp, Expr, ExprType, Func, Literal, Predicate};
pub use node::{
    key_type, AggregateNode, ApplySpec, BatchMode, InputRequirement, JoinObjectsSpec,
    KeepObjectsSpec, MapFunction, PartitionOp, PlanNode, PushedFilter, ScanNode, ShuffleNode,
};
pub(crate) use properties::node_props;
pub use properties::{count_overlapping, Cohesion, Props, Scheme};
pub use query::parse_query;

use crate::error::{Error, Result};
use arrow::datatypes::SchemaRef;
use petgraph::stable_graph::{NodeIndex, StableDiGraph};
use petgraph::visit::{EdgeRef, IntoEdgeReferences};
use petgraph::Direction;

/// How rows travel along an edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Movement {
    /// Rows stay in their partition (same task).
    Pipeline,
    /// Rows are routed to partitions by hash of the object id.
    ExchangeById,
}

/// A plan: a DAG whose single root is the final node.
#[derive(Clone, Debug)]
pub struct LogicalPlan {
    graph: StableDiGraph<PlanNode, Movement>,
    root: NodeIndex,
}

impl LogicalPlan {
    /// A plan that reads `scan`.
    pub fn scan(scan: ScanNode) -> Self {
        let mut graph = StableDiGraph::new();
        let root = graph.add_node(PlanNode::Scan(scan));
        LogicalPlan { graph, root }
    }

    /// A new plan with `node` on top of this one, rows flowing in by
    /// [`Movement::Pipeline`]; checks columns and types now. Shuffles are the optimizer's
    /// to insert, with an exchange edge.
    pub fn push(&self, node: PlanNode) -> Result<Self> {
        if matches!(node, PlanNode::Shuffle(_)) {
            return Err(Error::InvalidArgument(format!(
                "{}: shuffles are inserted by the optimizer (enforce_cohesion), not pushed",
                node.title()
            )));
        }
        self.push_with(node, Movement::Pipeline)
    }

    /// [`LogicalPlan::push`] with the movement into the new node stated (the optimizer's
    /// and tests' way to add a shuffle on top).
    pub(crate) fn push_with(&self, node: PlanNode, movement: Movement) -> Result<Self> {
        let top = &self.graph[self.root];
        let allowed = match top {
            PlanNode::Aggregate(_) => false,
            PlanNode::Collect => matches!(node, PlanNode::Aggregate(_)),
            _ => true,
        };
        if !allowed {
            return Err(Error::InvalidArgument(format!(
                "{} cannot follow {}: the plan already ends there",
                node.title(),
                top.title()
            )));
        }
        let mut plan = self.clone();
        let input = plan.root;
        plan.root = plan.graph.add_node(node);
        plan.graph.add_edge(input, plan.root, movement);
        plan.schema(plan.root)?;
        Ok(plan)
    }

    /// The final node.
    pub fn root(&self) -> NodeIndex {
        self.root
    }

    /// The node at `ix`.
    pub fn node(&self, ix: NodeIndex) -> &PlanNode {
        &self.graph[ix]
    }

    /// The node's single input, if any.
    pub fn input(&self, ix: NodeIndex) -> Option<NodeIndex> {
        self.graph
            .neighbors_directed(ix, Direction::Incoming)
            .next()
    }

    /// The node's consumer, if any.
    pub fn consumer(&self, ix: NodeIndex) -> Option<NodeIndex> {
        self.graph
            .neighbors_directed(ix, Direction::Outgoing)
            .next()
    }

    /// Nodes from the source up to the root.
    pub fn chain(&self) -> Vec<NodeIndex> {
        let mut v = vec![self.root];
        while let Some(i) = self.input(*v.last().unwrap_or(&self.root)) {
            v.push(i);
        }
        v.reverse();
        v
    }

    /// How rows reach `ix` from its input (`None` for the scan).
    pub fn movement_into(&self, ix: NodeIndex) -> Option<Movement> {
        self.graph
            .edges_directed(ix, Direction::Incoming)
            .next()
            .map(|e| *e.weight())
    }

    /// All edges as (input, consumer, movement).
    pub fn edges(&self) -> Vec<(NodeIndex, NodeIndex, Movement)> {
        (&self.graph)
            .edge_references()
            .map(|e| (e.source(), e.target(), *e.weight()))
            .collect()
    }

    /// Output schema of a node.
    pub fn schema(&self, ix: NodeIndex) -> Result<SchemaRef> {
        match &self.graph[ix] {
            PlanNode::Scan(s) => Ok(s.schema()),
            node => {
                let input = self.input(ix).ok_or_else(|| {
                    Error::InvalidArgument(format!("{} has no input", node.title()))
                })?;
                let schema = self.schema(input)?;
                match node {
                    PlanNode::Aggregate(a) => {
                        if !matches!(self.graph[input], PlanNode::Collect) {
                            return Err(Error::InvalidArgument(format!(
                                "{} must sit on a Collect",
                                node.title()
                            )));
                        }
                        Ok(a.schema.clone())
                    }
                    PlanNode::Op(op) => op.output_schema(&schema),
                    PlanNode::Fused(ops) => {
                        ops.iter().try_fold(schema, |s, op| op.output_schema(&s))
                    }
                    _ => Ok(schema),
                }
            }
        }
    }

    /// Output partitioning and cohesion of a node, from its input's and the movement of
    /// the edge between them.
    pub fn props(&self, ix: NodeIndex) -> Props {
        let input = self.input(ix).map(|i| self.props(i));
        let movement = self.movement_into(ix).unwrap_or(Movement::Pipeline);
        node_props(&self.graph[ix], input.as_ref(), movement)
    }

    /// Mutable access for optimizer rules.
    pub(crate) fn node_mut(&mut self, ix: NodeIndex) -> &mut PlanNode {
        &mut self.graph[ix]
    }

    /// Inserts `node` between `ix` and its input; rows reach `node` by `movement`, and
    /// reach `ix` as they reached it before.
    pub(crate) fn insert_below(
        &mut self,
        ix: NodeIndex,
        node: PlanNode,
        movement: Movement,
    ) -> NodeIndex {
        let input = self.input(ix);
        let before = self.movement_into(ix).unwrap_or(Movement::Pipeline);
        let new = self.graph.add_node(node);
        if let Some(input) = input {
            if let Some(e) = self.graph.find_edge(input, ix) {
                self.graph.remove_edge(e);
            }
            self.graph.add_edge(input, new, movement);
        }
        self.graph.add_edge(new, ix, before);
        new
    }

    /// Removes a single-input node, connecting its input to its consumer with the
    /// movement the consumer had.
    pub(crate) fn remove(&mut self, ix: NodeIndex) {
        let input = self.input(ix);
        let consumer = self.consumer(ix);
        let onward = consumer
            .and_then(|c| self.graph.find_edge(ix, c))
            .map_or(Movement::Pipeline, |e| self.graph[e]);
        self.graph.remove_node(ix);
        match (input, consumer) {
            (Some(i), Some(c)) => {
                self.graph.add_edge(i, c, onward);
            }
            (Some(i), None) => self.root = i,
            _ => {}
        }
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.graph.node_count()
    }

    /// Always false: a plan has at least its scan.
    pub fn is_empty(&self) -> bool {
        self.graph.node_count() == 0
    }
}
