//! The bad-value policy (`drop`, `reject`, `keep`): rows whose time, flux or error is null,
//! NaN or infinite, or whose error is not positive.
//!
//! Under `drop` (the default) a function must give exactly what it gives on the same file
//! with those rows removed beforehand — only the rows bad in a column *it* reads — however
//! the source is cut, and the run must count them per column and reason.

use arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Float64Type, Int64Type, Schema};
use lsstseries::analysis::structure_function::SfOptions;
use lsstseries::analysis::{Nobs, StetsonJ};
use lsstseries::io::{write_parquet, BadReason, BadValueCounts, SourceOptions};
use lsstseries::{
    BadValues, BatchMode, ColumnMap, Ensemble, Executor, ExecutorConfig, Partitioning, RunMetrics,
};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

fn executor() -> Arc<Executor> {
    static EXECUTOR: OnceLock<Arc<Executor>> = OnceLock::new();
    EXECUTOR
        .get_or_init(|| Executor::new(ExecutorConfig::default().n_workers(2)).unwrap())
        .clone()
}

fn open(path: &Path, partitioning: Partitioning, policy: Option<BadValues>) -> Ensemble {
    let mut builder = Ensemble::builder().executor(executor());
    if let Some(p) = policy {
        builder = builder.bad_values(p);
    }
    let mut ens = builder.build().unwrap();
    ens.from_parquet(path, ColumnMap::generated(), partitioning)
        .unwrap();
    ens
}

/// A reference file opened with the band set of `like` declared: removing rows may remove
/// a band entirely, which would otherwise drop its output columns.
fn open_like(path: &Path, like: &Path) -> Ensemble {
    let bands = open(like, Partitioning::RowGroups, None)
        .source()
        .unwrap()
        .band_names()
        .to_vec();
    let mut ens = Ensemble::builder().executor(executor()).build().unwrap();
    let mut options =
        lsstseries::io::SourceOptions::new(ColumnMap::generated(), Partitioning::RowGroups);
    options.bands = Some(bands);
    ens.from_parquet_with(path, options).unwrap();
    ens
}

/// Rows of the generated schema with nullable values: `None` is a null.
#[derive(Clone, Debug, Default)]
struct Rows {
    id: Vec<i64>,
    time: Vec<Option<f64>>,
    flux: Vec<Option<f64>>,
    err: Vec<Option<f64>>,
    band: Vec<&'static str>,
}

impl Rows {
    fn push(&mut self, id: i64, t: Option<f64>, f: Option<f64>, e: Option<f64>, b: &'static str) {
        self.id.push(id);
        self.time.push(t);
        self.flux.push(f);
        self.err.push(e);
        self.band.push(b);
    }

    fn without(&self, drop: &[bool]) -> Rows {
        let mut out = Rows::default();
        for i in (0..self.id.len()).filter(|&i| !drop[i]) {
            out.push(
                self.id[i],
                self.time[i],
                self.flux[i],
                self.err[i],
                self.band[i],
            );
        }
        out
    }

    fn write(&self, path: &Path) {
        let c = ColumnMap::generated();
        let schema = Arc::new(Schema::new(vec![
            Field::new(&c.id, DataType::Int64, false),
            Field::new(&c.time, DataType::Float64, true),
            Field::new(&c.flux, DataType::Float64, true),
            Field::new(&c.err, DataType::Float64, true),
            Field::new(&c.band, DataType::Utf8, false),
        ]));
        let arrays: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(self.id.clone())),
            Arc::new(Float64Array::from(self.time.clone())),
            Arc::new(Float64Array::from(self.flux.clone())),
            Arc::new(Float64Array::from(self.err.clone())),
            Arc::new(StringArray::from(self.band.clone())),
        ];
        write_parquet(path, &RecordBatch::try_new(schema, arrays).unwrap()).unwrap();
    }
}

