//! Footers treated as untrusted input: sizes a file claims are checked against the bytes it
//! has before anything is allocated from them, and a footer the Parquet crate refuses for
//! its row-group count is explained (the count is read with a small Thrift walk of our own).

use crate::error::{Error, Result};
use parquet::file::metadata::ParquetMetaData;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// The most row groups one file may have for the Parquet crate: it numbers them with an
/// `i16` ordinal (0..=32767), reading and writing.
pub(crate) const MAX_ROW_GROUPS: u64 = i16::MAX as u64 + 1;

/// The most values one data page can hold (its header counts them in an `i32`).
const MAX_VALUES_PER_PAGE: u64 = i32::MAX as u64;

/// Fewer bytes than any data page takes: its Thrift header alone (type, two sizes, the
/// data-page header with value count and three encodings) is longer.
const MIN_PAGE_BYTES: u64 = 8;

/// Checks the row counts and chunk sizes of `meta` (the footer of `path`, `file_len` bytes
/// long) against what the file can hold: every column chunk inside the file, and no row
/// group claiming more rows than its smallest column chunk could encode (each row has a
/// value or level in every leaf column; a page holds at most `i32::MAX` of them and takes
/// at least a few bytes). This bound never rejects a well-formed file, whatever its
/// encoding or compression, and stops a footer claiming, say, 2^50 rows in a small file
/// before any buffer is sized from it.
pub(crate) fn check_sizes(path: &Path, file_len: u64, meta: &ParquetMetaData) -> Result<()> {
    let lie = |msg: String| Error::parquet(path, format!("footer is inconsistent: {msg}"));
    let claimed = meta.file_metadata().num_rows();
    if claimed < 0 {
        return Err(lie(format!("negative row count {claimed}")));
    }
    let mut total: u64 = 0;
    for (i, rg) in meta.row_groups().iter().enumerate() {
        let rows = u64::try_from(rg.num_rows())
            .map_err(|_| lie(format!("row group {i} has {} rows", rg.num_rows())))?;
        let mut smallest: Option<u64> = None;
        for c in rg.columns() {
            // `byte_range` would assert on negative values: compute it here.
            let start = c.dictionary_page_offset().unwrap_or(c.data_page_offset());
            let size = c.compressed_size();
            let end = u64::try_from(start)
                .ok()
                .zip(u64::try_from(size).ok())
                .and_then(|(s, n)| s.checked_add(n));
            let Some(size) = end.filter(|&e| e <= file_len).map(|_| size as u64) else {
                return Err(lie(format!(
                    "row group {i}: column '{}' claims bytes {start}..{start}+{size} of a \
                     {file_len}-byte file",
                    c.column_path()
                )));
            };
            smallest = Some(smallest.map_or(size, |s| s.min(size)));
        }
        let capacity = smallest
            .unwrap_or(0)
            .div_ceil(MIN_PAGE_BYTES)
            .saturating_mul(MAX_VALUES_PER_PAGE);
        if rows > capacity {
            return Err(lie(format!(
                "row group {i} claims {rows} rows but its smallest column chunk has {} bytes \
                 (room for at most {capacity} rows); the file is corrupt or was tampered with",
                smallest.unwrap_or(0)
            )));
        }
        total = total.saturating_add(rows);
    }
    if total > usize::MAX as u64 {
        return Err(lie(format!(
            "{total} rows do not fit this machine's address space"
        )));
    }
    Ok(())
}

/// The error for a footer whose embedded Arrow schema made the reader panic: the file's
/// `ARROW:schema` metadata is malformed.
pub(crate) fn embedded_schema_error(path: &Path, panic: Box<dyn std::any::Any + Send>) -> Error {
    let why = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unreadable".to_string());
    Error::InvalidData(format!(
        "{}: the Arrow schema embedded in the footer (ARROW:schema metadata) is malformed: {why}",
        path.display()
    ))
}

/// Turns the Parquet crate's refusal of a footer into a clear error when the cause is a
/// row-group count above [`MAX_ROW_GROUPS`]; other failures keep their message.
pub(crate) fn explain_load_error(
    path: &Path,
    file: &mut File,
    err: parquet::errors::ParquetError,
) -> Error {
    match row_group_count(file) {
        Some(n) if n > MAX_ROW_GROUPS => Error::parquet(
            path,
            format!(
                "the file has {n} row groups; the Parquet reader handles at most {MAX_ROW_GROUPS} \
                 per file (it numbers them with a 16-bit ordinal). Rewrite it with fewer, larger \
                 row groups (e.g. pyarrow.parquet.write_table(table, path, \
                 row_group_size=1_000_000)) or split it into several files"
            ),
        ),
        _ => Error::parquet(path, err),
    }
}

