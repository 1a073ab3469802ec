//! Applying a per-lightcurve function to every lightcurve of a partition.

use crate::analysis::Rows;
use crate::error::{Error, Result};
use crate::executor::Cancellation;
use crate::io::BadValueCounts;
use crate::lightcurve::{LightcurveBatch, Reads};
use crate::plan::{key_type, ApplySpec};
use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray, UInt32Array};
use arrow::compute::{cast, take};
use arrow::datatypes::{DataType, SchemaRef};
use std::sync::Arc;

/// One output row per lightcurve of `batch` (per piece, if lightcurves are split; per id and
/// key values, with `spec.on`, the key values after the id), or any number for
/// [`Rows::Many`] functions, in id (then key) order. Checks `cancel` every few lightcurves,
/// so one long partition does not hold a cancelled run. Also returns the rows left out for
/// bad values (the spec's policy, see `LightcurveBatch::with_policy`).
pub fn apply(
    batch: &RecordBatch,
    spec: &ApplySpec,
    schema: &SchemaRef,
    cancel: &Cancellation,
) -> Result<(RecordBatch, BadValueCounts)> {
    apply_counted(batch, spec, schema, cancel).map(|(out, dropped, _)| (out, dropped))
}

/// [`apply`], also returning how many lightcurves (or pieces) the function saw.
pub fn apply_counted(
    batch: &RecordBatch,
    spec: &ApplySpec,
    schema: &SchemaRef,
    cancel: &Cancellation,
) -> Result<(RecordBatch, BadValueCounts, u64)> {
    let f = spec.function.as_ref();
    let reads = Reads {
        roles: f.required(),
        extra: f.extra_columns(),
        on: &spec.on,
        policy: spec.bad_values,
    };
    let lcs = LightcurveBatch::reading(batch, &spec.columns, &spec.bands, reads)?;
    let n_keys = spec.on.len();
    let n_out = schema.fields().len() - 1 - n_keys;
    let many = f.rows() == Rows::Many;
    let n = lcs.len();
    let mut ids = Vec::with_capacity(n);
    // The input row holding each output row's key values (only with keys).
    let mut key_rows: Vec<u32> = Vec::new();
    let mut values: Vec<f64> = Vec::with_capacity(n * n_out);
    for k in 0..n {
        if k % 64 == 63 {
            cancel.check()?;
        }
        let lc = lcs.get(k);
        let before = values.len();
        f.evaluate(&lc, &mut values);
        let pushed = values.len() - before;
        let rows = pushed.checked_div(n_out).unwrap_or(0);
        let ok = if many {
            pushed % n_out.max(1) == 0
        } else {
            pushed == n_out
        };
        if !ok {
            return Err(Error::Function {
                function: f.name().to_string(),
                message: format!(
                    "pushed {pushed} value(s) for object {}, declared {n_out} output column(s){}",
                    lc.id,
                    if many { " per row" } else { "" }
                ),
            });
        }
        let rows = if many { rows } else { 1 };
        ids.extend(std::iter::repeat_n(lc.id, rows));
        if n_keys > 0 {
            key_rows.extend(std::iter::repeat_n(lcs.source_row(k) as u32, rows));
        }
    }
    let n_rows = ids.len();
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(n_out + n_keys + 1);
    columns.push(Arc::new(Int64Array::from(ids)));
    if n_keys > 0 {
        let at = UInt32Array::from(key_rows);
        for name in &spec.on {
            let key = batch.column_by_name(name).ok_or_else(|| {
                Error::unknown_column(name.clone(), "grouping keys (on)", &batch.schema())
            })?;
            let values = take(key, &at, None)
                .map_err(|e| Error::arrow(format!("key column '{name}'"), e))?;
            let want = key_type(values.data_type());
            let values = if &want == values.data_type() {
                values
            } else {
                cast(&values, &want).map_err(|e| Error::arrow(format!("key column '{name}'"), e))?
            };
            columns.push(values);
        }
    }
    for (c, field) in schema.fields().iter().skip(1 + n_keys).enumerate() {
        let col = (0..n_rows).map(|r| values[r * n_out + c]);
        let array: ArrayRef = match field.data_type() {
            DataType::Int64 => Arc::new(Int64Array::from_iter_values(col.map(|v| v as i64))),
            DataType::Utf8 => {
                let mut names = Vec::with_capacity(n_rows);
                for v in col {
                    let name = spec.bands.get(v as usize).ok_or_else(|| Error::Function {
                        function: f.name().to_string(),
                        message: format!(
                            "band index {v} in column '{}' is out of range",
                            field.name()
                        ),
                    })?;
                    names.push(name.as_str());
                }
                Arc::new(StringArray::from(names))
            }
            _ => Arc::new(Float64Array::from_iter_values(col)),
        };
        columns.push(array);
    }
    let out = RecordBatch::try_new(schema.clone(), columns)
        .map_err(|e| Error::arrow(format!("assembling results of {}", f.name()), e))?;
    Ok((out, lcs.dropped().clone(), n as u64))
}
