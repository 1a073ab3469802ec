//! Page-level pruning: where a file has a page index, pages of the filtered columns whose
//! statistics prove that no row passes are not read. The result must equal the same query
//! with pushdown switched off (and the filter applied by hand), whatever the partitioning;
//! fewer bytes are read; a file without a page index reads as before; NaN and null values
//! in a page never cause a wrong skip.

use arrow::array::{Array, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::compute::filter_record_batch;
use arrow::datatypes::{DataType, Field, Schema};
use lsstseries::optimizer::Optimizer;
use lsstseries::physical::PhysicalPlan;
use lsstseries::plan::{parse_query, PlanNode};
use lsstseries::prelude::*;
use lsstseries::RunMetrics;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use proptest::prelude::*;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;

const ROWS: usize = 6000;
const PAGE_ROWS: usize = 100;

/// A source sorted by time (`mjd = 58000 + i / 10`), flux rising with time too
/// (`i / 100 - 30`), so pages have narrow ranges of both. Flux has special pages: one all
/// null (rows 1000..1100), one constant 3.0 with NaN on every 7th row (2000..2100), and a NaN
/// on every 97th row elsewhere. Two row groups of 3000 rows; pages of 100 rows when
/// `page_index`, else no page statistics and no offset index.
fn write_source(path: &Path, page_index: bool) {
    let id: Vec<i64> = (0..ROWS).map(|i| (i % 50) as i64 + 1).collect();
    let mjd: Vec<f64> = (0..ROWS).map(|i| 58_000.0 + i as f64 / 10.0).collect();
    let flux: Vec<Option<f64>> = (0..ROWS)
        .map(|i| match i {
            1000..1100 => None,
            2000..2100 if i % 7 == 0 => Some(f64::NAN),
            2000..2100 => Some(3.0),
            _ if i % 97 == 0 => Some(f64::NAN),
            _ => Some(i as f64 / 100.0 - 30.0),
        })
        .collect();
    let err: Vec<f64> = (0..ROWS).map(|i| 0.1 + (i % 10) as f64 / 100.0).collect();
    let band: Vec<&str> = (0..ROWS).map(|i| ["g", "r", "i"][i % 3]).collect();
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("mjd", DataType::Float64, false),
        Field::new("flux", DataType::Float64, true),
        Field::new("flux_err", DataType::Float64, false),
        Field::new("band", DataType::Utf8, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from(id)),
            Arc::new(Float64Array::from(mjd)),
            Arc::new(Float64Array::from(flux)),
            Arc::new(Float64Array::from(err)),
            Arc::new(StringArray::from(band)),
        ],
    )
    .unwrap();
    // Float columns plain-encoded, as large row groups are once their dictionary overflows:
    // a dictionary page of every distinct value would be read with any data page.
    let props = WriterProperties::builder()
        .set_dictionary_enabled(false)
        .set_column_dictionary_enabled("band".into(), true)
        .set_max_row_group_row_count(Some(ROWS / 2))
        .set_data_page_row_count_limit(PAGE_ROWS)
        .set_write_batch_size(PAGE_ROWS);
    let props = if page_index {
        props.set_statistics_enabled(EnabledStatistics::Page)
    } else {
        props
            .set_statistics_enabled(EnabledStatistics::Chunk)
            .set_offset_index_disabled(true)
    };
    let mut w =
        ArrowWriter::try_new(File::create(path).unwrap(), schema, Some(props.build())).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

fn ensemble(path: &Path, partitioning: Partitioning) -> Ensemble {
    let mut ens = Ensemble::builder().n_workers(2).build().unwrap();
    ens.from_parquet(path, ColumnMap::generated(), partitioning)
        .unwrap();
    ens
}

/// The frame computed with every rule but `push_filters_into_scan`.
fn without_pushdown(ens: &Ensemble, frame: &Frame) -> (RecordBatch, RunMetrics) {
    let plan = frame.logical_plan().push(PlanNode::Collect).unwrap();
    let optimized = Optimizer::default()
        .without("push_filters_into_scan")
        .optimize(&plan)
        .unwrap();
    PhysicalPlan::from_logical(&optimized.plan)
        .unwrap()
        .execute(ens.executor())
        .unwrap()
}

