//! Per-lightcurve analysis functions.

mod function;
mod nobs;
mod stetson_j;

pub(crate) use function::check_fields;
pub use function::{closure_function, FunctionRegistry, LightcurveFunction};
pub use nobs::Nobs;
pub use stetson_j::{stetson_j, StetsonJ};
