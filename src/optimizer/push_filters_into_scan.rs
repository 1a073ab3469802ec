//! Rule `push_filters_into_scan`: filters right above a scan are handed to it, and the scan
//! leaves out the row groups whose column statistics prove that no row passes (DataFusion's
//! and Parquet's "row group pruning"). The filters still run on what is read, so the result
//! is the same with or without the rule; only fewer bytes are read and decoded.
//!
//! Statistics prove "no row passes", never "every row passes": NaN is outside Parquet's
//! bounds and fails every comparison but `!=`, and nulls fail all of them. So `not` never
//! prunes, and `!=` prunes only integer and string columns.

use super::{Rule, RuleReport};
use crate::error::Result;
use crate::format::thousands;
use crate::io::{column_stats, ColumnStats, RowGroupSkip, StatValue};
use crate::plan::{CmpOp, Expr, Literal, LogicalPlan, PartitionOp, PlanNode, PushedFilter};
use std::sync::Arc;

/// What statistics prove about a condition over one row group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Truth {
    /// No row of the group passes.
    Never,
    /// Some rows may pass.
    Maybe,
}

/// Hands filters above the scan to it, with the row groups they rule out.
pub struct PushFiltersIntoScan;

impl Rule for PushFiltersIntoScan {
    fn name(&self) -> &'static str {
        "push_filters_into_scan"
    }

    fn apply(&self, plan: &mut LogicalPlan) -> Result<RuleReport> {
        let mut report = RuleReport::new(self.name());
        let chain = plan.chain();
        let Some((&scan_ix, above)) = chain.split_first() else {
            return Ok(report);
        };
        let PlanNode::Scan(scan) = plan.node(scan_ix) else {
            return Ok(report);
        };
        // Filters and projections keep the scan's column names, so filters above them
        // still read scanned columns.
        let mut filters = Vec::new();
        for &ix in above {
            match plan.node(ix) {
                PlanNode::Op(PartitionOp::Filter(p)) => filters.push(p.clone()),
                PlanNode::Op(PartitionOp::Project(_)) => continue,
                _ => break,
            }
        }
        if filters.is_empty() {
            return Ok(report);
        }
        let source = scan.source.clone();
        let skip: Vec<Vec<bool>> = source
            .files
            .iter()
            .map(|f| {
                (0..f.row_groups.len())
                    .map(|g| {
                        // Stored band codes are not the names a filter compares with.
                        let coded = |c: &str| {
                            source.columns.band_codes.is_some() && c == source.columns.band
                        };
                        let stats = |c: &str| column_stats(f, g, c).filter(|_| !coded(c));
                        filters.iter().any(|e| truth(e, &stats) == Truth::Never)
                    })
                    .collect()
            })
            .collect();
        let skip = RowGroupSkip { skip };
        let (skipped, total) = skip.counts();
        let text: Vec<String> = filters.iter().map(|f| f.to_string()).collect();
        report.summary = format!("{skipped}/{total} row groups skipped");
        report.notes.push(format!(
            "filter({}) pushed into the scan: {} of {} row groups skipped by their statistics",
            text.join(" and "),
            thousands(skipped),
            thousands(total)
        ));
        if let PlanNode::Scan(s) = plan.node_mut(scan_ix) {
            s.pushed = Some(PushedFilter {
                filters,
                skip: Arc::new(skip),
            });
        }
        Ok(report)
    }
}

/// What the statistics (`stats` per column) of a row group prove about `e`.
fn truth(e: &Expr, stats: &dyn Fn(&str) -> Option<ColumnStats>) -> Truth {
    use Truth::{Maybe, Never};
    match e {
        Expr::Compare(a, op, b) => match (a.as_ref(), b.as_ref()) {
            (Expr::Column(c), Expr::Literal(v)) => compare(stats(c), *op, v),
            (Expr::Literal(v), Expr::Column(c)) => compare(stats(c), flip(*op), v),
            _ => Maybe,
        },
        Expr::And(a, b) => {
            if truth(a, stats) == Never || truth(b, stats) == Never {
                Never
            } else {
                Maybe
            }
        }
        Expr::Or(a, b) => {
            if truth(a, stats) == Never && truth(b, stats) == Never {
                Never
            } else {
                Maybe
            }
        }
        Expr::IsIn(a, values) => match a.as_ref() {
            Expr::Column(c) => {
                let s = stats(c);
                if values
                    .iter()
                    .all(|v| compare(s.clone(), CmpOp::Eq, v) == Never)
                {
                    Never
                } else {
                    Maybe
                }
            }
            _ => Maybe,
        },
        Expr::IsNull(a) => match a.as_ref() {
            Expr::Column(c) if stats(c).and_then(|s| s.null_count) == Some(0) => Never,
            _ => Maybe,
        },
        // `not` of "no row passes" may still pass nothing (nulls) or everything: unknown.
        _ => Maybe,
    }
}

fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::LtEq => CmpOp::GtEq,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::GtEq => CmpOp::LtEq,
        other => other,
    }
}

