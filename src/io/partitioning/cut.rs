//! Cutting a source's files into partition slices as [`Partitioning`] asks, and re-cutting
//! an id-sorted source at lightcurve boundaries (the optimizer's cheap alternative to a
//! shuffle).

use super::Partitioning;
use crate::error::{Error, Result};
use crate::io::parquet_source::SourceFile;
use crate::io::statistics::{stats_range_of_rows, IdRange};

/// One partition of a source: a contiguous row range inside one file.
#[derive(Debug, Clone, PartialEq)]
pub struct PartitionSlice {
    /// Index into [`ParquetSource::files`](crate::io::ParquetSource::files).
    pub file: usize,
    /// First row (within the file).
    pub start: usize,
    /// Number of rows.
    pub rows: usize,
    /// Smallest and largest id in the slice (as engine keys, see
    /// [`IdKey`](crate::io::IdKey)), if known.
    pub id_range: Option<IdRange>,
    /// Whether the rows are sorted by id, if known.
    pub sorted: Option<bool>,
}

/// Where a cut puts a partition, before its ids are known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cut {
    /// Index of the file.
    file: usize,
    /// First row within the file.
    start: usize,
    /// Number of rows (> 0).
    rows: usize,
}

/// The partitions planned for a source.
#[derive(Debug, Clone, Default)]
pub(crate) struct PartitionPlan {
    /// The partitions as requested.
    pub partitions: Vec<PartitionSlice>,
    /// The same rows re-cut at lightcurve boundaries, when the source is sorted by id and
    /// does not continue a lightcurve across files.
    pub aligned: Option<Vec<PartitionSlice>>,
    /// Whether the whole source (files in order) is sorted by id; known only with `ids`.
    pub sorted: Option<bool>,
}

/// Cuts `files` as `partitioning` asks and describes each slice. `ids` (each file's ids in
/// row order, when they were read) give exact id ranges, sortedness and the aligned cut;
/// without them id ranges come from row-group statistics.
pub(crate) fn plan(
    files: &[SourceFile],
    partitioning: &Partitioning,
    bytes_per_row: f64,
    ids: Option<&[Vec<i64>]>,
) -> Result<PartitionPlan> {
    let cuts = cut(files, partitioning, bytes_per_row)?;
    let partitions: Vec<PartitionSlice> = cuts.iter().map(|&c| describe(files, c, ids)).collect();
    let mut plan = PartitionPlan {
        partitions,
        ..PartitionPlan::default()
    };
    if let Some(ids) = ids {
        let sorted = plan.partitions.iter().all(|p| p.sorted == Some(true))
            && plan
                .partitions
                .windows(2)
                .all(|w| match (w[0].id_range, w[1].id_range) {
                    (Some(a), Some(b)) => a.max <= b.min,
                    _ => false,
                });
        plan.sorted = Some(sorted);
        if sorted {
            let aligned = align(&cuts, ids);
            plan.aligned = (!aligned.is_empty()).then_some(aligned);
        }
    }
    Ok(plan)
}

