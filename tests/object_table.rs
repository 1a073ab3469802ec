//! An object table file joined on id: its numeric columns filter objects, whose sources
//! follow; counts are recomputed from the sources; mistakes in the file are named.

use arrow::array::{
    Array, ArrayRef, AsArray, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
};
use arrow::datatypes::{DataType, Field, Int64Type, Schema};
use lsstseries::io::generate::{generate, GeneratorConfig};
use lsstseries::io::write_parquet;
use lsstseries::prelude::*;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

fn object_file(path: &Path, ids: &[i64]) {
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("redshift", DataType::Float64, true),
        Field::new("class", DataType::Int32, false),
        Field::new("name", DataType::Utf8, false),
    ]));
    let redshift: Vec<Option<f64>> = ids
        .iter()
        .map(|&i| {
            if i % 7 == 0 {
                None
            } else {
                Some((i % 10) as f64 / 10.0)
            }
        })
        .collect();
    let columns: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(ids.to_vec())),
        Arc::new(Float64Array::from(redshift)),
        Arc::new(Int32Array::from(
            ids.iter().map(|&i| (i % 3) as i32).collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            ids.iter().map(|i| format!("obj{i}")).collect::<Vec<_>>(),
        )),
    ];
    write_parquet(path, &RecordBatch::try_new(schema, columns).unwrap()).unwrap();
}

fn ids_of(b: &RecordBatch) -> BTreeSet<i64> {
    b.column_by_name("id")
        .unwrap()
        .as_primitive::<Int64Type>()
        .values()
        .iter()
        .copied()
        .collect()
}

#[test]
fn object_columns_filter_objects_and_their_sources_follow() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("lc");
    let cfg = GeneratorConfig {
        objects: 60,
        observations: 12,
        files: 3,
        shuffle_rows: true,
        scatter: true,
        ..GeneratorConfig::default()
    };
    generate(&cfg, &data).unwrap();
    // The file lacks the first five objects (they fail every comparison: NaN).
    let in_file: Vec<i64> = (1_000_005..1_000_060).collect();
    let objects = dir.path().join("objects.parquet");
    object_file(&objects, &in_file);
    let want: BTreeSet<i64> = in_file
        .iter()
        .copied()
        .filter(|i| i % 7 != 0 && (i % 10) as f64 / 10.0 > 0.5 && i % 3 == 1)
        .collect();
    for cut in [
        Partitioning::RowGroups,
        Partitioning::Count(7),
        Partitioning::Rows(50),
    ] {
        let mut ens = Ensemble::builder().n_workers(2).build().unwrap();
        ens.from_parquet(&data, ColumnMap::generated(), cut.clone())
            .unwrap();
        let table = ens.from_parquet_objects(&objects).unwrap();
        assert_eq!(table.len(), 55);
        assert_eq!(table.skipped.len(), 1, "the string column is skipped");
        let all = ens.source().unwrap().compute().unwrap();
        let kept = ens
            .source()
            .unwrap()
            .query_objects("redshift > 0.5 and class == 1 and nobs_total >= 12")
            .unwrap()
            .compute()
            .unwrap();
        assert_eq!(ids_of(&kept), want, "{cut:?}");
        // Every source row of a kept object, and no other.
        let rows_of_kept = ids_of_rows(&all)
            .iter()
            .filter(|i| want.contains(i))
            .count();
        assert_eq!(kept.num_rows(), rows_of_kept, "{cut:?}");
        // Counts follow a source filter made before the object filter.
        let g_only = ens
            .source()
            .unwrap()
            .query("band == 'g'")
            .unwrap()
            .query_objects("nobs_total >= 12")
            .unwrap()
            .compute()
            .unwrap();
        assert_eq!(g_only.num_rows(), 0, "{cut:?}: no object has 12 g points");
    }
}

fn ids_of_rows(b: &RecordBatch) -> Vec<i64> {
    b.column_by_name("id")
        .unwrap()
        .as_primitive::<Int64Type>()
        .values()
        .to_vec()
}

#[test]
fn tape_object_file_counts_are_recomputed() {
    let mut ens = Ensemble::builder().n_workers(2).build().unwrap();
    ens.from_parquet(
        "data/tape/test_source.parquet",
        ColumnMap::tape(),
        Partitioning::size("5KB").unwrap(),
    )
    .unwrap();
    ens.from_parquet_objects("data/tape/test_object.parquet")
        .unwrap();
    let b = ens
        .source()
        .unwrap()
        .query_objects("nobs_total >= 50")
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(b.num_rows(), 1928);
}