/// The rows of `all` where the query holds, as the filter operator keeps them.
fn by_hand(all: &RecordBatch, q: &str) -> RecordBatch {
    let e = parse_query(q).unwrap();
    filter_record_batch(all, &e.evaluate(all).unwrap()).unwrap()
}

/// `pages_skipped=a/b` of the scan line of `explain()`, if shown.
fn pages_skipped(explain: &str) -> Option<(usize, usize)> {
    let at = explain.find("pages_skipped=")? + "pages_skipped=".len();
    let text: String = explain[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '/')
        .collect();
    let (a, b) = text.split_once('/')?;
    Some((a.parse().ok()?, b.parse().ok()?))
}

#[test]
fn selective_time_filter_skips_pages_and_reads_fewer_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("paged.parquet");
    write_source(&path, true);
    let ens = ensemble(&path, Partitioning::RowGroups);
    // 58,100 <= mjd < 58,120: rows 1000..1200, two pages of the first row group.
    let q = "mjd >= 58100 and mjd < 58120";
    let frame = ens.source().unwrap().query(q).unwrap();
    let (got, m) = frame.compute_with_metrics().unwrap();
    let (want, m_off) = without_pushdown(&ens, &frame);
    assert_eq!(got.num_rows(), 200);
    assert_eq!(got, want);
    assert_eq!(m_off.page_rows_skipped, 0);
    // One row group (3000 rows) skipped by its statistics, 28 of the other's 30 time pages
    // by the page index.
    assert_eq!(m.page_rows_skipped, 2800);
    assert_eq!(m.rows_in, 200);
    let text = frame.explain().unwrap();
    assert!(
        text.contains("row_groups_skipped=1/2 pages_skipped=28/30"),
        "{text}"
    );
    assert!(
        text.contains("28 of 30 pages (2,800 rows) by the page index"),
        "{text}"
    );
    println!(
        "bytes read, {q}: {} with page pruning, {} without pushdown",
        m.bytes_read, m_off.bytes_read
    );
    assert!(
        m.bytes_read * 10 < m_off.bytes_read,
        "read {} of {} bytes",
        m.bytes_read,
        m_off.bytes_read
    );
    let analyzed = frame.explain_analyze_report().unwrap();
    let scan = analyzed.nodes.iter().find(|n| n.kind == "scan").unwrap();
    assert_eq!((scan.pages_skipped, scan.pages_total), (28, 30));
    assert_eq!(scan.page_rows_skipped, 2800);
    assert!(analyzed
        .to_text()
        .contains("pages_skipped=28/30 page_rows_skipped=2,800"));
}

#[test]
fn flux_pages_with_nulls_and_nan_are_never_wrongly_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("paged.parquet");
    write_source(&path, true);
    let ens = ensemble(&path, Partitioning::Count(3));
    let all = ens.source().unwrap().compute().unwrap();
    for (q, pruned) in [
        // Pages counting no null are ruled out; the all-null page has no bounds but is read.
        ("flux is null", true),
        // NaN rows pass `!=`: the constant page holding NaN must be read.
        ("flux != 3.0", false),
        ("not (flux < 100.0)", false),
        ("flux > 25.5", true),
        ("flux > 25.5 or flux is null", true),
        ("flux == 3.0", true),
        ("flux < -29.0 or mjd > 58590", true),
    ] {
        let frame = ens.source().unwrap().query(q).unwrap();
        let (got, m) = frame.compute_with_metrics().unwrap();
        let (off, _) = without_pushdown(&ens, &frame);
        let want = by_hand(&all, q);
        assert_eq!(got, off, "{q}");
        assert_eq!(got, want, "{q}");
        let (skipped, total) = pages_skipped(&frame.explain().unwrap()).unwrap_or((0, 0));
        assert_eq!(skipped > 0, pruned, "{q}: {skipped}/{total}");
        assert_eq!(m.page_rows_skipped > 0, pruned, "{q}");
    }
    // The all-null page has no bounds, so `is null` reads it, and only it.
    let nulls = ens.source().unwrap().query("flux is null").unwrap();
    let (got, m) = nulls.compute_with_metrics().unwrap();
    assert_eq!(got.num_rows(), 100);
    assert_eq!(m.rows_in, 100);
    assert_eq!(got.column_by_name("flux").unwrap().null_count(), 100);
}

