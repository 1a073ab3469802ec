//! Any per-lightcurve function, band by band: `per_band(f)` runs `f` on each band's
//! observations of a lightcurve and writes one column per band and output of `f`
//! (`<column>_<band>`), NaN where the lightcurve has no observation in that band (TAPE
//! wrote 0, which reads as a measurement).

use super::function::{LightcurveFunction, Rows};
use crate::error::{Error, Result};
use crate::io::Role;
use crate::lightcurve::{BandGroups, LightcurveView};
use arrow::datatypes::{DataType, Field};
use std::cell::RefCell;
use std::sync::Arc;

/// A function applied to each band of a lightcurve separately (see the module docs).
///
/// ```
/// use lsstseries::analysis::{closure_function, LightcurveFunction, PerBand};
/// use lsstseries::Role;
/// use arrow::datatypes::{DataType, Field};
/// let mean = closure_function(
///     "mean_flux",
///     &[Role::Flux],
///     vec![Field::new("mean_flux", DataType::Float64, true)],
///     |lc, out| out.push(lc.flux.iter().sum::<f64>() / lc.flux.len() as f64),
/// );
/// let f = PerBand::new(mean)?;
/// assert_eq!(f.name(), "per_band(mean_flux)");
/// let bands = ["g".to_string(), "r".to_string()];
/// let names: Vec<String> = f.output_fields(&bands).iter().map(|c| c.name().clone()).collect();
/// assert_eq!(names, ["mean_flux_g", "mean_flux_r"]);
/// # Ok::<(), lsstseries::Error>(())
/// ```
pub struct PerBand {
    inner: Arc<dyn LightcurveFunction>,
    name: String,
    required: Vec<Role>,
}

impl PerBand {
    /// Wraps `inner`, a function with one row per lightcurve and numeric outputs.
    pub fn new(inner: Arc<dyn LightcurveFunction>) -> Result<Self> {
        if inner.rows() != Rows::One {
            return Err(Error::Function {
                function: inner.name().to_string(),
                message: "per_band needs a function with one row per lightcurve".into(),
            });
        }
        let mut required = inner.required().to_vec();
        if !required.contains(&Role::Band) {
            required.push(Role::Band);
        }
        Ok(PerBand {
            name: format!("per_band({})", inner.name()),
            inner,
            required,
        })
    }

    /// The name `per_band(f)` gives: `per_band(NAME)`; the registry resolves such names.
    pub fn inner_name(name: &str) -> Option<&str> {
        name.strip_prefix("per_band(")?.strip_suffix(')')
    }
}

/// Per-thread scratch: the band regrouping, one band's index column, one band's values,
/// and the inner function's output width for the last (function, bands) seen, so the
/// width is not recomputed (a `Vec<Field>`) for every lightcurve.
#[derive(Default)]
struct Scratch {
    groups: BandGroups,
    band: Vec<u8>,
    values: Vec<f64>,
    width_of: Option<(usize, Vec<String>, usize)>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

impl LightcurveFunction for PerBand {
    fn name(&self) -> &str {
        &self.name
    }

    fn required(&self) -> &[Role] {
        &self.required
    }

    fn extra_columns(&self) -> &[String] {
        self.inner.extra_columns()
    }

    fn output_fields(&self, bands: &[String]) -> Vec<Field> {
        let inner = self.inner.output_fields(bands);
        bands
            .iter()
            .flat_map(|b| {
                inner
                    .iter()
                    .map(move |f| Field::new(format!("{}_{b}", f.name()), DataType::Float64, true))
            })
            .collect()
    }

    fn evaluate(&self, lc: &LightcurveView<'_>, out: &mut Vec<f64>) {
        SCRATCH.with(|s| {
            let mut s = s.borrow_mut();
            let Scratch {
                groups,
                band,
                values,
                width_of,
            } = &mut *s;
            let me = self as *const Self as usize;
            let width = match width_of {
                Some((f, names, w)) if *f == me && names.as_slice() == lc.band_names => *w,
                _ => {
                    let w = self.inner.output_fields(lc.band_names).len();
                    *width_of = Some((me, lc.band_names.to_vec(), w));
                    w
                }
            };
            groups.fill(lc);
            for k in 0..lc.band_names.len() {
                let range = groups.range(k);
                if range.is_empty() {
                    out.extend(std::iter::repeat_n(f64::NAN, width));
                    continue;
                }
                band.clear();
                band.resize(range.len(), k as u8);
                let view = LightcurveView {
                    id: lc.id,
                    time: groups.time(k),
                    flux: groups.flux(k),
                    err: groups.err(k),
                    band,
                    band_names: lc.band_names,
                    extra: groups.extra(lc.extra.names(), k),
                };
                values.clear();
                self.inner.evaluate(&view, values);
                // A function that pushed the wrong count is caught by the caller's check
                // of the total; pad or cut here so the other bands stay aligned.
                values.resize(width, f64::NAN);
                out.extend_from_slice(values);
            }
        });
    }
}
