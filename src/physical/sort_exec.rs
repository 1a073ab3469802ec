//! Ordering a partition's rows by id, then time (stable, so equal times keep their order).

use crate::error::{Error, Result};
use crate::io::ColumnMap;
use arrow::array::RecordBatch;
use arrow::compute::{lexsort_to_indices, take_record_batch, SortColumn};

/// `batch` with its rows ordered by (id, time).
pub fn sort_lightcurves(batch: &RecordBatch, columns: &ColumnMap) -> Result<RecordBatch> {
    let key = |name: &str| {
        batch
            .column_by_name(name)
            .cloned()
            .ok_or_else(|| Error::unknown_column(name, "sort_lightcurves", &batch.schema()))
    };
    let sort = [
        SortColumn {
            values: key(&columns.id)?,
            options: None,
        },
        SortColumn {
            values: key(&columns.time)?,
            options: None,
        },
        // Row order breaks ties, so equal times keep their order (a stable sort).
        SortColumn {
            values: std::sync::Arc::new(arrow::array::UInt32Array::from_iter_values(
                0..batch.num_rows() as u32,
            )),
            options: None,
        },
    ];
    let order = lexsort_to_indices(&sort, None).map_err(|e| Error::arrow("sort_lightcurves", e))?;
    take_record_batch(batch, &order).map_err(|e| Error::arrow("sort_lightcurves", e))
}
