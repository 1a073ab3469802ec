//! `explain_analyze()`: the optimized plan after a run, each node annotated with what it
//! did (rows, lightcurves, time, bytes), like DataFusion's `EXPLAIN ANALYZE`. Text for
//! people and JSON with a versioned schema ([`ANALYZE_SCHEMA_VERSION`]) for programs.
//!
//! Times vary between runs; every varying value is written `key=value` with one of the keys
//! in [`VARYING_KEYS`], so tests and diffs can mask them.

use crate::error::{Error, Result};
use crate::format::{human_bytes, human_duration, thousands};
use crate::optimizer::OptimizedPlan;
use crate::physical::{NodeLocation, OpMetrics, PhysicalPlan, RunMetrics, StageMetrics};
use crate::plan::PlanNode;
use serde::Serialize;
use std::fmt::Write;
use std::time::Duration;

/// Version of the JSON layout of [`AnalyzeReport`]; bumped on any incompatible change.
pub const ANALYZE_SCHEMA_VERSION: u32 = 1;

/// Keys of the text whose values change from run to run (timings, scheduling, memory).
pub const VARYING_KEYS: &[&str] = &[
    "wall",
    "cpu",
    "read_cpu",
    "task_min",
    "task_median",
    "task_max",
    "steals",
    "peak_memory",
    "spilled",
];

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// One operator inside a fused node.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalyzeOp {
    /// The operator as `explain()` names it.
    pub title: String,
    /// Rows in, summed over tasks.
    pub rows_in: u64,
    /// Rows out.
    pub rows_out: u64,
    /// Lightcurves a per-lightcurve function saw (0 for other operators).
    pub lightcurves: u64,
    /// Time in the operator summed over tasks, milliseconds.
    pub cpu_ms: f64,
    /// Rows the operator left out for bad values, per column and reason.
    pub dropped: Vec<AnalyzeBadValues>,
}

/// One node of the optimized plan with its run's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalyzeNode {
    /// Depth in the tree (0 = top, the result).
    pub depth: usize,
    /// `scan`, `op`, `fused`, `shuffle`, `collect` or `aggregate`.
    pub kind: &'static str,
    /// The node as `explain()` names it.
    pub title: String,
    /// Stage that runs it (the writer, for a shuffle); `None` for collect and aggregate.
    pub stage: Option<usize>,
    /// Rows in, summed over tasks.
    pub rows_in: u64,
    /// Rows out.
    pub rows_out: u64,
    /// Lightcurves a per-lightcurve function saw.
    pub lightcurves: u64,
    /// Time spent in the node summed over tasks (for a scan: decoding), milliseconds.
    pub cpu_ms: f64,
    /// Bytes read from Parquet (scan).
    pub bytes_read: u64,
    /// Row groups skipped by pushed filters (scan).
    pub row_groups_skipped: usize,
    /// Row groups of the scanned files (scan).
    pub row_groups_total: usize,
    /// Pages of the filtered columns, in the row groups left in, whose rows the page index
    /// rules out (scan).
    pub pages_skipped: usize,
    /// Pages of the filtered columns with a page index, in the row groups left in (scan; 0
    /// without a page index).
    pub pages_total: usize,
    /// Rows the scan did not read because the page index rules them out (scan).
    pub page_rows_skipped: u64,
    /// Bytes routed through the shuffle (shuffle).
    pub bytes_shuffled: u64,
    /// Rows left out for bad values (by a function reading them), per column and reason.
    pub dropped: Vec<AnalyzeBadValues>,
    /// Operators of a fused node, outermost first (as `explain()` lists them).
    pub ops: Vec<AnalyzeOp>,
}

/// One stage of the physical plan with its run's figures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalyzeStage {
    /// Stage index.
    pub index: usize,
    /// Its operators.
    pub label: String,
    /// Tasks (one per partition).
    pub tasks: usize,
    /// Wall time, milliseconds.
    pub wall_ms: f64,
    /// Task time summed, milliseconds.
    pub cpu_ms: f64,
    /// Fastest task, milliseconds.
    pub task_min_ms: f64,
    /// Median task, milliseconds.
    pub task_median_ms: f64,
    /// Slowest task, milliseconds.
    pub task_max_ms: f64,
    /// Rows in.
    pub rows_in: u64,
    /// Rows out.
    pub rows_out: u64,
    /// Bytes read from Parquet.
    pub bytes_read: u64,
    /// Bytes written into the stage's output shuffle.
    pub bytes_shuffled: u64,
    /// Tasks stolen between threads while it ran.
    pub steals: u64,
}

