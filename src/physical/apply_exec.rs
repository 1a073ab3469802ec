//! Applying a per-lightcurve function to every lightcurve of a partition.

use crate::error::{Error, Result};
use crate::lightcurve::LightcurveBatch;
use crate::plan::ApplySpec;
use arrow::array::{ArrayRef, Float64Array, Int64Array, RecordBatch};
use arrow::datatypes::{DataType, SchemaRef};
use std::sync::Arc;

/// One output row per lightcurve of `batch` (per piece, if lightcurves are split), in id
/// order.
pub fn apply(batch: &RecordBatch, spec: &ApplySpec, schema: &SchemaRef) -> Result<RecordBatch> {
    let f = spec.function.as_ref();
    let lcs = LightcurveBatch::new(batch, &spec.columns, &spec.bands, f.required())?;
    let n_out = schema.fields().len() - 1;
    let n = lcs.len();
    let mut ids = Vec::with_capacity(n);
    let mut values: Vec<f64> = Vec::with_capacity(n * n_out);
    for k in 0..n {
        let lc = lcs.get(k);
        let before = values.len();
        f.evaluate(&lc, &mut values);
        if values.len() != before + n_out {
            return Err(Error::Function {
                function: f.name().to_string(),
                message: format!(
                    "pushed {} value(s) for object {}, declared {} output column(s)",
                    values.len() - before,
                    lc.id,
                    n_out
                ),
            });
        }
        ids.push(lc.id);
    }
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(n_out + 1);
    columns.push(Arc::new(Int64Array::from(ids)));
    for (c, field) in schema.fields().iter().skip(1).enumerate() {
        let col = (0..n).map(|r| values[r * n_out + c]);
        let array: ArrayRef = match field.data_type() {
            DataType::Int64 => Arc::new(Int64Array::from_iter_values(col.map(|v| v as i64))),
            _ => Arc::new(Float64Array::from_iter_values(col)),
        };
        columns.push(array);
    }
    RecordBatch::try_new(schema.clone(), columns)
        .map_err(|e| Error::arrow(format!("assembling results of {}", f.name()), e))
}
