//! Rule `push_filters_into_scan`: filters right above a scan are handed to it, and the scan
//! leaves out the row groups whose column statistics prove that no row passes (DataFusion's
//! and Parquet's "row group pruning"). The filters still run on what is read, so the result
//! is the same with or without the rule; only fewer bytes are read and decoded.
//!
//! Where a file has a page index, the same proof runs per data page of the filtered
//! columns (in the row groups left in): pages of different columns start at different rows,
//! so each condition yields the rows it rules out, `and` joins them and `or` keeps the rows
//! both sides rule out; the scan leaves those rows out of its partitions.
//!
//! Statistics prove "no row passes", never "every row passes": NaN is outside Parquet's
//! bounds and fails every comparison but `!=`, and nulls fail all of them. So `not` never
//! prunes, and `!=` prunes only integer and string columns.

use super::{Rule, RuleReport};
use crate::error::Result;
use crate::format::thousands;
use crate::io::{
    column_stats, page_stats, ColumnStats, PageSkip, PageStats, ParquetSource, RowGroupSkip,
    RowRanges, StatValue,
};
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
        let pages = page_skip(&source, &filters, &skip);
        let (skipped, total) = skip.counts();
        let text: Vec<String> = filters.iter().map(|f| f.to_string()).collect();
        report.summary = format!("{skipped}/{total} row groups skipped");
        let mut note = format!(
            "filter({}) pushed into the scan: {} of {} row groups skipped by their statistics",
            text.join(" and "),
            thousands(skipped),
            thousands(total)
        );
        if pages.pages_total > 0 {
            note.push_str(&format!(
                "; {} of {} pages ({} rows) by the page index",
                thousands(pages.pages_skipped),
                thousands(pages.pages_total),
                thousands(pages.rows_skipped())
            ));
        }
        report.notes.push(note);
        if let PlanNode::Scan(s) = plan.node_mut(scan_ix) {
            s.pushed = Some(PushedFilter {
                filters,
                skip: Arc::new(skip),
                pages: Arc::new(pages),
            });
        }
        Ok(report)
    }
}

/// The rows of the row groups `skip` leaves in whose page statistics prove that no row
/// passes `filters`, per file, with the pages of the filtered columns counted.
fn page_skip(source: &ParquetSource, filters: &[Expr], skip: &RowGroupSkip) -> PageSkip {
    // Stored band codes are not the names a filter compares with.
    let coded = |c: &str| source.columns.band_codes.is_some() && c == source.columns.band;
    let mut columns: Vec<&str> = Vec::new();
    for e in filters {
        leaf_columns(e, &mut columns);
    }
    columns.retain(|c| !coded(c));
    let mut out = PageSkip::default();
    for (fi, f) in source.files.iter().enumerate() {
        let mut never = Vec::new();
        for g in 0..f.row_groups.len() {
            if skip.of_file(fi).get(g).copied().unwrap_or(false) {
                continue;
            }
            let pages: Vec<(&str, Vec<PageStats>)> = columns
                .iter()
                .filter_map(|&c| Some((c, page_stats(f, g, c)?)))
                .collect();
            if pages.is_empty() {
                continue;
            }
            let ruled_out = filters.iter().fold(RowRanges::default(), |acc, e| {
                acc.union(&never_rows(e, &pages))
            });
            for (_, p) in &pages {
                out.pages_total += p.len();
                out.pages_skipped += p.iter().filter(|p| ruled_out.contains(&p.rows)).count();
            }
            never.extend(ruled_out.ranges().iter().cloned());
        }
        out.skip.push(RowRanges::new(never));
    }
    out
}

/// The column a condition compares with literals (`c < 3`, `c in (..)`, `c is null`).
fn leaf_column(e: &Expr) -> Option<&str> {
    match e {
        Expr::Compare(a, _, b) => match (a.as_ref(), b.as_ref()) {
            (Expr::Column(c), Expr::Literal(_)) | (Expr::Literal(_), Expr::Column(c)) => Some(c),
            _ => None,
        },
        Expr::IsIn(a, _) | Expr::IsNull(a) => match a.as_ref() {
            Expr::Column(c) => Some(c),
            _ => None,
        },
        _ => None,
    }
}

/// The columns of the conditions of `e` that [`never_rows`] reads pages of.
fn leaf_columns<'a>(e: &'a Expr, out: &mut Vec<&'a str>) {
    match e {
        Expr::And(a, b) | Expr::Or(a, b) => {
            leaf_columns(a, out);
            leaf_columns(b, out);
        }
        _ => {
            if let Some(c) = leaf_column(e).filter(|c| !out.contains(c)) {
                out.push(c);
            }
        }
    }
}

/// The rows where page statistics (`pages` per column, absent without a page index) prove
/// that `e` does not hold: a condition on one column rules out the rows of its pages that
/// [`truth`] rules out; `and` rules out what either side does, `or` what both do.
fn never_rows(e: &Expr, pages: &[(&str, Vec<PageStats>)]) -> RowRanges {
    match e {
        Expr::And(a, b) => never_rows(a, pages).union(&never_rows(b, pages)),
        Expr::Or(a, b) => never_rows(a, pages).intersect(&never_rows(b, pages)),
        _ => {
            let Some((c, list)) = leaf_column(e).and_then(|c| pages.iter().find(|(n, _)| *n == c))
            else {
                return RowRanges::default();
            };
            RowRanges::new(
                list.iter()
                    .filter(|p| {
                        let stats = |n: &str| p.stats.clone().filter(|_| n == *c);
                        truth(e, &stats) == Truth::Never
                    })
                    .map(|p| p.rows.clone()),
            )
        }
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
