//! The optimizer: independent rules, one per module, each recording what it changed and
//! why. Rules act on facts nodes declare (required cohesion, provided partitioning).

mod enforce_cohesion;
mod fuse_maps;
mod prune_columns;
mod push_filters_into_scan;
mod remove_redundant_shuffle;

pub use enforce_cohesion::{EnforceCohesion, MAX_SHUFFLE_PARTITIONS};
pub use fuse_maps::FuseMaps;
pub use prune_columns::PruneColumns;
pub use push_filters_into_scan::PushFiltersIntoScan;
pub use remove_redundant_shuffle::RemoveRedundantShuffle;

use crate::error::Result;
use crate::plan::LogicalPlan;

/// What one rule did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleReport {
    /// The rule's name.
    pub rule: &'static str,
    /// A short summary for the header line, e.g. `5->4`; empty when the rule did not fire.
    pub summary: String,
    /// One line per decision, with the reason.
    pub notes: Vec<String>,
    /// Things the user should know (e.g. per-partition results on split lightcurves).
    pub warnings: Vec<String>,
}

impl RuleReport {
    /// A report for `rule` with nothing in it yet.
    pub fn new(rule: &'static str) -> Self {
        RuleReport {
            rule,
            summary: String::new(),
            notes: Vec::new(),
            warnings: Vec::new(),
        }
    }
}

/// A plan rewrite.
pub trait Rule: Send + Sync {
    /// The rule's name (`explain()` and [`Optimizer::without`] use it).
    fn name(&self) -> &'static str;
    /// Rewrites `plan` in place and says what it did.
    fn apply(&self, plan: &mut LogicalPlan) -> Result<RuleReport>;
}

/// The result of optimizing a plan.
#[derive(Debug, Clone)]
pub struct OptimizedPlan {
    /// The rewritten plan.
    pub plan: LogicalPlan,
    /// One report per rule, in the order they ran.
    pub reports: Vec<RuleReport>,
}

impl OptimizedPlan {
    /// All warnings of all rules.
    pub fn warnings(&self) -> Vec<String> {
        self.reports
            .iter()
            .flat_map(|r| r.warnings.clone())
            .collect()
    }
}

/// Runs the rules in order.
pub struct Optimizer {
    rules: Vec<Box<dyn Rule>>,
}

impl Default for Optimizer {
    /// `enforce_cohesion`, `remove_redundant_shuffle`, `prune_columns`,
    /// `push_filters_into_scan`, `fuse_maps`.
    fn default() -> Self {
        Optimizer {
            rules: vec![
                Box::new(EnforceCohesion),
                Box::new(RemoveRedundantShuffle),
                Box::new(PruneColumns),
                Box::new(PushFiltersIntoScan),
                Box::new(FuseMaps),
            ],
        }
    }
}

impl Optimizer {
    /// The default rules without the one named `rule` (to compare plans in `explain`).
    pub fn without(mut self, rule: &str) -> Self {
        self.rules.retain(|r| r.name() != rule);
        self
    }

    /// Names of the rules, in order.
    pub fn rule_names(&self) -> Vec<&'static str> {
        self.rules.iter().map(|r| r.name()).collect()
    }

    /// Optimizes a copy of `plan`.
    pub fn optimize(&self, plan: &LogicalPlan) -> Result<OptimizedPlan> {
        let mut plan = plan.clone();
        let mut reports = Vec::with_capacity(self.rules.len());
        for rule in &self.rules {
            reports.push(rule.apply(&mut plan)?);
        }
        plan.schema(plan.root())?;
        Ok(OptimizedPlan { plan, reports })
    }
}