/// The row ranges `partitioning` asks for, file by file.
fn cut(files: &[SourceFile], partitioning: &Partitioning, bytes_per_row: f64) -> Result<Vec<Cut>> {
    let mut cuts = Vec::new();
    match partitioning {
        Partitioning::RowGroups => {
            for (file, f) in files.iter().enumerate() {
                for rg in f.row_groups.iter().filter(|rg| rg.rows > 0) {
                    cuts.push(Cut {
                        file,
                        start: rg.start,
                        rows: rg.rows,
                    });
                }
            }
        }
        Partitioning::Files => {
            for (file, f) in files.iter().enumerate() {
                if f.rows > 0 {
                    cuts.push(Cut {
                        file,
                        start: 0,
                        rows: f.rows,
                    });
                }
            }
        }
        Partitioning::Bytes(b) => {
            if *b == 0 {
                return Err(Error::InvalidArgument(
                    "partition size must be > 0 bytes".into(),
                ));
            }
            for (file, f) in files.iter().enumerate() {
                let bytes = f.rows as f64 * bytes_per_row;
                let n = ((bytes / *b as f64).ceil() as usize).clamp(1, f.rows.max(1));
                equal_cuts(file, f.rows, n, &mut cuts);
            }
        }
        Partitioning::Rows(r) => {
            if *r == 0 {
                return Err(Error::InvalidArgument(
                    "rows per partition must be > 0".into(),
                ));
            }
            for (file, f) in files.iter().enumerate() {
                let mut start = 0;
                while start < f.rows {
                    let rows = (*r).min(f.rows - start);
                    cuts.push(Cut { file, start, rows });
                    start += rows;
                }
            }
        }
        Partitioning::Count(n) => {
            if *n == 0 {
                return Err(Error::InvalidArgument("partition count must be > 0".into()));
            }
            let per_file = apportion(&files.iter().map(|f| f.rows).collect::<Vec<_>>(), *n);
            for (file, f) in files.iter().enumerate() {
                equal_cuts(file, f.rows, per_file[file], &mut cuts);
            }
        }
    }
    Ok(cuts)
}

/// Describes a cut: id range and sortedness from `ids` when they were read, else the id
/// range from the statistics of the row groups it touches.
fn describe(files: &[SourceFile], cut: Cut, ids: Option<&[Vec<i64>]>) -> PartitionSlice {
    match ids {
        Some(ids) => describe_from_ids(cut, ids),
        None => PartitionSlice {
            file: cut.file,
            start: cut.start,
            rows: cut.rows,
            id_range: stats_range_of_rows(&files[cut.file].row_groups, cut.start, cut.rows),
            sorted: None,
        },
    }
}

/// Describes a cut from the ids of its rows.
fn describe_from_ids(cut: Cut, ids: &[Vec<i64>]) -> PartitionSlice {
    let v = &ids[cut.file][cut.start..cut.start + cut.rows];
    let (mut lo, mut hi, mut sorted) = (i64::MAX, i64::MIN, true);
    for (i, &x) in v.iter().enumerate() {
        lo = lo.min(x);
        hi = hi.max(x);
        if i > 0 && v[i - 1] > x {
            sorted = false;
        }
    }
    PartitionSlice {
        file: cut.file,
        start: cut.start,
        rows: cut.rows,
        id_range: Some(IdRange { min: lo, max: hi }),
        sorted: Some(sorted),
    }
}

/// Moves every cut forward to the next id change, so no lightcurve straddles a cut.
/// Empty when a lightcurve continues across a file boundary: that cannot be re-cut
/// without moving rows, so the optimizer shuffles instead.
fn align(cuts: &[Cut], ids: &[Vec<i64>]) -> Vec<PartitionSlice> {
    let crosses_files = (1..ids.len()).any(|f| {
        let prev = (0..f).rev().find(|&p| !ids[p].is_empty());
        match (prev, ids[f].first()) {
            (Some(p), Some(first)) => ids[p].last() == Some(first),
            _ => false,
        }
    });
    if crosses_files {
        return Vec::new();
    }
    let starts: Vec<(usize, usize)> = cuts
        .iter()
        .map(|c| {
            let v = &ids[c.file];
            let mut s = c.start;
            if s > 0 {
                let prev = v[s - 1];
                while s < v.len() && v[s] == prev {
                    s += 1;
                }
            }
            (c.file, s)
        })
        .collect();
    let mut out = Vec::new();
    for (k, &(file, start)) in starts.iter().enumerate() {
        let end = match starts.get(k + 1) {
            Some(&(f2, s2)) if f2 == file => s2.max(start),
            _ => ids[file].len(),
        };
        if end > start {
            let cut = Cut {
                file,
                start,
                rows: end - start,
            };
            out.push(describe_from_ids(cut, ids));
        }
    }
    out
}

