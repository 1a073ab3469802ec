//! Per-lightcurve analysis functions.

pub mod features;
mod function;
mod nobs;
pub mod periodogram;
mod stetson_j;
pub mod structure_function;

pub use features::{feature_functions, Feature, FeatureSet};
pub(crate) use function::check_fields;
pub use function::{closure_function, FunctionRegistry, LightcurveFunction, Rows};
pub use nobs::Nobs;
pub use periodogram::Periodogram;
pub use stetson_j::{stetson_j, StetsonJ};
pub use structure_function::StructureFunction;
