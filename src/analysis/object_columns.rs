//! The object table as a per-lightcurve function: counts per band and in total computed
//! from the sources (so they follow every source filter), then the numeric columns of an
//! object file looked up by id (NaN for an object the file lacks). Object filters
//! (`query_objects`) evaluate their predicate on these values.

use super::function::LightcurveFunction;
use super::nobs::Nobs;
use crate::io::{ObjectTable, Role};
use crate::lightcurve::LightcurveView;
use arrow::datatypes::{DataType, Field};
use std::sync::Arc;

/// `nobs_<band>`, `nobs_total`, then the object file's columns (those not named like a
/// count: the counts are recomputed from the sources, as TAPE does after a filter).
#[derive(Debug, Clone)]
pub struct ObjectColumns {
    table: Arc<ObjectTable>,
}

impl ObjectColumns {
    /// The object table `table` joined to the counts.
    pub fn new(table: Arc<ObjectTable>) -> Self {
        ObjectColumns { table }
    }

    /// The file's columns not named like a count of `bands` (no allocation: this runs once
    /// per lightcurve).
    fn file_columns<'a>(&'a self, bands: &'a [String]) -> impl Iterator<Item = (usize, &'a str)> {
        self.table
            .columns
            .iter()
            .enumerate()
            .filter(move |(_, (name, _))| !Nobs::is_count_column(name, bands))
            .map(|(i, (name, _))| (i, name.as_str()))
    }
}

impl LightcurveFunction for ObjectColumns {
    fn name(&self) -> &str {
        "objects"
    }
    fn required(&self) -> &[Role] {
        &[Role::Band]
    }
    fn output_fields(&self, bands: &[String]) -> Vec<Field> {
        let mut fields = Nobs.output_fields(bands);
        fields.extend(
            self.file_columns(bands)
                .map(|(_, name)| Field::new(name, DataType::Float64, true)),
        );
        fields
    }
    fn evaluate(&self, lc: &LightcurveView<'_>, out: &mut Vec<f64>) {
        Nobs.evaluate(lc, out);
        let row = self.table.row_of(lc.id);
        for (i, _) in self.file_columns(lc.band_names) {
            out.push(row.map_or(f64::NAN, |r| self.table.columns[i].1[r]));
        }
    }
}
