//! The structure function through the engine: per lightcurve and band, combined, with
//! bootstrap errors, independent of partitioning.

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::{Float64Type, Int64Type};
use lsstseries::analysis::structure_function::{sf2, Bootstrap, Estimator, SfOptions};
use lsstseries::io::generate::{generate, GeneratorConfig};
use lsstseries::{ColumnMap, Ensemble, Partitioning};

fn tape(p: Partitioning) -> Ensemble {
    let mut ens = Ensemble::builder().n_workers(2).build().unwrap();
    ens.from_parquet("data/tape/test_source.parquet", ColumnMap::tape(), p)
        .unwrap();
    ens
}

fn f64s(b: &RecordBatch, c: &str) -> Vec<f64> {
    b.column_by_name(c)
        .unwrap()
        .as_primitive::<Float64Type>()
        .values()
        .to_vec()
}

#[test]
fn per_lightcurve_rows_match_the_direct_computation() {
    let ens = tape(Partitioning::size("5KB").unwrap());
    let frame = ens.batch_named("sf2").unwrap();
    let result = frame.compute().unwrap();
    let names: Vec<String> = result
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        names,
        ["ps1_objid", "band", "dt", "sf2", "sf2_err", "n_pairs"]
    );
    // Object 88472935274829959, band g: recompute directly from its rows.
    let rows = ens.source().unwrap().compute().unwrap();
    let ids = rows
        .column_by_name("ps1_objid")
        .unwrap()
        .as_primitive::<Int64Type>();
    let bands = arrow::compute::cast(
        rows.column_by_name("filterName").unwrap(),
        &arrow::datatypes::DataType::Utf8,
    )
    .unwrap();
    let bands = bands.as_string::<i32>();
    let (t, f, e) = (
        f64s(&rows, "midPointTai"),
        f64s(&rows, "psFlux"),
        f64s(&rows, "psFluxErr"),
    );
    let mut idx: Vec<usize> = (0..rows.num_rows())
        .filter(|&i| ids.value(i) == 88472935274829959 && bands.value(i) == "g")
        .collect();
    idx.sort_by(|&a, &b| t[a].total_cmp(&t[b]));
    let pick = |v: &[f64]| idx.iter().map(|&i| v[i]).collect::<Vec<f64>>();
    let (tt, ff, ee) = (pick(&t), pick(&f), pick(&e));
    let want = sf2(&[(&tt[..], &ff[..], Some(&ee[..]))], &SfOptions::default()).unwrap();
    let rid = result.column(0).as_primitive::<Int64Type>();
    let rband = result.column(1).as_string::<i32>();
    let got: Vec<usize> = (0..result.num_rows())
        .filter(|&i| rid.value(i) == 88472935274829959 && rband.value(i) == "g")
        .collect();
    assert_eq!(got.len(), want.len());
    assert_eq!(want.iter().map(|b| b.pairs).sum::<usize>(), 98 * 97 / 2);
    for (k, &i) in got.iter().enumerate() {
        assert_eq!(f64s(&result, "sf2")[i].to_bits(), want[k].sf2.to_bits());
        assert_eq!(f64s(&result, "dt")[i].to_bits(), want[k].dt.to_bits());
    }
}

#[test]
fn results_do_not_depend_on_partitioning_even_with_bootstrap() {
    let options = SfOptions {
        estimator: Estimator::Macleod2012,
        bootstrap: Some(Bootstrap {
            repetitions: 20,
            ..Bootstrap::default()
        }),
        report_bounds: true,
        ..SfOptions::default()
    };
    let a = tape(Partitioning::RowGroups)
        .source()
        .unwrap()
        .structure_function(&options)
        .unwrap()
        .compute()
        .unwrap();
    let b = tape(Partitioning::Rows(37))
        .source()
        .unwrap()
        .structure_function(&options)
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(a, b);
    assert!(f64s(&a, "sf2_err")
        .iter()
        .all(|s| s.is_finite() && *s >= 0.0));
    assert_eq!(a.num_columns(), 8);
}

#[test]
fn combined_pools_every_lightcurve_per_band() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = GeneratorConfig {
        objects: 40,
        observations: 30,
        files: 3,
        scatter: true,
        shuffle_rows: true,
        ..Default::default()
    };
    generate(&cfg, dir.path()).unwrap();
    let mut ens = Ensemble::builder().n_workers(2).build().unwrap();
    ens.from_parquet(dir.path(), ColumnMap::generated(), Partitioning::RowGroups)
        .unwrap();
    let options = SfOptions {
        bin_count_target: 500,
        ..SfOptions::default()
    };
    let combined = ens
        .source()
        .unwrap()
        .structure_function_pooled(&options)
        .unwrap()
        .compute()
        .unwrap();
    let names: Vec<String> = combined
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names, ["band", "dt", "sf2", "sf2_err", "n_pairs"]);
    // Every pair of every lightcurve lands in exactly one bin of its band.
    let per_lc = ens
        .source()
        .unwrap()
        .structure_function(&SfOptions {
            bin_count_target: 1_000_000,
            ..options.clone()
        })
        .unwrap()
        .compute()
        .unwrap();
    let pairs = |b: &RecordBatch| {
        b.column_by_name("n_pairs")
            .unwrap()
            .as_primitive::<Int64Type>()
            .values()
            .iter()
            .sum::<i64>()
    };
    assert_eq!(pairs(&combined), pairs(&per_lc));
    // Sorted written layout gives the same combined result.
    let sorted = tempfile::tempdir().unwrap();
    generate(
        &GeneratorConfig {
            files: 1,
            scatter: false,
            shuffle_rows: false,
            ..cfg
        },
        sorted.path(),
    )
    .unwrap();
    let mut ens2 = Ensemble::builder().n_workers(2).build().unwrap();
    ens2.from_parquet(
        sorted.path(),
        ColumnMap::generated(),
        Partitioning::Rows(100),
    )
    .unwrap();
    let again = ens2
        .source()
        .unwrap()
        .structure_function_pooled(&options)
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(combined.column(0), again.column(0));
    for (x, y) in f64s(&combined, "sf2").iter().zip(f64s(&again, "sf2")) {
        assert!((x - y).abs() <= 1e-9 * x.abs().max(1.0), "{x} vs {y}");
    }
}

#[test]
fn bad_options_fail_before_any_work() {
    let ens = tape(Partitioning::RowGroups);
    let bad = SfOptions {
        bin_count_target: 0,
        ..SfOptions::default()
    };
    let err = ens
        .source()
        .unwrap()
        .structure_function(&bad)
        .unwrap_err()
        .to_string();
    assert!(err.contains("bin_count_target"), "{err}");
}
