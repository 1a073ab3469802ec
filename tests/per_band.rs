//! `per_band(f)`: any function band by band, equal to `f` on each band's rows alone, NaN
//! where an object lacks the band.

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{DataType, Field, Float64Type, Int64Type};
use lsstseries::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;

fn mean_and_count() -> Arc<dyn LightcurveFunction> {
    closure_function(
        "mean_and_count",
        &[Role::Flux],
        vec![
            Field::new("mean", DataType::Float64, true),
            Field::new("count", DataType::Int64, true),
        ],
        |lc, out| {
            out.push(lc.flux.iter().sum::<f64>() / lc.flux.len() as f64);
            out.push(lc.flux.len() as f64);
        },
    )
}

fn by_id(b: &RecordBatch, column: &str) -> BTreeMap<i64, f64> {
    let ids = b.column(0).as_primitive::<Int64Type>();
    let col = b.column_by_name(column).unwrap();
    let values: Vec<f64> = match col.data_type() {
        DataType::Int64 => col
            .as_primitive::<Int64Type>()
            .values()
            .iter()
            .map(|&v| v as f64)
            .collect(),
        _ => col.as_primitive::<Float64Type>().values().to_vec(),
    };
    ids.values().iter().copied().zip(values).collect()
}

#[test]
fn per_band_equals_the_function_on_each_band_alone() {
    let mut ens = Ensemble::builder().n_workers(2).build().unwrap();
    ens.from_parquet(
        "data/tape/test_source.parquet",
        ColumnMap::tape(),
        Partitioning::size("5KB").unwrap(),
    )
    .unwrap();
    let per_band = ens
        .source()
        .unwrap()
        .batch_per_band(mean_and_count())
        .unwrap();
    let got = per_band.compute().unwrap();
    let bands = ens.source_table().unwrap().bands.clone();
    assert_eq!(got.num_columns(), 1 + 2 * bands.len());
    let all_ids: Vec<i64> = got.column(0).as_primitive::<Int64Type>().values().to_vec();
    for b in &bands {
        let alone = ens
            .source()
            .unwrap()
            .query(&format!("filterName == '{b}'"))
            .unwrap()
            .batch(mean_and_count())
            .unwrap()
            .compute()
            .unwrap();
        for (column, got_column) in [
            ("mean", format!("mean_{b}")),
            ("count", format!("count_{b}")),
        ] {
            let want = by_id(&alone, column);
            let have = by_id(&got, &got_column);
            for id in &all_ids {
                match want.get(id) {
                    Some(w) => assert_eq!(have[id].to_bits(), w.to_bits(), "{id} {got_column}"),
                    None => assert!(have[id].is_nan(), "{id} {got_column}: {}", have[id]),
                }
            }
        }
        assert!(
            got.column_by_name(&format!("count_{b}"))
                .unwrap()
                .data_type()
                == &DataType::Float64
        );
    }
    // The same by name, through the registry.
    let mut reg = FunctionRegistry::with_builtins();
    reg.register(mean_and_count());
    let mut named = Ensemble::builder()
        .n_workers(2)
        .registry(reg)
        .build()
        .unwrap();
    named
        .from_parquet(
            "data/tape/test_source.parquet",
            ColumnMap::tape(),
            Partitioning::Count(2),
        )
        .unwrap();
    let by_name = named
        .batch_named("per_band(mean_and_count)")
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(by_name.num_rows(), got.num_rows());
    for c in 1..got.num_columns() {
        let (a, b) = (
            got.column(c).as_primitive::<Float64Type>(),
            by_name.column(c).as_primitive::<Float64Type>(),
        );
        assert!(a
            .values()
            .iter()
            .zip(b.values())
            .all(|(x, y)| x.to_bits() == y.to_bits()));
        assert_eq!(a.null_count(), 0);
    }
    let err = named.batch_named("per_band(nope)").unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
    // A many-rows function cannot be split by band this way.
    assert!(named.batch_named("per_band(bin_sources)").is_err());
}
