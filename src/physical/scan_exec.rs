//! Reading one partition of a scan, leaving out row groups its pushed filters rule out.

use crate::error::{Error, Result};
use crate::io::PartitionSlice;
use crate::plan::ScanNode;
use arrow::array::RecordBatch;
use arrow::compute::concat_batches;

/// Decodes partition `index` of `scan` with its projection; returns the batch and the bytes
/// read from the file. Rows of skipped row groups are not read (the filter above would drop
/// them all); the rest is read as contiguous pieces, so row numbers in errors stay right.
pub fn read_partition(scan: &ScanNode, index: usize) -> Result<(RecordBatch, u64)> {
    let slice = &scan.slices()[index];
    let skip = scan.skip().map(|s| s.of_file(slice.file)).unwrap_or(&[]);
    if !skip.iter().any(|&s| s) {
        return scan
            .source
            .read_checked(slice, &scan.projection, &scan.checked);
    }
    let groups = &scan.source.files[slice.file].row_groups;
    let mut pieces: Vec<PartitionSlice> = Vec::new();
    for (g, rg) in groups.iter().enumerate() {
        let from = slice.start.max(rg.start);
        let to = (slice.start + slice.rows).min(rg.start + rg.rows);
        if from >= to || skip.get(g).copied().unwrap_or(false) {
            continue;
        }
        match pieces.last_mut() {
            Some(p) if p.start + p.rows == from => p.rows += to - from,
            _ => pieces.push(PartitionSlice {
                start: from,
                rows: to - from,
                id_range: None,
                ..slice.clone()
            }),
        }
    }
    let mut batches = Vec::with_capacity(pieces.len());
    let mut bytes = 0;
    for p in &pieces {
        let (b, n) = scan
            .source
            .read_checked(p, &scan.projection, &scan.checked)?;
        batches.push(b);
        bytes += n;
    }
    let batch = concat_batches(&scan.schema(), &batches)
        .map_err(|e| Error::arrow("joining the row groups of a partition", e))?;
    Ok((batch, bytes))
}

/// Decoded bytes partition `index` is expected to take (rows x the source's bytes per row),
/// for admitting its task under the memory limit before it is read.
pub fn estimated_bytes(scan: &ScanNode, index: usize) -> usize {
    let rows = scan.slices()[index].rows as f64;
    (rows * scan.source.bytes_per_row).min(usize::MAX as f64) as usize
}
