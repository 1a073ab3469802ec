//! Every one-row-per-lightcurve function is a DataFusion aggregate:
//! `SELECT id, stetson_j(mjd, flux, flux_err, band) FROM sources GROUP BY id` in a plain
//! `SessionContext` gives the local results (rows of a lightcurve in time order, as the
//! generated files store them, so floats agree bit for bit).

use super::common;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::compute::concat_batches;
use common::{assert_identical, dataset, ensemble};
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use lsstseries::{BadValues, FunctionRegistry};
use lsstseries_ballista::register_lightcurve_functions;

#[test]
fn lightcurve_functions_as_sql_aggregates_match_local() {
    let dir = tempfile::tempdir().unwrap();
    dataset(dir.path(), 25, false);
    let ens = ensemble(dir.path());
    let bands = ens.source().unwrap().band_names().to_vec();
    let rt = common::runtime(2);
    let ctx = SessionContext::new();
    let registry = FunctionRegistry::with_builtins();
    let names = register_lightcurve_functions(&ctx, &registry, &bands, BadValues::Drop).unwrap();
    for expected in ["stetson_j", "nobs", "features", "periodogram"] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} not in {names:?}"
        );
    }
    assert!(
        !names.iter().any(|n| n == "sf2"),
        "sf2 has many rows per object"
    );
    rt.block_on(ctx.register_parquet(
        "sources",
        dir.path().to_str().unwrap(),
        ParquetReadOptions::default(),
    ))
    .unwrap();
    for name in ["stetson_j", "features", "nobs"] {
        let local = ens
            .source()
            .unwrap()
            .batch_named(name)
            .unwrap()
            .compute()
            .unwrap();
        let sql = format!(
            "SELECT id, {name}(mjd, flux, flux_err, band) AS r FROM sources GROUP BY id ORDER BY id"
        );
        let batches = rt
            .block_on(async { ctx.sql(&sql).await?.collect().await })
            .unwrap();
        let all = concat_batches(&batches[0].schema(), &batches).unwrap();
        // Unpack the struct into columns, beside the id: the local result's shape.
        let r = all.column(1).as_struct();
        let mut columns = vec![all.column(0).clone()];
        columns.extend(r.columns().iter().cloned());
        assert_eq!(r.null_count(), 0);
        let sql_result = RecordBatch::try_new(local.schema(), columns).unwrap();
        assert_identical(name, &local, &sql_result);
    }
}

/// A function that reads columns by name takes them as arguments after the band, in the
/// order it declares them, and gives the local result.
#[test]
fn functions_reading_columns_by_name_take_them_after_the_band() {
    use arrow::datatypes::{DataType, Field};
    let dir = tempfile::tempdir().unwrap();
    dataset(dir.path(), 20, false);
    let mut ens = ensemble(dir.path());
    let weighted = lsstseries::closure_function_with_columns(
        "mjd_weighted_flux",
        &[],
        &["mjd", "flux"],
        vec![Field::new("mjd_weighted_flux", DataType::Float64, true)],
        |lc, out| {
            let (t, f) = (
                lc.column("mjd").unwrap_or(&[]),
                lc.column("flux").unwrap_or(&[]),
            );
            out.push(t.iter().zip(f).map(|(t, f)| t * f).sum::<f64>())
        },
    );
    ens.registry_mut().register(weighted.clone());
    let local = ens.batch(weighted).unwrap().compute().unwrap();
    let bands = ens.source().unwrap().band_names().to_vec();
    let rt = common::runtime(2);
    let ctx = SessionContext::new();
    let names =
        register_lightcurve_functions(&ctx, ens.registry(), &bands, BadValues::Drop).unwrap();
    assert!(names.iter().any(|n| n == "mjd_weighted_flux"), "{names:?}");
    rt.block_on(ctx.register_parquet(
        "sources",
        dir.path().to_str().unwrap(),
        ParquetReadOptions::default(),
    ))
    .unwrap();
    let sql = "SELECT id, mjd_weighted_flux(mjd, flux, flux_err, band, mjd, flux) AS r \
               FROM sources GROUP BY id ORDER BY id";
    let batches = rt
        .block_on(async { ctx.sql(sql).await?.collect().await })
        .unwrap();
    let all = concat_batches(&batches[0].schema(), &batches).unwrap();
    let r = all.column(1).as_struct();
    let columns = vec![all.column(0).clone(), r.column(0).clone()];
    let sql_result = RecordBatch::try_new(local.schema(), columns).unwrap();
    assert_identical("mjd_weighted_flux", &local, &sql_result);
    // Four arguments are not enough for it, and the error says what it takes.
    let short = "SELECT id, mjd_weighted_flux(mjd, flux, flux_err, band) FROM sources GROUP BY id";
    let e = rt
        .block_on(async { ctx.sql(short).await?.collect().await })
        .unwrap_err()
        .to_string();
    assert!(e.contains("mjd_weighted_flux"), "{e}");
}