/// Clean lightcurves: object k has `lens[k]` rows, sorted by id and time.
fn clean(lens: &[usize], seed: u64) -> Rows {
    let mut s = seed | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        (s >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut rows = Rows::default();
    for (k, &n) in lens.iter().enumerate() {
        for i in 0..n {
            let band = if i % 3 == 0 { "r" } else { "g" };
            rows.push(
                k as i64 + 1,
                Some(i as f64 + next()),
                Some(10.0 + 5.0 * next()),
                Some(0.1 + next()),
                band,
            );
        }
    }
    rows
}

/// The injected kinds: which column, which bad value, and the reason it counts under.
const KINDS: [(&str, Option<f64>, BadReason); 11] = [
    ("mjd", Some(f64::NAN), BadReason::NaN),
    ("mjd", Some(f64::INFINITY), BadReason::Inf),
    ("mjd", None, BadReason::Null),
    ("flux", Some(f64::NAN), BadReason::NaN),
    ("flux", Some(f64::NEG_INFINITY), BadReason::Inf),
    ("flux", None, BadReason::Null),
    ("flux_err", Some(f64::NAN), BadReason::NaN),
    ("flux_err", Some(f64::INFINITY), BadReason::Inf),
    ("flux_err", None, BadReason::Null),
    ("flux_err", Some(0.0), BadReason::NonPositiveErr),
    ("flux_err", Some(-0.5), BadReason::NonPositiveErr),
];

/// Puts the bad values of `inject` (row position, kind) into `rows`, one per row (later
/// ones at a taken row are skipped); returns the kind injected at each row.
fn inject(rows: &mut Rows, inject: &[(usize, usize)]) -> Vec<Option<usize>> {
    let n = rows.id.len();
    let mut at = vec![None; n];
    for &(pos, kind) in inject {
        let i = pos % n;
        if at[i].is_some() {
            continue;
        }
        at[i] = Some(kind);
        let (column, value, _) = KINDS[kind];
        match column {
            "mjd" => rows.time[i] = value,
            "flux" => rows.flux[i] = value,
            _ => rows.err[i] = value,
        }
    }
    at
}

/// What the policy must report for a function reading `columns`.
fn expected(at: &[Option<usize>], columns: &[&str]) -> (u64, BTreeMap<(String, BadReason), u64>) {
    let mut rows = 0;
    let mut by = BTreeMap::new();
    for &(column, _, reason) in at.iter().flatten().map(|&k| &KINDS[k]) {
        if columns.contains(&column) {
            rows += 1;
            *by.entry((column.to_string(), reason)).or_insert(0) += 1;
        }
    }
    (rows, by)
}

fn counts_of(c: &BadValueCounts) -> (u64, BTreeMap<(String, BadReason), u64>) {
    let by = c
        .iter()
        .map(|(col, r, n)| ((col.to_string(), r), n))
        .collect();
    (c.rows(), by)
}

/// Float columns bit for bit (NaN equal to NaN), other columns as values.
fn same(a: &RecordBatch, b: &RecordBatch) -> Result<(), String> {
    if a.schema() != b.schema() || a.num_rows() != b.num_rows() {
        return Err(format!(
            "shapes differ: {} vs {} rows\n{:?}\n{:?}",
            a.num_rows(),
            b.num_rows(),
            a.schema(),
            b.schema()
        ));
    }
    for (k, field) in a.schema().fields().iter().enumerate() {
        let (x, y) = (a.column(k), b.column(k));
        if field.data_type() == &DataType::Float64 {
            let (x, y) = (
                x.as_primitive::<Float64Type>(),
                y.as_primitive::<Float64Type>(),
            );
            for i in 0..x.len() {
                if x.value(i).to_bits() != y.value(i).to_bits() || x.is_null(i) != y.is_null(i) {
                    return Err(format!(
                        "column {} row {i}: {} vs {}",
                        field.name(),
                        x.value(i),
                        y.value(i)
                    ));
                }
            }
        } else if x != y {
            return Err(format!("column {} differs", field.name()));
        }
    }
    Ok(())
}

fn stetson(ens: &Ensemble, mode: BatchMode) -> (RecordBatch, RunMetrics) {
    ens.batch_with(Arc::new(StetsonJ), mode)
        .unwrap()
        .compute_with_metrics()
        .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// (a) Drop: stetson_j (flux, err) and the structure function (time, flux, err) equal
    /// their values on the file with the rows they read bad removed beforehand; the
    /// counts equal what was injected per column and reason; every cut agrees.
    #[test]
    fn drop_equals_removing_the_rows_first_and_counts_them(
        lens in prop::collection::vec(3usize..12, 2..7),
        seed in any::<u64>(),
        bad in prop::collection::vec((0usize..10_000, 0usize..KINDS.len()), 0..12),
        parts in 2usize..6,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut rows = clean(&lens, seed);
        let at = inject(&mut rows, &bad);
        let dirty = dir.path().join("dirty.parquet");
        rows.write(&dirty);

        let flux_err = ["flux", "flux_err"];
        let bad_in = |columns: &[&str]| -> Vec<bool> {
            at.iter()
                .map(|k| k.is_some_and(|k| columns.contains(&KINDS[k].0)))
                .collect()
        };
        let ref_sj = dir.path().join("ref_sj.parquet");
        rows.without(&bad_in(&flux_err)).write(&ref_sj);
        let (want_sj, _) = stetson(&open_like(&ref_sj, &dirty), BatchMode::Auto);
        let want_counts = expected(&at, &flux_err);

        let cuts = [Partitioning::RowGroups, Partitioning::Count(parts), Partitioning::Count(parts * 3)];
        for (cut, mode) in cuts.iter().flat_map(|c| [(c.clone(), BatchMode::Auto), (c.clone(), BatchMode::Grouped)]) {
            let (got, metrics) = stetson(&open(&dirty, cut.clone(), None), mode);
            if let Err(e) = same(&got, &want_sj) {
                prop_assert!(false, "stetson_j, {cut:?} {mode:?}: {e}");
            }
            prop_assert_eq!(counts_of(&metrics.bad_values), want_counts.clone(), "{:?} {:?}", cut, mode);
        }

        // The structure function reads time as well: time-bad rows are left out too.
        let all = ["mjd", "flux", "flux_err"];
        let ref_sf = dir.path().join("ref_sf.parquet");
        rows.without(&bad_in(&all)).write(&ref_sf);
        let options = SfOptions::default();
        let want_sf = open_like(&ref_sf, &dirty)
            .source().unwrap().structure_function(&options).unwrap().compute().unwrap();
        let (got_sf, metrics) = open(&dirty, Partitioning::Count(parts), None)
            .source().unwrap().structure_function(&options).unwrap()
            .compute_with_metrics().unwrap();
        if let Err(e) = same(&got_sf, &want_sf) {
            prop_assert!(false, "structure function: {e}");
        }
        prop_assert_eq!(counts_of(&metrics.bad_values), expected(&at, &all));

        // Pooled: the rows reach the aggregate whole and are screened there, once.
        let want_pooled = open(&ref_sf, Partitioning::RowGroups, None)
            .source().unwrap().structure_function_pooled(&options).unwrap().compute().unwrap();
        let (got_pooled, metrics) = open(&dirty, Partitioning::Count(parts), None)
            .source().unwrap().structure_function_pooled(&options).unwrap()
            .compute_with_metrics().unwrap();
        if let Err(e) = same(&got_pooled, &want_pooled) {
            prop_assert!(false, "pooled structure function: {e}");
        }
        prop_assert_eq!(counts_of(&metrics.bad_values), expected(&at, &all));
    }
}

fn small() -> Rows {
    clean(&[5, 6, 4], 7)
}

/// (b) Keep: a NaN (or null) flux makes its object's stetson_j NaN, the others unchanged.
#[test]
fn keep_hands_bad_values_to_the_function() {
    let dir = tempfile::tempdir().unwrap();
    let clean_path = dir.path().join("clean.parquet");
    small().write(&clean_path);
    let (want, _) = stetson(
        &open(&clean_path, Partitioning::RowGroups, Some(BadValues::Keep)),
        BatchMode::Auto,
    );
    for value in [Some(f64::NAN), None] {
        let mut rows = small();
        rows.flux[6] = value; // object 2 (rows 5..11), its second row: band g
        let path = dir.path().join("keep.parquet");
        rows.write(&path);
        let (got, metrics) = stetson(
            &open(&path, Partitioning::Count(2), Some(BadValues::Keep)),
            BatchMode::Auto,
        );
        assert!(metrics.bad_values.is_empty(), "{}", metrics.bad_values);
        let ids = got.column(0).as_primitive::<Int64Type>();
        let g = got
            .column_by_name("stetson_j_g")
            .expect("stetson_j_g")
            .as_primitive::<Float64Type>();
        let want_g = want
            .column_by_name("stetson_j_g")
            .unwrap()
            .as_primitive::<Float64Type>();
        for i in 0..got.num_rows() {
            if ids.value(i) == 2 {
                assert!(
                    g.value(i).is_nan(),
                    "{value:?}: object 2 gave {}",
                    g.value(i)
                );
            } else {
                assert_eq!(g.value(i).to_bits(), want_g.value(i).to_bits());
            }
        }
        // Band r of object 2 holds no bad value: unchanged.
        same(
            &got.project(&[0, got.schema().index_of("stetson_j_r").unwrap()])
                .unwrap(),
            &want
                .project(&[0, want.schema().index_of("stetson_j_r").unwrap()])
                .unwrap(),
        )
        .unwrap();
    }
}

/// (c) Reject: the first bad value fails the compute, naming file, column, row and object;
/// set per source, it wins over the ensemble's policy.
#[test]
fn reject_names_file_column_row_and_object() {
    let dir = tempfile::tempdir().unwrap();
    let mut rows = small();
    rows.err[7] = None;
    let path = dir.path().join("null_err.parquet");
    rows.write(&path);
    let err = open(&path, Partitioning::RowGroups, Some(BadValues::Reject))
        .batch_named("stetson_j")
        .unwrap()
        .compute()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("null_err.parquet")
            && err.contains("'flux_err'")
            && err.contains("null at row 7")
            && err.contains("object 2"),
        "{err}"
    );

    let mut ens = Ensemble::builder()
        .executor(executor())
        .bad_values(BadValues::Drop)
        .build()
        .unwrap();
    let mut options = SourceOptions::new(ColumnMap::generated(), Partitioning::Count(2));
    options.bad_values = Some(BadValues::Reject);
    ens.from_parquet_with(&path, options).unwrap();
    assert_eq!(ens.source_table().unwrap().bad_values, BadValues::Reject);
    assert!(ens.batch_named("stetson_j").unwrap().compute().is_err());
}

