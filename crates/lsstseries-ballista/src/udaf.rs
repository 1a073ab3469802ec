//! Our per-lightcurve functions as DataFusion aggregate functions, so that in a plain
//! `SessionContext`
//!
//! ```sql
//! SELECT id, stetson_j(mjd, flux, flux_err, band) FROM sources GROUP BY id
//! ```
//!
//! works. Every function takes the same four arguments (time, flux, error, band; any
//! numeric and string types, cast to Float64 and Utf8) whatever it reads, and returns a
//! struct whose fields are the function's output columns (per band: `stetson_j_g`,
//! `stetson_j_r`, ...); the bands are fixed when the functions are registered. Only
//! functions with one row per lightcurve are registered (not `sf2` per object or
//! `bin_sources`). Before computing, a group's rows are ordered by time (then flux, error,
//! band), so the result does not depend on how DataFusion split and merged the group.

use crate::exec::df_err;
use arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Float64Builder, Int64Array, ListArray, RecordBatch,
    StringArray, StringBuilder, StructArray,
};
use arrow::buffer::OffsetBuffer;
use arrow::compute::{cast, lexsort_to_indices, take_record_batch, SortColumn};
use arrow::datatypes::{DataType, Field, FieldRef, Fields, Float64Type, Schema};
use datafusion::common::{DataFusionError, Result as DfResult, ScalarValue};
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDF, AggregateUDFImpl, Signature, Volatility,
};
use datafusion::prelude::SessionContext;
use lsstseries::analysis::{FunctionRegistry, LightcurveFunction, Rows};
use lsstseries::io::band_type;
use lsstseries::physical::run_ops;
use lsstseries::plan::{ApplySpec, BatchMode, PartitionOp};
use lsstseries::{BadValues, Cancellation, ColumnMap};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

/// A per-lightcurve function as a DataFusion aggregate function.
#[derive(Debug)]
pub struct LightcurveUdaf {
    spec: ApplySpec,
    fields: Fields,
    signature: Signature,
}

impl PartialEq for LightcurveUdaf {
    fn eq(&self, other: &Self) -> bool {
        self.spec.function.name() == other.spec.function.name()
            && self.spec.function.parameters() == other.spec.function.parameters()
            && self.spec.bands == other.spec.bands
            && self.spec.bad_values == other.spec.bad_values
    }
}

impl Eq for LightcurveUdaf {}

impl Hash for LightcurveUdaf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.spec.function.name().hash(state);
        self.spec.function.parameters().hash(state);
        self.spec.bands.hash(state);
    }
}

/// Column names of the one-lightcurve batches handed to the function.
fn roles() -> ColumnMap {
    ColumnMap::new("id", "time", "flux", "err", "band")
}

fn input_schema() -> Arc<Schema> {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("time", DataType::Float64, true),
        Field::new("flux", DataType::Float64, true),
        Field::new("err", DataType::Float64, true),
        Field::new("band", band_type(), false),
    ]))
}

impl LightcurveUdaf {
    /// `function` for a source with these sorted `bands`, treating bad values as
    /// `bad_values` says; fails for a function with several rows per lightcurve.
    pub fn new(
        function: Arc<dyn LightcurveFunction>,
        bands: &[String],
        bad_values: BadValues,
    ) -> lsstseries::Result<Self> {
        if function.rows() != Rows::One {
            return Err(lsstseries::Error::InvalidArgument(format!(
                "function '{}' gives several rows per lightcurve: not an aggregate",
                function.name()
            )));
        }
        let mut sorted = bands.to_vec();
        sorted.sort();
        sorted.dedup();
        let spec = ApplySpec {
            function,
            mode: BatchMode::Auto,
            columns: roles(),
            bands: Arc::new(sorted),
            bad_values,
            on: Vec::new(),
        };
        let out = PartitionOp::Apply(spec.clone()).output_schema(&input_schema())?;
        let fields: Fields = out.fields().iter().skip(1).cloned().collect();
        Ok(LightcurveUdaf {
            spec,
            fields,
            signature: Signature::any(4, Volatility::Immutable),
        })
    }
}

impl AggregateUDFImpl for LightcurveUdaf {
    fn name(&self) -> &str {
        self.spec.function.name()
    }
    fn signature(&self) -> &Signature {
        &self.signature
    }
    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Struct(self.fields.clone()))
    }
    fn accumulator(&self, _args: AccumulatorArgs) -> DfResult<Box<dyn Accumulator>> {
        Ok(Box::new(LightcurveAccumulator {
            spec: self.spec.clone(),
            fields: self.fields.clone(),
            time: Float64Builder::new(),
            flux: Float64Builder::new(),
            err: Float64Builder::new(),
            band: StringBuilder::new(),
        }))
    }
    fn state_fields(&self, args: StateFieldsArgs) -> DfResult<Vec<FieldRef>> {
        let list = |name: &str, t: DataType| {
            Arc::new(Field::new(
                format!("{}[{name}]", args.name),
                DataType::List(Arc::new(Field::new("item", t, true))),
                true,
            ))
        };
        Ok(vec![
            list("time", DataType::Float64),
            list("flux", DataType::Float64),
            list("err", DataType::Float64),
            list("band", DataType::Utf8),
        ])
    }
}

