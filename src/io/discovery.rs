//! Which files a source path stands for.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The Parquet files of `path`: the file itself, or the `.parquet` files directly inside a
/// directory, in name order (so partitions and results have a stable order).
pub(crate) fn list_files(path: &Path) -> Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).map_err(|e| Error::io(path, e))? {
        let entry = entry.map_err(|e| Error::io(path, e))?;
        let p = entry.path();
        if p.is_file() && p.extension().is_some_and(|e| e == "parquet") {
            files.push(p);
        }
    }
    if files.is_empty() {
        return Err(Error::Empty(format!(
            "directory {} holds no .parquet files",
            path.display()
        )));
    }
    files.sort();
    Ok(files)
}
