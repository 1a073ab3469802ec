//! Which files the paths of a source stand for.
//!
//! A source is given as one or more paths ([`SourcePaths`]); each is a Parquet file, a
//! directory, or a glob pattern (`data/*.parquet`, expanded here, so a pattern the shell
//! did not expand still works). Directories are read recursively, so nested layouts work:
//! hive-style `key=value/` directories and HiPSCat's `Norder=*/Dir=*/Npix=*.parquet`.
//!
//! Nothing is dropped silently: hidden entries (names starting with `.` or `_`, such as
//! `_SUCCESS`, `_metadata` or `.part.crc`) and files without a `.parquet` extension (any
//! case) are skipped and listed in [`Discovered::skipped`]; a broken link or an unreadable
//! entry is an error naming it; a file reached twice (the same path given twice, a file
//! and its directory, overlapping patterns) is an error, because its rows would count
//! twice; a pattern that matches nothing is an error naming the pattern.

use crate::error::{Error, Result};
use std::collections::HashMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

/// The paths of a source: one or several files, directories or glob patterns.
///
/// Anything path-like converts into one path, so `from_parquet("file.parquet", ..)` keeps
/// working; several paths come from [`SourcePaths::new`] or `collect()`:
///
/// ```
/// use lsstseries::io::SourcePaths;
/// let one = SourcePaths::from("data/tape/test_source.parquet");
/// let many = SourcePaths::new(["a.parquet", "more/", "parts/*.parquet"]);
/// assert_eq!(one.len(), 1);
/// assert_eq!(many.len(), 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourcePaths(Vec<PathBuf>);

impl SourcePaths {
    /// Several paths, in the order given (files are read in sorted path order regardless).
    pub fn new<I, P>(paths: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: AsRef<Path>,
    {
        SourcePaths(
            paths
                .into_iter()
                .map(|p| p.as_ref().to_path_buf())
                .collect(),
        )
    }

    /// Where each path reads: the path itself, or a glob pattern's literal prefix (`.`
    /// when the pattern starts with a wildcard).
    pub fn roots(&self) -> Vec<PathBuf> {
        self.0
            .iter()
            .map(|p| {
                let root: PathBuf = p.components().take(literal_components(p)).collect();
                if root.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    root
                }
            })
            .collect()
    }

    /// The paths as given.
    pub fn as_slice(&self) -> &[PathBuf] {
        &self.0
    }

    /// Number of paths given.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no path was given.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<P: AsRef<Path>> From<P> for SourcePaths {
    fn from(path: P) -> Self {
        SourcePaths(vec![path.as_ref().to_path_buf()])
    }
}

impl<P: AsRef<Path>> FromIterator<P> for SourcePaths {
    fn from_iter<I: IntoIterator<Item = P>>(iter: I) -> Self {
        SourcePaths::new(iter)
    }
}

impl fmt::Display for SourcePaths {
    /// The one path, or the first and how many more.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [] => f.write_str("(no path)"),
            [one] => write!(f, "{}", one.display()),
            [first, rest @ ..] => write!(f, "{} and {} more path(s)", first.display(), rest.len()),
        }
    }
}

/// Why an entry found under a source path was not read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum SkipReason {
    /// Its name starts with `.` or `_` (`_SUCCESS`, `_metadata`, `.crc` files, ...).
    Hidden,
    /// A file without a `.parquet` extension inside a directory.
    NotParquet,
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SkipReason::Hidden => "hidden (name starts with '.' or '_')",
            SkipReason::NotParquet => "not a .parquet file",
        })
    }
}

/// The files of a source, in sorted path order, and what was skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Discovered {
    pub files: Vec<PathBuf>,
    pub skipped: Vec<(PathBuf, SkipReason)>,
}

