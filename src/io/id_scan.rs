//! The one read of the id and band columns that opening a source may need: ids when
//! statistics cannot answer the planning questions, bands when the caller did not name
//! them. One executor task per file, so the pool's size bounds the reads.

use super::decode::{read_raw, MAX_BATCH_ROWS};
use super::id_key;
use super::parquet_source::SourceFile;
use super::schema_check::band_type;
use crate::error::{Error, Result};
use crate::executor::Executor;
use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{Int32Type, Int64Type};
use std::collections::BTreeSet;
use std::sync::Arc;

/// The columns a scan reads; `None` skips that column.
#[derive(Debug, Clone)]
pub(crate) struct ScanColumns {
    /// Name of the id column, when ids are wanted.
    pub id: Option<String>,
    /// Name of the band column, when bands are wanted.
    pub band: Option<String>,
    /// Integer band codes, when the band column holds codes.
    pub band_codes: Option<super::BandCodes>,
}

/// Distinct bands and how many band-string bytes the rows hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct BandSummary {
    /// The distinct band values some row refers to.
    pub distinct: BTreeSet<String>,
    /// Sum of the band strings' lengths over all rows (for the decoded-size estimate).
    pub total_len: usize,
}

/// What the scan found in one file.
#[derive(Debug, Clone, Default)]
struct FileScan {
    /// The file's ids in row order (empty when ids were not wanted).
    ids: Vec<i64>,
    /// The file's bands (empty when bands were not wanted).
    bands: BandSummary,
}

/// What the scan found in all files of a source.
#[derive(Debug, Clone, Default)]
pub(crate) struct SourceScan {
    /// The ids of each file, in file order, when ids were wanted.
    pub ids: Option<Vec<Vec<i64>>>,
    /// The bands over all files, when bands were wanted.
    pub bands: Option<BandSummary>,
}

/// Reads `columns` of every file, one `executor` task per file. A task that panics
/// becomes an error naming its file.
pub(crate) fn scan(
    files: &Arc<Vec<SourceFile>>,
    columns: ScanColumns,
    executor: &Executor,
) -> Result<SourceScan> {
    let columns = Arc::new(columns);
    let tasks: Vec<_> = (0..files.len())
        .map(|fi| {
            let (files, columns) = (files.clone(), columns.clone());
            move || scan_file(&files[fi], &columns)
        })
        .collect();
    let results = executor.run(tasks)?;
    let mut out = SourceScan {
        ids: columns.id.as_ref().map(|_| Vec::with_capacity(files.len())),
        bands: columns.band.as_ref().map(|_| BandSummary::default()),
    };
    for (i, (f, result)) in files.iter().zip(results).enumerate() {
        let found = result.map_err(|message| Error::Task {
            operation: format!("id/band scan of {}", f.path.display()),
            partition: i,
            message,
        })??;
        if let Some(ids) = &mut out.ids {
            ids.push(found.ids);
        }
        if let Some(bands) = &mut out.bands {
            bands.distinct.extend(found.bands.distinct);
            bands.total_len += found.bands.total_len;
        }
    }
    Ok(out)
}

/// Ids and distinct bands of one file.
fn scan_file(f: &SourceFile, columns: &ScanColumns) -> Result<FileScan> {
    let mut found = FileScan::default();
    if f.rows == 0 {
        return Ok(found);
    }
    let wanted: Vec<String> = columns.id.iter().chain(&columns.band).cloned().collect();
    if columns.id.is_some() {
        // The footer's row count is a hint, not a promise: bound what it reserves.
        found.ids.reserve(f.rows.min(MAX_BATCH_ROWS));
    }
    // One read per row group: a batch inside one column chunk keeps the chunk's
    // dictionary, so distinct bands come from a few strings, not one per row.
    for rg in f.row_groups.iter().filter(|rg| rg.rows > 0) {
        let batch = read_raw(f, rg.start, rg.rows, &wanted)?;
        if let Some(id) = &columns.id {
            scan_ids(f, &batch, id, &mut found.ids)?;
        }
        if let Some(band) = &columns.band {
            scan_bands(
                f,
                &batch,
                band,
                columns.band_codes.as_ref(),
                &mut found.bands,
            )?;
        }
    }
    Ok(found)
}

/// Appends the ids of `batch` (column `id` of file `f`) as engine keys, rejecting nulls.
fn scan_ids(f: &SourceFile, batch: &RecordBatch, id: &str, out: &mut Vec<i64>) -> Result<()> {
    let col = batch
        .column_by_name(id)
        .ok_or_else(|| Error::InvalidData(format!("id column missing in {}", f.path.display())))?;
    let col = id_key::keys(col)?;
    if col.null_count() > 0 {
        return Err(Error::InvalidData(format!(
            "{}: column '{id}' (id) holds {} null value(s)",
            f.path.display(),
            col.null_count()
        )));
    }
    out.extend_from_slice(col.as_primitive::<Int64Type>().values());
    Ok(())
}

/// Adds the bands of `batch` (column `band` of file `f`) to `out`.
fn scan_bands(
    f: &SourceFile,
    batch: &RecordBatch,
    band: &str,
    codes: Option<&super::BandCodes>,
    out: &mut BandSummary,
) -> Result<()> {
    let col = batch.column_by_name(band).ok_or_else(|| {
        Error::InvalidData(format!("band column missing in {}", f.path.display()))
    })?;
    let col = if let Some(codes) = codes {
        codes.decode(col, &f.path, band)?
    } else if col.data_type() == &band_type() {
        col.clone()
    } else {
        cast(col, &band_type()).map_err(|e| Error::arrow("casting bands", e))?
    };
    let dict = col.as_dictionary::<Int32Type>();
    let values = dict.values().as_string::<i32>();
    // Only values some row refers to count as bands.
    let mut used = vec![0usize; values.len()];
    for k in dict.keys().iter().flatten() {
        // Arrow validated the keys against the dictionary; a stray one is ignored, not a panic.
        if let Some(n) = usize::try_from(k).ok().and_then(|k| used.get_mut(k)) {
            *n += 1;
        }
    }
    for (k, n) in used.iter().enumerate() {
        if *n > 0 {
            let v = values.value(k);
            out.total_len += v.len() * n;
            if !out.distinct.contains(v) {
                out.distinct.insert(v.to_string());
            }
        }
    }
    Ok(())
}
