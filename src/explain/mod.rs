//! `explain()`: the plan as written, the optimized plan with the rules that fired and why,
//! and the physical stages. Text (stable, snapshot-tested) and Graphviz DOT.

mod analyze;

pub use analyze::{
    mask_varying, AnalyzeBadValues, AnalyzeNode, AnalyzeOp, AnalyzeReport, AnalyzeStage,
    ANALYZE_SCHEMA_VERSION, VARYING_KEYS,
};

use crate::analysis::FunctionRegistry;
use crate::error::Result;
use crate::format::thousands;
use crate::io::ParquetSource;
use crate::optimizer::OptimizedPlan;
use crate::physical::{PhysicalPlan, StageOutput};
use crate::plan::{LogicalPlan, PartitionOp, PlanNode};
use petgraph::stable_graph::NodeIndex;
use std::fmt::Write;

fn columns_summary(names: &[String], total: usize) -> String {
    const SHOW: usize = 6;
    let shown: Vec<&str> = names.iter().take(SHOW).map(|s| s.as_str()).collect();
    let more = if names.len() > SHOW { ", ..." } else { "" };
    format!(
        "cols={}/{} [{}{more}]",
        names.len(),
        total,
        shown.join(", ")
    )
}

fn scan_detail(
    source: &ParquetSource,
    projection: &[String],
    slices: usize,
    aligned: bool,
) -> String {
    let cut = if aligned {
        format!(
            "partitions={slices} (aligned to lightcurves; requested {}: {})",
            source.partitioning_label(),
            source.partitions.len()
        )
    } else {
        format!("partitions={slices} ({})", source.partitioning_label())
    };
    format!(
        "files={} row_groups={} {cut}  {}",
        source.files.len(),
        source.row_group_count(),
        columns_summary(projection, source.schema.fields().len())
    )
}

fn node_line(plan: &LogicalPlan, ix: NodeIndex) -> Result<String> {
    let node = plan.node(ix);
    let props = plan.props(ix);
    let schema = plan.schema(ix)?;
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let mut line = node.title();
    match node {
        PlanNode::Scan(s) => {
            write!(
                line,
                "  {}",
                scan_detail(&s.source, &s.projection, s.slices().len(), s.aligned)
            )
            .ok();
            if let Some(p) = &s.pushed {
                let (skipped, total) = p.skip.counts();
                let text: Vec<String> = p.filters.iter().map(|f| f.to_string()).collect();
                write!(
                    line,
                    "  pushed=[{}] row_groups_skipped={skipped}/{total}",
                    text.join(" and ")
                )
                .ok();
                // Only files with a page index for a filtered column have pages to count.
                if p.pages.pages_total > 0 {
                    write!(
                        line,
                        " pages_skipped={}/{}",
                        p.pages.pages_skipped, p.pages.pages_total
                    )
                    .ok();
                }
            }
        }
        PlanNode::Op(op) => {
            if let Some(r) = op.requirement().label() {
                write!(line, "  requires={r}").ok();
            }
            if matches!(
                op,
                PartitionOp::Apply(_) | PartitionOp::Project(_) | PartitionOp::Map(_)
            ) {
                write!(line, "  {}", columns_summary(&names, names.len())).ok();
            }
        }
        PlanNode::Fused(ops) => {
            write!(line, "  fused={}", ops.len()).ok();
            if let Some(r) = node.requirement().label() {
                write!(line, "  requires={r}").ok();
            }
            write!(line, "  {}", columns_summary(&names, names.len())).ok();
        }
        PlanNode::Shuffle(s) => {
            write!(line, "  reason: {}", s.reason).ok();
        }
        PlanNode::Collect => line.push_str("  order=id"),
        PlanNode::Aggregate(_) => {
            write!(
                line,
                "  on the collected rows  {}",
                columns_summary(&names, names.len())
            )
            .ok();
        }
    }
    write!(line, "  partitioning={props}").ok();
    if let Some(r) = props.rows {
        write!(line, "  rows={}", thousands(r)).ok();
    }
    Ok(line)
}