#[test]
fn mistakes_in_the_object_file_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("lc");
    generate(
        &GeneratorConfig {
            objects: 5,
            observations: 3,
            ..GeneratorConfig::default()
        },
        &data,
    )
    .unwrap();
    let mut ens = Ensemble::builder().n_workers(1).build().unwrap();
    ens.from_parquet(&data, ColumnMap::generated(), Partitioning::RowGroups)
        .unwrap();
    let dup = dir.path().join("dup.parquet");
    object_file(&dup, &[1_000_001, 1_000_002, 1_000_001]);
    let err = ens.from_parquet_objects(&dup).unwrap_err().to_string();
    assert!(err.contains("1000001") && err.contains("twice"), "{err}");
    let other = dir.path().join("other.parquet");
    let b = lsstseries::io::source_batch(
        &ColumnMap::tape(),
        vec![1],
        vec![0.0],
        vec![1.0],
        vec![0.1],
        vec!["g"],
    )
    .unwrap();
    write_parquet(&other, &b).unwrap();
    let err = ens.from_parquet_objects(&other).unwrap_err().to_string();
    assert!(err.contains("'id'") && err.contains("ps1_objid"), "{err}");
    let err = ens
        .from_parquet_objects(dir.path().join("missing.parquet"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("missing.parquet"), "{err}");
    // An unknown object column fails at the call, listing what there is.
    object_file(&dup.with_file_name("ok.parquet"), &[1_000_001]);
    ens.from_parquet_objects(dup.with_file_name("ok.parquet"))
        .unwrap();
    let err = ens
        .source()
        .unwrap()
        .query_objects("redshfit > 1")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("redshfit") && err.contains("redshift"),
        "{err}"
    );
}

/// Generated sources (ids 1_000_000..) with an object file that lacks the first five
/// objects and adds five that have no sources.
fn dataset(
    dir: &Path,
    cfg: &GeneratorConfig,
) -> (std::path::PathBuf, std::path::PathBuf, Vec<i64>) {
    let data = dir.join("lc");
    generate(cfg, &data).unwrap();
    let n = cfg.objects as i64;
    let in_file: Vec<i64> = (1_000_005..1_000_000 + n + 5).collect();
    let objects = dir.join("objects.parquet");
    object_file(&objects, &in_file);
    (data, objects, in_file)
}

fn open(data: &Path, objects: &Path, cut: Partitioning) -> Ensemble {
    let mut ens = Ensemble::builder().n_workers(2).build().unwrap();
    ens.from_parquet(data, ColumnMap::generated(), cut).unwrap();
    ens.from_parquet_objects(objects).unwrap();
    ens
}

/// What the object file says of `id`: (redshift, class, name), None when it lacks it.
fn file_row(id: i64, in_file: &[i64]) -> Option<(Option<f64>, i32, String)> {
    in_file.contains(&id).then(|| {
        (
            (id % 7 != 0).then(|| (id % 10) as f64 / 10.0),
            (id % 3) as i32,
            format!("obj{id}"),
        )
    })
}

/// (redshift, class, name) of each row of `b`, None where the row has no file values.
fn joined_rows(b: &RecordBatch) -> Vec<Option<(Option<f64>, i32, String)>> {
    let z = b
        .column_by_name("redshift")
        .unwrap()
        .as_primitive::<arrow::datatypes::Float64Type>();
    let c = b
        .column_by_name("class")
        .unwrap()
        .as_primitive::<arrow::datatypes::Int32Type>();
    let n = b.column_by_name("name").unwrap().as_string::<i32>();
    (0..b.num_rows())
        .map(|i| {
            (!n.is_null(i)).then(|| {
                (
                    (!z.is_null(i)).then(|| z.value(i)),
                    c.value(i),
                    n.value(i).to_string(),
                )
            })
        })
        .collect()
}

