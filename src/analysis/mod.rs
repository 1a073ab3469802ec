//! Per-lightcurve analysis functions: the [`LightcurveFunction`] trait, the built-in
//! functions (one module each), and the [`FunctionRegistry`] that names them.

mod bin_sources;
pub mod day_gap;
pub mod features;
mod function;
mod nobs;
mod object_columns;
mod per_band;
pub mod periodogram;
mod registry;
mod stetson_j;
pub mod structure_function;

pub use bin_sources::BinSources;
pub use features::{feature_functions, BandScope, Feature, FeatureSet};
pub(crate) use function::check_fields;
pub use function::{closure_function, closure_function_with_columns, LightcurveFunction, Rows};
pub use nobs::Nobs;
pub use object_columns::ObjectColumns;
pub use per_band::PerBand;
pub use periodogram::Periodogram;
pub use registry::{FunctionBuilder, FunctionRegistry};
pub use stetson_j::{stetson_j, StetsonJ};
pub use structure_function::StructureFunction;

/// Registers every built-in function under its name: `stetson_j`, `nobs`, `periodogram`,
/// `sf2` (default options), each variability feature, `features` (the default set), and
/// `bin_sources` (one-day bins).
pub fn register_all(registry: &mut FunctionRegistry) {
    stetson_j::register(registry);
    nobs::register(registry);
    periodogram::register(registry);
    structure_function::register(registry);
    features::register(registry);
    bin_sources::register(registry);
}