/// Rows left out for one bad-value reason in one column.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalyzeBadValues {
    /// Column.
    pub column: String,
    /// Reason (`null`, `nan`, `infinite`, `not_positive`).
    pub reason: String,
    /// Rows.
    pub rows: u64,
}

/// The whole analysis of one run; [`AnalyzeReport::to_text`] and
/// [`AnalyzeReport::to_json`] render it. The JSON fields are the struct's fields, with
/// `schema_version` first; durations are milliseconds as floats, sizes are bytes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnalyzeReport {
    /// [`ANALYZE_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Wall time of the run, milliseconds.
    pub wall_ms: f64,
    /// Task time summed over all stages, milliseconds.
    pub cpu_ms: f64,
    /// Tasks over all stages.
    pub tasks: usize,
    /// Rows read from the source.
    pub rows_in: u64,
    /// Rows in the result.
    pub rows_out: u64,
    /// Bytes read from Parquet.
    pub bytes_read: u64,
    /// Bytes moved through shuffles.
    pub bytes_shuffled: u64,
    /// Most bytes held at once (the run's memory pool).
    pub peak_memory: u64,
    /// Bytes written to spill files.
    pub bytes_spilled: u64,
    /// Spill files written.
    pub spill_files: u64,
    /// Tasks stolen between threads.
    pub steals: u64,
    /// Rows left out for bad values.
    pub bad_values: Vec<AnalyzeBadValues>,
    /// Nodes of the optimized plan, top (result) first.
    pub nodes: Vec<AnalyzeNode>,
    /// Physical stages in execution order.
    pub stages: Vec<AnalyzeStage>,
}

fn dropped_list(counts: &crate::io::BadValueCounts) -> Vec<AnalyzeBadValues> {
    counts
        .iter()
        .map(|(column, reason, rows)| AnalyzeBadValues {
            column: column.to_string(),
            reason: reason.to_string(),
            rows,
        })
        .collect()
}

fn sum_ops(ops: &[OpMetrics]) -> (u64, u64, u64, Duration) {
    (
        ops.first().map_or(0, |o| o.rows_in),
        ops.last().map_or(0, |o| o.rows_out),
        ops.iter().map(|o| o.lightcurves).sum(),
        ops.iter().map(|o| o.busy).sum(),
    )
}

