//! Reading one partition of a scan.

use crate::error::Result;
use crate::plan::ScanNode;
use arrow::array::RecordBatch;

/// Decodes partition `index` of `scan` with its projection.
pub fn read_partition(scan: &ScanNode, index: usize) -> Result<RecordBatch> {
    let slice = &scan.slices()[index];
    scan.source.read(slice, &scan.projection)
}