#[test]
fn string_object_columns_filter_without_moving_data() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = GeneratorConfig {
        objects: 40,
        observations: 10,
        files: 3,
        shuffle_rows: true,
        scatter: true,
        ..GeneratorConfig::default()
    };
    let (data, objects, _) = dataset(dir.path(), &cfg);
    let ens = open(&data, &objects, Partitioning::Count(5));
    let all = ens.source().unwrap().compute().unwrap();
    let frame = ens
        .source()
        .unwrap()
        .query_objects("name in ('obj1000010', 'obj1000033', 'obj1000003')")
        .unwrap();
    // A row-local semi-join: no regrouping by id although lightcurves are scattered.
    let plan = frame.explain().unwrap();
    assert!(!plan.contains("Shuffle"), "{plan}");
    assert!(
        plan.contains("JoinObjects[name from objects.parquet]"),
        "{plan}"
    );
    let kept = frame.compute().unwrap();
    // 1000003 is not in the file: its name is null, so it is not kept.
    let want: BTreeSet<i64> = [1_000_010, 1_000_033].into();
    assert_eq!(ids_of(&kept), want);
    let rows = ids_of_rows(&all)
        .iter()
        .filter(|i| want.contains(i))
        .count();
    assert_eq!(kept.num_rows(), rows);
    // The sources keep their own columns only.
    assert_eq!(kept.schema(), all.schema());
    // With counts in the same query a string column is refused, saying what to do...
    let err = ens
        .source()
        .unwrap()
        .query_objects("name == 'obj1000010' and nobs_total >= 5")
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("'name'") && err.contains("one after the other"),
        "{err}"
    );
    // ... and one query after the other gives the answer.
    let chained = ens
        .source()
        .unwrap()
        .query_objects("name == 'obj1000010'")
        .unwrap()
        .query_objects("nobs_total >= 10")
        .unwrap()
        .compute()
        .unwrap();
    assert_eq!(ids_of(&chained), [1_000_010].into());
}

#[test]
fn join_objects_mistakes_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = GeneratorConfig {
        objects: 8,
        observations: 4,
        ..GeneratorConfig::default()
    };
    let (data, objects, _) = dataset(dir.path(), &cfg);
    let mut bare = Ensemble::builder().n_workers(1).build().unwrap();
    bare.from_parquet(&data, ColumnMap::generated(), Partitioning::RowGroups)
        .unwrap();
    let err = bare
        .source()
        .unwrap()
        .join_objects(&[])
        .unwrap_err()
        .to_string();
    assert!(err.contains("from_parquet_objects"), "{err}");
    let err = bare
        .source()
        .unwrap()
        .object_table(true)
        .unwrap_err()
        .to_string();
    assert!(err.contains("object file"), "{err}");
    let ens = open(&data, &objects, Partitioning::RowGroups);
    let err = ens
        .source()
        .unwrap()
        .join_objects(&["redshfit"])
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("redshfit") && err.contains("redshift"),
        "{err}"
    );
    let err = ens
        .source()
        .unwrap()
        .join_objects(&["id"])
        .unwrap_err()
        .to_string();
    assert!(err.contains("'id'") && err.contains("already"), "{err}");
}