/// The rows of one group, gathered until the group is complete.
#[derive(Debug)]
struct LightcurveAccumulator {
    spec: ApplySpec,
    fields: Fields,
    time: Float64Builder,
    flux: Float64Builder,
    err: Float64Builder,
    band: StringBuilder,
}

fn as_f64(a: &ArrayRef) -> DfResult<Float64Array> {
    Ok(cast(a, &DataType::Float64)?
        .as_primitive::<Float64Type>()
        .clone())
}

fn as_str(a: &ArrayRef) -> DfResult<StringArray> {
    Ok(cast(a, &DataType::Utf8)?.as_string::<i32>().clone())
}

impl LightcurveAccumulator {
    fn append(&mut self, t: &Float64Array, f: &Float64Array, e: &Float64Array, b: &StringArray) {
        for i in 0..t.len() {
            self.time.append_option(t.is_valid(i).then(|| t.value(i)));
            self.flux.append_option(f.is_valid(i).then(|| f.value(i)));
            self.err.append_option(e.is_valid(i).then(|| e.value(i)));
            self.band.append_option(b.is_valid(i).then(|| b.value(i)));
        }
    }

    fn columns(&self) -> [ArrayRef; 4] {
        [
            Arc::new(self.time.finish_cloned()),
            Arc::new(self.flux.finish_cloned()),
            Arc::new(self.err.finish_cloned()),
            Arc::new(self.band.finish_cloned()),
        ]
    }
}

impl Accumulator for LightcurveAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> DfResult<()> {
        let [t, f, e, b] = values else {
            return Err(DataFusionError::Plan(format!(
                "{} takes 4 arguments (time, flux, error, band), got {}",
                self.spec.function.name(),
                values.len()
            )));
        };
        let (t, f, e, b) = (as_f64(t)?, as_f64(f)?, as_f64(e)?, as_str(b)?);
        self.append(&t, &f, &e, &b);
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> DfResult<()> {
        let [t, f, e, b] = states else {
            return Err(DataFusionError::Internal(
                "state of 4 lists expected".into(),
            ));
        };
        let lists = [t, f, e, b].map(|a| a.as_list::<i32>().clone());
        for row in 0..lists[0].len() {
            let [t, f, e, b] = lists.each_ref().map(|l| l.value(row));
            self.append(&as_f64(&t)?, &as_f64(&f)?, &as_f64(&e)?, &as_str(&b)?);
        }
        Ok(())
    }

    fn state(&mut self) -> DfResult<Vec<ScalarValue>> {
        Ok(self
            .columns()
            .into_iter()
            .map(|values| {
                let field = Arc::new(Field::new("item", values.data_type().clone(), true));
                let offsets = OffsetBuffer::from_lengths([values.len()]);
                ScalarValue::List(Arc::new(ListArray::new(field, offsets, values, None)))
            })
            .collect())
    }

    fn evaluate(&mut self) -> DfResult<ScalarValue> {
        let [t, f, e, b] = self.columns();
        if b.null_count() > 0 {
            return Err(DataFusionError::Execution(format!(
                "{}: a band is null",
                self.spec.function.name()
            )));
        }
        let n = t.len();
        let ids: ArrayRef = Arc::new(Int64Array::from(vec![0i64; n]));
        let b = cast(&b, &band_type())?;
        let batch = RecordBatch::try_new(input_schema(), vec![ids, t, f, e, b])?;
        // The order DataFusion gathered the rows in is not the file's: fix one.
        let keys: Vec<SortColumn> = (1..5)
            .map(|i| SortColumn {
                values: batch.column(i).clone(),
                options: None,
            })
            .collect();
        let batch = take_record_batch(&batch, &lexsort_to_indices(&keys, None)?)?;
        let op = PartitionOp::Apply(self.spec.clone());
        let schema = op.output_schema(&batch.schema()).map_err(df_err)?;
        let ops = [(op, schema)];
        let (out, _) = run_ops(batch, &ops, &Cancellation::new()).map_err(df_err)?;
        if out.num_rows() != 1 {
            return Ok(ScalarValue::Struct(Arc::new(StructArray::new_null(
                self.fields.clone(),
                1,
            ))));
        }
        let columns: Vec<ArrayRef> = out.columns().iter().skip(1).cloned().collect();
        Ok(ScalarValue::Struct(Arc::new(StructArray::try_new(
            self.fields.clone(),
            columns,
            None,
        )?)))
    }

    fn size(&self) -> usize {
        std::mem::size_of_val(self) + self.time.capacity() * 24 + self.band.values_slice().len()
    }
}

/// Registers every one-row-per-lightcurve function of `registry` in `ctx` as an aggregate
/// function for a source with these `bands`; returns the names registered.
pub fn register_lightcurve_functions(
    ctx: &SessionContext,
    registry: &FunctionRegistry,
    bands: &[String],
    bad_values: BadValues,
) -> lsstseries::Result<Vec<String>> {
    let mut names = Vec::new();
    for name in registry.names() {
        let f = registry.get(&name)?;
        if f.rows() != Rows::One {
            continue;
        }
        ctx.register_udaf(AggregateUDF::from(LightcurveUdaf::new(
            f, bands, bad_values,
        )?));
        names.push(name);
    }
    Ok(names)
}
