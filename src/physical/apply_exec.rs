//! Applying a per-lightcurve function to every lightcurve of a partition.

use crate::analysis::Rows;
use crate::error::{Error, Result};
use crate::executor::Cancellation;
use crate::io::BadValueCounts;
use crate::lightcurve::LightcurveBatch;
use crate::plan::ApplySpec;
use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, SchemaRef};
use std::sync::Arc;

/// One output row per lightcurve of `batch` (per piece, if lightcurves are split), or any
/// number for [`Rows::Many`] functions, in id order. Checks `cancel` every few lightcurves,
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
    let lcs = LightcurveBatch::with_policy(
        batch,
        &spec.columns,
        &spec.bands,
        f.required(),
        spec.bad_values,
    )?;
    let n_out = schema.fields().len() - 1;
    let many = f.rows() == Rows::Many;
    let n = lcs.len();
    let mut ids = Vec::with_capacity(n);
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
        ids.extend(std::iter::repeat_n(lc.id, if many { rows } else { 1 }));
    }
    let n_rows = ids.len();
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(n_out + 1);
    columns.push(Arc::new(Int64Array::from(ids)));
    for (c, field) in schema.fields().iter().skip(1).enumerate() {
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
