//! Files and sizes that used to crash, hang or be refused: every Parquet codec, footers
//! that lie about their row counts, more row groups than the Parquet crate numbers, and
//! absurd partition and generator sizes. Each gets a result or a clear error, never an
//! abort.

use arrow::array::RecordBatch;
use lsstseries::io::generate::{generate, GeneratorConfig};
use lsstseries::io::source_batch;
use lsstseries::{ColumnMap, Ensemble, Error, Partitioning};
use parquet::arrow::ArrowWriter;
use parquet::basic::{BrotliLevel, Compression, GzipLevel, ZstdLevel};
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader, ParquetMetaDataWriter};
use parquet::file::properties::WriterProperties;
use std::fs::File;
use std::path::Path;
use std::process::Command;

/// Three objects, 30 rows, a few bands.
fn rows() -> RecordBatch {
    let n = 30;
    let id = (0..n).map(|i| 100 + i / 10).collect();
    let time = (0..n).map(|i| 60_000.0 + i as f64).collect();
    let flux = (0..n).map(|i| 10.0 + (i % 7) as f64).collect();
    let err = vec![0.5; n as usize];
    let band = (0..n).map(|i| ["g", "r", "i"][i as usize % 3]).collect();
    source_batch(&ColumnMap::generated(), id, time, flux, err, band).unwrap()
}

fn write(path: &Path, batch: &RecordBatch, props: WriterProperties) {
    let mut w =
        ArrowWriter::try_new(File::create(path).unwrap(), batch.schema(), Some(props)).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
}

fn open(path: &Path, partitioning: Partitioning) -> Result<Ensemble, Error> {
    let mut ens = Ensemble::builder().n_workers(2).build()?;
    ens.from_parquet(path, ColumnMap::generated(), partitioning)?;
    Ok(ens)
}

fn nobs(path: &Path) -> Result<RecordBatch, Error> {
    open(path, Partitioning::RowGroups)?
        .batch_named("nobs")?
        .compute()
}

#[test]
fn every_parquet_codec_reads_like_uncompressed() {
    let dir = tempfile::tempdir().unwrap();
    let batch = rows();
    let plain = dir.path().join("plain.parquet");
    let props = |c| WriterProperties::builder().set_compression(c).build();
    write(&plain, &batch, props(Compression::UNCOMPRESSED));
    let expected = nobs(&plain).unwrap();
    assert_eq!(expected.num_rows(), 3);
    for (name, codec) in [
        ("snappy", Compression::SNAPPY),
        ("gzip", Compression::GZIP(GzipLevel::default())),
        ("lz4", Compression::LZ4),
        ("lz4_raw", Compression::LZ4_RAW),
        ("zstd", Compression::ZSTD(ZstdLevel::default())),
        ("brotli", Compression::BROTLI(BrotliLevel::default())),
    ] {
        let path = dir.path().join(format!("{name}.parquet"));
        write(&path, &batch, props(codec));
        let got = nobs(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got, expected, "{name}");
    }
}

#[test]
fn written_and_generated_files_are_zstd() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = GeneratorConfig {
        objects: 4,
        observations: 5,
        ..Default::default()
    };
    let written = dir.path().join("w.parquet");
    lsstseries::io::write_parquet(&written, &rows()).unwrap();
    let generated = generate(&cfg, &dir.path().join("generated")).unwrap().files;
    for path in std::iter::once(written).chain(generated) {
        let meta = footer(&path).1;
        let codec = meta.row_group(0).column(0).compression();
        assert!(matches!(codec, Compression::ZSTD(_)), "{codec:?}");
    }
}

/// The file's bytes before its footer, and its footer.
fn footer(path: &Path) -> (Vec<u8>, ParquetMetaData) {
    let bytes = std::fs::read(path).unwrap();
    let n = bytes.len();
    let meta_len = u32::from_le_bytes(bytes[n - 8..n - 4].try_into().unwrap()) as usize;
    let meta = ParquetMetaDataReader::new()
        .parse_and_finish(&File::open(path).unwrap())
        .unwrap();
    (bytes[..n - 8 - meta_len].to_vec(), meta)
}

