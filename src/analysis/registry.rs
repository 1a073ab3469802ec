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
}

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