/// The number of row groups the footer of `file` lists, read without the Parquet crate
/// (which refuses to parse a footer listing more than [`MAX_ROW_GROUPS`]). `None` when the
/// footer is not a plain (unencrypted) Thrift `FileMetaData`.
pub(crate) fn row_group_count(file: &mut File) -> Option<u64> {
    let len = file.seek(SeekFrom::End(0)).ok()?;
    if len < 12 {
        return None;
    }
    let mut tail = [0u8; 8];
    file.seek(SeekFrom::Start(len - 8)).ok()?;
    file.read_exact(&mut tail).ok()?;
    if &tail[4..] != b"PAR1" {
        return None;
    }
    let meta_len = u64::from(u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]));
    if meta_len > len - 8 {
        return None;
    }
    let mut buf = vec![0u8; usize::try_from(meta_len).ok()?];
    file.seek(SeekFrom::Start(len - 8 - meta_len)).ok()?;
    file.read_exact(&mut buf).ok()?;
    let mut r = Compact { buf: &buf, pos: 0 };
    // FileMetaData: 1 version, 2 schema, 3 num_rows, 4 row_groups (list<struct>), ...
    let mut last = 0i16;
    loop {
        let (id, ty) = r.field_header(&mut last)?;
        if ty == STOP {
            return None;
        }
        if id == 4 && ty == LIST {
            return r.list_header().map(|(n, _)| n);
        }
        r.skip(ty, 0)?;
    }
}

const STOP: u8 = 0;
const LIST: u8 = 9;

/// Just enough of Thrift's compact protocol to walk past fields.
struct Compact<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl Compact<'_> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.buf.get(self.pos)?;
        self.pos += 1;
        Some(b)
    }

    fn advance(&mut self, n: u64) -> Option<()> {
        let n = usize::try_from(n).ok()?;
        self.pos = self.pos.checked_add(n).filter(|&p| p <= self.buf.len())?;
        Some(())
    }

    fn varint(&mut self) -> Option<u64> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }

    /// A field header: (field id, type); the id is `STOP`'s 0 at the end of a struct.
    fn field_header(&mut self, last: &mut i16) -> Option<(i16, u8)> {
        let b = self.byte()?;
        let ty = b & 0x0f;
        if ty == STOP {
            return Some((0, STOP));
        }
        let delta = i16::from(b >> 4);
        let id = if delta == 0 {
            let z = self.varint()?;
            i16::try_from((z >> 1) as i64 ^ -((z & 1) as i64)).ok()?
        } else {
            last.checked_add(delta)?
        };
        *last = id;
        Some((id, ty))
    }

    /// A list or set header: (element count, element type).
    fn list_header(&mut self) -> Option<(u64, u8)> {
        let b = self.byte()?;
        let n = match b >> 4 {
            15 => self.varint()?,
            short => u64::from(short),
        };
        Some((n, b & 0x0f))
    }

    /// Skips one value of compact type `ty`; `depth` bounds nesting (hostile input).
    fn skip(&mut self, ty: u8, depth: u32) -> Option<()> {
        if depth > 64 {
            return None;
        }
        match ty {
            1 | 2 => Some(()),                // bool field: the value is the type
            3 => self.advance(1),             // byte
            4..=6 => self.varint().map(drop), // i16, i32, i64
            7 => self.advance(8),             // double
            8 => {
                let n = self.varint()?;
                self.advance(n)
            }
            LIST | 10 => {
                let (n, elem) = self.list_header()?;
                for _ in 0..n {
                    if elem == 1 || elem == 2 {
                        self.advance(1)?; // bools in a list take a byte each
                    } else {
                        self.skip(elem, depth + 1)?;
                    }
                }
                Some(())
            }
            11 => {
                let n = self.varint()?;
                if n == 0 {
                    return Some(());
                }
                let kv = self.byte()?;
                for _ in 0..n {
                    self.skip(kv >> 4, depth + 1)?;
                    self.skip(kv & 0x0f, depth + 1)?;
                }
                Some(())
            }
            12 => {
                let mut last = 0i16;
                loop {
                    let (_, t) = self.field_header(&mut last)?;
                    if t == STOP {
                        return Some(());
                    }
                    self.skip(t, depth + 1)?;
                }
            }
            13 => self.advance(16), // uuid
            _ => None,
        }
    }
}
