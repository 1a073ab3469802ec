//! The registry of named functions: plans refer to functions by name, so a plan can be
//! shown, checked and shipped elsewhere. Each function module registers its own functions
//! (`register`), and [`register_all`](super::register_all) calls them all.

use super::function::LightcurveFunction;
use crate::error::{Error, Result};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

impl fmt::Debug for FunctionRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.functions.keys()).finish()
    }
}

/// Named functions, so a plan can refer to them by name (and later be shipped elsewhere).
///
/// ```
/// let reg = lsstseries::analysis::FunctionRegistry::with_builtins();
/// assert!(reg.get("stetson_j").is_ok());
/// assert!(reg.get("no_such_thing").is_err());
/// ```
#[derive(Clone, Default)]
pub struct FunctionRegistry {
    functions: BTreeMap<String, Arc<dyn LightcurveFunction>>,
    builders: BTreeMap<String, FunctionBuilder>,
}

/// Makes the function of a name from the [`LightcurveFunction::parameters`] of another
/// instance (a shipped plan's), so options travel with the name.
pub type FunctionBuilder = Arc<dyn Fn(&str) -> Result<Arc<dyn LightcurveFunction>> + Send + Sync>;

impl FunctionRegistry {
    /// The built-in functions: `stetson_j`, `nobs`, `sf2` (default options), and the
    /// others listed by [`FunctionRegistry::names`].
    pub fn with_builtins() -> Self {
        let mut r = FunctionRegistry::default();
        super::register_all(&mut r);
        r
    }

    /// Adds (or replaces) a function under its own name.
    pub fn register(&mut self, f: Arc<dyn LightcurveFunction>) {
        self.functions.insert(f.name().to_string(), f);
    }

    /// Registers how to make the function `name` from other parameters
    /// ([`FunctionRegistry::get_with_parameters`]).
    pub fn register_builder(&mut self, name: &str, builder: FunctionBuilder) {
        self.builders.insert(name.to_string(), builder);
    }

    /// The function `name` with exactly these `parameters` (as
    /// [`LightcurveFunction::parameters`] gives them): the registered one when its
    /// parameters are these, else one its builder makes; an error naming the difference
    /// otherwise.
    ///
    /// ```
    /// use lsstseries::analysis::structure_function::{Estimator, SfOptions, StructureFunction};
    /// use lsstseries::analysis::{FunctionRegistry, LightcurveFunction};
    /// let reg = FunctionRegistry::with_builtins();
    /// let options = SfOptions { estimator: Estimator::Macleod2012, ..SfOptions::default() };
    /// let wanted = StructureFunction::new(options).unwrap().parameters();
    /// assert_eq!(reg.get_with_parameters("sf2", &wanted).unwrap().parameters(), wanted);
    /// assert!(reg.get_with_parameters("stetson_j", "other").is_err());
    /// ```
    pub fn get_with_parameters(
        &self,
        name: &str,
        parameters: &str,
    ) -> Result<Arc<dyn LightcurveFunction>> {
        let registered = self.get(name)?;
        if registered.parameters() == parameters {
            return Ok(registered);
        }
        let mismatch = || {
            Error::InvalidArgument(format!(
                "function '{name}' has parameters {parameters:?}, the registered one {:?}, \
                 and nothing builds it from parameters; register it with these parameters \
                 under its own name",
                registered.parameters()
            ))
        };
        let builder = self.builders.get(name).ok_or_else(mismatch)?;
        let built = builder(parameters)?;
        if built.parameters() != parameters {
            return Err(mismatch());
        }
        Ok(built)
    }

    /// Looks a function up by name; `per_band(NAME)` is NAME run on each band separately
    /// (see [`PerBand`](super::PerBand)).
    pub fn get(&self, name: &str) -> Result<Arc<dyn LightcurveFunction>> {
        if let Some(inner) = super::PerBand::inner_name(name) {
            // An unknown inner function is reported under the name asked for.
            let inner = self.get(inner).map_err(|e| match e {
                Error::UnknownFunction { known, .. } => Error::UnknownFunction {
                    name: name.to_string(),
                    known,
                },
                other => other,
            })?;
            return Ok(Arc::new(super::PerBand::new(inner)?));
        }
        self.functions
            .get(name)
            .cloned()
            .ok_or_else(|| Error::UnknownFunction {
                name: name.to_string(),
                known: self.names(),
            })
    }

    /// Registered names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.functions.keys().cloned().collect()
    }
}
