//! Bad input gets a clear error naming the file, column or value.

use arrow::array::{Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use lsstseries::io::generate::{generate, GeneratorConfig};
use lsstseries::io::{source_batch, write_parquet, BadReason};
use lsstseries::plan::col;
use lsstseries::{closure_function, BadValues, ColumnMap, Ensemble, Error, Partitioning, Role};
use std::path::Path;
use std::sync::Arc;

fn open(path: &Path) -> Result<Ensemble, Error> {
    let mut ens = Ensemble::builder().n_workers(2).build()?;
    ens.from_parquet(path, ColumnMap::generated(), Partitioning::RowGroups)?;
    Ok(ens)
}

/// Under `--bad-values reject`: bad values fail the compute.
fn open_rejecting(path: &Path) -> Result<Ensemble, Error> {
    let mut ens = Ensemble::builder()
        .n_workers(2)
        .bad_values(BadValues::Reject)
        .build()?;
    ens.from_parquet(path, ColumnMap::generated(), Partitioning::RowGroups)?;
    Ok(ens)
}

fn small(dir: &Path) {
    let cfg = GeneratorConfig {
        objects: 5,
        observations: 10,
        ..Default::default()
    };
    generate(&cfg, dir).unwrap();
}

fn write(path: &Path, ids: Vec<i64>, flux: Vec<f64>, err: Vec<f64>) {
    let n = ids.len();
    let time = (0..n).map(|i| i as f64).collect();
    let batch = source_batch(&ColumnMap::generated(), ids, time, flux, err, vec!["g"; n]).unwrap();
    write_parquet(path, &batch).unwrap();
}

#[test]
fn missing_columns_are_listed_with_what_exists() {
    let dir = tempfile::tempdir().unwrap();
    small(dir.path());
    let mut ens = Ensemble::new().unwrap();
    let map = ColumnMap::new("id", "time", "flux", "flux_err", "filter");
    let err = ens
        .from_parquet(dir.path(), map, Partitioning::RowGroups)
        .unwrap_err()
        .to_string();
    assert!(err.contains("part-00000.parquet"), "{err}");
    assert!(
        err.contains("\"time\"") && err.contains("\"filter\""),
        "{err}"
    );
    assert!(err.contains("time, band"), "{err}");
    assert!(err.contains("\"mjd\""), "{err}");
}

#[test]
fn mistyped_column_is_named() {
    let dir = tempfile::tempdir().unwrap();
    small(dir.path());
    let mut ens = Ensemble::new().unwrap();
    // band mapped onto a float column
    let map = ColumnMap::new("id", "mjd", "flux", "flux_err", "flux");
    let err = ens
        .from_parquet(dir.path(), map, Partitioning::RowGroups)
        .unwrap_err()
        .to_string();
    assert!(err.contains("'flux' (band) has type Float64"), "{err}");
}

#[test]
fn missing_file_and_empty_directory() {
    let err = open(Path::new("no/such/file.parquet"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("no/such/file.parquet"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let err = open(dir.path()).unwrap_err().to_string();
    assert!(err.contains("holds no .parquet files"), "{err}");
}

#[test]
fn empty_corrupt_and_truncated_files() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.parquet");
    std::fs::write(&empty, b"").unwrap();
    let err = open(&empty).unwrap_err().to_string();
    assert!(
        err.contains("empty.parquet") && err.contains("empty file"),
        "{err}"
    );

    let corrupt = dir.path().join("corrupt.parquet");
    std::fs::write(&corrupt, b"this is not parquet at all, just text").unwrap();
    let err = open(&corrupt).unwrap_err().to_string();
    assert!(
        err.contains("corrupt.parquet") && err.contains("not a readable Parquet file"),
        "{err}"
    );

    let good = tempfile::tempdir().unwrap();
    small(good.path());
    let bytes = std::fs::read(good.path().join("part-00000.parquet")).unwrap();
    let truncated = dir.path().join("truncated.parquet");
    std::fs::write(&truncated, &bytes[..bytes.len() / 2]).unwrap();
    let err = open(&truncated).unwrap_err().to_string();
    assert!(err.contains("truncated.parquet"), "{err}");

    // Valid footer, damaged data pages: the error comes at compute and names the file.
    let mut damaged = bytes.clone();
    for b in damaged.iter_mut().skip(8).take(bytes.len() / 3) {
        *b = 0xAB;
    }
    let path = dir.path().join("damaged.parquet");
    std::fs::write(&path, &damaged).unwrap();
    let mut ens = Ensemble::new().unwrap();
    let mut opts =
        lsstseries::io::SourceOptions::new(ColumnMap::generated(), Partitioning::RowGroups);
    opts.bands = Some(vec!["g".into(), "i".into(), "r".into()]);
    let result = ens
        .from_parquet_with(&path, opts)
        .and_then(|e| e.batch_named("stetson_j")?.compute());
    let err = result.unwrap_err().to_string();
    assert!(err.contains("damaged.parquet"), "{err}");
}

#[test]
fn non_finite_and_non_positive_values_are_rejected_with_their_row() {
    let dir = tempfile::tempdir().unwrap();
    let nan = dir.path().join("nan.parquet");
    write(
        &nan,
        vec![1, 1, 2],
        vec![1.0, f64::NAN, 2.0],
        vec![0.1, 0.1, 0.1],
    );
    let err = open_rejecting(&nan)
        .unwrap()
        .batch_named("stetson_j")
        .unwrap()
        .compute()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("nan.parquet")
            && err.contains("'flux'")
            && err.contains("row 1")
            && err.contains("object 1"),
        "{err}"
    );

    let zero = dir.path().join("zero.parquet");
    write(
        &zero,
        vec![1, 1, 2],
        vec![1.0, 1.5, 2.0],
        vec![0.1, 0.1, 0.0],
    );
    let err = open_rejecting(&zero)
        .unwrap()
        .batch_named("stetson_j")
        .unwrap()
        .compute()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("'flux_err'") && err.contains("> 0") && err.contains("object 2"),
        "{err}"
    );

    // The default policy (drop) leaves those rows out and counts them instead.
    for (path, column, reason) in [
        (&nan, "flux", BadReason::NaN),
        (&zero, "flux_err", BadReason::NonPositiveErr),
    ] {
        let (sj, metrics) = open(path)
            .unwrap()
            .batch_named("stetson_j")
            .unwrap()
            .compute_with_metrics()
            .unwrap();
        assert_eq!(sj.num_rows(), if column == "flux" { 2 } else { 1 });
        assert_eq!(metrics.bad_values.rows(), 1);
        assert_eq!(
            metrics.bad_values.get(column, reason),
            1,
            "{}",
            metrics.bad_values
        );
    }
}

#[test]
fn unsorted_ids_are_grouped_not_mixed() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("unsorted.parquet");
    write(
        &p,
        vec![3, 1, 3, 2, 1, 2],
        vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        vec![0.1; 6],
    );
    let ens = open(&p).unwrap();
    let nobs = ens.object_table().unwrap();
    assert_eq!(nobs.num_rows(), 3);
    let ids: Vec<i64> = nobs
        .column(0)
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap()
        .values()
        .to_vec();
    assert_eq!(ids, vec![1, 2, 3]);
}

