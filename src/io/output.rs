//! Writing results: CSV (id first, NaN as an empty cell, RFC 4180 quoting) and Parquet.
//!
//! Both writers write a temporary file beside the target (`.{name}.{pid}.{n}.tmp`), flush
//! and fsync it, then rename it into place: a reader sees the old file or the new one,
//! never half of one, and two writers of one path cannot interleave (the last rename wins,
//! and each file is whole). The temporary file is removed on any error.

use super::ColumnMap;
use crate::error::{Error, Result};
use arrow::array::{Array, ArrayRef, AsArray, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Float32Type, Float64Type, Int64Type, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::ffi::OsString;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// What a writer does when its output file already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IfExists {
    /// Replace it (atomically: readers see the old file or the new one, never a mix).
    #[default]
    Replace,
    /// Keep it and fail with [`Error::Io`] of kind [`std::io::ErrorKind::AlreadyExists`].
    /// The check and the creation are one step (a hard link of the finished temporary
    /// file), so of two writers racing for a new path exactly one succeeds.
    Refuse,
}

/// Writes `batch` as CSV with a header, replacing `path` if it exists (see
/// [`write_csv_with`]).
pub fn write_csv(path: impl AsRef<Path>, batch: &RecordBatch) -> Result<()> {
    write_csv_with(path, batch, IfExists::Replace)
}

/// Writes `batch` as CSV with a header. NaN and nulls are written as empty cells; a field
/// (header or value) holding a comma, a quote, `\r` or `\n` is quoted, quotes doubled
/// (RFC 4180), so standard readers get the same strings back. The file appears whole or
/// not at all.
pub fn write_csv_with(
    path: impl AsRef<Path>,
    batch: &RecordBatch,
    if_exists: IfExists,
) -> Result<()> {
    write_csv_stream(path, &batch.schema(), [Ok(batch.clone())], if_exists)
}

/// Writes a stream of batches (all of `schema`, e.g. those of `Frame::compute_stream`) as
/// one CSV file, batch by batch: memory
/// holds one batch at a time. The file appears whole or not at all: an error from the
/// stream leaves no output.
pub fn write_csv_stream(
    path: impl AsRef<Path>,
    schema: &Schema,
    batches: impl IntoIterator<Item = Result<RecordBatch>>,
    if_exists: IfExists,
) -> Result<()> {
    let path = path.as_ref();
    write_atomically(path, if_exists, |file| {
        let mut w = BufWriter::new(file);
        write_csv_header(path, &mut w, schema)?;
        for batch in batches {
            write_csv_rows(path, &mut w, &batch?)?;
        }
        w.flush().map_err(|e| Error::io(path, e))
    })
}

/// `batch` as CSV text with a header, as [`write_csv_with`] writes it (for printing).
pub fn csv_text(batch: &RecordBatch) -> Result<String> {
    let place = Path::new("(text)");
    let mut out = Vec::new();
    write_csv_header(place, &mut out, &batch.schema())?;
    write_csv_rows(place, &mut out, batch)?;
    String::from_utf8(out).map_err(|e| Error::InvalidData(format!("CSV text: {e}")))
}

/// Writes a directory of Parquet parts (`part-00000.parquet`, ...), e.g. one per partition
/// of a frame: every part is first written whole under a hidden temporary name (which
/// source discovery skips), and only [`PartsWriter::finish`] moves them all into place, so
/// readers never see a half-written set. Dropped unfinished, it removes its temporary
/// files.
///
/// A directory that already holds `.parquet` files is refused with [`IfExists::Refuse`];
/// with [`IfExists::Replace`] the old `part-NNNNN.parquet` files are removed at `finish`,
/// and any other `.parquet` file is still refused (a later read would mix it in).
#[derive(Debug)]
pub struct PartsWriter {
    dir: PathBuf,
    if_exists: IfExists,
    temps: Vec<PathBuf>,
    rows: u64,
    finished: bool,
}

/// Name of part `i` in a [`PartsWriter`] directory.
pub fn part_name(i: usize) -> String {
    format!("part-{i:05}.parquet")
}

