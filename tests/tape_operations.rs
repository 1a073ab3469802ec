//! TAPE's Ensemble operations on its own test file, with the outcomes TAPE 0.4.1 gave
//! (data/tape/README.md): object filters whose sources follow, prune, dropna — each as
//! plan nodes, equal whatever the partitioning.

use arrow::array::{AsArray, RecordBatch};
use arrow::datatypes::Int64Type;
use lsstseries::prelude::*;
use std::collections::BTreeSet;

fn ensemble(partitioning: Partitioning) -> Ensemble {
    let mut ens = Ensemble::builder().n_workers(2).build().unwrap();
    ens.from_parquet(
        "data/tape/test_source.parquet",
        ColumnMap::tape(),
        partitioning,
    )
    .unwrap();
    ens
}

fn objects(b: &RecordBatch) -> BTreeSet<i64> {
    ids_in(b, "ps1_objid")
}

/// The distinct ids of column `id`.
fn ids_in(b: &RecordBatch, id: &str) -> BTreeSet<i64> {
    b.column_by_name(id)
        .unwrap()
        .as_primitive::<Int64Type>()
        .values()
        .iter()
        .copied()
        .collect()
}

/// Generated objects with rows shuffled and scattered over 3 files.
fn scattered(objects: usize, observations: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let cfg = lsstseries::io::generate::GeneratorConfig {
        objects,
        observations,
        files: 3,
        shuffle_rows: true,
        scatter: true,
        ..Default::default()
    };
    lsstseries::io::generate::generate(&cfg, dir.path()).unwrap();
    dir
}

/// An ensemble on generated data (`ColumnMap::generated()`), cut as `cut`.
fn open_generated(dir: &std::path::Path, cut: Partitioning) -> Ensemble {
    let mut ens = Ensemble::builder().n_workers(2).build().unwrap();
    ens.from_parquet(dir, ColumnMap::generated(), cut).unwrap();
    ens
}

fn cuts() -> Vec<Partitioning> {
    vec![
        Partitioning::RowGroups,
        Partitioning::Count(7),
        Partitioning::Rows(37),
        Partitioning::size("5KB").unwrap(),
    ]
}

#[test]
fn prune_leaves_what_tape_left() {
    for cut in cuts() {
        let ens = ensemble(cut.clone());
        let p10 = ens.source().unwrap().prune(10).unwrap().compute().unwrap();
        assert_eq!((objects(&p10).len(), p10.num_rows()), (11, 1991), "{cut:?}");
        let p50 = ens.source().unwrap().prune(50).unwrap().compute().unwrap();
        assert_eq!(p50.num_rows(), 1928, "{cut:?}");
        // The sources of kept objects are all there, in id order, columns unchanged.
        let all = ens.source().unwrap().compute().unwrap();
        assert_eq!(p50.schema(), all.schema());
    }
}

#[test]
fn object_queries_then_dropna_then_a_source_filter() {
    for cut in cuts() {
        let ens = ensemble(cut.clone());
        let rich = ens
            .source()
            .unwrap()
            .query_objects("nobs_r >= 50")
            .unwrap()
            .query_objects("nobs_g >= 50")
            .unwrap();
        let b = rich.compute().unwrap();
        assert_eq!(objects(&b).len(), 5, "{cut:?}");
        let rest = rich
            .dropna(DropNa::Any, &[])
            .unwrap()
            .filter(col("ps1_objid").not_eq(88472935274829959i64))
            .unwrap()
            .compute()
            .unwrap();
        assert_eq!(
            (objects(&rest).len(), rest.num_rows()),
            (4, 1063),
            "{cut:?}"
        );
        // One node per operation in the plan, none computed eagerly.
        let text = rich.explain().unwrap();
        assert!(text.contains("KeepObjects[nobs_r >= 50 by nobs]"), "{text}");
    }
}

#[test]
fn object_filters_check_their_columns_at_the_call() {
    let ens = ensemble(Partitioning::RowGroups);
    let err = ens
        .source()
        .unwrap()
        .query_objects("nobs_z > 3")
        .unwrap_err();
    assert!(err.to_string().contains("nobs_z"), "{err}");
    assert!(err.to_string().contains("nobs_total"), "{err}");
    let err = ens
        .source()
        .unwrap()
        .dropna(DropNa::Any, &["nope"])
        .unwrap_err();
    assert!(err.to_string().contains("nope"), "{err}");
}

