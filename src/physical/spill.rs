//! Spill files: batches that do not fit the memory limit, written in Arrow IPC (one
//! stream per batch) in a per-run directory and read back one batch at a time.
//!
//! The directory is made on the first spill and removed, with everything in it, when the
//! run ends (normally, with an error, or cancelled).

use crate::error::{Error, Result};
use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::StreamWriter;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

static NEXT_RUN: AtomicU64 = AtomicU64::new(0);

/// The spill directory of one run.
#[derive(Debug)]
pub struct SpillDir {
    base: PathBuf,
    dir: OnceLock<PathBuf>,
    create: Mutex<()>,
    files: AtomicUsize,
    bytes: AtomicUsize,
}

impl SpillDir {
    /// A directory to be made under `base` when first needed.
    pub fn new(base: Option<&Path>) -> Self {
        SpillDir {
            base: base.map_or_else(std::env::temp_dir, Path::to_path_buf),
            dir: OnceLock::new(),
            create: Mutex::new(()),
            files: AtomicUsize::new(0),
            bytes: AtomicUsize::new(0),
        }
    }

    /// Spill files written so far.
    pub fn files(&self) -> usize {
        self.files.load(Ordering::Relaxed)
    }

    /// Bytes (in memory, before writing) spilled so far.
    pub fn bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }

    fn dir(&self) -> Result<&Path> {
        if let Some(d) = self.dir.get() {
            return Ok(d);
        }
        let _guard = self.create.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(d) = self.dir.get() {
            return Ok(d);
        }
        let name = format!(
            "lsstseries-spill-{}-{}",
            std::process::id(),
            NEXT_RUN.fetch_add(1, Ordering::Relaxed)
        );
        let dir = self.base.join(name);
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        Ok(self.dir.get_or_init(|| dir))
    }

    /// Writes `batches` (all of `schema`) to a new spill file.
    pub fn write<'a>(
        &self,
        schema: &SchemaRef,
        batches: impl IntoIterator<Item = &'a RecordBatch>,
    ) -> Result<SpillFile> {
        let mut writer = self.writer(schema)?;
        for b in batches {
            writer.push(b)?;
        }
        writer.finish()
    }

    /// A new spill file to append batches to.
    pub fn writer(&self, schema: &SchemaRef) -> Result<SpillWriter<'_>> {
        let n = self.files.fetch_add(1, Ordering::Relaxed);
        let path = self.dir()?.join(format!("{n}.arrows"));
        let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
        Ok(SpillWriter {
            path,
            file: BufWriter::new(file),
            schema: schema.clone(),
            offsets: Vec::new(),
            end: 0,
            spilled: &self.bytes,
        })
    }
}

impl Drop for SpillDir {
    fn drop(&mut self) {
        if let Some(d) = self.dir.get() {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

/// A spill file being written. Each batch is a complete Arrow IPC stream of its own (schema,
/// dictionaries, batch) at a recorded offset: the IPC file format allows one dictionary per
/// column per file, and partitions decode the band column with dictionaries of their own.
pub struct SpillWriter<'a> {
    path: PathBuf,
    file: BufWriter<File>,
    schema: SchemaRef,
    /// (offset, length) of each batch's stream.
    offsets: Vec<(u64, u64)>,
    end: u64,
    spilled: &'a AtomicUsize,
}

impl SpillWriter<'_> {
    /// Appends a batch; returns its index in the file.
    pub fn push(&mut self, batch: &RecordBatch) -> Result<usize> {
        let path = &self.path;
        let err = |e| Error::arrow(format!("writing spill file {}", path.display()), e);
        let mut counted = CountingWriter {
            inner: &mut self.file,
            written: 0,
        };
        let mut w = StreamWriter::try_new(&mut counted, &self.schema).map_err(err)?;
        w.write(batch).map_err(err)?;
        w.finish().map_err(err)?;
        drop(w);
        let len = counted.written;
        self.offsets.push((self.end, len));
        self.end += len;
        self.spilled
            .fetch_add(batch.get_array_memory_size(), Ordering::Relaxed);
        Ok(self.offsets.len() - 1)
    }

    /// Closes the file.
    pub fn finish(mut self) -> Result<SpillFile> {
        self.file.flush().map_err(|e| Error::io(&self.path, e))?;
        Ok(SpillFile {
            path: self.path,
            offsets: self.offsets,
        })
    }
}

/// Counts the bytes written through it.
struct CountingWriter<'a, W: Write> {
    inner: &'a mut W,
    written: u64,
}

impl<W: Write> Write for CountingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A finished spill file: record batches in write order.
#[derive(Debug, Clone)]
pub struct SpillFile {
    path: PathBuf,
    offsets: Vec<(u64, u64)>,
}

impl SpillFile {
    /// A reader of the batches from `first` on.
    pub fn reader(&self, first: usize) -> Result<SpillReader> {
        let file = File::open(&self.path).map_err(|e| Error::io(&self.path, e))?;
        Ok(SpillReader {
            file: self.clone(),
            handle: BufReader::new(file),
            next: first,
        })
    }

    /// Reads batch `index`.
    pub fn read(&self, index: usize) -> Result<RecordBatch> {
        self.reader(index)?.next().unwrap_or_else(|| {
            Err(Error::InvalidData(format!(
                "spill file {} has no batch {index}",
                self.path.display()
            )))
        })
    }
}

/// Reads a spill file's batches in order.
pub struct SpillReader {
    file: SpillFile,
    handle: BufReader<File>,
    next: usize,
}

impl SpillReader {
    fn read_next(&mut self) -> Result<Option<RecordBatch>> {
        let Some(&(offset, len)) = self.file.offsets.get(self.next) else {
            return Ok(None);
        };
        self.next += 1;
        let path = &self.file.path;
        let err = |e| Error::arrow(format!("reading spill file {}", path.display()), e);
        self.handle
            .seek(SeekFrom::Start(offset))
            .map_err(|e| Error::io(path, e))?;
        let mut reader = StreamReader::try_new((&mut self.handle).take(len), None).map_err(err)?;
        match reader.next() {
            Some(batch) => batch.map(Some).map_err(err),
            None => Err(Error::InvalidData(format!(
                "spill file {} ends before batch {}",
                path.display(),
                self.next - 1
            ))),
        }
    }
}

impl Iterator for SpillReader {
    type Item = Result<RecordBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        self.read_next().transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::Int64Array;
    use arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

    #[test]
    fn round_trip_and_cleanup() {
        let base =
            std::env::temp_dir().join(format!("lsstseries-spill-test-{}", std::process::id()));
        let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]));
        let b = |v: Vec<i64>| {
            RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from(v))]).unwrap()
        };
        let dir = SpillDir::new(Some(&base));
        let f = dir
            .write(&schema, &[b(vec![1, 2]), b(vec![3]), b(vec![4, 5, 6])])
            .unwrap();
        assert_eq!(f.read(1).unwrap(), b(vec![3]));
        let rest: Vec<RecordBatch> = f.reader(1).unwrap().map(|r| r.unwrap()).collect();
        assert_eq!(rest, vec![b(vec![3]), b(vec![4, 5, 6])]);
        assert!(f.read(3).is_err());
        let made = dir.dir.get().unwrap().clone();
        assert!(made.exists());
        drop(dir);
        assert!(!made.exists(), "the run's spill directory is removed");
        let _ = std::fs::remove_dir(&base);
    }
}