#[test]
fn unknown_columns_fail_when_the_plan_is_built() {
    let dir = tempfile::tempdir().unwrap();
    small(dir.path());
    let ens = open(dir.path()).unwrap();
    let err = ens
        .source()
        .unwrap()
        .filter(col("filtername").eq("g"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("'filtername'") && err.contains("band"),
        "{err}"
    );
    let err = ens
        .source()
        .unwrap()
        .filter(col("band").gt(3.0))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("band > 3.0") && err.contains("cannot compare a string with a float"),
        "{err}"
    );
    let err = ens.batch_named("stetson_q").unwrap_err().to_string();
    assert!(
        err.contains("stetson_q") && err.contains("stetson_j"),
        "{err}"
    );
    let err = ens
        .source()
        .unwrap()
        .select(&["id", "mjd"])
        .unwrap()
        .batch_named_err();
    assert!(err.contains("flux"), "{err}");
}

trait BatchNamedErr {
    fn batch_named_err(&self) -> String;
}
impl BatchNamedErr for lsstseries::Frame {
    fn batch_named_err(&self) -> String {
        self.batch(Arc::new(lsstseries::analysis::StetsonJ))
            .unwrap_err()
            .to_string()
    }
}

#[test]
fn a_panicking_function_is_contained_and_the_pool_survives() {
    let dir = tempfile::tempdir().unwrap();
    small(dir.path());
    let ens = open(dir.path()).unwrap();
    let bad = closure_function(
        "explodes_on_1000003",
        &[Role::Flux],
        vec![Field::new("x", DataType::Float64, true)],
        |lc, out| {
            if lc.id == 1_000_003 {
                panic!("cannot handle object {}", lc.id);
            }
            out.push(lc.flux[0]);
        },
    );
    let err = ens.batch(bad).unwrap().compute().unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, Error::Task { .. }), "{text}");
    assert!(
        text.contains("explodes_on_1000003")
            && text.contains("partition 0")
            && text.contains("cannot handle object 1000003"),
        "{text}"
    );
    // The executor still works.
    assert_eq!(ens.object_table().unwrap().num_rows(), 5);
}

