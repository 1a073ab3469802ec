//! Page-level pruning: what a file's page index (per-page min/max and null counts in the
//! column index, each page's first row in the offset index) tells about rows, and the row
//! ranges a scan leaves out because of it.
//!
//! Pages of different columns start at different rows, so everything here is in row space
//! (rows counted from the start of the file): a page's rows run from its `first_row_index`
//! to the next page's. A page whose index entry is absent, all-null or unusable has no
//! statistics and is never ruled out.

use super::parquet_source::SourceFile;
use super::statistics::{leaf_index, usable_stats, ColumnStats};
use parquet::data_type::ByteArray;
use parquet::file::page_index::column_index::ColumnIndexMetaData;
use parquet::file::statistics::Statistics;
use std::ops::Range;

/// One data page of one column chunk, as the page index describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct PageStats {
    /// Its rows, counted from the start of the file.
    pub rows: Range<usize>,
    /// Its bounds and null count, when the index has usable ones.
    pub stats: Option<ColumnStats>,
}

/// The pages of `column` in row group `rg` of `file`, when the file has a page index for
/// that column chunk that agrees with the footer (pages start at row 0 of the group, in
/// increasing order, inside it; as many column-index entries as pages). `None`: no page
/// index, so nothing finer than the row group is known.
pub fn page_stats(file: &SourceFile, rg: usize, column: &str) -> Option<Vec<PageStats>> {
    let leaf = leaf_index(&file.meta, column)?;
    let meta = file.meta.metadata();
    let group = file.row_groups.get(rg)?;
    let locations = meta.offset_index()?.get(rg)?.get(leaf)?.page_locations();
    let index = meta.column_index()?.get(rg)?.get(leaf)?;
    if matches!(index, ColumnIndexMetaData::NONE)
        || index.num_pages() != locations.len() as u64
        || locations.first()?.first_row_index != 0
    {
        return None;
    }
    let mut starts = Vec::with_capacity(locations.len() + 1);
    for l in locations {
        let first = usize::try_from(l.first_row_index).ok()?;
        if starts.last().is_some_and(|&s| s >= first) || first >= group.rows {
            return None;
        }
        starts.push(first);
    }
    starts.push(group.rows);
    let pages = starts
        .windows(2)
        .enumerate()
        .map(|(i, w)| PageStats {
            rows: group.start + w[0]..group.start + w[1],
            stats: page_statistics(index, i).and_then(|s| usable_stats(file, leaf, column, &s)),
        })
        .collect();
    Some(pages)
}

/// Page `i` of a column index as footer-style statistics, so that the row-group rules
/// (types, sort orders, NaN bounds) apply unchanged. An all-null page has no bounds.
fn page_statistics(index: &ColumnIndexMetaData, i: usize) -> Option<Statistics> {
    let nulls = index.null_count(i).and_then(|n| u64::try_from(n).ok());
    if index.is_null_page(i) {
        return None;
    }
    Some(match index {
        ColumnIndexMetaData::INT32(x) => Statistics::int32(
            x.min_value(i).copied(),
            x.max_value(i).copied(),
            None,
            nulls,
            false,
        ),
        ColumnIndexMetaData::INT64(x) => Statistics::int64(
            x.min_value(i).copied(),
            x.max_value(i).copied(),
            None,
            nulls,
            false,
        ),
        ColumnIndexMetaData::FLOAT(x) => Statistics::float(
            x.min_value(i).copied(),
            x.max_value(i).copied(),
            None,
            nulls,
            false,
        ),
        ColumnIndexMetaData::DOUBLE(x) => Statistics::double(
            x.min_value(i).copied(),
            x.max_value(i).copied(),
            None,
            nulls,
            false,
        ),
        ColumnIndexMetaData::BYTE_ARRAY(x) => Statistics::byte_array(
            x.min_value(i).map(|b| ByteArray::from(b.to_vec())),
            x.max_value(i).map(|b| ByteArray::from(b.to_vec())),
            None,
            nulls,
            false,
        ),
        _ => return None,
    })
}

/// Sorted, disjoint, non-empty row ranges.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RowRanges(Vec<Range<usize>>);