/// Appends `n` cuts of (nearly) equal rows covering `rows` rows of `file`.
fn equal_cuts(file: usize, rows: usize, n: usize, cuts: &mut Vec<Cut>) {
    if rows == 0 {
        return;
    }
    let n = n.clamp(1, rows);
    let mut start = 0;
    for k in 0..n {
        // In u128: `rows * (k + 1)` may not fit a usize; the quotient is at most `rows`.
        let end = (rows as u128 * (k as u128 + 1) / n as u128) as usize;
        if end > start {
            cuts.push(Cut {
                file,
                start,
                rows: end - start,
            });
        }
        start = end;
    }
}

/// Splits `n` partitions over files in proportion to their rows (largest remainder), at
/// least one per non-empty file. More partitions than rows would leave some empty, so `n`
/// is clamped to the row count: every partition gets at least one row. Products are taken
/// in `u128`, so no count overflows, and the remainder loop runs at most once per file.
fn apportion(rows: &[usize], n: usize) -> Vec<usize> {
    let total: u128 = rows.iter().map(|&r| r as u128).sum();
    let nonempty = rows.iter().filter(|&&r| r > 0).count();
    let n = (n as u128).min(total).max(nonempty as u128);
    let share = |r: usize| r as u128 * n / total.max(1);
    let mut out: Vec<usize> = rows
        .iter()
        // A share is at most `r`, so it fits a usize.
        .map(|&r| {
            if r == 0 {
                0
            } else {
                (share(r) as usize).max(1)
            }
        })
        .collect();
    let mut assigned: u128 = out.iter().map(|&k| k as u128).sum();
    let mut order: Vec<usize> = (0..rows.len()).filter(|&i| rows[i] > 0).collect();
    order.sort_by_key(|&i| std::cmp::Reverse((rows[i] as u128 * n) % total.max(1)));
    let mut k = 0;
    while assigned < n && !order.is_empty() {
        out[order[k % order.len()]] += 1;
        assigned += 1;
        k += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apportion_sums_to_request() {
        assert_eq!(apportion(&[100, 100], 4), vec![2, 2]);
        assert_eq!(apportion(&[300, 100], 4).iter().sum::<usize>(), 4);
        assert_eq!(apportion(&[10, 0, 10], 1), vec![1, 0, 1]);
    }

    #[test]
    fn apportion_clamps_absurd_counts_to_rows() {
        // Used to overflow `r * n`, then loop ~n times.
        let n = 10_000_000_000_000_000;
        assert_eq!(apportion(&[100, 50], n), vec![100, 50]);
        assert_eq!(apportion(&[3, 0, 2], usize::MAX), vec![3, 0, 2]);
        let big = usize::MAX / 2;
        assert_eq!(
            apportion(&[big, big], usize::MAX).iter().sum::<usize>(),
            2 * big
        );
        let mut cuts = Vec::new();
        equal_cuts(0, big, 3, &mut cuts);
        assert_eq!(cuts.iter().map(|c| c.rows).sum::<usize>(), big);
    }

    #[test]
    fn equal_cuts_cover_all_rows() {
        let mut cuts = Vec::new();
        equal_cuts(0, 2000, 15, &mut cuts);
        assert_eq!(cuts.len(), 15);
        assert_eq!(cuts.iter().map(|c| c.rows).sum::<usize>(), 2000);
        assert!(cuts
            .windows(2)
            .all(|w| w[0].start + w[0].rows == w[1].start));
    }

    #[test]
    fn align_moves_cuts_to_id_changes() {
        let ids = vec![vec![1, 1, 2, 2, 2, 3]];
        let cuts = [
            Cut {
                file: 0,
                start: 0,
                rows: 3,
            },
            Cut {
                file: 0,
                start: 3,
                rows: 3,
            },
        ];
        let aligned = align(&cuts, &ids);
        let spans: Vec<(usize, usize)> = aligned.iter().map(|s| (s.start, s.rows)).collect();
        assert_eq!(spans, vec![(0, 5), (5, 1)]);
        // A lightcurve continuing into the next file: no aligned cut.
        assert!(align(&cuts, &[vec![1, 1, 2, 2, 2, 3], vec![3, 4]]).is_empty());
    }
}
