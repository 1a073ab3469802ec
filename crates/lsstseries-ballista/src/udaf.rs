//! Our per-lightcurve functions as DataFusion aggregate functions, so that in a plain
//! `SessionContext`
//!
//! ```sql
//! SELECT id, stetson_j(mjd, flux, flux_err, band) FROM sources GROUP BY id
//! ```
//!
//! works. Every function takes the same four arguments (time, flux, error, band; any
//! numeric and string types, cast to Float64 and Utf8) whatever it reads, then one per
//! column it reads by name ([`LightcurveFunction::extra_columns`], in that order, cast to
//! Float64: `mean_airmass(mjd, flux, flux_err, band, airmass)`), and returns a
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

/// The one-lightcurve batch: id, time, flux, err, band, then the columns `extra` read by
/// name.
fn input_schema(extra: &[String]) -> Arc<Schema> {
    let mut fields = vec![
        Field::new("id", DataType::Int64, false),
        Field::new("time", DataType::Float64, true),
        Field::new("flux", DataType::Float64, true),
        Field::new("err", DataType::Float64, true),
        Field::new("band", band_type(), false),
    ];
    fields.extend(extra.iter().map(|c| Field::new(c, DataType::Float64, true)));
    Arc::new(Schema::new(fields))
}

/// Names of the numeric arguments after the band: the columns read by name.
fn extra_of(spec: &ApplySpec) -> Vec<String> {
    spec.function.extra_columns().to_vec()
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
        let extra = extra_of(&spec);
        let out = PartitionOp::Apply(spec.clone()).output_schema(&input_schema(&extra))?;
        let fields: Fields = out.fields().iter().skip(1).cloned().collect();
        Ok(LightcurveUdaf {
            spec,
            fields,
            signature: Signature::any(4 + extra.len(), Volatility::Immutable),
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
        let extra = extra_of(&self.spec);
        Ok(Box::new(LightcurveAccumulator {
            spec: self.spec.clone(),
            fields: self.fields.clone(),
            numbers: (0..3 + extra.len())
                .map(|_| Float64Builder::new())
                .collect(),
            band: StringBuilder::new(),
            extra,
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
        let mut fields = vec![
            list("time", DataType::Float64),
            list("flux", DataType::Float64),
            list("err", DataType::Float64),
            list("band", DataType::Utf8),
        ];
        for c in self.spec.function.extra_columns() {
            fields.push(list(c, DataType::Float64));
        }
        Ok(fields)
    }
}

/// The rows of one group, gathered until the group is complete.
#[derive(Debug)]
struct LightcurveAccumulator {
    spec: ApplySpec,
    fields: Fields,
    /// Time, flux, error, then the columns read by name.
    numbers: Vec<Float64Builder>,
    band: StringBuilder,
    extra: Vec<String>,
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
    /// Appends the rows of `values`: time, flux, error, band, then the extra columns.
    fn append(&mut self, values: &[ArrayRef]) -> DfResult<()> {
        if values.len() != 4 + self.extra.len() {
            return Err(DataFusionError::Plan(format!(
                "{} takes {} arguments (time, flux, error, band{}), got {}",
                self.spec.function.name(),
                4 + self.extra.len(),
                self.extra
                    .iter()
                    .map(|c| format!(", {c}"))
                    .collect::<String>(),
                values.len()
            )));
        }
        let numeric = values[..3].iter().chain(&values[4..]);
        for (builder, array) in self.numbers.iter_mut().zip(numeric) {
            let a = as_f64(array)?;
            for i in 0..a.len() {
                builder.append_option(a.is_valid(i).then(|| a.value(i)));
            }
        }
        let b = as_str(&values[3])?;
        for i in 0..b.len() {
            self.band.append_option(b.is_valid(i).then(|| b.value(i)));
        }
        Ok(())
    }

    /// Time, flux, error, band, then the extra columns, as gathered so far.
    fn columns(&self) -> Vec<ArrayRef> {
        let mut out: Vec<ArrayRef> = self
            .numbers
            .iter()
            .map(|b| Arc::new(b.finish_cloned()) as ArrayRef)
            .collect();
        out.insert(3, Arc::new(self.band.finish_cloned()));
        out
    }
}

impl Accumulator for LightcurveAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> DfResult<()> {
        self.append(values)
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> DfResult<()> {
        if states.len() != 4 + self.extra.len() {
            return Err(DataFusionError::Internal(format!(
                "state of {} lists expected",
                4 + self.extra.len()
            )));
        }
        let lists: Vec<ListArray> = states.iter().map(|a| a.as_list::<i32>().clone()).collect();
        for row in 0..lists[0].len() {
            let values: Vec<ArrayRef> = lists.iter().map(|l| l.value(row)).collect();
            self.append(&values)?;
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
        let mut columns = self.columns();
        if columns[3].null_count() > 0 {
            return Err(DataFusionError::Execution(format!(
                "{}: a band is null",
                self.spec.function.name()
            )));
        }
        let n = columns[0].len();
        columns[3] = cast(&columns[3], &band_type())?;
        columns.insert(0, Arc::new(Int64Array::from(vec![0i64; n])));
        let batch = RecordBatch::try_new(input_schema(&self.extra), columns)?;
        // The order DataFusion gathered the rows in is not the file's: fix one.
        let keys: Vec<SortColumn> = (1..batch.num_columns())
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
        std::mem::size_of_val(self)
            + self.numbers.iter().map(|b| b.capacity() * 8).sum::<usize>()
            + self.band.values_slice().len()
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
