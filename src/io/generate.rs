//! A deterministic synthetic lightcurve generator: sinusoidal variables and constant stars
//! with Gaussian noise, in several bands, written as Parquet.
//!
//! Each object's lightcurve depends only on the seed and the object's index, never on the
//! file layout, so the same dataset can be written sorted, shuffled within files, or with
//! every lightcurve scattered over several files, and give the same statistics.
//!
//! ```
//! use lsstseries::io::generate::{generate, GeneratorConfig};
//! let dir = tempfile::tempdir().unwrap();
//! let cfg = GeneratorConfig { objects: 10, observations: 20, files: 2, ..Default::default() };
//! let summary = generate(&cfg, dir.path()).unwrap();
//! assert_eq!(summary.rows, 200);
//! assert_eq!(summary.files.len(), 2);
//! ```

use crate::error::{Error, Result};
use crate::rng::Rng;
use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What to generate and how to lay it out.
#[derive(Debug, Clone, PartialEq)]
pub struct GeneratorConfig {
    /// Number of objects.
    pub objects: usize,
    /// Observations per object.
    pub observations: usize,
    /// Band names; each observation picks one at random.
    pub bands: Vec<String>,
    /// Number of files.
    pub files: usize,
    /// Row groups per file.
    pub row_groups_per_file: usize,
    /// Shuffle row order within each file.
    pub shuffle_rows: bool,
    /// Put each observation in a random file (lightcurves span files).
    pub scatter: bool,
    /// Fraction of objects that vary sinusoidally.
    pub variable_fraction: f64,
    /// Seed of everything random.
    pub seed: u64,
    /// Id of the first object; ids step by 1.
    pub first_id: i64,
    /// Replace the generator's own `part-NNNNN.parquet` files already in the directory.
    /// Without it, a directory that already holds `.parquet` files is refused (a later read
    /// would mix old and new rows); with it, any other `.parquet` file is still refused and
    /// nothing but those part files is removed.
    pub overwrite: bool,
}

impl Default for GeneratorConfig {
    fn default() -> Self {
        GeneratorConfig {
            objects: 1000,
            observations: 200,
            bands: ["g", "r", "i"].iter().map(|s| s.to_string()).collect(),
            files: 1,
            row_groups_per_file: 1,
            shuffle_rows: false,
            scatter: false,
            variable_fraction: 0.3,
            seed: 42,
            first_id: 1_000_000,
            overwrite: false,
        }
    }
}

/// What was written.
#[derive(Debug, Clone)]
pub struct GenerateSummary {
    /// Files written, in name order.
    pub files: Vec<PathBuf>,
    /// Rows written.
    pub rows: usize,
    /// Objects written.
    pub objects: usize,
}

/// The schema of generated files: `id` Int64, `mjd`, `flux`, `flux_err` Float64, `band` Utf8.
pub fn schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("mjd", DataType::Float64, false),
        Field::new("flux", DataType::Float64, false),
        Field::new("flux_err", DataType::Float64, false),
        Field::new("band", DataType::Utf8, false),
    ]))
}

/// One observation: (time, flux, err, band index).
type Obs = (f64, f64, f64, u8);
/// An observation with its object id.
type Row = (i64, Obs);

/// Rows of one object: (time, flux, err, band index), time-ordered.
fn object_rows(cfg: &GeneratorConfig, k: usize, out: &mut Vec<Obs>) {
    let mut rng = Rng::new(cfg.seed ^ (k as u64).wrapping_mul(0xA24B_AED4_963E_E407));
    let base = 100.0 + 900.0 * rng.uniform();
    let variable = rng.uniform() < cfg.variable_fraction;
    let amp = if variable {
        base * (0.05 + 0.3 * rng.uniform())
    } else {
        0.0
    };
    let period = 0.5 + 50.0 * rng.uniform();
    let phase = std::f64::consts::TAU * rng.uniform();
    let err_scale = 0.01 + 0.03 * rng.uniform();
    let nb = cfg.bands.len().max(1);
    let start = out.len();
    for _ in 0..cfg.observations {
        let t = 60_000.0 + 1_000.0 * rng.uniform();
        let band = rng.below(nb) as u8;
        let band_offset = 1.0 + 0.1 * band as f64;
        let err = base * err_scale * (0.5 + rng.uniform());
        let signal = base * band_offset + amp * (std::f64::consts::TAU * t / period + phase).sin();
        out.push((t, signal + err * rng.normal(), err, band));
    }
    out[start..].sort_by(|a, b| a.0.total_cmp(&b.0));
}

