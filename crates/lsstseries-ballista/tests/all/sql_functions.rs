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
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
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
