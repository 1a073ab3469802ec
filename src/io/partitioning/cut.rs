//! Cutting a source's files into partition slices as [`Partitioning`] asks, and re-cutting
//! an id-sorted source at lightcurve boundaries (the optimizer's cheap alternative to a
//! shuffle).

use super::{Partitioning, MIN_SIZED_PARTITION_ROWS};
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
    /// Whether a byte size was so small that [`MIN_SIZED_PARTITION_ROWS`] set the cuts of
    /// some file instead.
    pub min_rows_applied: bool,
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
    let (cuts, min_rows_applied) = cut(files, partitioning, bytes_per_row)?;
    let partitions: Vec<PartitionSlice> = cuts.iter().map(|&c| describe(files, c, ids)).collect();
    let mut plan = PartitionPlan {
        partitions,
        min_rows_applied,
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

/// The row ranges `partitioning` asks for, file by file, and whether the row floor of a
/// byte size changed them.
fn cut(
    files: &[SourceFile],
    partitioning: &Partitioning,
    bytes_per_row: f64,
) -> Result<(Vec<Cut>, bool)> {
    let mut cuts = Vec::new();
    let mut min_rows_applied = false;
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
                let wanted = ((bytes / *b as f64).ceil() as usize).clamp(1, f.rows.max(1));
                // Floor division: every partition keeps at least the minimum rows.
                let most = (f.rows / MIN_SIZED_PARTITION_ROWS).max(1);
                min_rows_applied |= wanted > most;
                equal_cuts(file, f.rows, wanted.min(most), &mut cuts);
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
    Ok((cuts, min_rows_applied))
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

/// Moves every cut forward to the next id change, so no lightcurve straddles a cut; cuts
/// that land in the same lightcurve collapse into one boundary. Empty when a lightcurve
/// continues across a file boundary: that cannot be re-cut without moving rows, so the
/// optimizer shuffles instead.
///
/// O(rows + cuts): cuts arrive in row order within a file, and the boundary after a cut is
/// monotone in the cut, so a cut at or before the previous boundary collapses onto it
/// without looking at ids, and the rows scanned from one cut to its boundary are never
/// scanned again (a per-cut rescan made one 5 M-row lightcurve in 1 KB cuts quadratic).
fn align(cuts: &[Cut], ids: &[Vec<i64>]) -> Vec<PartitionSlice> {
    if crosses_files(ids) {
        return Vec::new();
    }
    // Boundaries (file, row), strictly increasing within a file.
    let mut starts: Vec<(usize, usize)> = Vec::with_capacity(cuts.len());
    for c in cuts {
        let start = match starts.last() {
            Some(&(file, previous)) if file == c.file && previous >= c.start => continue,
            _ => next_boundary(&ids[c.file], c.start),
        };
        // `start >= c.start >` any earlier boundary in this file: strictly increasing.
        starts.push((c.file, start));
    }
    let mut out = Vec::with_capacity(starts.len());
    for (k, &(file, start)) in starts.iter().enumerate() {
        let end = match starts.get(k + 1) {
            Some(&(f2, s2)) if f2 == file => s2,
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

/// The first row at or after `row` where a lightcurve begins (or `ids.len()`).
fn next_boundary(ids: &[i64], row: usize) -> usize {
    if row == 0 || row >= ids.len() {
        return row.min(ids.len());
    }
    let previous = ids[row - 1];
    row + ids[row..].iter().take_while(|&&x| x == previous).count()
}

/// Whether some file's first id equals the last id of the nearest non-empty file before it.
fn crosses_files(ids: &[Vec<i64>]) -> bool {
    let mut last: Option<i64> = None;
    for v in ids {
        if let (Some(l), Some(&first)) = (last, v.first()) {
            if l == first {
                return true;
            }
        }
        if let Some(&x) = v.last() {
            last = Some(x);
        }
    }
    false
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
    use proptest::prelude::*;

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

    /// The previous `align`, which rescanned the lightcurve from every cut: the reference
    /// for the new one, and the "before" of `align_timing`.
    fn align_by_rescan(cuts: &[Cut], ids: &[Vec<i64>]) -> Vec<PartitionSlice> {
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

    /// `n` equal cuts of every file.
    fn equal(ids: &[Vec<i64>], n: usize) -> Vec<Cut> {
        let mut cuts = Vec::new();
        for (file, v) in ids.iter().enumerate() {
            equal_cuts(file, v.len(), n, &mut cuts);
        }
        cuts
    }

    fn spans(slices: &[PartitionSlice]) -> Vec<(usize, usize, usize)> {
        slices.iter().map(|s| (s.file, s.start, s.rows)).collect()
    }

    #[test]
    fn thousands_of_cuts_in_one_lightcurve_collapse_into_one_partition() {
        let ids = vec![vec![7; 200_000]];
        let aligned = align(&equal(&ids, 5000), &ids);
        assert_eq!(spans(&aligned), vec![(0, 0, 200_000)]);
        assert_eq!(aligned[0].id_range, Some(IdRange { min: 7, max: 7 }));

        // Two huge lightcurves, and a small one: one partition each.
        let mut v = vec![1; 100_000];
        v.extend(std::iter::repeat_n(2, 99_999));
        v.push(3);
        let ids = vec![v];
        let aligned = align(&equal(&ids, 4000), &ids);
        assert_eq!(
            spans(&aligned),
            vec![(0, 0, 100_000), (0, 100_000, 99_999), (0, 199_999, 1)]
        );
    }

    #[test]
    fn cuts_on_boundaries_stay_and_cuts_in_the_last_lightcurve_go() {
        let ids = vec![vec![1, 1, 2, 2, 3, 3]];
        assert_eq!(
            spans(&align(&equal(&ids, 3), &ids)),
            vec![(0, 0, 2), (0, 2, 2), (0, 4, 2)]
        );
        // One cut per row: those inside a lightcurve go.
        let ids = vec![vec![1, 1, 2, 2, 2]];
        assert_eq!(
            spans(&align(&equal(&ids, 5), &ids)),
            vec![(0, 0, 2), (0, 2, 3)]
        );
        // One row per lightcurve, one cut per row: unchanged.
        let ids = vec![vec![1, 2, 3, 4]];
        assert_eq!(spans(&align(&equal(&ids, 4), &ids)).len(), 4);
    }

    #[test]
    fn empty_files_neither_cut_nor_hide_a_crossing() {
        let ids = vec![vec![], vec![1, 1, 2], vec![], vec![3, 3], vec![]];
        assert_eq!(
            spans(&align(&equal(&ids, 2), &ids)),
            vec![(1, 0, 2), (1, 2, 1), (3, 0, 2)]
        );
        // Lightcurve 1 continues past an empty file: no aligned cut.
        let ids = vec![vec![0, 1, 1], vec![], vec![1, 2]];
        assert!(align(&equal(&ids, 2), &ids).is_empty());
        assert!(align(&[], &[vec![], vec![]]).is_empty());
    }

    /// Files of sorted lightcurves (lengths), optionally continuing across files, and
    /// cut positions per file.
    fn layout() -> impl Strategy<Value = (Vec<Vec<i64>>, Vec<Cut>)> {
        let file = prop::collection::vec((1usize..40, any::<bool>()), 0..6);
        (prop::collection::vec(file, 1..5), any::<u64>()).prop_map(|(files, seed)| {
            let mut rng = crate::rng::Rng::new(seed);
            let mut id = 0i64;
            let mut ids = Vec::new();
            for lightcurves in files {
                let mut v = Vec::new();
                for (k, (len, continues)) in lightcurves.into_iter().enumerate() {
                    // The first lightcurve of a file may continue the previous file's last.
                    if !(k == 0 && continues) {
                        id += 1;
                    }
                    v.extend(std::iter::repeat_n(id, len));
                }
                ids.push(v);
            }
            // Random cuts: row 0 of each file, then each row with probability 1/8.
            let mut cuts = Vec::new();
            for (file, v) in ids.iter().enumerate() {
                let mut starts = vec![0];
                starts.extend((1..v.len()).filter(|_| rng.next_u64() % 8 == 0));
                for (k, &start) in starts.iter().enumerate() {
                    let end = starts.get(k + 1).copied().unwrap_or(v.len());
                    if end > start {
                        cuts.push(Cut {
                            file,
                            start,
                            rows: end - start,
                        });
                    }
                }
            }
            (ids, cuts)
        })
    }

    proptest! {
        #[test]
        fn aligned_cuts_cover_every_row_once_in_order_at_boundaries((ids, cuts) in layout()) {
            let aligned = align(&cuts, &ids);
            prop_assert_eq!(&aligned, &align_by_rescan(&cuts, &ids));
            if crosses_files(&ids) {
                prop_assert!(aligned.is_empty());
                return Ok(());
            }
            // Concatenated, the slices are every file's rows in order.
            let mut next = (0usize, 0usize);
            for s in &aligned {
                while next.0 < s.file && next.1 == ids[next.0].len() {
                    next = (next.0 + 1, 0);
                }
                prop_assert_eq!((s.file, s.start), next, "gap or overlap before {:?}", s);
                prop_assert!(s.rows > 0);
                next = (s.file, s.start + s.rows);
                let v = &ids[s.file][s.start..next.1];
                // No lightcurve straddles a cut.
                prop_assert!(s.start == 0 || ids[s.file][s.start - 1] != v[0]);
                prop_assert!(next.1 == ids[s.file].len() || ids[s.file][next.1] != v[v.len() - 1]);
                prop_assert_eq!(s.id_range, Some(IdRange { min: v[0], max: v[v.len() - 1] }));
            }
            let rows: usize = ids.iter().map(|v| v.len()).sum();
            prop_assert_eq!(aligned.iter().map(|s| s.rows).sum::<usize>(), rows);
            prop_assert!(aligned.len() <= cuts.len());
        }
    }

    /// Old and new `align` on one 5 M-row lightcurve in 1 KB cuts (about 40 rows each, as
    /// the CLI's `--partition-size 1KB` cut it before the row floor). Prints the times:
    /// `cargo test --lib align_timing -- --ignored --nocapture`.
    #[test]
    #[ignore = "timing, prints figures"]
    fn align_timing() {
        let rows = 5_000_000;
        let ids = vec![vec![1_000_000i64; rows]];
        let mut cuts = Vec::new();
        equal_cuts(0, rows, rows / 40, &mut cuts);
        let t = std::time::Instant::now();
        let new = align(&cuts, &ids);
        let new_s = t.elapsed().as_secs_f64();
        println!(
            "align, {} cuts over one {rows}-row lightcurve: {new_s:.4} s",
            cuts.len()
        );
        // The old one rescans from each cut to the lightcurve's end: time a prefix of the
        // cuts and scale by the rows every cut would scan.
        let sample = 20;
        let scanned = |cuts: &[Cut]| cuts.iter().map(|c| (rows - c.start) as f64).sum::<f64>();
        let t = std::time::Instant::now();
        let old = align_by_rescan(&cuts[..sample], &ids);
        let old_s = t.elapsed().as_secs_f64();
        println!(
            "old align, first {sample} cuts: {old_s:.3} s; all {} cuts ~ {:.0} s (scaled by rows scanned)",
            cuts.len(),
            old_s * scanned(&cuts) / scanned(&cuts[..sample])
        );
        assert_eq!(spans(&new), vec![(0, 0, rows)]);
        assert_eq!(old.len(), 1);
    }
}