fn batch_of(cfg: &GeneratorConfig, rows: &[Row]) -> Result<RecordBatch> {
    super::source_batch(
        &super::ColumnMap::generated(),
        rows.iter().map(|r| r.0).collect(),
        rows.iter().map(|r| r.1 .0).collect(),
        rows.iter().map(|r| r.1 .1).collect(),
        rows.iter().map(|r| r.1 .2).collect(),
        rows.iter()
            .map(|r| cfg.bands[r.1 .3 as usize].as_str())
            .collect(),
    )
}

/// Writes the dataset into `dir` as `part-00000.parquet`, ... and returns what it wrote.
/// Refuses a `dir` that already holds `.parquet` files unless `cfg.overwrite` is set (see
/// [`GeneratorConfig::overwrite`]).
pub fn generate(cfg: &GeneratorConfig, dir: &Path) -> Result<GenerateSummary> {
    if cfg.files == 0
        || cfg.row_groups_per_file == 0
        || cfg.bands.is_empty()
        || cfg.bands.len() > 255
    {
        return Err(Error::InvalidArgument(format!(
            "generator needs files >= 1, row groups >= 1 and 1..=255 bands (got {} files, {} row groups, {} bands)",
            cfg.files,
            cfg.row_groups_per_file,
            cfg.bands.len()
        )));
    }
    check_size(cfg)?;
    clear_own_parts(dir, cfg.overwrite)?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut files = Vec::with_capacity(cfg.files);
    let mut rows_written = 0;
    let mut per_object = Vec::with_capacity(cfg.observations);
    // In scatter mode every observation picks a file, so all files are built at once.
    let mut scattered: Vec<Vec<Row>> = vec![Vec::new(); if cfg.scatter { cfg.files } else { 0 }];
    let mut layout_rng = Rng::new(cfg.seed.wrapping_add(7));
    for fi in 0..cfg.files {
        let (lo, hi) = (
            cfg.objects * fi / cfg.files,
            cfg.objects * (fi + 1) / cfg.files,
        );
        let mut rows = Vec::with_capacity((hi - lo) * cfg.observations);
        for k in lo..hi {
            per_object.clear();
            object_rows(cfg, k, &mut per_object);
            let id = cfg.first_id + k as i64;
            for &r in &per_object {
                if cfg.scatter {
                    scattered[layout_rng.below(cfg.files)].push((id, r));
                } else {
                    rows.push((id, r));
                }
            }
        }
        if !cfg.scatter {
            rows_written += write_file(cfg, dir, fi, rows, &mut layout_rng, &mut files)?;
        }
    }
    for (fi, rows) in scattered.into_iter().enumerate() {
        rows_written += write_file(cfg, dir, fi, rows, &mut layout_rng, &mut files)?;
    }
    Ok(GenerateSummary {
        files,
        rows: rows_written,
        objects: cfg.objects,
    })
}