#[test]
fn a_function_that_lies_about_its_outputs_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    small(dir.path());
    let ens = open(dir.path()).unwrap();
    let liar = closure_function(
        "two_for_one",
        &[Role::Flux],
        vec![Field::new("x", DataType::Float64, true)],
        |_, out| {
            out.push(1.0);
            out.push(2.0);
        },
    );
    let err = ens.batch(liar).unwrap().compute().unwrap_err().to_string();
    assert!(
        err.contains("two_for_one") && err.contains("pushed 2"),
        "{err}"
    );
}

#[test]
fn memory_limit_stops_a_shuffle_that_would_exceed_it() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = GeneratorConfig {
        objects: 50,
        observations: 20,
        files: 2,
        scatter: true,
        ..Default::default()
    };
    generate(&cfg, dir.path()).unwrap();
    let mut ens = Ensemble::builder()
        .n_workers(2)
        .memory_limit(1000)
        .build()
        .unwrap();
    ens.from_parquet(dir.path(), ColumnMap::generated(), Partitioning::RowGroups)
        .unwrap();
    let err = ens
        .batch_named("stetson_j")
        .unwrap()
        .compute()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("memory limit") && err.contains("limit 1000"),
        "{err}"
    );
}

#[test]
fn files_that_disagree_on_schema_are_named() {
    let dir = tempfile::tempdir().unwrap();
    small(dir.path());
    // Another file with an extra column.
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("mjd", DataType::Float64, false),
        Field::new("flux", DataType::Float64, false),
        Field::new("flux_err", DataType::Float64, false),
        Field::new("band", DataType::Utf8, false),
        Field::new("extra", DataType::Float64, false),
    ]));
    let batch = RecordBatch::try_new(
        schema,
        vec![
            Arc::new(Int64Array::from(vec![9])),
            Arc::new(Float64Array::from(vec![1.0])),
            Arc::new(Float64Array::from(vec![1.0])),
            Arc::new(Float64Array::from(vec![0.1])),
            Arc::new(StringArray::from(vec!["g"])),
            Arc::new(Float64Array::from(vec![0.0])),
        ],
    )
    .unwrap();
    write_parquet(dir.path().join("part-99998.parquet"), &batch).unwrap();
    // An extra column is accepted (null in the other files' rows)...
    assert!(open(dir.path()).is_ok());
    // ...but not one that another file stores as text.
    let text = RecordBatch::try_new(
        Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("mjd", DataType::Float64, false),
            Field::new("flux", DataType::Float64, false),
            Field::new("flux_err", DataType::Float64, false),
            Field::new("band", DataType::Utf8, false),
            Field::new("extra", DataType::Utf8, false),
        ])),
        vec![
            Arc::new(Int64Array::from(vec![10])),
            Arc::new(Float64Array::from(vec![1.0])),
            Arc::new(Float64Array::from(vec![1.0])),
            Arc::new(Float64Array::from(vec![0.1])),
            Arc::new(StringArray::from(vec!["g"])),
            Arc::new(StringArray::from(vec!["oops"])),
        ],
    )
    .unwrap();
    write_parquet(dir.path().join("part-99999.parquet"), &text).unwrap();
    let err = open(dir.path()).unwrap_err().to_string();
    assert!(
        err.contains("part-99999.parquet")
            && err.contains("schema differs")
            && err.contains("extra"),
        "{err}"
    );
}

#[test]
fn float32_files_are_read_and_other_columns_kept() {
    // The TAPE file stores time/flux/err as float32; they decode to Float64 and extra
    // columns survive a plain collect.
    let mut ens = Ensemble::builder().n_workers(1).build().unwrap();
    ens.from_parquet(
        "data/tape/test_source.parquet",
        ColumnMap::tape(),
        Partitioning::Count(3),
    )
    .unwrap();
    let rows = ens.source().unwrap().compute().unwrap();
    assert_eq!(rows.num_rows(), 2000);
    assert_eq!(rows.num_columns(), 5);
    assert_eq!(
        rows.schema().field_with_name("psFlux").unwrap().data_type(),
        &DataType::Float64
    );
}