/// The `key=value` parts of `file`'s path below the given root it lies in (hive-style
/// directories `band=g/`, HiPSCat `Norder=1/Dir=0/Npix=5.parquet`), in path order. A key
/// is a name of letters, digits and `_`; a later part with the same key wins.
pub(crate) fn path_keys(file: &Path, roots: &[PathBuf]) -> Vec<(String, String)> {
    let below = roots
        .iter()
        .filter(|r| file.starts_with(r) && file != r.as_path())
        .max_by_key(|r| r.components().count())
        .and_then(|r| file.strip_prefix(r).ok())
        .unwrap_or(Path::new(""));
    let mut keys: Vec<(String, String)> = Vec::new();
    let parts: Vec<_> = below.components().collect();
    for (i, part) in parts.iter().enumerate() {
        let text = part.as_os_str().to_string_lossy();
        // The file name's extension is not part of its value (`Npix=5.parquet`).
        let text = if i + 1 == parts.len() {
            text.strip_suffix(".parquet")
                .or_else(|| text.strip_suffix(".PARQUET"))
                .unwrap_or(&text)
                .to_string()
        } else {
            text.to_string()
        };
        let Some((key, value)) = text.split_once('=') else {
            continue;
        };
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        keys.retain(|(k, _)| k != key);
        keys.push((key.to_string(), value.to_string()));
    }
    keys
}

/// Expands `paths` into Parquet files (see the module documentation for the rules).
pub(crate) fn discover(paths: &SourcePaths) -> Result<Discovered> {
    if paths.is_empty() {
        return Err(Error::InvalidArgument(
            "no source path given: name a Parquet file, a directory or a glob pattern".into(),
        ));
    }
    let mut found = Discovered::default();
    for path in paths.as_slice() {
        match glob_pattern(path) {
            Some(pattern) => expand_glob(path, pattern, &mut found)?,
            None => add_path(path, &mut found)?,
        }
    }
    check_distinct(&found.files)?;
    if found.files.is_empty() {
        let detail = match found.skipped.first() {
            Some((p, why)) => format!(
                " ({} entr(ies) skipped, e.g. {}: {why})",
                found.skipped.len(),
                p.display()
            ),
            None => String::new(),
        };
        return Err(Error::Empty(format!(
            "{paths} holds no .parquet files{detail}"
        )));
    }
    found.files.sort();
    found.skipped.sort();
    Ok(found)
}

/// The pattern, when `path` is a glob pattern rather than an existing path.
fn glob_pattern(path: &Path) -> Option<&str> {
    let s = path.to_str()?;
    let wild = s.contains(['*', '?', '[']);
    (wild && fs::symlink_metadata(path).is_err()).then_some(s)
}

/// How many leading components of `path` hold no wildcard.
fn literal_components(path: &Path) -> usize {
    path.components()
        .take_while(|c| !c.as_os_str().to_string_lossy().contains(['*', '?', '[']))
        .count()
}

fn expand_glob(path: &Path, pattern: &str, found: &mut Discovered) -> Result<()> {
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    let matches = glob::glob_with(pattern, options)
        .map_err(|e| Error::InvalidArgument(format!("bad glob pattern '{pattern}': {e}")))?;
    // Components up to the first one with a wildcard are literal; hidden names matched by
    // a wildcard below them are skipped, as in a directory, unless the pattern's last
    // component itself starts with '.' or '_' (the user asked for hidden files).
    let literal = literal_components(path);
    let wants_hidden = path.file_name().is_some_and(is_hidden);
    let mut matched = 0usize;
    for m in matches {
        let m = m.map_err(|e| {
            let p = e.path().to_path_buf();
            Error::io(p, std::io::Error::from(e))
        })?;
        matched += 1;
        if !wants_hidden
            && m.components()
                .skip(literal)
                .any(|c| is_hidden(c.as_os_str()))
        {
            found.skipped.push((m, SkipReason::Hidden));
            continue;
        }
        add_path(&m, found)?;
    }
    if matched == 0 {
        return Err(Error::InvalidArgument(format!(
            "glob pattern '{pattern}' matched no files"
        )));
    }
    Ok(())
}

/// A file named explicitly (or by a pattern) is taken whatever its name; a directory is
/// read recursively.
fn add_path(path: &Path, found: &mut Discovered) -> Result<()> {
    let meta = metadata(path)?;
    if meta.is_dir() {
        let mut ancestors = Vec::new();
        walk(path, found, &mut ancestors)
    } else {
        found.files.push(path.to_path_buf());
        Ok(())
    }
}