impl AnalyzeReport {
    /// Builds the report of a run of `physical` (made from `optimized`) from its metrics.
    pub fn new(
        optimized: &OptimizedPlan,
        physical: &PhysicalPlan,
        metrics: &RunMetrics,
    ) -> Result<Self> {
        let plan = &optimized.plan;
        let stage = |i: usize| -> Result<&StageMetrics> {
            metrics.stages.get(i).ok_or_else(|| Error::PlanCheck {
                node: format!("stage {i}"),
                message: "no metrics for this stage: the run did not reach it".into(),
            })
        };
        let last_rows = metrics.stages.last().map_or(0, |s| s.rows_out);
        let mut nodes = Vec::new();
        for (depth, ix) in plan.chain().into_iter().rev().enumerate() {
            let node = plan.node(ix);
            let location = physical
                .nodes
                .iter()
                .find(|(n, _)| *n == ix)
                .map(|(_, l)| *l);
            let mut out = AnalyzeNode {
                depth,
                kind: match node {
                    PlanNode::Scan(_) => "scan",
                    PlanNode::Op(_) => "op",
                    PlanNode::Fused(_) => "fused",
                    PlanNode::Shuffle(_) => "shuffle",
                    PlanNode::Collect => "collect",
                    PlanNode::Aggregate(_) => "aggregate",
                },
                title: node.title(),
                stage: None,
                rows_in: 0,
                rows_out: 0,
                lightcurves: 0,
                cpu_ms: 0.0,
                bytes_read: 0,
                row_groups_skipped: 0,
                row_groups_total: 0,
                pages_skipped: 0,
                pages_total: 0,
                page_rows_skipped: 0,
                bytes_shuffled: 0,
                dropped: Vec::new(),
                ops: Vec::new(),
            };
            match location {
                Some(NodeLocation::Scan { stage: si }) => {
                    let m = stage(si)?;
                    out.stage = Some(si);
                    out.rows_out = m.rows_in;
                    out.cpu_ms = ms(m.read_busy);
                    out.bytes_read = m.bytes_read;
                    out.page_rows_skipped = m.page_rows_skipped;
                    if let PlanNode::Scan(s) = node {
                        out.row_groups_total = s.source.row_group_count();
                        if let Some(p) = &s.pushed {
                            (out.row_groups_skipped, out.row_groups_total) = p.skip.counts();
                            (out.pages_skipped, out.pages_total) =
                                (p.pages.pages_skipped, p.pages.pages_total);
                        }
                    }
                }
                Some(NodeLocation::Step { stage: si, step }) => {
                    let m = stage(si)?;
                    let st = &physical.stages[si];
                    let first: usize = st.steps[..step].iter().map(|s| s.ops.len()).sum();
                    let count = st.steps[step].ops.len();
                    let ops = m.ops.get(first..first + count).unwrap_or(&[]);
                    let (rows_in, rows_out, lightcurves, busy) = sum_ops(ops);
                    out.stage = Some(si);
                    (out.rows_in, out.rows_out, out.lightcurves) = (rows_in, rows_out, lightcurves);
                    out.cpu_ms = ms(busy);
                    let mut dropped = crate::io::BadValueCounts::default();
                    for op in ops {
                        dropped.add(&op.bad_values);
                    }
                    out.dropped = dropped_list(&dropped);
                    if st.steps[step].fused {
                        out.ops = st.steps[step]
                            .ops
                            .iter()
                            .zip(ops)
                            .rev()
                            .map(|((op, _), m)| AnalyzeOp {
                                title: PlanNode::Op(op.clone()).title(),
                                rows_in: m.rows_in,
                                rows_out: m.rows_out,
                                lightcurves: m.lightcurves,
                                cpu_ms: ms(m.busy),
                                dropped: dropped_list(&m.bad_values),
                            })
                            .collect();
                    }
                }
                Some(NodeLocation::Shuffle { stage: si }) => {
                    let m = stage(si)?;
                    out.stage = Some(si);
                    out.rows_in = m.rows_out;
                    out.rows_out = m.rows_out;
                    out.bytes_shuffled = m.bytes_shuffled as u64;
                }
                Some(NodeLocation::Collect) => {
                    out.rows_in = last_rows;
                    out.rows_out = last_rows;
                }
                Some(NodeLocation::Aggregate) => {
                    out.rows_in = last_rows;
                    out.rows_out = metrics.rows_out;
                    out.cpu_ms = ms(metrics.aggregate_wall);
                }
                None => {}
            }
            nodes.push(out);
        }
        let stages = metrics
            .stages
            .iter()
            .enumerate()
            .map(|(i, m)| AnalyzeStage {
                index: i,
                label: m.label.clone(),
                tasks: m.tasks,
                wall_ms: ms(m.wall),
                cpu_ms: ms(m.busy),
                task_min_ms: ms(m.task_min),
                task_median_ms: ms(m.task_median),
                task_max_ms: ms(m.task_max),
                rows_in: m.rows_in,
                rows_out: m.rows_out,
                bytes_read: m.bytes_read,
                bytes_shuffled: m.bytes_shuffled as u64,
                steals: m.steals,
            })
            .collect();
        Ok(AnalyzeReport {
            schema_version: ANALYZE_SCHEMA_VERSION,
            wall_ms: ms(metrics.wall + metrics.aggregate_wall),
            cpu_ms: ms(
                metrics.stages.iter().map(|s| s.busy).sum::<Duration>() + metrics.aggregate_wall
            ),
            tasks: metrics.stages.iter().map(|s| s.tasks).sum(),
            rows_in: metrics.rows_in,
            rows_out: metrics.rows_out,
            bytes_read: metrics.bytes_read,
            bytes_shuffled: metrics.bytes_shuffled as u64,
            peak_memory: metrics.peak_memory as u64,
            bytes_spilled: metrics.bytes_spilled as u64,
            spill_files: metrics.spill_files as u64,
            steals: metrics.steals,
            bad_values: dropped_list(&metrics.bad_values),
            nodes,
            stages,
        })
    }