fn tree(plan: &LogicalPlan, out: &mut String) -> Result<()> {
    tree_marked(plan, out, &|_| None)
}

/// [`tree`] with `mark`'s note, when it has one for a node, after the node's line.
fn tree_marked(
    plan: &LogicalPlan,
    out: &mut String,
    mark: &dyn Fn(&PlanNode) -> Option<String>,
) -> Result<()> {
    let chain = plan.chain();
    for (depth, ix) in chain.iter().rev().enumerate() {
        let note = mark(plan.node(*ix))
            .map(|m| format!("  [{m}]"))
            .unwrap_or_default();
        writeln!(out, "{}{}{note}", "  ".repeat(depth), node_line(plan, *ix)?).ok();
    }
    Ok(())
}

/// What `explain()` adds for a frame that runs on a cluster.
#[derive(Debug)]
pub struct ClusterExplain<'a> {
    /// The scheduler's address, e.g. `df://127.0.0.1:50050`.
    pub address: &'a str,
    /// The registry executors rebuild functions from (by name).
    pub registry: &'a FunctionRegistry,
    /// The cluster engine's own stages for this plan as it prints them, or why there are
    /// none.
    pub stages: std::result::Result<String, String>,
}

/// The three views as text.
pub fn explain_text(
    written: &LogicalPlan,
    optimized: &OptimizedPlan,
    physical: &PhysicalPlan,
) -> Result<String> {
    explain_text_on(written, optimized, physical, None)
}

/// [`explain_text`] for a frame that runs on a cluster: nodes that cannot be shipped are
/// marked `[local only: why]` in the optimized plan, and a last section names the
/// scheduler, says whether the plan ships, and shows the cluster engine's stages.
pub fn explain_text_for_cluster(
    written: &LogicalPlan,
    optimized: &OptimizedPlan,
    physical: &PhysicalPlan,
    cluster: &ClusterExplain<'_>,
) -> Result<String> {
    explain_text_on(written, optimized, physical, Some(cluster))
}

fn explain_text_on(
    written: &LogicalPlan,
    optimized: &OptimizedPlan,
    physical: &PhysicalPlan,
    cluster: Option<&ClusterExplain<'_>>,
) -> Result<String> {
    let mut out = String::new();
    out.push_str("== Plan as written ==\n");
    tree(written, &mut out)?;
    let fired: Vec<String> = optimized
        .reports
        .iter()
        .filter(|r| !r.summary.is_empty())
        .map(|r| format!("{}({})", r.rule, r.summary))
        .collect();
    writeln!(
        out,
        "== Optimized plan ==  rules: {}",
        if fired.is_empty() {
            "none fired".to_string()
        } else {
            fired.join(", ")
        }
    )
    .ok();
    let local_only = |n: &PlanNode| {
        let c = cluster?;
        n.local_only_reason(c.registry)
            .map(|why| format!("local only: {why}"))
    };
    tree_marked(&optimized.plan, &mut out, &local_only)?;
    out.push_str("== Why ==\n");
    for r in &optimized.reports {
        for n in &r.notes {
            writeln!(out, "  {}: {n}", r.rule).ok();
        }
    }
    if optimized.reports.iter().all(|r| r.notes.is_empty()) {
        out.push_str("  nothing to decide: no per-lightcurve operation, every column is read\n");
    }
    let shuffles = physical
        .stages
        .iter()
        .filter(|s| matches!(s.output, StageOutput::Shuffle { .. }))
        .count();
    writeln!(
        out,
        "== Physical plan ==  stages={} tasks={} shuffles={shuffles}",
        physical.stages.len(),
        physical.tasks()
    )
    .ok();
    for (i, s) in physical.stages.iter().enumerate() {
        let n = s.tasks();
        writeln!(
            out,
            "  Stage {i}: {n} task{}  {}",
            if n == 1 { "" } else { "s" },
            physical.stage_label(i)
        )
        .ok();
    }
    let warnings = optimized.warnings();
    if !warnings.is_empty() {
        out.push_str("== Warnings ==\n");
        for w in warnings {
            writeln!(out, "  {w}").ok();
        }
    }
    if let Some(c) = cluster {
        cluster_section(&optimized.plan, c, &mut out);
    }
    Ok(out)
}

