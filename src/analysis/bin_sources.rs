//! Binning observations in time (TAPE's `bin_sources`): per object, band and time bin,
//! one row with the mean time, the mean flux, the error sqrt(sum sigma^2) / N, and the
//! count `nbin`. A bin is `[offset + k * window, offset + (k + 1) * window)`.

use super::function::{LightcurveFunction, Rows};
use crate::error::{Error, Result};
use crate::io::Role;
use crate::lightcurve::LightcurveView;
use arrow::datatypes::{DataType, Field};

/// Time binning of each lightcurve.
///
/// ```
/// use lsstseries::analysis::BinSources;
/// assert!(BinSources::new(1.0, 0.0).is_ok());
/// assert!(BinSources::new(0.0, 0.0).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BinSources {
    window: f64,
    offset: f64,
}

impl BinSources {
    /// Bins of `window` days starting at `offset` (modulo the window).
    pub fn new(window: f64, offset: f64) -> Result<Self> {
        if !(window.is_finite() && window > 0.0 && offset.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "bin_sources needs a finite window > 0 and a finite offset (got {window}, {offset})"
            )));
        }
        Ok(BinSources { window, offset })
    }
}

impl Default for BinSources {
    /// One-day bins starting at whole days.
    fn default() -> Self {
        BinSources {
            window: 1.0,
            offset: 0.0,
        }
    }
}

impl LightcurveFunction for BinSources {
    fn name(&self) -> &str {
        "bin_sources"
    }
    /// `{"window":W,"offset":O}`, which the registry's builder for `bin_sources` reads
    /// back ([`FunctionRegistry::get_with_parameters`](super::FunctionRegistry::get_with_parameters)).
    fn parameters(&self) -> String {
        serde_json::json!({ "window": self.window, "offset": self.offset }).to_string()
    }
    fn required(&self) -> &[Role] {
        &[Role::Time, Role::Flux, Role::Err, Role::Band]
    }
    fn output_fields(&self, _bands: &[String]) -> Vec<Field> {
        vec![
            Field::new("band", DataType::Utf8, false),
            Field::new("time", DataType::Float64, false),
            Field::new("flux", DataType::Float64, false),
            Field::new("err", DataType::Float64, false),
            Field::new("nbin", DataType::Int64, false),
        ]
    }
    fn rows(&self) -> Rows {
        Rows::Many
    }
    fn evaluate(&self, lc: &LightcurveView<'_>, out: &mut Vec<f64>) {
        // (band, bin) of each row, then rows grouped in that order: bands in name order,
        // bins in time order.
        let mut keys: Vec<(u8, i64, usize)> = (0..lc.len())
            .map(|i| {
                let bin = ((lc.time[i] - self.offset) / self.window).floor();
                (lc.band[i], bin as i64, i)
            })
            .collect();
        keys.sort_unstable();
        let mut start = 0;
        while start < keys.len() {
            let (band, bin, _) = keys[start];
            let end = keys[start..]
                .iter()
                .position(|k| (k.0, k.1) != (band, bin))
                .map_or(keys.len(), |p| start + p);
            let n = (end - start) as f64;
            let (mut t, mut f, mut e2) = (0.0, 0.0, 0.0);
            for &(_, _, i) in &keys[start..end] {
                t += lc.time[i];
                f += lc.flux[i];
                e2 += lc.err[i] * lc.err[i];
            }
            out.extend([band as f64, t / n, f / n, e2.sqrt() / n, n]);
            start = end;
        }
    }
}

/// Registers `bin_sources` with one-day bins.
pub(crate) fn register(registry: &mut super::FunctionRegistry) {
    registry.register(std::sync::Arc::new(BinSources::default()));
    // Other windows and offsets, from the parameters of a shipped plan.
    registry.register_builder(
        "bin_sources",
        std::sync::Arc::new(|parameters: &str| {
            let bad = |why: String| {
                crate::error::Error::InvalidArgument(format!(
                    "bin_sources parameters '{parameters}': {why}"
                ))
            };
            let v: serde_json::Value =
                serde_json::from_str(parameters).map_err(|e| bad(e.to_string()))?;
            let number = |k: &str| v[k].as_f64().ok_or_else(|| bad(format!("no number '{k}'")));
            let f = BinSources::new(number("window")?, number("offset")?)?;
            Ok(std::sync::Arc::new(f) as std::sync::Arc<dyn super::LightcurveFunction>)
        }),
    );
}