#[test]
fn the_ensemble_object_table_carries_the_file_columns() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = GeneratorConfig {
        objects: 12,
        observations: 6,
        ..GeneratorConfig::default()
    };
    let (data, objects, in_file) = dataset(dir.path(), &cfg);
    let ens = open(&data, &objects, Partitioning::Count(3));
    let table = ens.object_table().unwrap();
    let names: Vec<String> = table
        .schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect();
    assert_eq!(
        names,
        [
            "id",
            "nobs_g",
            "nobs_i",
            "nobs_r",
            "nobs_total",
            "redshift",
            "class",
            "name"
        ]
    );
    let ids = ids_of_rows(&table);
    assert_eq!(ids, (1_000_000..1_000_012).collect::<Vec<_>>());
    let want: Vec<_> = ids.iter().map(|&i| file_row(i, &in_file)).collect();
    assert_eq!(joined_rows(&table), want);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(12))]

    /// Batch results joined to the object file, and the object table with and without
    /// empty objects, do not depend on partitioning, file split or row order.
    #[test]
    fn joins_and_object_tables_match_a_reference(
        objects in 6usize..30,
        files in 1usize..4,
        parts in 1usize..7,
        shuffle in proptest::bool::ANY,
        seed in 0u64..1000,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let cfg = GeneratorConfig {
            objects,
            observations: 5,
            files,
            shuffle_rows: shuffle,
            scatter: shuffle,
            seed,
            ..GeneratorConfig::default()
        };
        let (data, objects_path, in_file) = dataset(dir.path(), &cfg);
        let ens = open(&data, &objects_path, Partitioning::Count(parts));
        // Reference: counts per object from the source rows kept by the filter.
        let all = ens.source().unwrap().compute().unwrap();
        let band = arrow::compute::cast(all.column_by_name("band").unwrap(), &DataType::Utf8).unwrap();
        let band = band.as_string::<i32>();
        let flux = all.column_by_name("flux").unwrap().as_primitive::<arrow::datatypes::Float64Type>();
        // Fluxes lie about 100..1200: the filter leaves some objects without sources.
        let mut counts: std::collections::BTreeMap<i64, [i64; 3]> = Default::default();
        for (i, id) in ids_of_rows(&all).into_iter().enumerate() {
            if flux.value(i) > 500.0 {
                let b = ["g", "i", "r"].iter().position(|b| *b == band.value(i)).unwrap();
                counts.entry(id).or_default()[b] += 1;
            }
        }
        let filtered = ens.source().unwrap().query("flux > 500.0").unwrap();

        // Batch results with the file's columns.
        let joined = filtered.batch_named("nobs").unwrap().join_objects(&["redshift", "class", "name"]).unwrap().compute().unwrap();
        let ids = ids_of_rows(&joined);
        proptest::prop_assert_eq!(&ids, &counts.keys().copied().collect::<Vec<_>>());
        let want: Vec<_> = ids.iter().map(|&i| file_row(i, &in_file)).collect();
        proptest::prop_assert_eq!(joined_rows(&joined), want);

        // The object table, without and with the objects left without sources.
        for keep_empty in [false, true] {
            let table = filtered.object_table(keep_empty).unwrap().compute().unwrap();
            let mut want_ids: BTreeSet<i64> = counts.keys().copied().collect();
            if keep_empty {
                want_ids.extend(in_file.iter().copied());
            }
            let ids = ids_of_rows(&table);
            proptest::prop_assert_eq!(&ids, &want_ids.iter().copied().collect::<Vec<_>>());
            let per_band: Vec<_> = ["nobs_g", "nobs_i", "nobs_r"]
                .iter()
                .map(|c| table.column_by_name(c).unwrap().as_primitive::<Int64Type>().clone())
                .collect();
            let total = table.column_by_name("nobs_total").unwrap().as_primitive::<Int64Type>();
            for (i, id) in ids.iter().enumerate() {
                let want = counts.get(id).copied().unwrap_or([0; 3]);
                let got = [per_band[0].value(i), per_band[1].value(i), per_band[2].value(i)];
                proptest::prop_assert_eq!(got, want, "object {}", id);
                proptest::prop_assert_eq!(total.value(i), want.iter().sum::<i64>());
            }
            let want: Vec<_> = ids.iter().map(|&i| file_row(i, &in_file)).collect();
            proptest::prop_assert_eq!(joined_rows(&table), want);
        }
    }
}

/// A source whose ids are `ids` (one g observation each), in the id column's `id_type`.
fn source_with_ids(path: &Path, ids: &[u64], id_type: DataType) {
    let n = ids.len();
    let id: ArrayRef = Arc::new(arrow::array::UInt64Array::from(ids.to_vec()));
    let id = arrow::compute::cast(&id, &id_type).unwrap();
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", id_type, false),
        Field::new("mjd", DataType::Float64, false),
        Field::new("flux", DataType::Float64, false),
        Field::new("flux_err", DataType::Float64, false),
        Field::new("band", DataType::Utf8, false),
    ]));
    let f = |v: f64| -> ArrayRef { Arc::new(Float64Array::from(vec![v; n])) };
    let band: ArrayRef = Arc::new(StringArray::from(vec!["g"; n]));
    let b = RecordBatch::try_new(schema, vec![id, f(1.0), f(2.0), f(0.1), band]).unwrap();
    write_parquet(path, &b).unwrap();
}

/// An object file with ids `ids` of `id_type` and a string column naming each.
fn objects_with_ids(path: &Path, ids: &[u64], id_type: DataType) {
    let id: ArrayRef = Arc::new(arrow::array::UInt64Array::from(ids.to_vec()));
    let id = arrow::compute::cast(&id, &id_type).unwrap();
    let name: ArrayRef = Arc::new(StringArray::from(
        ids.iter().map(|i| format!("o{i}")).collect::<Vec<_>>(),
    ));
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", id_type, false),
        Field::new("name", DataType::Utf8, false),
    ]));
    write_parquet(path, &RecordBatch::try_new(schema, vec![id, name]).unwrap()).unwrap();
}

