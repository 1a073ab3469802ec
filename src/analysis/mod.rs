//! Per-lightcurve analysis functions.

mod function;
mod nobs;
mod stetson_j;
pub mod structure_function;

pub(crate) use function::check_fields;
pub use function::{closure_function, FunctionRegistry, LightcurveFunction, Rows};
pub use nobs::Nobs;
pub use stetson_j::{stetson_j, StetsonJ};
pub use structure_function::StructureFunction;
