//! What each plan node provides: how its output is partitioned and whether every
//! lightcurve is whole inside one partition (its cohesion), with the evidence.

use super::node::{PartitionOp, PlanNode, ScanNode};
use super::Movement;
use crate::io::IdRange;
use std::fmt;

/// Whether each lightcurve lies entirely inside one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cohesion {
    /// Proven whole; the string says how.
    Whole(String),
    /// Proven split (some partitions share ids); the string says where.
    Split(String),
    /// Not known.
    Unknown(String),
}

impl Cohesion {
    /// True when proven whole.
    pub fn is_whole(&self) -> bool {
        matches!(self, Cohesion::Whole(_))
    }
    /// The evidence.
    pub fn reason(&self) -> &str {
        match self {
            Cohesion::Whole(r) | Cohesion::Split(r) | Cohesion::Unknown(r) => r,
        }
    }
    /// `whole`, `split` or `unknown`.
    pub fn word(&self) -> &'static str {
        match self {
            Cohesion::Whole(_) => "whole",
            Cohesion::Split(_) => "split",
            Cohesion::Unknown(_) => "unknown",
        }
    }
}

/// How the rows of a node's output are spread over partitions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scheme {
    /// Slices of the source, sorted by id with known ranges.
    SortedById,
    /// Slices of the source with known id ranges.
    RangesKnown,
    /// Slices of the source, ranges unknown.
    Unknown,
    /// Hash of the id.
    HashById,
    /// Everything in one place.
    Single,
}

/// A node's output partitioning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Props {
    /// Number of partitions.
    pub partitions: usize,
    /// How rows are placed.
    pub scheme: Scheme,
    /// Lightcurve cohesion.
    pub cohesion: Cohesion,
    /// Rows, when known without running.
    pub rows: Option<usize>,
}

impl fmt::Display for Props {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.partitions;
        match self.scheme {
            Scheme::SortedById => write!(f, "SortedBy(id, {n}) ranges known")?,
            Scheme::RangesKnown => write!(f, "Ranges(id, {n}) known")?,
            Scheme::Unknown => write!(f, "Unknown({n})")?,
            Scheme::HashById => write!(f, "Hash(id, {n})")?,
            Scheme::Single => write!(f, "Single")?,
        }
        write!(f, "  lightcurves={}", self.cohesion.word())
    }
}

/// Properties of a scan, from its slices' id ranges.
pub fn scan_props(scan: &ScanNode) -> Props {
    let slices = scan.slices();
    let n = slices.len();
    let rows = slices.iter().map(|s| s.rows).sum();
    let ranges: Option<Vec<IdRange>> = slices.iter().map(|s| s.id_range).collect();
    let evidence = match scan.source.id_scan {
        None => "row-group statistics",
        Some(_) => "id column read once",
    };
    let (scheme, cohesion) = match ranges {
        None => (
            Scheme::Unknown,
            Cohesion::Unknown("id ranges unknown (no statistics)".into()),
        ),
        Some(r) => {
            let overlapping = count_overlapping(&r);
            let scheme = if scan.source.sorted == Some(true) {
                Scheme::SortedById
            } else {
                Scheme::RangesKnown
            };
            let cohesion = if overlapping == 0 {
                if scan.aligned {
                    Cohesion::Whole("cuts moved to lightcurve boundaries".into())
                } else {
                    Cohesion::Whole(format!("disjoint id ranges ({evidence})"))
                }
            } else {
                Cohesion::Split(format!(
                    "{overlapping} of {n} partitions overlap on id ({evidence})"
                ))
            };
            (scheme, cohesion)
        }
    };
    Props {
        partitions: n,
        scheme,
        cohesion,
        rows: Some(rows),
    }
}

/// Properties of `node` given its input's and how rows reach it.
pub fn node_props(node: &PlanNode, input: Option<&Props>, movement: Movement) -> Props {
    let unknown = || Props {
        partitions: 0,
        scheme: Scheme::Unknown,
        cohesion: Cohesion::Unknown("no input".into()),
        rows: None,
    };
    match node {
        PlanNode::Scan(s) => scan_props(s),
        PlanNode::Op(op) => op_props(op, input.cloned().unwrap_or_else(unknown)),
        PlanNode::Fused(ops) => ops
            .iter()
            .fold(input.cloned().unwrap_or_else(unknown), |p, op| {
                op_props(op, p)
            }),
        // The exchange edge does the regrouping; the node only names its partition count.
        PlanNode::Shuffle(s) if movement == Movement::ExchangeById => Props {
            partitions: s.partitions,
            scheme: Scheme::HashById,
            cohesion: Cohesion::Whole("hash(id) shuffle".into()),
            rows: input.and_then(|p| p.rows),
        },
        PlanNode::Shuffle(_) => input.cloned().unwrap_or_else(unknown),
        PlanNode::Aggregate(_) => Props {
            partitions: 1,
            scheme: Scheme::Single,
            cohesion: Cohesion::Whole("one partition".into()),
            rows: None,
        },
        PlanNode::Collect => Props {
            partitions: 1,
            scheme: Scheme::Single,
            cohesion: Cohesion::Whole("one partition".into()),
            rows: input.and_then(|p| p.rows),
        },
    }
}

fn op_props(op: &PartitionOp, input: Props) -> Props {
    match op {
        PartitionOp::Filter(_) | PartitionOp::Map(_) | PartitionOp::KeepObjects(_) => Props {
            rows: None,
            ..input
        },
        PartitionOp::Project(_)
        | PartitionOp::Assign(_)
        | PartitionOp::SortLightcurves(_)
        | PartitionOp::JoinObjects(_) => input,
        PartitionOp::Apply(_) => Props {
            rows: None,
            cohesion: match input.cohesion {
                Cohesion::Whole(_) => Cohesion::Whole("each object's rows in one partition".into()),
                Cohesion::Split(r) => Cohesion::Split(format!("one row per piece; {r}")),
                Cohesion::Unknown(r) => Cohesion::Unknown(r),
            },
            ..input
        },
    }
}

/// Number of partitions whose id range intersects another's.
pub fn count_overlapping(ranges: &[IdRange]) -> usize {
    let mut v = ranges.to_vec();
    v.sort_by_key(|r| (r.min, r.max));
    let mut count = 0;
    let mut running_max = i64::MIN;
    for i in 0..v.len() {
        let with_earlier = i > 0 && running_max >= v[i].min;
        let with_later = i + 1 < v.len() && v[i].max >= v[i + 1].min;
        if with_earlier || with_later {
            count += 1;
        }
        running_max = running_max.max(v[i].max);
    }
    count
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_count_is_exact() {
        let r = |a, b| IdRange { min: a, max: b };
        assert_eq!(count_overlapping(&[r(0, 1), r(2, 3), r(4, 5)]), 0);
        assert_eq!(count_overlapping(&[r(0, 2), r(2, 3), r(4, 5)]), 2);
        assert_eq!(count_overlapping(&[r(0, 10), r(2, 3), r(4, 5)]), 3);
    }
}