/// (d) nobs reads only the band: under Drop it counts every row, and nothing is dropped;
/// a plain compute of the source returns the rows as they are.
#[test]
fn nobs_counts_every_row_and_the_source_frame_keeps_them() {
    let dir = tempfile::tempdir().unwrap();
    let mut rows = small();
    rows.flux[0] = Some(f64::NAN);
    rows.err[6] = Some(-1.0);
    rows.time[10] = None;
    let path = dir.path().join("dirty.parquet");
    rows.write(&path);
    let ens = open(&path, Partitioning::Count(3), None);
    let (nobs, metrics) = ens
        .batch(Arc::new(Nobs))
        .unwrap()
        .compute_with_metrics()
        .unwrap();
    assert!(metrics.bad_values.is_empty(), "{}", metrics.bad_values);
    let total = nobs
        .column_by_name("nobs_total")
        .unwrap()
        .as_primitive::<Int64Type>();
    assert_eq!(total.values().to_vec(), vec![5, 6, 4]);

    let source = ens.source().unwrap().compute().unwrap();
    assert_eq!(source.num_rows(), 15);
    assert_eq!(source.column_by_name("mjd").unwrap().null_count(), 1);
    assert!(source
        .column_by_name("flux")
        .unwrap()
        .as_primitive::<Float64Type>()
        .value(0)
        .is_nan());

    // stetson_j leaves out two rows (flux NaN, err <= 0), not the null time.
    let (_, metrics) = stetson(&ens, BatchMode::Auto);
    assert_eq!(
        metrics.bad_values.to_string(),
        "2 rows: flux NaN 1, flux_err <= 0 1"
    );
}
