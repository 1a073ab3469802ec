//! Adding or replacing columns computed from expressions.

use crate::error::{Error, Result};
use crate::plan::Expr;
use arrow::array::{ArrayRef, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::SchemaRef;

/// `batch` with each `(name, expr)` evaluated in order (a later one sees the earlier ones),
/// in the types `schema` (the plan's output schema) gives.
pub fn assign(
    batch: &RecordBatch,
    items: &[(String, Expr)],
    schema: &SchemaRef,
) -> Result<RecordBatch> {
    let mut current = batch.clone();
    for (name, e) in items {
        let values = e.evaluate_array(&current)?;
        let mut fields: Vec<_> = current.schema().fields().iter().cloned().collect();
        let mut columns: Vec<ArrayRef> = current.columns().to_vec();
        let field = schema
            .field_with_name(name)
            .map_err(|er| Error::arrow(format!("assign {name}"), er))?;
        let values = cast(&values, field.data_type())
            .map_err(|er| Error::arrow(format!("assign {name}"), er))?;
        match fields.iter().position(|f| f.name() == name) {
            Some(i) => {
                fields[i] = std::sync::Arc::new(field.clone());
                columns[i] = values;
            }
            None => {
                fields.push(std::sync::Arc::new(field.clone()));
                columns.push(values);
            }
        }
        current = RecordBatch::try_new(
            std::sync::Arc::new(arrow::datatypes::Schema::new(fields)),
            columns,
        )
        .map_err(|er| Error::arrow(format!("assign {name}"), er))?;
    }
    // The plan's column order.
    let columns = schema
        .fields()
        .iter()
        .map(|f| {
            current
                .column_by_name(f.name())
                .cloned()
                .ok_or_else(|| Error::unknown_column(f.name().clone(), "assign", &current.schema()))
        })
        .collect::<Result<Vec<_>>>()?;
    RecordBatch::try_new(schema.clone(), columns).map_err(|e| Error::arrow("assign", e))
}
