//! Reading one partition of a scan.

use crate::error::Result;
use crate::plan::ScanNode;
use arrow::array::RecordBatch;

/// Decodes partition `index` of `scan` with its projection.
pub fn read_partition(scan: &ScanNode, index: usize) -> Result<RecordBatch> {
    let slice = &scan.slices()[index];
    scan.source.read(slice, &scan.projection)
}

/// Decoded bytes partition `index` is expected to take (rows x the source's bytes per row),
/// for admitting its task under the memory limit before it is read.
pub fn estimated_bytes(scan: &ScanNode, index: usize) -> usize {
    let rows = scan.slices()[index].rows as f64;
    (rows * scan.source.bytes_per_row).min(usize::MAX as f64) as usize
}
