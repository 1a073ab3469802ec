//! Keeping the rows that match a predicate.

use crate::error::{Error, Result};
use crate::plan::Predicate;
use arrow::array::RecordBatch;
use arrow::compute::filter_record_batch;

/// Rows of `batch` where `predicate` holds.
pub fn filter(batch: &RecordBatch, predicate: &Predicate) -> Result<RecordBatch> {
    let mask = predicate.evaluate(batch)?;
    filter_record_batch(batch, &mask).map_err(|e| Error::arrow(format!("filter({predicate})"), e))
}