fn is_part_name(name: &str) -> bool {
    name.strip_prefix("part-")
        .and_then(|r| r.strip_suffix(".parquet"))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

impl PartsWriter {
    /// Creates `dir` if needed and checks what it holds.
    pub fn new(dir: impl AsRef<Path>, if_exists: IfExists) -> Result<Self> {
        let dir = dir.as_ref().to_path_buf();
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        for entry in std::fs::read_dir(&dir).map_err(|e| Error::io(&dir, e))? {
            let path = entry.map_err(|e| Error::io(&dir, e))?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.starts_with('.') || !name.ends_with(".parquet") {
                continue;
            }
            if if_exists == IfExists::Refuse || !is_part_name(name) {
                return Err(Error::InvalidArgument(format!(
                    "{} already holds Parquet files (e.g. {name}); {}",
                    dir.display(),
                    if is_part_name(name) {
                        "replace them explicitly (IfExists::Replace, --overwrite) or write elsewhere"
                    } else {
                        "they are not parts this writer made, so it will not mix with them: write elsewhere"
                    }
                )));
            }
        }
        Ok(PartsWriter {
            dir,
            if_exists,
            temps: Vec::new(),
            rows: 0,
            finished: false,
        })
    }

    /// Writes the next part from `batches` (of `schema`), under a temporary name.
    pub fn write_part(
        &mut self,
        schema: &Schema,
        batches: impl IntoIterator<Item = Result<RecordBatch>>,
    ) -> Result<()> {
        let temp = self.dir.join(format!(
            ".{}.{}.{}.pending",
            part_name(self.temps.len()),
            std::process::id(),
            TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let mut rows = 0u64;
        let counted = batches.into_iter().inspect(|b| {
            if let Ok(b) = b {
                rows += b.num_rows() as u64;
            }
        });
        // Recorded first, so a failed write's leftovers are removed too.
        self.temps.push(temp.clone());
        write_parquet_stream(&temp, schema, counted, IfExists::Refuse)?;
        self.rows += rows;
        Ok(())
    }

    /// Parts written so far.
    pub fn parts(&self) -> usize {
        self.temps.len()
    }

    /// [`PartsWriter::finish`], first writing one empty part of `schema` if no part was
    /// written, so the directory still carries the schema.
    pub fn finish_with_schema(mut self, schema: &Schema) -> Result<(Vec<PathBuf>, u64)> {
        if self.temps.is_empty() {
            self.write_part(
                schema,
                [Ok(RecordBatch::new_empty(Arc::new(schema.clone())))],
            )?;
        }
        self.finish()
    }

    /// Moves every part into place (removing old parts under [`IfExists::Replace`]) and
    /// returns their paths and the rows written.
    pub fn finish(mut self) -> Result<(Vec<PathBuf>, u64)> {
        if self.if_exists == IfExists::Replace {
            for entry in std::fs::read_dir(&self.dir).map_err(|e| Error::io(&self.dir, e))? {
                let path = entry.map_err(|e| Error::io(&self.dir, e))?.path();
                if path
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(is_part_name)
                {
                    std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
                }
            }
        }
        let mut files = Vec::with_capacity(self.temps.len());
        for (i, temp) in self.temps.iter().enumerate() {
            let path = self.dir.join(part_name(i));
            match self.if_exists {
                IfExists::Replace => std::fs::rename(temp, &path),
                // Another writer may have finished first: never replace its parts.
                IfExists::Refuse => {
                    std::fs::hard_link(temp, &path).and_then(|()| std::fs::remove_file(temp))
                }
            }
            .map_err(|e| Error::io(&path, e))?;
            files.push(path);
        }
        self.finished = true;
        Ok((files, self.rows))
    }
}

impl Drop for PartsWriter {
    fn drop(&mut self) {
        if !self.finished {
            for t in &self.temps {
                let _ = std::fs::remove_file(t);
            }
        }
    }
}

/// Writes a stream of batches as one Parquet file (zstd), batch by batch; the file appears
/// whole or not at all.
pub fn write_parquet_stream(
    path: impl AsRef<Path>,
    schema: &Schema,
    batches: impl IntoIterator<Item = Result<RecordBatch>>,
    if_exists: IfExists,
) -> Result<()> {
    let path = path.as_ref();
    let io = |e: parquet::errors::ParquetError| Error::io(path, std::io::Error::other(e));
    write_atomically(path, if_exists, |file| {
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::default()))
            .build();
        let mut w =
            ArrowWriter::try_new(file, Arc::new(schema.clone()), Some(props)).map_err(io)?;
        for batch in batches {
            w.write(&batch?).map_err(io)?;
        }
        w.close().map_err(io)?;
        Ok(())
    })
}

fn write_csv_header(path: &Path, w: &mut impl Write, schema: &Schema) -> Result<()> {
    let header: Vec<String> = schema
        .fields()
        .iter()
        .map(|f| csv_field(f.name()))
        .collect();
    writeln!(w, "{}", header.join(",")).map_err(|e| Error::io(path, e))
}

fn write_csv_rows(path: &Path, w: &mut impl Write, batch: &RecordBatch) -> Result<()> {
    let io = |e| Error::io(path, e);
    let columns: Vec<_> = batch
        .columns()
        .iter()
        .map(|c| match c.data_type() {
            DataType::Int64 | DataType::Float64 | DataType::Float32 | DataType::Utf8 => {
                Ok(c.clone())
            }
            _ => cast(c, &DataType::Utf8).map_err(|e| Error::arrow("csv output", e)),
        })
        .collect::<Result<_>>()?;
    let mut line = String::new();
    for row in 0..batch.num_rows() {
        line.clear();
        for (k, c) in columns.iter().enumerate() {
            if k > 0 {
                line.push(',');
            }
            if c.is_null(row) {
                continue;
            }
            match c.data_type() {
                DataType::Int64 => {
                    line.push_str(&c.as_primitive::<Int64Type>().value(row).to_string())
                }
                DataType::Float64 => {
                    push_float(&mut line, c.as_primitive::<Float64Type>().value(row))
                }
                DataType::Float32 => {
                    push_float(&mut line, c.as_primitive::<Float32Type>().value(row) as f64)
                }
                _ => line.push_str(&csv_field(c.as_string::<i32>().value(row))),
            }
        }
        line.push('\n');
        w.write_all(line.as_bytes()).map_err(io)?;
    }
    Ok(())
}

fn push_float(line: &mut String, v: f64) {
    if v.is_finite() {
        line.push_str(&v.to_string());
    } else if !v.is_nan() {
        line.push_str(if v > 0.0 { "inf" } else { "-inf" });
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// A source table (id, time, flux, error, band columns named by `columns`) from plain
/// vectors, e.g. to write test or example data with [`write_parquet`].
///
/// ```
/// use lsstseries::io::{source_batch, ColumnMap};
/// let b = source_batch(&ColumnMap::generated(), vec![1, 1], vec![0.0, 1.0], vec![5.0, 6.0],
///                      vec![0.1, 0.1], vec!["g", "r"]).unwrap();
/// assert_eq!(b.num_rows(), 2);
/// assert!(source_batch(&ColumnMap::generated(), vec![1], vec![], vec![], vec![], vec![]).is_err());
/// ```
pub fn source_batch(
    columns: &ColumnMap,
    id: Vec<i64>,
    time: Vec<f64>,
    flux: Vec<f64>,
    err: Vec<f64>,
    band: Vec<&str>,
) -> Result<RecordBatch> {
    let n = id.len();
    if [time.len(), flux.len(), err.len(), band.len()]
        .iter()
        .any(|&l| l != n)
    {
        return Err(Error::InvalidArgument(format!(
            "source_batch: columns differ in length (id {n}, time {}, flux {}, err {}, band {})",
            time.len(),
            flux.len(),
            err.len(),
            band.len()
        )));
    }
    let schema = Arc::new(Schema::new(vec![
        Field::new(&columns.id, DataType::Int64, false),
        Field::new(&columns.time, DataType::Float64, false),
        Field::new(&columns.flux, DataType::Float64, false),
        Field::new(&columns.err, DataType::Float64, false),
        Field::new(&columns.band, DataType::Utf8, false),
    ]));
    let arrays: Vec<ArrayRef> = vec![
        Arc::new(Int64Array::from(id)),
        Arc::new(Float64Array::from(time)),
        Arc::new(Float64Array::from(flux)),
        Arc::new(Float64Array::from(err)),
        Arc::new(StringArray::from(band)),
    ];
    RecordBatch::try_new(schema, arrays).map_err(|e| Error::arrow("source_batch", e))
}

/// Writes `batch` as one Parquet file (zstd, level 1), replacing `path` if it exists (see
/// [`write_parquet_with`]).
pub fn write_parquet(path: impl AsRef<Path>, batch: &RecordBatch) -> Result<()> {
    write_parquet_with(path, batch, IfExists::Replace)
}

/// Writes `batch` as one Parquet file (zstd). The file appears whole or not at all.
pub fn write_parquet_with(
    path: impl AsRef<Path>,
    batch: &RecordBatch,
    if_exists: IfExists,
) -> Result<()> {
    // A failed write is an I/O error on the output ("cannot access"), not a Parquet file
    // that cannot be read.
    write_parquet_stream(path, &batch.schema(), [Ok(batch.clone())], if_exists)
}

/// Distinguishes temporary files of one process (threads may write concurrently).
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// A temporary output file, removed when dropped unless it was renamed into place.
struct TempFile {
    path: PathBuf,
    keep: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Writes `bytes` to `path` whole or not at all (a temporary file, then a rename or, under
/// [`IfExists::Refuse`], a link that fails if `path` exists).
pub fn write_bytes_atomically(path: &Path, bytes: &[u8], if_exists: IfExists) -> Result<()> {
    write_atomically(path, if_exists, |mut file| {
        file.write_all(bytes).map_err(|e| Error::io(path, e))
    })
}

/// Runs `write` on a new temporary file beside `path`, fsyncs it and moves it to `path`.
fn write_atomically(
    path: &Path,
    if_exists: IfExists,
    write: impl FnOnce(&File) -> Result<()>,
) -> Result<()> {
    let io = |e| Error::io(path, e);
    let name = path.file_name().ok_or_else(|| {
        Error::InvalidArgument(format!("output path {} names no file", path.display()))
    })?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut temp_name = OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(
        ".{}.{}.tmp",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let temp_path = dir.join(temp_name);
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temp_path)
        .map_err(io)?;
    let mut temp = TempFile {
        path: temp_path,
        keep: false,
    };
    write(&file)?;
    file.sync_all().map_err(io)?;
    drop(file);
    match if_exists {
        IfExists::Replace => {
            std::fs::rename(&temp.path, path).map_err(io)?;
            temp.keep = true;
        }
        // The link fails if `path` exists; the temporary name is removed on drop.
        IfExists::Refuse => match std::fs::hard_link(&temp.path, path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Err(io(e)),
            // A file system without hard links: check, then rename (not atomic).
            Err(_) if path.exists() => {
                return Err(io(std::io::Error::from(std::io::ErrorKind::AlreadyExists)))
            }
            Err(_) => {
                std::fs::rename(&temp.path, path).map_err(io)?;
                temp.keep = true;
            }
        },
    }
    // Make the rename itself durable (best effort: not every platform syncs directories).
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads CSV as RFC 4180 (and Python's `csv` module) does: quoted fields may hold
    /// commas, doubled quotes, `\r` and `\n`; an unquoted `\r`, `\n` or `\r\n` ends a record.
    fn parse_rfc4180(text: &str) -> Vec<Vec<String>> {
        let mut records = Vec::new();
        let mut record = Vec::new();
        let mut field = String::new();
        let mut chars = text.chars().peekable();
        let mut quoted = false;
        let mut started = false;
        while let Some(c) = chars.next() {
            if quoted {
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        chars.next();
                        field.push('"');
                    } else {
                        quoted = false;
                    }
                } else {
                    field.push(c);
                }
                continue;
            }
            match c {
                '"' if field.is_empty() => quoted = true,
                ',' => record.push(std::mem::take(&mut field)),
                '\r' | '\n' => {
                    if c == '\r' && chars.peek() == Some(&'\n') {
                        chars.next();
                    }
                    record.push(std::mem::take(&mut field));
                    records.push(std::mem::take(&mut record));
                    started = false;
                    continue;
                }
                _ => field.push(c),
            }
            started = true;
        }
        if started || !field.is_empty() || !record.is_empty() {
            record.push(field);
            records.push(record);
        }
        records
    }

    const NASTY: [&str; 7] = [
        "g",
        "a,b",
        "say \"hi\"",
        "cr\rx",
        "lf\nx",
        "crlf\r\nx",
        "\"",
    ];

    #[test]
    fn csv_round_trips_nasty_names_and_values() {
        let mut fields = vec![Field::new("id", DataType::Int64, false)];
        let mut arrays: Vec<ArrayRef> = vec![Arc::new(Int64Array::from(vec![1, 2]))];
        for (k, name) in NASTY.iter().enumerate() {
            fields.push(Field::new(format!("band_{name}"), DataType::Utf8, false));
            let other = NASTY[(k + 1) % NASTY.len()];
            arrays.push(Arc::new(StringArray::from(vec![*name, other])));
        }
        fields.push(Field::new("x,\r\"y\"", DataType::Float64, true));
        arrays.push(Arc::new(Float64Array::from(vec![Some(1.5), None])));
        let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), arrays).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nasty.csv");
        write_csv(&path, &batch).unwrap();
        let records = parse_rfc4180(&std::fs::read_to_string(&path).unwrap());
        assert_eq!(records.len(), 3, "{records:?}");
        let header: Vec<String> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(records[0], header);
        for row in 0..2 {
            let mut expected = vec![(row + 1).to_string()];
            for k in 0..NASTY.len() {
                expected.push(NASTY[(k + row) % NASTY.len()].to_string());
            }
            expected.push(if row == 0 { "1.5" } else { "" }.to_string());
            assert_eq!(records[row + 1], expected);
        }
    }

    fn numbers(n: usize, value: i64) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
        RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![value; n]))]).unwrap()
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect()
    }

    /// Writers of different sizes race for one path while a reader watches it: every read
    /// sees a whole file of one writer, and so does the end.
    #[test]
    fn concurrent_writers_never_interleave() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        let sizes = [(20_000, 111_111_i64), (3_000, 2), (50_000, 33)];
        let expected: Vec<String> = sizes
            .iter()
            .map(|&(n, v)| String::from("id\n") + &format!("{v}\n").repeat(n))
            .collect();
        let done = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            let writers: Vec<_> = sizes
                .iter()
                .map(|&(n, v)| {
                    let path = &path;
                    s.spawn(move || {
                        let batch = numbers(n, v);
                        for _ in 0..15 {
                            write_csv(path, &batch).unwrap();
                        }
                    })
                })
                .collect();
            let reader = s.spawn(|| {
                let mut seen = 0;
                while !done.load(Ordering::Relaxed) {
                    if let Ok(text) = std::fs::read_to_string(&path) {
                        assert!(
                            expected.contains(&text),
                            "a torn read: {} bytes",
                            text.len()
                        );
                        seen += 1;
                    }
                }
                seen
            });
            for w in writers {
                w.join().unwrap();
            }
            done.store(true, Ordering::Relaxed);
            reader.join().unwrap();
        });
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(
            expected.contains(&text),
            "final file torn: {} bytes",
            text.len()
        );
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn refuse_keeps_an_existing_file_and_replace_replaces_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.parquet");
        write_parquet_with(&path, &numbers(3, 1), IfExists::Refuse).unwrap();
        let before = std::fs::read(&path).unwrap();
        let e = write_parquet_with(&path, &numbers(5, 2), IfExists::Refuse).unwrap_err();
        match e {
            Error::Io { ref source, .. } => {
                assert_eq!(source.kind(), std::io::ErrorKind::AlreadyExists, "{e}")
            }
            other => panic!("{other}"),
        }
        assert_eq!(std::fs::read(&path).unwrap(), before);
        write_parquet(&path, &numbers(5, 2)).unwrap();
        assert_ne!(std::fs::read(&path).unwrap(), before);
        assert!(leftovers(dir.path()).is_empty());
    }

    #[test]
    fn a_failed_write_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        // The target is a non-empty directory: the rename fails after the data is written.
        let target = dir.path().join("taken.csv");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("keep"), "x").unwrap();
        let e = write_csv(&target, &numbers(10, 1)).unwrap_err();
        assert!(e.to_string().contains("cannot access"), "{e}");
        assert!(leftovers(dir.path()).is_empty());
        // A directory that does not exist names the output in the error.
        let missing = dir.path().join("no/such/dir/out.parquet");
        let e = write_parquet(&missing, &numbers(1, 1)).unwrap_err();
        assert!(e.to_string().contains("out.parquet"), "{e}");
    }
}