/// Rewrites `path` with its footer passed through `change` (same data pages).
fn rewrite_footer(path: &Path, change: impl FnOnce(ParquetMetaData) -> ParquetMetaData) {
    let (mut bytes, meta) = footer(path);
    let meta = change(meta);
    ParquetMetaDataWriter::new(&mut bytes, &meta)
        .finish()
        .unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// A valid small file whose row groups claim `rows` rows each.
fn lying_file(path: &Path, claimed: i64) {
    write(path, &rows(), WriterProperties::builder().build());
    rewrite_footer(path, |meta| {
        let mut b = meta.into_builder();
        let groups = b.take_row_groups();
        let groups = groups
            .into_iter()
            .map(|g| g.into_builder().set_num_rows(claimed).build().unwrap())
            .collect();
        b.set_row_groups(groups).build()
    });
}

#[test]
fn footer_claiming_2_pow_50_rows_is_an_error_not_an_abort() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("liar.parquet");
    lying_file(&path, 1 << 50);
    for partitioning in [
        Partitioning::RowGroups,
        Partitioning::Rows(1),
        Partitioning::Count(4),
    ] {
        let Err(err) = open(&path, partitioning) else {
            panic!("a lying footer opened");
        };
        let msg = err.to_string();
        assert!(matches!(err, Error::Parquet { .. }), "{msg}");
        assert!(msg.contains("liar.parquet"), "{msg}");
        assert!(msg.contains("1125899906842624 rows"), "{msg}");
    }
}

#[test]
fn footer_claiming_a_few_more_rows_than_it_holds_is_an_error() {
    // Within what the bytes could encode, so only reading finds the lie.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("short.parquet");
    lying_file(&path, 3000);
    let err = match open(&path, Partitioning::RowGroups) {
        Err(e) => e,
        Ok(ens) => ens.batch_named("nobs").unwrap().compute().unwrap_err(),
    };
    let msg = err.to_string();
    assert!(msg.contains("short.parquet"), "{msg}");
}

#[test]
fn more_row_groups_than_the_parquet_crate_numbers_is_explained() {
    // The Parquet writer itself stops at 32,768 row groups (an i16 ordinal), so the footer
    // is made by hand: 32,769 entries pointing at the same (valid) column chunks.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.parquet");
    let batch = rows().slice(0, 1);
    write(&path, &batch, WriterProperties::builder().build());
    rewrite_footer(&path, |meta| {
        let mut b = meta.into_builder();
        let one = b.take_row_groups().remove(0);
        b.set_row_groups(vec![one; 32_769]).build()
    });
    let Err(err) = open(&path, Partitioning::RowGroups) else {
        panic!("a footer of 32769 row groups opened");
    };
    let msg = err.to_string();
    assert!(msg.contains("many.parquet"), "{msg}");
    assert!(msg.contains("32769 row groups"), "{msg}");
    assert!(msg.contains("at most 32768"), "{msg}");
    assert!(msg.contains("row_group_size"), "{msg}");
}

#[test]
fn absurd_partition_count_is_clamped_to_the_rows() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.parquet");
    write(&path, &rows(), WriterProperties::builder().build());
    let ens = open(&path, Partitioning::Count(10_000_000_000_000_000)).unwrap();
    assert_eq!(ens.source_table().unwrap().partitions.len(), 30);
    assert_eq!(
        ens.batch_named("nobs").unwrap().compute().unwrap(),
        nobs(&path).unwrap()
    );
}

#[test]
fn absurd_generator_sizes_are_refused_before_allocating() {
    let dir = tempfile::tempdir().unwrap();
    for (objects, observations) in [
        (usize::MAX, 200),
        (usize::MAX, 0),
        (10, usize::MAX),
        (1 << 20, 1 << 20),
    ] {
        let cfg = GeneratorConfig {
            objects,
            observations,
            ..Default::default()
        };
        let err = generate(&cfg, dir.path()).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
        assert!(err.to_string().contains("too large"), "{err}");
    }
    let cfg = GeneratorConfig {
        files: usize::MAX,
        ..Default::default()
    };
    assert!(matches!(
        generate(&cfg, dir.path()),
        Err(Error::InvalidArgument(_))
    ));
}

fn cli(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lsstseries"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn cli_absurd_sizes_finish_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (ok, err) = cli(&[
        "generate",
        data.to_str().unwrap(),
        "--objects",
        "18446744073709551615",
    ]);
    assert!(!ok && err.contains("too large"), "{err}");
    let (ok, err) = cli(&[
        "generate",
        data.to_str().unwrap(),
        "--objects",
        "20",
        "--observations",
        "3",
    ]);
    assert!(ok, "{err}");
    let out = dir.path().join("n.csv");
    let (ok, err) = cli(&[
        "batch",
        "nobs",
        data.to_str().unwrap(),
        "--partitions",
        "10000000000000000",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(err.contains("one partition per row"), "{err}");
}
