//! Observation counts per band and in total (TAPE's `calc_nobs(by_band=True)`).

use super::function::LightcurveFunction;
use crate::io::Role;
use crate::lightcurve::LightcurveView;
use arrow::datatypes::{DataType, Field};
use smallvec::SmallVec;

/// Counts observations: `nobs_<band>` per band, then `nobs_total`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Nobs;

impl Nobs {
    /// Whether `column` is one of the counts this function outputs for `bands`.
    pub fn is_count_column(column: &str, bands: &[String]) -> bool {
        column
            .strip_prefix("nobs_")
            .is_some_and(|b| b == "total" || bands.iter().any(|band| band == b))
    }
}

impl LightcurveFunction for Nobs {
    fn name(&self) -> &str {
        "nobs"
    }
    fn required(&self) -> &[Role] {
        &[Role::Band]
    }
    fn output_fields(&self, bands: &[String]) -> Vec<Field> {
        bands
            .iter()
            .map(|b| Field::new(format!("nobs_{b}"), DataType::Int64, false))
            .chain(std::iter::once(Field::new(
                "nobs_total",
                DataType::Int64,
                false,
            )))
            .collect()
    }
    fn evaluate(&self, lc: &LightcurveView<'_>, out: &mut Vec<f64>) {
        let mut counts: SmallVec<[u64; 8]> = SmallVec::from_elem(0, lc.band_names.len());
        for &b in lc.band {
            counts[b as usize] += 1;
        }
        out.extend(counts.iter().map(|&c| c as f64));
        out.push(lc.band.len() as f64);
    }
}
/// Registers `nobs`.
pub(crate) fn register(registry: &mut super::FunctionRegistry) {
    registry.register(std::sync::Arc::new(Nobs));
}