#[test]
fn a_file_without_page_index_reads_as_before() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.parquet");
    let paged = dir.path().join("paged.parquet");
    write_source(&plain, false);
    write_source(&paged, true);
    let q = "mjd >= 58100 and mjd < 58120";
    let ens = ensemble(&plain, Partitioning::RowGroups);
    let frame = ens.source().unwrap().query(q).unwrap();
    let (got, m) = frame.compute_with_metrics().unwrap();
    let (want, _) = without_pushdown(&ens, &frame);
    assert_eq!(got, want);
    assert_eq!(m.page_rows_skipped, 0);
    assert_eq!(m.rows_in, 3000);
    let text = frame.explain().unwrap();
    assert!(text.contains("row_groups_skipped=1/2"), "{text}");
    assert!(!text.contains("pages_skipped"), "{text}");
    let analyzed = frame.explain_analyze_report().unwrap();
    let scan = analyzed.nodes.iter().find(|n| n.kind == "scan").unwrap();
    assert_eq!((scan.pages_skipped, scan.pages_total), (0, 0));
    assert!(!analyzed.to_text().contains("pages_skipped"));
    // Same rows from the file with a page index, for fewer bytes.
    let ens_paged = ensemble(&paged, Partitioning::RowGroups);
    let (got_paged, m_paged) = ens_paged
        .source()
        .unwrap()
        .query(q)
        .unwrap()
        .compute_with_metrics()
        .unwrap();
    assert_eq!(got_paged, got);
    println!(
        "bytes read, {q}: {} with page index, {} without",
        m_paged.bytes_read, m.bytes_read
    );
    assert!(m_paged.bytes_read < m.bytes_read);
}

#[test]
fn errors_name_file_rows_after_skipped_pages() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("paged.parquet");
    write_source(&path, true);
    let mut ens = Ensemble::builder()
        .n_workers(1)
        .bad_values(BadValues::Reject)
        .build()
        .unwrap();
    ens.from_parquet(&path, ColumnMap::generated(), Partitioning::RowGroups)
        .unwrap();
    // Rows 1100..1300 are read (pages before them skipped); the first NaN flux among them is
    // row 1164 (97 x 12), the 65th row read.
    let err = ens
        .source()
        .unwrap()
        .query("mjd >= 58110 and mjd < 58130")
        .unwrap()
        .compute()
        .unwrap_err()
        .to_string();
    assert!(err.contains("found NaN at row 1164 "), "{err}");
}

fn partitioning() -> impl Strategy<Value = Partitioning> {
    prop_oneof![
        Just(Partitioning::RowGroups),
        Just(Partitioning::Files),
        (1usize..12).prop_map(Partitioning::Count),
        (37usize..2500).prop_map(Partitioning::Rows),
    ]
}

fn query() -> impl Strategy<Value = String> {
    let mjd = (0usize..ROWS + 200).prop_map(|i| 58_000.0 + i as f64 / 10.0 - 10.0);
    let flux = (0usize..ROWS + 200).prop_map(|i| i as f64 / 100.0 - 31.0);
    prop_oneof![
        (mjd.clone(), 0usize..500)
            .prop_map(|(t, w)| format!("mjd >= {t} and mjd < {}", t + w as f64 / 10.0)),
        mjd.clone().prop_map(|t| format!("mjd > {t}")),
        flux.clone().prop_map(|f| format!("flux <= {f}")),
        (flux.clone(), mjd.clone()).prop_map(|(f, t)| format!("flux > {f} or mjd < {t}")),
        (flux, mjd).prop_map(|(f, t)| format!("(flux > {f} and mjd < {t}) or flux is null")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Whatever the threshold and the partitioning, page pruning loses no row and keeps no
    /// extra one: the result equals the query with pushdown off.
    #[test]
    fn page_pruning_never_changes_results(q in query(), partitioning in partitioning()) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("paged.parquet");
        write_source(&path, true);
        let ens = ensemble(&path, partitioning);
        let frame = ens.source().unwrap().query(&q).unwrap();
        let (got, m) = frame.compute_with_metrics().unwrap();
        let (want, m_off) = without_pushdown(&ens, &frame);
        prop_assert_eq!(&got, &want, "{}", q);
        prop_assert!(m.bytes_read <= m_off.bytes_read, "{}", q);
        prop_assert!(m.rows_in + m.page_rows_skipped <= ROWS as u64, "{}", q);
    }
}