/// Metadata following links; a broken link is an error that says so.
fn metadata(path: &Path) -> Result<fs::Metadata> {
    fs::metadata(path).map_err(|e| {
        let is_link = fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
        if is_link {
            let e = std::io::Error::new(e.kind(), format!("broken symbolic link ({e})"));
            Error::io(path, e)
        } else {
            Error::io(path, e)
        }
    })
}

/// Reads `dir` recursively in name order. `ancestors` holds the canonical directories
/// above, to refuse a link cycle instead of recursing forever.
fn walk(dir: &Path, found: &mut Discovered, ancestors: &mut Vec<PathBuf>) -> Result<()> {
    let canonical = fs::canonicalize(dir).map_err(|e| Error::io(dir, e))?;
    if ancestors.contains(&canonical) {
        return Err(Error::InvalidArgument(format!(
            "{} leads back to {} (a symbolic link cycle)",
            dir.display(),
            canonical.display()
        )));
    }
    let mut entries = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        entries.push(entry.map_err(|e| Error::io(dir, e))?.path());
    }
    entries.sort();
    ancestors.push(canonical);
    for p in entries {
        if p.file_name().is_some_and(is_hidden) {
            found.skipped.push((p, SkipReason::Hidden));
            continue;
        }
        let meta = metadata(&p)?;
        if meta.is_dir() {
            walk(&p, found, ancestors)?;
        } else if has_parquet_extension(&p) {
            found.files.push(p);
        } else {
            found.skipped.push((p, SkipReason::NotParquet));
        }
    }
    ancestors.pop();
    Ok(())
}

/// Names starting with `.` or `_` (Spark's `_SUCCESS`, `_metadata`, editors' and Hadoop's
/// dot files) are not data.
fn is_hidden(name: &std::ffi::OsStr) -> bool {
    let b = name.as_encoded_bytes();
    b.first().is_some_and(|c| *c == b'.' || *c == b'_')
}

/// `.parquet`, in any case.
pub(crate) fn has_parquet_extension(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
}

