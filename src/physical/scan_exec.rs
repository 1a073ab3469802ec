//! Reading one partition of a scan, leaving out the row groups its pushed filters rule out
//! and the rows of pages the page index rules out.

use crate::error::Result;
use crate::io::{PartitionSlice, RowRanges};
use crate::plan::ScanNode;
use arrow::array::RecordBatch;
use std::ops::Range;

/// A partition as read: the batch, the bytes read from the file, and the rows of the slice
/// the page index left out.
pub struct ScanRead {
    /// The partition's rows that may pass the pushed filters, in file order.
    pub batch: RecordBatch,
    /// Bytes read from the file.
    pub bytes_read: u64,
    /// Rows not read because page statistics rule them out.
    pub page_rows_skipped: u64,
}

/// Decodes partition `index` of `scan` with its projection. Rows of skipped row groups and
/// of ruled-out pages are not read (the filter above would drop them all); the rest is read
/// as one selection of row ranges, so row numbers in errors stay right.
pub fn read_partition(scan: &ScanNode, index: usize) -> Result<ScanRead> {
    let slice = &scan.slices()[index];
    let (ranges, page_rows_skipped) = rows_to_read(scan, slice);
    let whole = ranges.len() == 1 && ranges[0] == (slice.start..slice.start + slice.rows);
    let (batch, bytes_read) = if whole {
        scan.source
            .read_checked(slice, &scan.projection, &scan.checked)?
    } else if ranges.is_empty() {
        (RecordBatch::new_empty(scan.schema()), 0)
    } else {
        scan.source
            .read_rows_checked(slice, &ranges, &scan.projection, &scan.checked)?
    };
    Ok(ScanRead {
        batch,
        bytes_read,
        page_rows_skipped: page_rows_skipped as u64,
    })
}

/// The rows partition `index` of `scan` reads, and the rows the page index leaves out of
/// it: known from the plan before anything is read (what a run elsewhere, on a cluster,
/// reports for its scan).
pub fn planned_rows(scan: &ScanNode, index: usize) -> (u64, u64) {
    let (ranges, skipped) = rows_to_read(scan, &scan.slices()[index]);
    (ranges.iter().map(|r| r.len() as u64).sum(), skipped as u64)
}

/// The rows of `slice` to read: those of row groups not skipped, less the rows the page
/// index rules out; also how many rows the page index took away.
fn rows_to_read(scan: &ScanNode, slice: &PartitionSlice) -> (Vec<Range<usize>>, usize) {
    let all = slice.start..slice.start + slice.rows;
    let groups = scan.skip().map(|s| s.of_file(slice.file)).unwrap_or(&[]);
    let skipped_groups = RowRanges::new(
        scan.source.files[slice.file]
            .row_groups
            .iter()
            .zip(groups)
            .filter(|(_, &s)| s)
            .map(|(rg, _)| rg.start..rg.start + rg.rows),
    );
    let kept = skipped_groups.complement_within(all.clone());
    let Some(pages) = scan
        .page_skip()
        .and_then(|p| p.of_file(slice.file))
        .filter(|p| !p.is_empty())
    else {
        return (kept.ranges().to_vec(), 0);
    };
    let read = pages.complement_within(all).intersect(&kept);
    let skipped = kept.rows() - read.rows();
    (read.ranges().to_vec(), skipped)
}

/// Decoded bytes partition `index` is expected to take (rows x the source's bytes per row),
/// for admitting its task under the memory limit before it is read.
pub fn estimated_bytes(scan: &ScanNode, index: usize) -> usize {
    let rows = scan.slices()[index].rows as f64;
    (rows * scan.source.bytes_per_row).min(usize::MAX as f64) as usize
}
