//! Writing results: CSV (id first, NaN as an empty cell) and Parquet.

use super::ColumnMap;
use crate::error::{Error, Result};
use arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Float32Type, Float64Type, Int64Type, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

/// Writes `batch` as CSV with a header. NaN and nulls are written as empty cells.
pub fn write_csv(path: impl AsRef<Path>, batch: &RecordBatch) -> Result<()> {
    let path = path.as_ref();
    let file = File::create(path).map_err(|e| Error::io(path, e))?;
    let mut w = BufWriter::new(file);
    let io = |e| Error::io(path, e);
    let schema = batch.schema();
    let header: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| csv_field(f.name()))
        .collect();
    writeln!(w, "{}", header.join(",")).map_err(io)?;
    let columns: Vec<_> = batch
        .columns()
        .iter()
        .map(|c| match c.data_type() {
            DataType::Int64 | DataType::Float64 | DataType::Float32 | DataType::Utf8 => {
                Ok(c.clone())
            }
            _ => cast(c, &DataType::Utf8).map_err(|e| Error::arrow("csv output", e)),
        })
        .collect::<Result<_>>()?;
    let mut line = String::new();
    for row in 0..batch.num_rows() {
        line.clear();
        for (k, c) in columns.iter().enumerate() {
            if k > 0 {
                line.push(',');
            }
            if c.is_null(row) {
                continue;
            }
            match c.data_type() {
                DataType::Int64 => {
                    line.push_str(&c.as_primitive::<Int64Type>().value(row).to_string())
                }
                DataType::Float64 => {
                    push_float(&mut line, c.as_primitive::<Float64Type>().value(row))
                }
                DataType::Float32 => {
                    push_float(&mut line, c.as_primitive::<Float32Type>().value(row) as f64)
                }
                _ => line.push_str(&csv_field(c.as_string::<i32>().value(row))),
            }
        }
        line.push('\n');
        w.write_all(line.as_bytes()).map_err(io)?;
    }
    w.flush().map_err(io)
}

fn push_float(line: &mut String, v: f64) {
    if v.is_finite() {
        line.push_str(&v.to_string());
    } else if !v.is_nan() {
        line.push_str(if v > 0.0 { "inf" } else { "-inf" });
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A source table (id, time, flux, error, band columns named by `columns`) from plain
/// vectors, e.g. to write test or example data with [`write_parquet`].
///
/// ```
/// use lsstseries::io::{source_batch, ColumnMap};
/// let b = source_batch(&ColumnMap::generated(), vec![1, 1], vec![0.0, 1.0], vec![5.0, 6.0],
///                      vec![0.1, 0.1], vec!["g", "r"]).unwrap();
/// assert_eq!(b.num_rows(), 2);
/// assert!(source_batch(&ColumnMap::generated(), vec![1], vec![], vec![], vec![], vec![]).is_err());
/// ```
pub fn source_batch(
    columns: &ColumnMap,
    id: Vec<i64>,
    time: Vec<f64>,
    flux: Vec<f64>,
    err: Vec<f64>,
    band: Vec<&str>,
) -> Result<RecordBatch> {
    let n = id.len();
    if [time.len(), flux.len(), err.len(), band.len()]
        .iter()
        .any(|&l| l != n)
    {
        return Err(Error::InvalidArgument(format!(
            "source_batch: columns differ in length (id {n}, time {}, flux {}, err {}, band {})",
            time.len(),
            flux.len(),
            err.len(),
            band.len()
        )));
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new(&columns.id, DataType::Int64, false),
        Field::new(&columns.time, DataType::Float64, false),
        Field::new(&columns.flux, DataType::Float64, false),
        Field::new(&columns.err, DataType::Float64, false),
        Field::new(&columns.band, DataType::Utf8, false),
    ]));
    let arrays: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(id)),
        Arc::new(Float64Array::from(time)),
        Arc::new(Float64Array::from(flux)),
        Arc::new(Float64Array::from(err)),
        Arc::new(StringArray::from(band)),
    ];
    RecordBatch::try_new(schema, arrays).map_err(|e| Error::arrow("source_batch", e))
}

/// Writes `batch` as one Parquet file (zstd, level 1).
pub fn write_parquet(path: impl AsRef<Path>, batch: &RecordBatch) -> Result<()> {
    let path = path.as_ref();
    let file = File::create(path).map_err(|e| Error::io(path, e))?;
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .build();
    let mut w = ArrowWriter::try_new(file, batch.schema(), Some(props))
        .map_err(|e| Error::parquet(path, e))?;
    w.write(batch).map_err(|e| Error::parquet(path, e))?;
    w.close().map_err(|e| Error::parquet(path, e))?;
    Ok(())
}