/// Whether `column op value` can hold for a value in `[min, max]`.
fn compare(stats: Option<ColumnStats>, op: CmpOp, value: &Literal) -> Truth {
    use std::cmp::Ordering;
    let Some(s) = stats else {
        return Truth::Maybe;
    };
    // (min vs value, max vs value), in one domain; anything else is unknown.
    const EXACT: i64 = 1 << 53;
    let as_f64 = |b: &StatValue| match b {
        StatValue::Int(i) if i.abs() <= EXACT => Some(*i as f64),
        StatValue::Float(f) => Some(*f),
        _ => None,
    };
    let float_column = matches!(s.min, StatValue::Float(_));
    let order = |bound: &StatValue| -> Option<Ordering> {
        match (bound, value) {
            (StatValue::Int(b), Literal::Int(v)) => Some(b.cmp(v)),
            (StatValue::Bytes(b), Literal::Str(v)) => Some(b.as_slice().cmp(v.as_bytes())),
            (_, Literal::Float(v)) if v.is_nan() => None,
            (_, Literal::Int(v)) if v.abs() <= EXACT => as_f64(bound)?.partial_cmp(&(*v as f64)),
            (_, Literal::Float(v)) => as_f64(bound)?.partial_cmp(v),
            _ => None,
        }
    };
    let (Some(lo), Some(hi)) = (order(&s.min), order(&s.max)) else {
        return Truth::Maybe;
    };
    let never = match op {
        CmpOp::Eq => lo == Ordering::Greater || hi == Ordering::Less,
        // NaN rows (not in the bounds) pass `!=`.
        CmpOp::NotEq => !float_column && lo == Ordering::Equal && hi == Ordering::Equal,
        CmpOp::Lt => lo != Ordering::Less,
        CmpOp::LtEq => lo == Ordering::Greater,
        CmpOp::Gt => hi != Ordering::Greater,
        CmpOp::GtEq => hi == Ordering::Less,
    };
    if never {
        Truth::Never
    } else {
        Truth::Maybe
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{col, lit};

    fn stats(min: StatValue, max: StatValue, nulls: u64) -> Option<ColumnStats> {
        Some(ColumnStats {
            min,
            max,
            null_count: Some(nulls),
        })
    }

    #[test]
    fn bounds_prove_only_what_they_can() {
        use StatValue::{Bytes, Float, Int};
        let f = |e: Expr, s: Option<ColumnStats>| {
            let s2 = s.clone();
            truth(&e, &move |_| s2.clone())
        };
        let ints = stats(Int(5), Int(9), 0);
        assert_eq!(f(col("a").gt(9), ints.clone()), Truth::Never);
        assert_eq!(f(col("a").gt_eq(9), ints.clone()), Truth::Maybe);
        assert_eq!(f(col("a").lt(5), ints.clone()), Truth::Never);
        assert_eq!(f(col("a").eq(4.5), ints.clone()), Truth::Never);
        assert_eq!(f(lit(10).lt(col("a")), ints.clone()), Truth::Never);
        assert_eq!(f(col("a").is_in([1, 2, 10]), ints.clone()), Truth::Never);
        assert_eq!(f(col("a").is_in([1, 7]), ints.clone()), Truth::Maybe);
        assert_eq!(f(col("a").is_null(), ints.clone()), Truth::Never);
        assert_eq!(f(!col("a").lt(5), ints.clone()), Truth::Maybe);
        assert_eq!(
            f(col("a").gt(9).or(col("a").lt(5)), ints.clone()),
            Truth::Never
        );
        assert_eq!(
            f(col("a").gt(9).and(col("a").gt(1)), ints.clone()),
            Truth::Never
        );
        let one = stats(Int(3), Int(3), 0);
        assert_eq!(f(col("a").not_eq(3), one), Truth::Never);
        // NaN rows are outside float bounds and pass `!=`.
        let floats = stats(Float(3.0), Float(3.0), 0);
        assert_eq!(f(col("x").not_eq(3.0), floats.clone()), Truth::Maybe);
        assert_eq!(f(col("x").gt(f64::NAN), floats), Truth::Maybe);
        let strings = stats(Bytes(b"g".to_vec()), Bytes(b"i".to_vec()), 0);
        assert_eq!(f(col("b").eq("z"), strings.clone()), Truth::Never);
        assert_eq!(f(col("b").eq("h"), strings.clone()), Truth::Maybe);
        assert_eq!(f(col("b").eq(3), strings), Truth::Maybe);
        assert_eq!(f(col("a").gt(1), None), Truth::Maybe);
        // Ints beyond 2^53 are not compared through f64.
        let big = stats(Int(1 << 60), Int((1 << 60) + 2), 0);
        assert_eq!(f(col("a").gt(1.5), big.clone()), Truth::Maybe);
        assert_eq!(f(col("a").gt((1i64 << 60) + 2), big), Truth::Never);
    }
}
