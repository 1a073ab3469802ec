//! The structure function through the engine: per lightcurve and band, combined, with
//! bootstrap errors, independent of partitioning.

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::{Float64Type, Int64Type};
use lsstseries::analysis::structure_function::{
    sf2, Binning, Bootstrap, Estimator, SfBin, SfErrors, SfOptions,
};
use lsstseries::io::generate::{generate, GeneratorConfig};
use lsstseries::{ColumnMap, Ensemble, Frame, Partitioning};

fn tape(p: Partitioning) -> Ensemble {
    let mut ens = Ensemble::builder().n_workers(2).build().unwrap();
    ens.from_parquet("data/tape/test_source.parquet", ColumnMap::tape(), p)
        .unwrap();
    ens
}

/// The one place this file calls `Frame::structure_function` in combined (pooled) mode.
fn combined_sf(frame: &Frame, options: &SfOptions) -> RecordBatch {
    frame
        .structure_function_pooled(options)
        .unwrap()
        .compute()
        .unwrap()
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

/// Two lightcurves in one lag bin: a short, quiet one (8 points, 28 pairs, SF^2 ~ 1e-4) and
/// a long, strongly varying one (30 points, 435 pairs, SF^2 ~ 1).
fn quiet_and_loud() -> [(Vec<f64>, Vec<f64>); 2] {
    let short_t: Vec<f64> = (0..8).map(|i| i as f64).collect();
    let short_f: Vec<f64> = (0..8).map(|i| 0.01 * (i as f64 * 1.7).sin()).collect();
    let long_t: Vec<f64> = (0..30).map(|i| i as f64 * 0.25).collect();
    let long_f: Vec<f64> = (0..30).map(|i| (i as f64 * 2.3).sin()).collect();
    [(short_t, short_f), (long_t, long_f)]
}

fn one_bin(weighted: bool, seed: u64, lcs: &[(Vec<f64>, Vec<f64>)]) -> SfBin {
    let options = SfOptions {
        binning: Binning::Edges(vec![0.0, 1e9]),
        errors: SfErrors::None,
        bootstrap: Some(Bootstrap {
            repetitions: 200,
            seed,
            equally_weight_lightcurves: weighted,
            ..Bootstrap::default()
        }),
        ..SfOptions::default()
    };
    let input: Vec<_> = lcs.iter().map(|(t, f)| (&t[..], &f[..], None)).collect();
    let bins = sf2(&input, &options).unwrap();
    assert_eq!(bins.len(), 1);
    bins[0]
}

#[test]
fn equal_weighting_stops_the_long_lightcurve_dominating() {
    let lcs = quiet_and_loud();
    // SF^2 (mean df^2, no errors) of each lightcurve alone, and of all pairs pooled.
    let alone = |k: usize| {
        let (t, f) = &lcs[k];
        sf2(&[(&t[..], &f[..], None)], &SfOptions::default()).unwrap()[0].sf2
    };
    let (quiet, loud) = (alone(0), alone(1));
    assert!(quiet < 1e-3 && loud > 0.5, "{quiet} {loud}");
    let pooled = (28.0 * quiet + 435.0 * loud) / 463.0;
    let even = (quiet + loud) / 2.0;

    let plain = one_bin(false, 42, &lcs);
    let weighted = one_bin(true, 42, &lcs);
    // Every pair is still counted once in the bin; only the draws change.
    assert_eq!((plain.pairs, weighted.pairs), (463, 463));
    // Without weighting each repetition draws 28 + 435 pairs: the centre is the pooled
    // value, dominated by the loud lightcurve.
    assert!(
        (plain.sf2 / pooled - 1.0).abs() < 0.05,
        "{} vs {pooled}",
        plain.sf2
    );
    // With it, 28 pairs from each: the centre moves to the mean of the two lightcurves,
    // about half the pooled value, far outside the unweighted bootstrap spread.
    assert!(
        (weighted.sf2 / even - 1.0).abs() < 0.2,
        "{} vs {even}",
        weighted.sf2
    );
    assert!(
        plain.sf2 - weighted.sf2 > 5.0 * plain.sigma,
        "plain {plain:?} weighted {weighted:?}"
    );
    // Fewer draws per repetition (56 instead of 463): a wider spread.
    assert!(weighted.sigma > 1.5 * plain.sigma, "{plain:?} {weighted:?}");
    // Seeded: the same seed reproduces the result exactly, another seed differs.
    assert_eq!(one_bin(true, 42, &lcs), weighted);
    assert_ne!(one_bin(true, 43, &lcs).sigma, weighted.sigma);
}

#[test]
fn equal_weighting_in_the_combined_frame() {
    // The same two lightcurves as two objects in one Parquet file, one band.
    let lcs = quiet_and_loud();
    let dir = tempfile::tempdir().unwrap();
    let mut ids = Vec::new();
    let mut cols: [Vec<f64>; 3] = Default::default();
    for (k, (t, f)) in lcs.iter().enumerate() {
        ids.extend(std::iter::repeat_n(k as i64 + 1, t.len()));
        cols[0].extend(t);
        cols[1].extend(f);
        cols[2].extend(std::iter::repeat_n(0.0, t.len()));
    }
    let n = ids.len();
    let batch = RecordBatch::try_new(
        lsstseries::io::generate::schema(),
        vec![
            std::sync::Arc::new(arrow::array::Int64Array::from(ids)),
            std::sync::Arc::new(arrow::array::Float64Array::from(cols[0].clone())),
            std::sync::Arc::new(arrow::array::Float64Array::from(cols[1].clone())),
            std::sync::Arc::new(arrow::array::Float64Array::from(cols[2].clone())),
            std::sync::Arc::new(arrow::array::StringArray::from(vec!["g"; n])),
        ],
    )
    .unwrap();
    let file = std::fs::File::create(dir.path().join("two.parquet")).unwrap();
    let mut writer = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    writer.write(&batch).unwrap();
    writer.close().unwrap();
    let mut ens = Ensemble::builder().n_workers(2).build().unwrap();
    ens.from_parquet(dir.path(), ColumnMap::generated(), Partitioning::Rows(7))
        .unwrap();
    let frame = ens.source().unwrap();
    let run = |weighted: bool| {
        let options = SfOptions {
            binning: Binning::Edges(vec![0.0, 1e9]),
            errors: SfErrors::None,
            bootstrap: Some(Bootstrap {
                repetitions: 200,
                equally_weight_lightcurves: weighted,
                ..Bootstrap::default()
            }),
            ..SfOptions::default()
        };
        let b = combined_sf(&frame, &options);
        assert_eq!(b.num_rows(), 1);
        (f64s(&b, "sf2")[0], f64s(&b, "sf2_err")[0])
    };
    let (plain, plain_err) = run(false);
    let (weighted, weighted_err) = run(true);
    assert!(plain - weighted > 5.0 * plain_err, "{plain} {weighted}");
    assert!(weighted_err > 1.5 * plain_err, "{plain_err} {weighted_err}");
    // The direct computation on the same lightcurves agrees in the centre's position.
    let direct = one_bin(true, 42, &lcs).sf2;
    assert!(
        (weighted / direct - 1.0).abs() < 0.3,
        "{weighted} vs {direct}"
    );
}