    /// The report as JSON (pretty-printed), fields as documented on the struct.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// The report as text: a summary line, the plan tree with `metrics=[...]` per node, the
    /// stages, and bad values if any.
    pub fn to_text(&self) -> String {
        let d = |ms: f64| human_duration(Duration::from_secs_f64(ms.max(0.0) / 1e3));
        let b = |bytes: u64| human_bytes(bytes as usize).replace(' ', "");
        let n = |v: u64| thousands(v as usize);
        let mut out = String::new();
        writeln!(
            out,
            "== Analyzed plan ==  wall={} cpu={} tasks={} steals={} rows_in={} rows_out={} \
             bytes_read={} bytes_shuffled={} peak_memory={} spilled={}",
            d(self.wall_ms),
            d(self.cpu_ms),
            self.tasks,
            self.steals,
            n(self.rows_in),
            n(self.rows_out),
            b(self.bytes_read),
            b(self.bytes_shuffled),
            b(self.peak_memory),
            b(self.bytes_spilled),
        )
        .ok();
        for node in &self.nodes {
            let indent = "  ".repeat(node.depth);
            let mut m: Vec<String> = Vec::new();
            match node.kind {
                "scan" => {
                    m.push(format!("rows_out={}", n(node.rows_out)));
                    m.push(format!("bytes_read={}", b(node.bytes_read)));
                    m.push(format!(
                        "row_groups_skipped={}/{}",
                        node.row_groups_skipped, node.row_groups_total
                    ));
                    if node.pages_total > 0 {
                        m.push(format!(
                            "pages_skipped={}/{} page_rows_skipped={}",
                            node.pages_skipped,
                            node.pages_total,
                            n(node.page_rows_skipped)
                        ));
                    }
                    m.push(format!("read_cpu={}", d(node.cpu_ms)));
                }
                "shuffle" => {
                    m.push(format!("rows={}", n(node.rows_out)));
                    m.push(format!("bytes_shuffled={}", b(node.bytes_shuffled)));
                }
                "collect" => m.push(format!("rows={}", n(node.rows_out))),
                _ => {
                    m.push(format!("rows_in={}", n(node.rows_in)));
                    m.push(format!("rows_out={}", n(node.rows_out)));
                    if node.lightcurves > 0 {
                        m.push(format!("lightcurves={}", n(node.lightcurves)));
                    }
                    m.push(format!("cpu={}", d(node.cpu_ms)));
                    if !node.dropped.is_empty() {
                        m.push(format!("dropped=[{}]", dropped_text(&node.dropped)));
                    }
                }
            }
            let stage = node
                .stage
                .map(|s| format!("  stage={s}"))
                .unwrap_or_default();
            writeln!(
                out,
                "{indent}{}{stage}  metrics=[{}]",
                node.title,
                m.join(", ")
            )
            .ok();
            for op in &node.ops {
                let mut lc = if op.lightcurves > 0 {
                    format!(", lightcurves={}", n(op.lightcurves))
                } else {
                    String::new()
                };
                if !op.dropped.is_empty() {
                    lc.push_str(&format!(", dropped=[{}]", dropped_text(&op.dropped)));
                }
                writeln!(
                    out,
                    "{indent}  · {}  metrics=[rows_in={}, rows_out={}{lc}, cpu={}]",
                    op.title,
                    n(op.rows_in),
                    n(op.rows_out),
                    d(op.cpu_ms)
                )
                .ok();
            }
        }
        out.push_str("== Stages ==\n");
        for s in &self.stages {
            let shuffled = if s.bytes_shuffled > 0 {
                format!(" bytes_shuffled={}", b(s.bytes_shuffled))
            } else {
                String::new()
            };
            writeln!(
                out,
                "  Stage {}: {} task{}  {}\n    rows_in={} rows_out={} bytes_read={}{shuffled} \
                 wall={} cpu={} task_min={} task_median={} task_max={} steals={}",
                s.index,
                s.tasks,
                if s.tasks == 1 { "" } else { "s" },
                s.label,
                n(s.rows_in),
                n(s.rows_out),
                b(s.bytes_read),
                d(s.wall_ms),
                d(s.cpu_ms),
                d(s.task_min_ms),
                d(s.task_median_ms),
                d(s.task_max_ms),
                s.steals
            )
            .ok();
        }
        if !self.bad_values.is_empty() {
            out.push_str("== Bad values (rows left out) ==\n");
            for bv in &self.bad_values {
                writeln!(out, "  {}: {} {}", bv.column, n(bv.rows), bv.reason).ok();
            }
        }
        out
    }
}

/// `flux: 3 nan; err: 1 not_positive`.
fn dropped_text(dropped: &[AnalyzeBadValues]) -> String {
    dropped
        .iter()
        .map(|d| format!("{}: {} {}", d.column, d.rows, d.reason))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Replaces the values of [`VARYING_KEYS`] with `*`, so two analyses of the same plan on
/// the same data compare equal (what the snapshot tests compare).
///
/// ```
/// use lsstseries::explain::mask_varying;
/// assert_eq!(mask_varying("a=1 wall=3.2ms rows=5, cpu=1s]"), "a=1 wall=* rows=5, cpu=*]");
/// ```
pub fn mask_varying(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(eq) = rest.find('=') {
        let (head, tail) = rest.split_at(eq);
        let key_start = head
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |i| i + 1);
        let key = &head[key_start..];
        out.push_str(head);
        out.push('=');
        let tail = &tail[1..];
        if VARYING_KEYS.contains(&key) {
            let end = tail
                .find(|c: char| c.is_whitespace() || c == ',' || c == ']')
                .unwrap_or(tail.len());
            out.push('*');
            rest = &tail[end..];
        } else {
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}