#[test]
fn dropna_forms() {
    use arrow::array::{Float64Array, Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("na.parquet");
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("mjd", DataType::Float64, false),
        Field::new("flux", DataType::Float64, false),
        Field::new("flux_err", DataType::Float64, false),
        Field::new("band", DataType::Utf8, false),
        Field::new("a", DataType::Float64, true),
        Field::new("b", DataType::Float64, true),
    ]));
    let n = 4;
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(vec![1, 1, 2, 2])),
            Arc::new(Float64Array::from(vec![0.0, 1.0, 2.0, 3.0])),
            Arc::new(Float64Array::from(vec![1.0; n])),
            Arc::new(Float64Array::from(vec![0.1; n])),
            Arc::new(StringArray::from(vec!["g"; n])),
            Arc::new(Float64Array::from(vec![
                Some(1.0),
                None,
                Some(f64::NAN),
                None,
            ])),
            Arc::new(Float64Array::from(vec![Some(1.0), Some(2.0), None, None])),
        ],
    )
    .unwrap();
    lsstseries::io::write_parquet(&path, &batch).unwrap();
    let mut ens = Ensemble::builder().n_workers(1).build().unwrap();
    ens.from_parquet(&path, ColumnMap::generated(), Partitioning::Rows(1))
        .unwrap();
    let rows = |how, subset: &[&str]| {
        ens.source()
            .unwrap()
            .dropna(how, subset)
            .unwrap()
            .compute()
            .unwrap()
            .num_rows()
    };
    assert_eq!(rows(DropNa::Any, &[]), 1);
    assert_eq!(rows(DropNa::Any, &["b"]), 2);
    assert_eq!(rows(DropNa::All, &["a", "b"]), 2);
    assert_eq!(rows(DropNa::Thresh(6), &[]), 2);
    assert_eq!(rows(DropNa::Thresh(7), &[]), 1);
    let text = ens
        .source()
        .unwrap()
        .dropna(DropNa::All, &["a", "b"])
        .unwrap()
        .explain()
        .unwrap();
    assert!(text.contains("Filter[count_valid(a, b) >= 1]"), "{text}");
}

/// Magnitudes from fluxes, checked by hand row by row; then the magnitudes play the flux
/// role, and Stetson J equals Stetson J on a file written with them as the flux.
#[test]
fn convert_flux_to_mag_then_use_magnitudes_as_the_flux() {
    use arrow::datatypes::Float64Type;
    use lsstseries::io::generate::{generate, GeneratorConfig};
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("lc");
    let cfg = GeneratorConfig {
        objects: 30,
        observations: 25,
        files: 2,
        ..GeneratorConfig::default()
    };
    generate(&cfg, &data).unwrap();
    let ens = open_generated(&data, Partitioning::Count(5));
    let mags = ens
        .source()
        .unwrap()
        .convert_flux_to_mag(ZeroPoint::Mag(31.4))
        .unwrap();
    let b = mags.compute().unwrap();
    let f = |c: &str| {
        b.column_by_name(c)
            .unwrap()
            .as_primitive::<Float64Type>()
            .clone()
    };
    let (flux, err, mag, mag_err) = (f("flux"), f("flux_err"), f("flux_mag"), f("flux_mag_err"));
    for r in 0..b.num_rows() {
        let want = -2.5 * flux.value(r).log10() + 31.4;
        assert!((mag.value(r) - want).abs() <= 1e-12 * want.abs(), "row {r}");
        let want = 2.5 / std::f64::consts::LN_10 * err.value(r) / flux.value(r);
        assert!(
            (mag_err.value(r) - want).abs() <= 1e-12 * want.abs(),
            "row {r}"
        );
    }
    let mut roles = ColumnMap::generated();
    roles.flux = "flux_mag".into();
    roles.err = "flux_mag_err".into();
    let sj = mags
        .with_column_map(roles)
        .unwrap()
        .batch_named("stetson_j")
        .unwrap()
        .compute()
        .unwrap();
    // The same magnitudes written as the flux of a new file.
    let band = arrow::compute::cast(
        b.column_by_name("band").unwrap(),
        &arrow::datatypes::DataType::Utf8,
    )
    .unwrap();
    let bands: Vec<String> = band
        .as_string::<i32>()
        .iter()
        .map(|s| s.unwrap().to_string())
        .collect();
    let by_hand = lsstseries::io::source_batch(
        &ColumnMap::generated(),
        b.column_by_name("id")
            .unwrap()
            .as_primitive::<Int64Type>()
            .values()
            .to_vec(),
        f("mjd").values().to_vec(),
        mag.values().to_vec(),
        mag_err.values().to_vec(),
        bands.iter().map(String::as_str).collect(),
    )
    .unwrap();
    let path = dir.path().join("mags.parquet");
    lsstseries::io::write_parquet(&path, &by_hand).unwrap();
    let mut ens2 = Ensemble::builder().n_workers(1).build().unwrap();
    ens2.from_parquet(&path, ColumnMap::generated(), Partitioning::RowGroups)
        .unwrap();
    let want = ens2.batch_named("stetson_j").unwrap().compute().unwrap();
    assert_eq!(sj, want);
    // Bad roles fail at the call.
    let mut roles = ColumnMap::generated();
    roles.flux = "nope".into();
    assert!(mags.with_column_map(roles).is_err());
}

