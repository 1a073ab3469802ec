//! Statistics on binned sources: `bin_sources` points the frame's column map at its own
//! columns, so per-lightcurve functions and magnitudes apply to the bins.

use arrow::array::AsArray;
use arrow::datatypes::Int64Type;
use lsstseries::prelude::*;
use std::collections::BTreeMap;

#[test]
fn functions_on_bins_see_the_bins() {
    let mut ens = Ensemble::builder().n_workers(2).build().unwrap();
    ens.from_parquet(
        "data/tape/test_source.parquet",
        ColumnMap::tape(),
        Partitioning::size("5KB").unwrap(),
    )
    .unwrap();
    let bins = ens
        .source()
        .unwrap()
        .bin_sources(1.0, 0.7916666666666666)
        .unwrap();
    assert_eq!(bins.column_map().flux, "flux");
    let rows = bins.compute().unwrap();
    let mut per_object: BTreeMap<i64, i64> = BTreeMap::new();
    for id in rows.column(0).as_primitive::<Int64Type>().values() {
        *per_object.entry(*id).or_default() += 1;
    }
    // nobs over the bins counts bins, object by object.
    let nobs = bins.batch_named("nobs").unwrap().compute().unwrap();
    let ids = nobs.column(0).as_primitive::<Int64Type>();
    let total = nobs
        .column_by_name("nobs_total")
        .unwrap()
        .as_primitive::<Int64Type>();
    let got: BTreeMap<i64, i64> = ids
        .values()
        .iter()
        .copied()
        .zip(total.values().iter().copied())
        .collect();
    assert_eq!(got, per_object);
    // Magnitudes of the bins, then Stetson J: one row per object.
    let sj = bins
        .convert_flux_to_mag(ZeroPoint::Mag(31.4))
        .unwrap()
        .batch_named("stetson_j")
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(sj.num_rows(), per_object.len());
}
