//! The per-lightcurve function trait, and closures as functions.

use crate::error::{Error, Result};
use crate::io::Role;
use crate::lightcurve::LightcurveView;
use arrow::datatypes::{DataType, Field};
use std::fmt;
use std::sync::Arc;

/// A function computed once per lightcurve.
///
/// It declares its name (shown by `explain()` and used to ship plans), the roles it reads
/// and any other columns it reads by name (the scan decodes only those), and its output
/// columns. `evaluate` pushes exactly one
/// value per output column; `Int64` columns receive whole numbers.
///
/// ```
/// use lsstseries::analysis::{LightcurveFunction, closure_function};
/// use lsstseries::Role;
/// use arrow::datatypes::{DataType, Field};
/// let mean = closure_function(
///     "mean_flux",
///     &[Role::Flux],
///     vec![Field::new("mean_flux", DataType::Float64, true)],
///     |lc, out| out.push(lc.flux.iter().sum::<f64>() / lc.flux.len() as f64),
/// );
/// assert_eq!(mean.name(), "mean_flux");
/// ```
pub trait LightcurveFunction: Send + Sync {
    /// A stable name; also the registry key.
    fn name(&self) -> &str;
    /// Roles read besides the id.
    fn required(&self) -> &[Role];
    /// Other source columns read by name, as Float64 (any numeric type is cast); the view
    /// hands them out in the same row order as the roles ([`LightcurveView::column`]).
    /// The source's bad-value policy applies to them as to time and flux. None by default.
    fn extra_columns(&self) -> &[String] {
        &[]
    }
    /// Output columns (after the id), given the source's sorted band names.
    fn output_fields(&self, bands: &[String]) -> Vec<Field>;
    /// Computes one lightcurve, pushing one value per output column onto `out` (for
    /// [`Rows::Many`], any number of such rows). A `Utf8` output column receives band
    /// names: push the band's index into `band_names`.
    fn evaluate(&self, lc: &LightcurveView<'_>, out: &mut Vec<f64>);
    /// Rows per lightcurve: exactly one (the default), or any number (e.g. one per band
    /// and time-lag bin of a structure function).
    fn rows(&self) -> Rows {
        Rows::One
    }
    /// The options the function was built with, as text (empty when it has none). Two
    /// functions of one name compute the same only when these agree: a plan shipped to
    /// another process names the function and carries this, and the receiver checks it
    /// against the function it has under that name.
    fn parameters(&self) -> String {
        String::new()
    }
}

/// How many output rows a [`LightcurveFunction`] produces per lightcurve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    /// Exactly one row per lightcurve.
    One,
    /// Zero or more rows per lightcurve; the object id repeats on each.
    Many,
}

impl fmt::Debug for dyn LightcurveFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LightcurveFunction({})", self.name())
    }
}

type EvalFn = dyn Fn(&LightcurveView<'_>, &mut Vec<f64>) + Send + Sync;

struct ClosureFunction {
    name: String,
    required: Vec<Role>,
    extra: Vec<String>,
    fields: Vec<Field>,
    f: Box<EvalFn>,
}

impl LightcurveFunction for ClosureFunction {
    fn name(&self) -> &str {
        &self.name
    }
    fn required(&self) -> &[Role] {
        &self.required
    }
    fn extra_columns(&self) -> &[String] {
        &self.extra
    }
    fn output_fields(&self, _bands: &[String]) -> Vec<Field> {
        self.fields.clone()
    }
    fn evaluate(&self, lc: &LightcurveView<'_>, out: &mut Vec<f64>) {
        (self.f)(lc, out)
    }
}

/// Wraps a closure as a named per-lightcurve function with fixed output columns.
pub fn closure_function(
    name: impl Into<String>,
    required: &[Role],
    fields: Vec<Field>,
    f: impl Fn(&LightcurveView<'_>, &mut Vec<f64>) + Send + Sync + 'static,
) -> Arc<dyn LightcurveFunction> {
    closure_function_with_columns(name, required, &[], fields, f)
}

/// [`closure_function`] that also reads the source columns `extra` by name (see
/// [`LightcurveFunction::extra_columns`]).
///
/// ```
/// use lsstseries::analysis::closure_function_with_columns;
/// use lsstseries::Role;
/// use arrow::datatypes::{DataType, Field};
/// let mean_airmass = closure_function_with_columns(
///     "mean_airmass",
///     &[],
///     &["airmass"],
///     vec![Field::new("mean_airmass", DataType::Float64, true)],
///     |lc, out| {
///         let a = lc.column("airmass").unwrap_or(&[]);
///         out.push(a.iter().sum::<f64>() / a.len() as f64)
///     },
/// );
/// assert_eq!(mean_airmass.extra_columns(), ["airmass".to_string()]);
/// ```
pub fn closure_function_with_columns(
    name: impl Into<String>,
    required: &[Role],
    extra: &[&str],
    fields: Vec<Field>,
    f: impl Fn(&LightcurveView<'_>, &mut Vec<f64>) + Send + Sync + 'static,
) -> Arc<dyn LightcurveFunction> {
    Arc::new(ClosureFunction {
        name: name.into(),
        required: required.to_vec(),
        extra: extra.iter().map(|c| c.to_string()).collect(),
        fields,
        f: Box::new(f),
    })
}

/// Checks that a function's output columns are usable.
pub(crate) fn check_fields(f: &dyn LightcurveFunction, fields: &[Field]) -> Result<()> {
    for field in fields {
        if !matches!(
            field.data_type(),
            DataType::Float64 | DataType::Int64 | DataType::Utf8
        ) {
            return Err(Error::Function {
                function: f.name().to_string(),
                message: format!(
                    "output column '{}' has type {}; only Float64, Int64 and Utf8 (band names) are supported",
                    field.name(),
                    field.data_type()
                ),
            });
        }
    }
    Ok(())
}