fn cluster_section(plan: &LogicalPlan, c: &ClusterExplain<'_>, out: &mut String) {
    writeln!(out, "== Cluster ==  {}", c.address).ok();
    let local = plan
        .chain()
        .into_iter()
        .filter(|ix| plan.node(*ix).local_only_reason(c.registry).is_some())
        .count();
    if local == 0 {
        out.push_str("  ships: every node, by name and parameters\n");
    } else {
        writeln!(
            out,
            "  ships: no; {local} node{} local only (marked above): compute() fails before \
             submitting",
            if local == 1 { " is" } else { "s are" }
        )
        .ok();
    }
    match &c.stages {
        Ok(text) => {
            for line in text.lines() {
                writeln!(out, "  {line}").ok();
            }
        }
        Err(why) => {
            writeln!(out, "  no cluster stages: {why}").ok();
        }
    }
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The optimized plan as a Graphviz digraph; edges say whether rows stay or are exchanged.
pub fn explain_dot(optimized: &OptimizedPlan) -> Result<String> {
    let plan = &optimized.plan;
    let mut out = String::from(
        "digraph plan {\n  rankdir=BT;\n  node [shape=box, fontname=\"monospace\"];\n",
    );
    for ix in plan.chain() {
        let props = plan.props(ix);
        writeln!(
            out,
            "  n{} [label=\"{}\\n{}\"];",
            ix.index(),
            dot_escape(&plan.node(ix).title()),
            dot_escape(&props.to_string())
        )
        .ok();
    }
    for (a, b, m) in plan.edges() {
        let label = match m {
            crate::plan::Movement::Pipeline => "pipeline",
            crate::plan::Movement::ExchangeById => "exchange by id",
        };
        writeln!(
            out,
            "  n{} -> n{} [label=\"{label}\"];",
            a.index(),
            b.index()
        )
        .ok();
    }
    out.push_str("}\n");
    Ok(out)
}

/// The physical plan as a Graphviz digraph: one cluster per stage (its tasks, input, fused
/// steps and output), exchanges between stages as dashed edges, then the collect (and the
/// whole-result aggregate, if any).
pub fn explain_dot_physical(physical: &PhysicalPlan) -> String {
    let mut out = String::from(
        "digraph physical {\n  rankdir=BT;\n  node [shape=box, fontname=\"monospace\"];\n",
    );
    let mut last_out = None;
    for (i, stage) in physical.stages.iter().enumerate() {
        let parts = physical.stage_steps(i);
        let n = stage.tasks();
        writeln!(out, "  subgraph cluster_s{i} {{").ok();
        writeln!(
            out,
            "    label=\"Stage {i}: {n} task{}\";",
            if n == 1 { "" } else { "s" }
        )
        .ok();
        for (k, part) in parts.iter().enumerate() {
            writeln!(out, "    s{i}_{k} [label=\"{}\"];", dot_escape(part)).ok();
            if k > 0 {
                writeln!(out, "    s{i}_{} -> s{i}_{k};", k - 1).ok();
            }
        }
        out.push_str("  }\n");
        if let Some(prev) = last_out {
            writeln!(
                out,
                "  {prev} -> s{i}_0 [label=\"exchange by id\", style=dashed];"
            )
            .ok();
        }
        last_out = Some(format!("s{i}_{}", parts.len().saturating_sub(1)));
    }
    if let (Some(a), Some(prev)) = (&physical.aggregate, last_out) {
        writeln!(
            out,
            "  aggregate [label=\"{}\"];\n  {prev} -> aggregate;",
            dot_escape(&PlanNode::Aggregate(a.clone()).title())
        )
        .ok();
    }
    out.push_str("}\n");
    out
}