#[test]
fn assign_and_coalesce() {
    use arrow::datatypes::Float64Type;
    let ens = ensemble(Partitioning::Count(3));
    let b = ens
        .source()
        .unwrap()
        .assign(&[
            ("snr", col("psFlux") / col("psFluxErr")),
            ("snr2", col("snr") * 2),
            ("psFlux", col("psFlux") + 1),
        ])
        .unwrap()
        .coalesce(&["snr", "psFlux"], "either")
        .unwrap()
        .compute()
        .unwrap();
    let all = ens.source().unwrap().compute().unwrap();
    let f = |b: &RecordBatch, c: &str| {
        b.column_by_name(c)
            .unwrap()
            .as_primitive::<Float64Type>()
            .clone()
    };
    let (flux0, err, snr, snr2, flux1, either) = (
        f(&all, "psFlux"),
        f(&all, "psFluxErr"),
        f(&b, "snr"),
        f(&b, "snr2"),
        f(&b, "psFlux"),
        f(&b, "either"),
    );
    for r in 0..b.num_rows() {
        assert_eq!(snr.value(r), flux0.value(r) / err.value(r));
        assert_eq!(snr2.value(r), snr.value(r) * 2.0);
        assert_eq!(flux1.value(r), flux0.value(r) + 1.0);
        assert_eq!(either.value(r), snr.value(r));
    }
    // The replaced column keeps its place; new ones are appended in order.
    let names: Vec<String> = b
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(names[names.len() - 3..], ["snr", "snr2", "either"]);
    assert!(ens
        .source()
        .unwrap()
        .assign(&[("x", col("filterName") * 2)])
        .is_err());
}

/// `sample` keeps about the fraction of objects asked, each whole, the same ones whatever
/// the partitioning; another seed picks others.
#[test]
fn sample_is_reproducible_and_keeps_whole_objects() {
    let dir = scattered(2000, 5);
    let mut picks = Vec::new();
    for cut in [
        Partitioning::RowGroups,
        Partitioning::Count(17),
        Partitioning::Rows(333),
    ] {
        let ens = open_generated(dir.path(), cut);
        let b = ens
            .source()
            .unwrap()
            .sample(0.25, 7)
            .unwrap()
            .compute()
            .unwrap();
        let kept = ids_in(&b, "id");
        // Whole objects: 5 rows each.
        assert_eq!(b.num_rows(), kept.len() * 5);
        picks.push(kept);
        let other = ens
            .source()
            .unwrap()
            .sample(0.25, 8)
            .unwrap()
            .compute()
            .unwrap();
        assert_ne!(ids_in(&other, "id"), picks[0]);
        assert!(ens.source().unwrap().sample(1.5, 1).is_err());
        assert_eq!(
            ens.source()
                .unwrap()
                .sample(0.0, 1)
                .unwrap()
                .compute()
                .unwrap()
                .num_rows(),
            0
        );
    }
    assert!(picks.windows(2).all(|w| w[0] == w[1]));
    // 2000 objects at 25%: 500 expected, sd about 19.
    let n = picks[0].len();
    assert!((400..=600).contains(&n), "{n}");
}

/// `sort_lightcurves` orders rows by id, then time, whatever the layout and the cut.
#[test]
fn sort_lightcurves_orders_by_id_then_time() {
    use arrow::datatypes::Float64Type;
    let dir = scattered(40, 30);
    let mut results = Vec::new();
    for cut in [
        Partitioning::RowGroups,
        Partitioning::Count(9),
        Partitioning::Rows(77),
    ] {
        let ens = open_generated(dir.path(), cut);
        let b = ens
            .source()
            .unwrap()
            .sort_lightcurves()
            .unwrap()
            .compute()
            .unwrap();
        let ids = b.column_by_name("id").unwrap().as_primitive::<Int64Type>();
        let t = b
            .column_by_name("mjd")
            .unwrap()
            .as_primitive::<Float64Type>();
        for r in 1..b.num_rows() {
            let (a, c) = (
                (ids.value(r - 1), t.value(r - 1)),
                (ids.value(r), t.value(r)),
            );
            assert!(
                a.0 < c.0 || (a.0 == c.0 && a.1 <= c.1),
                "row {r}: {a:?} then {c:?}"
            );
        }
        assert_eq!(b.num_rows(), 40 * 30);
        results.push(b);
    }
    assert!(results.windows(2).all(|w| w[0] == w[1]));
}