/// Whether `path` is one of the files [`generate`] writes: `dir/part-NNNNN.parquet`.
fn is_own_part(dir: &Path, path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let digits = name
        .strip_prefix("part-")
        .and_then(|n| n.strip_suffix(".parquet"))
        .unwrap_or("");
    path.parent() == Some(dir) && digits.len() >= 5 && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Refuses a directory whose `.parquet` files (as a later read would find them) would mix
/// with the new ones; with `overwrite`, removes the generator's own part files, and only
/// those, when they are all there is.
fn clear_own_parts(dir: &Path, overwrite: bool) -> Result<()> {
    if !dir.is_dir() {
        return Ok(());
    }
    let existing = match super::discovery::discover(&super::SourcePaths::from(dir)) {
        Ok(found) => found.files,
        Err(Error::Empty(_)) => return Ok(()),
        Err(e) => return Err(e),
    };
    let (own, other): (Vec<&PathBuf>, Vec<&PathBuf>) =
        existing.iter().partition(|p| is_own_part(dir, p));
    let list = |v: &[&PathBuf]| {
        let mut s: Vec<String> = v.iter().take(3).map(|p| p.display().to_string()).collect();
        if v.len() > 3 {
            s.push(format!("and {} more", v.len() - 3));
        }
        s.join(", ")
    };
    if !overwrite {
        return Err(Error::InvalidArgument(format!(
            "{} already holds {} .parquet file(s) ({}); reading it after generating would mix \
             old and new rows. Choose an empty directory, or overwrite (--overwrite) to \
             replace the generator's own part-NNNNN.parquet files",
            dir.display(),
            existing.len(),
            list(&existing.iter().collect::<Vec<_>>())
        )));
    }
    if !other.is_empty() {
        return Err(Error::InvalidArgument(format!(
            "{} holds .parquet file(s) the generator did not write ({}); overwrite replaces \
             only part-NNNNN.parquet files directly in it, so these would be read with the \
             new data. Move them away or choose another directory",
            dir.display(),
            list(&other)
        )));
    }
    for p in own {
        std::fs::remove_file(p).map_err(|e| Error::io(p, e))?;
    }
    Ok(())
}

/// The most rows [`generate`] writes (objects x observations; also the most objects and
/// the most observations): it holds a file's rows in memory, 40 bytes each, so 2^32 rows
/// is already far more than a test dataset needs.
pub const MAX_GENERATED_ROWS: usize = 1 << 32;

/// The most files [`generate`] writes.
pub const MAX_GENERATED_FILES: usize = 1 << 16;

/// Refuses sizes that overflow or exceed the documented limits, before anything is allocated.
fn check_size(cfg: &GeneratorConfig) -> Result<()> {
    let rows = cfg.objects.checked_mul(cfg.observations);
    let too_large = |n: usize| n > MAX_GENERATED_ROWS;
    if rows.is_none_or(too_large) || too_large(cfg.objects) || too_large(cfg.observations) {
        return Err(Error::InvalidArgument(format!(
            "generator size too large: {} objects x {} observations exceeds the limit of {} rows",
            cfg.objects, cfg.observations, MAX_GENERATED_ROWS
        )));
    }
    if cfg.files > MAX_GENERATED_FILES {
        return Err(Error::InvalidArgument(format!(
            "generator asked for {} files; the limit is {MAX_GENERATED_FILES}",
            cfg.files
        )));
    }
    Ok(())
}

fn write_file(
    cfg: &GeneratorConfig,
    dir: &Path,
    fi: usize,
    mut rows: Vec<Row>,
    rng: &mut Rng,
    files: &mut Vec<PathBuf>,
) -> Result<usize> {
    if cfg.shuffle_rows || cfg.scatter {
        for i in (1..rows.len()).rev() {
            rows.swap(i, rng.below(i + 1));
        }
    }
    if cfg.scatter && !cfg.shuffle_rows {
        rows.sort_by_key(|r| r.0);
    }
    let path = dir.join(format!("part-{fi:05}.parquet"));
    let file = File::create(&path).map_err(|e| Error::io(&path, e))?;
    let group = rows.len().div_ceil(cfg.row_groups_per_file).max(1);
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::default()))
        .set_max_row_group_row_count(Some(group))
        .build();
    let mut w =
        ArrowWriter::try_new(file, schema(), Some(props)).map_err(|e| Error::parquet(&path, e))?;
    for chunk in rows.chunks(group) {
        w.write(&batch_of(cfg, chunk)?)
            .map_err(|e| Error::parquet(&path, e))?;
    }
    w.close().map_err(|e| Error::parquet(&path, e))?;
    files.push(path);
    Ok(rows.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> GeneratorConfig {
        GeneratorConfig {
            objects: 4,
            observations: 5,
            files: 3,
            ..Default::default()
        }
    }

    #[test]
    fn a_directory_with_parquet_files_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        generate(&small(), dir.path()).unwrap();
        let err = generate(&small(), dir.path()).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidArgument(m) if m.contains("already holds 3 .parquet")),
            "{err}"
        );
    }

    #[test]
    fn overwrite_replaces_only_the_generators_part_files() {
        let dir = tempfile::tempdir().unwrap();
        generate(&small(), dir.path()).unwrap();
        let keep = ["notes.txt", "_SUCCESS", ".part-00009.parquet"];
        for k in keep {
            std::fs::write(dir.path().join(k), b"x").unwrap();
        }
        // Fewer files this time: the third old part must not survive.
        let cfg = GeneratorConfig {
            files: 2,
            overwrite: true,
            ..small()
        };
        let s = generate(&cfg, dir.path()).unwrap();
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                ".part-00009.parquet",
                "_SUCCESS",
                "notes.txt",
                "part-00000.parquet",
                "part-00001.parquet"
            ]
        );
        assert_eq!(s.rows, 20);
    }

    #[test]
    fn overwrite_refuses_parquet_files_it_did_not_write() {
        let dir = tempfile::tempdir().unwrap();
        generate(&small(), dir.path()).unwrap();
        let theirs = dir.path().join("sub/theirs.parquet");
        std::fs::create_dir_all(theirs.parent().unwrap()).unwrap();
        std::fs::copy(dir.path().join("part-00000.parquet"), &theirs).unwrap();
        let cfg = GeneratorConfig {
            overwrite: true,
            ..small()
        };
        let err = generate(&cfg, dir.path()).unwrap_err();
        assert!(err.to_string().contains("theirs.parquet"), "{err}");
        // Nothing was removed.
        assert!(dir.path().join("part-00002.parquet").exists());
        assert!(theirs.exists());
    }
}