/// Refuses a file reached twice (its rows would be read twice), naming it.
fn check_distinct(files: &[PathBuf]) -> Result<()> {
    let mut seen: HashMap<PathBuf, &PathBuf> = HashMap::with_capacity(files.len());
    for f in files {
        let canonical = fs::canonicalize(f).map_err(|e| Error::io(f, e))?;
        if let Some(first) = seen.insert(canonical, f) {
            let also = if first == f {
                String::new()
            } else {
                format!(" (also as {})", first.display())
            };
            return Err(Error::InvalidArgument(format!(
                "{} is given twice{also}: its rows would be read twice",
                f.display()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;

    fn touch(p: &Path) {
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        File::create(p).unwrap();
    }

    fn names(root: &Path, files: &[PathBuf]) -> Vec<String> {
        files
            .iter()
            .map(|f| f.strip_prefix(root).unwrap().display().to_string())
            .collect()
    }

    #[test]
    fn nested_hive_and_hipscat_layouts_are_read_recursively_in_order() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        for f in [
            "year=2024/band=r/b.parquet",
            "year=2024/band=g/a.parquet",
            "Norder=1/Dir=0/Npix=12.parquet",
            "Norder=0/Dir=0/Npix=3.parquet",
            "top.parquet",
        ] {
            touch(&r.join(f));
        }
        let found = discover(&SourcePaths::from(r)).unwrap();
        assert_eq!(
            names(r, &found.files),
            [
                "Norder=0/Dir=0/Npix=3.parquet",
                "Norder=1/Dir=0/Npix=12.parquet",
                "top.parquet",
                "year=2024/band=g/a.parquet",
                "year=2024/band=r/b.parquet",
            ]
        );
        assert!(found.skipped.is_empty());
    }

    #[test]
    fn extension_matches_in_any_case() {
        let d = tempfile::tempdir().unwrap();
        touch(&d.path().join("A.PARQUET"));
        touch(&d.path().join("b.Parquet"));
        let found = discover(&SourcePaths::from(d.path())).unwrap();
        assert_eq!(names(d.path(), &found.files), ["A.PARQUET", "b.Parquet"]);
    }

    #[test]
    fn hidden_and_other_files_are_skipped_and_reported() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        for f in [
            "part-0.parquet",
            "_SUCCESS",
            "_metadata",
            ".part-0.parquet.crc",
            "_temporary/0/part-9.parquet",
            ".hidden/x.parquet",
            "README.txt",
        ] {
            touch(&r.join(f));
        }
        let found = discover(&SourcePaths::from(r)).unwrap();
        assert_eq!(names(r, &found.files), ["part-0.parquet"]);
        let skipped: Vec<(String, SkipReason)> = found
            .skipped
            .iter()
            .map(|(p, why)| (p.strip_prefix(r).unwrap().display().to_string(), *why))
            .collect();
        assert_eq!(
            skipped,
            [
                (".hidden".to_string(), SkipReason::Hidden),
                (".part-0.parquet.crc".to_string(), SkipReason::Hidden),
                ("README.txt".to_string(), SkipReason::NotParquet),
                ("_SUCCESS".to_string(), SkipReason::Hidden),
                ("_metadata".to_string(), SkipReason::Hidden),
                ("_temporary".to_string(), SkipReason::Hidden),
            ]
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_broken_link_is_an_error_naming_it() {
        let d = tempfile::tempdir().unwrap();
        touch(&d.path().join("a.parquet"));
        let link = d.path().join("sub/gone.parquet");
        fs::create_dir_all(link.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(d.path().join("nowhere.parquet"), &link).unwrap();
        let err = discover(&SourcePaths::from(d.path())).unwrap_err();
        assert!(
            matches!(&err, Error::Io { path, .. } if *path == link),
            "{err}"
        );
        assert!(err.to_string().contains("broken symbolic link"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_link_cycle_is_an_error() {
        let d = tempfile::tempdir().unwrap();
        touch(&d.path().join("a.parquet"));
        std::os::unix::fs::symlink(d.path(), d.path().join("loop")).unwrap();
        let err = discover(&SourcePaths::from(d.path())).unwrap_err();
        assert!(err.to_string().contains("cycle"), "{err}");
    }

    #[test]
    fn globs_expand_sorted_and_must_match() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        for f in ["b.parquet", "a.parquet", "c.csv", "_tmp.parquet"] {
            touch(&r.join(f));
        }
        let pattern = r.join("*.parquet");
        let found = discover(&SourcePaths::from(&pattern)).unwrap();
        assert_eq!(names(r, &found.files), ["a.parquet", "b.parquet"]);
        assert_eq!(
            found.skipped,
            [(r.join("_tmp.parquet"), SkipReason::Hidden)]
        );

        let none = r.join("*.PARQUET");
        let err = discover(&SourcePaths::from(&none)).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidArgument(m) if m.contains(none.to_str().unwrap())),
            "{err}"
        );
    }

    #[test]
    fn several_paths_are_merged_in_sorted_order() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        for f in ["x/2.parquet", "x/1.parquet", "0.parquet"] {
            touch(&r.join(f));
        }
        let paths = SourcePaths::new([r.join("x"), r.join("0.parquet")]);
        let found = discover(&paths).unwrap();
        assert_eq!(
            names(r, &found.files),
            ["0.parquet", "x/1.parquet", "x/2.parquet"]
        );
    }

    #[test]
    fn a_file_reached_twice_is_an_error_naming_it() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("a.parquet");
        touch(&f);
        let err = discover(&SourcePaths::new([&f, &f])).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidArgument(m) if m.contains(f.to_str().unwrap()) && m.contains("twice")),
            "{err}"
        );
        // A file and the directory holding it.
        let err = discover(&SourcePaths::new([d.path(), f.as_path()])).unwrap_err();
        assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    }

    #[test]
    fn an_empty_directory_is_empty_and_says_what_was_skipped() {
        let d = tempfile::tempdir().unwrap();
        touch(&d.path().join("_SUCCESS"));
        let err = discover(&SourcePaths::from(d.path())).unwrap_err();
        assert!(
            matches!(&err, Error::Empty(m) if m.contains("_SUCCESS")),
            "{err}"
        );
    }
}