#[test]
fn object_ids_of_another_integer_type_join_exactly_or_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let big = [5u64, 1 << 63, u64::MAX - 1];
    // UInt64 sources and objects, ids above i64::MAX included.
    let src = dir.path().join("u64.parquet");
    source_with_ids(&src, &big, DataType::UInt64);
    let obj = dir.path().join("u64_objects.parquet");
    objects_with_ids(&obj, &big, DataType::UInt64);
    let mut ens = Ensemble::builder().n_workers(1).build().unwrap();
    ens.from_parquet(&src, ColumnMap::generated(), Partitioning::RowGroups)
        .unwrap();
    ens.from_parquet_objects(&obj).unwrap();
    let t = ens.object_table().unwrap();
    let ids = t
        .column_by_name("id")
        .unwrap()
        .as_primitive::<arrow::datatypes::UInt64Type>();
    assert_eq!(ids.values().to_vec(), big.to_vec());
    let names = t.column_by_name("name").unwrap().as_string::<i32>();
    let want: Vec<String> = big.iter().map(|i| format!("o{i}")).collect();
    assert_eq!(
        names
            .iter()
            .map(|n| n.unwrap().to_string())
            .collect::<Vec<_>>(),
        want
    );

    // Int64 sources with a UInt64 object file: small ids join; a huge one is refused.
    let src = dir.path().join("i64.parquet");
    source_with_ids(&src, &[3, 4], DataType::Int64);
    let mut ens = Ensemble::builder().n_workers(1).build().unwrap();
    ens.from_parquet(&src, ColumnMap::generated(), Partitioning::RowGroups)
        .unwrap();
    let small = dir.path().join("small.parquet");
    objects_with_ids(&small, &[4, 3], DataType::UInt64);
    ens.from_parquet_objects(&small).unwrap();
    let t = ens.object_table().unwrap();
    let names = t.column_by_name("name").unwrap().as_string::<i32>();
    assert_eq!(names.iter().flatten().collect::<Vec<_>>(), ["o3", "o4"]);
    let err = ens.from_parquet_objects(&obj).unwrap_err().to_string();
    assert!(
        err.contains("u64_objects.parquet") && err.contains("9223372036854775808"),
        "{err}"
    );

    // UInt64 sources with a signed object file: a negative id is refused.
    let mut ens = Ensemble::builder().n_workers(1).build().unwrap();
    ens.from_parquet(
        dir.path().join("u64.parquet"),
        ColumnMap::generated(),
        Partitioning::RowGroups,
    )
    .unwrap();
    let neg = dir.path().join("neg.parquet");
    let id: ArrayRef = Arc::new(Int64Array::from(vec![5, -1]));
    let name: ArrayRef = Arc::new(StringArray::from(vec!["a", "b"]));
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("name", DataType::Utf8, false),
    ]));
    write_parquet(&neg, &RecordBatch::try_new(schema, vec![id, name]).unwrap()).unwrap();
    let err = ens.from_parquet_objects(&neg).unwrap_err().to_string();
    assert!(err.contains("neg.parquet") && err.contains("-1"), "{err}");
}

/// `batch_on` by an object-file column: joined first, one group per object and value.
#[test]
fn batch_on_an_object_column_adds_it_to_the_results() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = GeneratorConfig {
        objects: 20,
        observations: 6,
        files: 2,
        shuffle_rows: true,
        scatter: true,
        ..GeneratorConfig::default()
    };
    let (data, objects, in_file) = dataset(dir.path(), &cfg);
    let ens = open(&data, &objects, Partitioning::Count(4));
    let by_class = ens
        .source()
        .unwrap()
        .batch_on_named("nobs", &["class", "band"])
        .unwrap();
    assert!(by_class.explain().unwrap().contains("JoinObjects[class"));
    let got = by_class.compute().unwrap();
    let plain = ens
        .source()
        .unwrap()
        .batch_on_named("nobs", &["band"])
        .unwrap()
        .compute()
        .unwrap();
    // The same groups (a class is constant per object), the class beside each.
    assert_eq!(ids_of_rows(&got), ids_of_rows(&plain));
    assert_eq!(
        got.column_by_name("nobs_total").unwrap().as_ref(),
        plain.column_by_name("nobs_total").unwrap().as_ref()
    );
    let class = got
        .column_by_name("class")
        .unwrap()
        .as_primitive::<arrow::datatypes::Int32Type>();
    for (i, id) in ids_of_rows(&got).into_iter().enumerate() {
        match file_row(id, &in_file) {
            Some((_, c, _)) => assert_eq!(class.value(i), c, "object {id}"),
            None => assert!(class.is_null(i), "object {id}"),
        }
    }
}