impl RowRanges {
    /// The ranges of `ranges` (in any order, possibly overlapping or touching), merged.
    pub fn new(ranges: impl IntoIterator<Item = Range<usize>>) -> Self {
        let mut v: Vec<Range<usize>> = ranges.into_iter().filter(|r| r.start < r.end).collect();
        v.sort_by_key(|r| r.start);
        let mut out: Vec<Range<usize>> = Vec::with_capacity(v.len());
        for r in v {
            match out.last_mut() {
                Some(last) if r.start <= last.end => last.end = last.end.max(r.end),
                _ => out.push(r),
            }
        }
        RowRanges(out)
    }

    /// The ranges, in row order.
    pub fn ranges(&self) -> &[Range<usize>] {
        &self.0
    }

    /// Whether no row is in the set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Rows in the set.
    pub fn rows(&self) -> usize {
        self.0.iter().map(|r| r.end - r.start).sum()
    }

    /// Rows in either set.
    pub fn union(&self, other: &RowRanges) -> RowRanges {
        RowRanges::new(self.0.iter().chain(&other.0).cloned())
    }

    /// Rows in both sets.
    pub fn intersect(&self, other: &RowRanges) -> RowRanges {
        let (mut i, mut j) = (0, 0);
        let mut out = Vec::new();
        while i < self.0.len() && j < other.0.len() {
            let (a, b) = (&self.0[i], &other.0[j]);
            let (lo, hi) = (a.start.max(b.start), a.end.min(b.end));
            if lo < hi {
                out.push(lo..hi);
            }
            if a.end <= b.end {
                i += 1;
            } else {
                j += 1;
            }
        }
        RowRanges(out)
    }

    /// Rows of `within` not in the set.
    pub fn complement_within(&self, within: Range<usize>) -> RowRanges {
        let mut out = Vec::new();
        let mut at = within.start;
        let first = self.0.partition_point(|r| r.end <= at);
        for r in &self.0[first..] {
            if r.start >= within.end {
                break;
            }
            if r.start > at {
                out.push(at..r.start);
            }
            at = at.max(r.end);
        }
        if at < within.end {
            out.push(at..within.end);
        }
        RowRanges(out)
    }

    /// Whether every row of `range` is in the set.
    pub fn contains(&self, range: &Range<usize>) -> bool {
        // The one range that could hold it: the last starting at or before its start.
        let i = self.0.partition_point(|r| r.start <= range.start);
        range.start >= range.end || (i > 0 && range.end <= self.0[i - 1].end)
    }
}

/// Rows a scan leaves out because page statistics prove that no row of their pages passes
/// its filters, on top of the row groups [`RowGroupSkip`](super::RowGroupSkip) leaves out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageSkip {
    /// `skip[file]`: rows of that file not read (none in a skipped row group).
    pub skip: Vec<RowRanges>,
    /// Pages of the filtered columns, in row groups not skipped whole, whose rows are all
    /// left out.
    pub pages_skipped: usize,
    /// Pages of the filtered columns with a page index, in row groups not skipped whole.
    pub pages_total: usize,
}

impl PageSkip {
    /// The rows left out of file `file` (none when unknown).
    pub fn of_file(&self, file: usize) -> Option<&RowRanges> {
        self.skip.get(file)
    }

    /// Rows left out over all files.
    pub fn rows_skipped(&self) -> usize {
        self.skip.iter().map(RowRanges::rows).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_range_algebra() {
        let a = RowRanges::new([5..10, 0..3, 2..4, 10..12, 20..20]);
        assert_eq!(a.ranges(), &[0..4, 5..12]);
        assert_eq!(a.rows(), 11);
        let b = RowRanges::new([3..6, 11..30]);
        assert_eq!(a.intersect(&b).ranges(), &[3..4, 5..6, 11..12]);
        assert_eq!(a.union(&b).ranges(), std::slice::from_ref(&(0..30)));
        assert_eq!(a.complement_within(2..15).ranges(), &[4..5, 12..15]);
        assert_eq!(a.complement_within(5..12).ranges(), &[] as &[Range<usize>]);
        assert_eq!(
            RowRanges::default().complement_within(1..3).ranges(),
            std::slice::from_ref(&(1..3))
        );
        assert!(a.contains(&(6..9)));
        assert!(!a.contains(&(3..6)));
        assert!(a.contains(&(7..7)));
    }
}