/// `repartition` after load: a new cut of the same data, same answers, object file kept.
#[test]
fn repartition_after_load() {
    let mut ens = ensemble(Partitioning::RowGroups);
    ens.from_parquet_objects("data/tape/test_object.parquet")
        .unwrap();
    let before = ens.batch_named("stetson_j").unwrap().compute().unwrap();
    ens.repartition(Partitioning::Count(9)).unwrap();
    assert_eq!(ens.source_table().unwrap().partitions.len(), 9);
    let after = ens.batch_named("stetson_j").unwrap().compute().unwrap();
    assert_eq!(before, after);
    let kept = ens
        .source()
        .unwrap()
        .query_objects("nobs_total >= 50")
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(kept.num_rows(), 1928);
    assert!(ens
        .batch_named("stetson_j")
        .unwrap()
        .explain()
        .unwrap()
        .contains("into 9 partitions"));
}

/// `bin_sources` against a hand computation: per object, band and time bin, mean time and
/// flux, sqrt(sum sigma^2) / N and the count; the same for any cut.
#[test]
fn bin_sources_by_hand() {
    use arrow::datatypes::Float64Type;
    use std::collections::BTreeMap;
    let (window, offset) = (0.5, 0.3);
    let ens = ensemble(Partitioning::RowGroups);
    let all = ens.source().unwrap().compute().unwrap();
    let col = |c: &str| {
        arrow::compute::cast(
            all.column_by_name(c).unwrap(),
            &arrow::datatypes::DataType::Float64,
        )
        .unwrap()
        .as_primitive::<Float64Type>()
        .clone()
    };
    let (t, f, e) = (col("midPointTai"), col("psFlux"), col("psFluxErr"));
    let ids = all
        .column_by_name("ps1_objid")
        .unwrap()
        .as_primitive::<Int64Type>();
    let band = arrow::compute::cast(
        all.column_by_name("filterName").unwrap(),
        &arrow::datatypes::DataType::Utf8,
    )
    .unwrap();
    let band = band.as_string::<i32>();
    let mut groups: BTreeMap<(i64, String, i64), Vec<usize>> = BTreeMap::new();
    for r in 0..all.num_rows() {
        let bin = ((t.value(r) - offset) / window).floor() as i64;
        groups
            .entry((ids.value(r), band.value(r).to_string(), bin))
            .or_default()
            .push(r);
    }
    for cut in [
        Partitioning::RowGroups,
        Partitioning::Count(6),
        Partitioning::size("5KB").unwrap(),
    ] {
        let ens = ensemble(cut.clone());
        let b = ens
            .source()
            .unwrap()
            .bin_sources(window, offset)
            .unwrap()
            .compute()
            .unwrap();
        assert_eq!(b.num_rows(), groups.len(), "{cut:?}");
        let g = |c: &str| {
            b.column_by_name(c)
                .unwrap()
                .as_primitive::<Float64Type>()
                .clone()
        };
        let (bt, bf, be) = (g("time"), g("flux"), g("err"));
        let n = b
            .column_by_name("nbin")
            .unwrap()
            .as_primitive::<Int64Type>()
            .clone();
        let bband = b.column_by_name("band").unwrap().as_string::<i32>().clone();
        for (k, ((id, name, _), rows)) in groups.iter().enumerate() {
            let m = rows.len() as f64;
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * b.abs().max(1.0);
            assert_eq!(b.column(0).as_primitive::<Int64Type>().value(k), *id);
            assert_eq!(bband.value(k), name);
            assert_eq!(n.value(k), rows.len() as i64);
            assert!(close(
                bt.value(k),
                rows.iter().map(|&r| t.value(r)).sum::<f64>() / m
            ));
            assert!(close(
                bf.value(k),
                rows.iter().map(|&r| f.value(r)).sum::<f64>() / m
            ));
            let e2: f64 = rows.iter().map(|&r| e.value(r) * e.value(r)).sum();
            assert!(close(be.value(k), e2.sqrt() / m));
        }
    }
    assert!(ens.source().unwrap().bin_sources(0.0, 0.0).is_err());
}
