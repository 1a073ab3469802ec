//! The CLI's arguments: every command, option and value parser, and what follows from the
//! arguments alone (column map, partitioning, structure-function options, generator
//! configuration). Kept apart from running the commands so the fuzz target
//! `fuzz/fuzz_targets/cli_args.rs` can include this file and parse argument lists without
//! touching files.

use clap::{Args, Parser, Subcommand, ValueEnum};
use lsstseries::analysis::structure_function::{Binning, Bootstrap, Estimator, SfOptions};
use lsstseries::io::generate::GeneratorConfig;
use lsstseries::io::{parse_size, BandCodes};
use lsstseries::{BadValues, BatchMode, ColumnMap, Error, Partitioning};
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

/// Shown after the command list of `lsstseries --help`: the options most runs need, in one
/// place (each command's own `--help` has the full list).
pub(crate) const OVERVIEW: &str = "\
Common options (batch, explain, sf2, info; see each command's --help):
  --columns tape | --id C --time C --flux C --err C --band C
                        which columns hold id, time, flux, flux error and band
                        (default: the generator's id, mjd, flux, flux_err, band)
  --partition-size S    re-cut partitions to about S of decoded data (5KB, 64MB, 1GiB)
  --partitions N        re-cut into N partitions (default: one per Parquet row group)
  --mode M              batch/explain: auto (default) shuffles only if lightcurves span
                        partitions; per-partition: no data movement (wrong for split
                        lightcurves); grouped: always regroup by id
  --threads N           worker threads (default: all cores)
  --memory-limit S      bound a run's memory (256MB); shuffles and results spill to disk
  --timeout D           stop a compute after D (90s, 5m) with an error
  --bands g,r           declare the complete band set of the source (default: scan it)

Examples:
  lsstseries generate /tmp/lc --objects 10000 --files 4
  lsstseries batch stetson_j /tmp/lc --out sj.csv
  lsstseries batch stetson_j data/tape/test_source.parquet --columns tape --partition-size 5KB --out sj.csv
  lsstseries explain stetson_j data/tape/test_source.parquet --columns tape --partition-size 5KB
  lsstseries sf2 data/tape/test_source.parquet --columns tape --method macleod_2012 --bootstrap 100 --out sf.csv
  lsstseries completions bash > lsstseries.bash";

/// lsstseries — per-lightcurve statistics over Parquet lightcurve tables
#[derive(Parser)]
#[command(name = "lsstseries", version, after_help = OVERVIEW)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
    /// Never draw the progress bar (it is drawn only when standard error is a terminal)
    #[arg(long, global = true)]
    pub(crate) no_progress: bool,
    /// Structured logs on standard error: spans per stage and task (error, warn, info,
    /// debug, trace)
    #[arg(long, global = true, value_name = "LEVEL", value_enum)]
    pub(crate) log: Option<LogLevel>,
}

/// Which plan `explain --dot/--svg` draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum DotPlan {
    /// The optimized logical plan: nodes and their data-movement edges.
    Logical,
    /// The physical plan: stages, their steps, exchanges.
    Physical,
}

/// A `--log` level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum LogLevel {
    /// Errors only.
    Error,
    /// Warnings and errors.
    Warn,
    /// Stages.
    Info,
    /// Stages and tasks.
    Debug,
    /// Everything.
    Trace,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Compute a function for every object: one output row per object, id first, in id order
    Batch {
        /// Function to compute (stetson_j, features, sf2, ...; `lsstseries functions` lists them)
        function: String,
        /// Parquet files, directories (read recursively) or glob patterns (quoted or not)
        #[arg(value_name = "PATH", required = true)]
        paths: Vec<PathBuf>,
        /// Evaluate the function once per object and value of these source columns (e.g.
        /// band, or a night or field id); they follow the id in the output
        #[arg(long, value_name = "COL[,COL]", value_delimiter = ',')]
        on: Vec<String>,
        #[command(flatten)]
        out: OutArgs,
        #[command(flatten)]
        mode: ModeArgs,
        #[command(flatten)]
        select: SelectArgs,
        /// Add the --object-file's columns to each result row (by object id)
        #[arg(long, requires = "object_file", help_heading = "Selection")]
        join_objects: bool,
        #[command(flatten)]
        source: SourceArgs,
    },
    /// Show the plan batch would run: as written, optimized (which rules fired and why, e.g.
    /// whether a shuffle is needed), and the physical stages
    Explain {
        /// Function to plan (`lsstseries functions` lists them)
        function: String,
        /// Parquet files, directories (read recursively) or glob patterns (quoted or not)
        #[arg(value_name = "PATH", required = true)]
        paths: Vec<PathBuf>,
        /// Print the plan as Graphviz dot instead
        #[arg(long, conflicts_with_all = ["analyze"])]
        dot: bool,
        /// Write the plan as an SVG picture to FILE (needs Graphviz's `dot` on PATH)
        #[arg(long, value_name = "FILE")]
        svg: Option<PathBuf>,
        /// Which plan --dot and --svg draw: the optimized logical plan, or the physical
        /// stages
        #[arg(long, value_name = "PLAN", value_enum, default_value_t = DotPlan::Logical)]
        plan: DotPlan,
        /// Run the plan and print it annotated per node: rows, lightcurves, time, bytes read
        /// and shuffled, task durations, steals, peak memory
        #[arg(long)]
        analyze: bool,
        /// With --analyze: print JSON (schema_version 1) instead of text
        #[arg(long, requires = "analyze")]
        json: bool,
        #[command(flatten)]
        mode: ModeArgs,
        #[command(flatten)]
        source: SourceArgs,
    },
    /// Structure function per object and band (or --combine: all objects pooled per band),
    /// one row per time-lag bin
    Sf2(Sf2Args),
    /// Bin observations in time: per object, band and bin, the mean time and flux, the
    /// error sqrt(sum sigma^2)/N and the count nbin
    BinSources {
        /// Parquet files, directories (read recursively) or glob patterns (quoted or not)
        #[arg(value_name = "PATH", required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        out: OutArgs,
        /// Bin width in days
        #[arg(long, value_name = "DAYS", default_value_t = 1.0)]
        window: f64,
        /// Where bins start, in days (a bin is [offset + k*window, offset + (k+1)*window))
        #[arg(
            long,
            value_name = "DAYS",
            default_value_t = 0.0,
            allow_negative_numbers = true
        )]
        offset: f64,
        #[command(flatten)]
        source: SourceArgs,
    },
    /// Rows, id range, columns, partitions and memory of the source and object tables
    Info {
        /// Parquet files, directories (read recursively) or glob patterns (quoted or not)
        #[arg(value_name = "PATH", required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        source: SourceArgs,
    },
    /// Print the first (or, with --tail, the last) rows of the source as CSV; reads only
    /// the partitions it needs
    Head {
        /// Parquet files, directories (read recursively) or glob patterns (quoted or not)
        #[arg(value_name = "PATH", required = true)]
        paths: Vec<PathBuf>,
        /// Rows to print
        #[arg(short = 'n', long = "rows", value_name = "N", default_value_t = 10)]
        rows: usize,
        /// The last rows instead of the first
        #[arg(long)]
        tail: bool,
        #[command(flatten)]
        select: SelectArgs,
        #[command(flatten)]
        source: SourceArgs,
    },
    /// Print TAPE's day-gap offset: the middle of the longest run of hours of the day
    /// without observations, as a fraction of a day (-1 if none), for bin-sources --offset
    DayGapOffset {
        /// Parquet files, directories (read recursively) or glob patterns (quoted or not)
        #[arg(value_name = "PATH", required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        source: SourceArgs,
    },
    /// Write a deterministic synthetic dataset (sinusoidal variables and constant stars)
    Generate(GenerateArgs),
    /// List the functions batch and explain accept
    #[command(
        after_help = "sf2 is listed with its default options; the `lsstseries sf2` command \
                      sets its estimator, binning and bootstrap."
    )]
    Functions,
    /// Print a shell completion script (e.g. `lsstseries completions bash > lsstseries.bash`)
    Completions {
        /// Shell to complete for
        shell: clap_complete::Shell,
    },
}

/// Where the columns are and how to cut and run the source (batch, explain, sf2, info).
#[derive(Args)]
pub(crate) struct SourceArgs {
    /// Preset column mapping; tape: ps1_objid, midPointTai, psFlux, psFluxErr, filterName
    #[arg(long, value_enum, default_value_t = Preset::Generated, help_heading = "Columns")]
    pub(crate) columns: Preset,
    /// Column holding the object id (overrides --columns)
    #[arg(long, value_name = "COLUMN", help_heading = "Columns")]
    pub(crate) id: Option<String>,
    /// Column holding the observation time
    #[arg(long, value_name = "COLUMN", help_heading = "Columns")]
    pub(crate) time: Option<String>,
    /// Column holding the flux
    #[arg(long, value_name = "COLUMN", help_heading = "Columns")]
    pub(crate) flux: Option<String>,
    /// Column holding the flux error
    #[arg(long, value_name = "COLUMN", help_heading = "Columns")]
    pub(crate) err: Option<String>,
    /// Column holding the band name
    #[arg(long, value_name = "COLUMN", help_heading = "Columns")]
    pub(crate) band: Option<String>,
    /// The band column holds integer codes with these names, e.g. 1=g,2=r,3=i (PS1's
    /// filterID; --columns ps1 sets 1-5 = g,r,i,z,y)
    #[arg(long, value_name = "CODES", value_parser = parsed::<BandCodes>, help_heading = "Columns")]
    pub(crate) band_codes: Option<BandCodes>,
    /// Declare the complete band set of the source, e.g. g,r,i (skips the scan of the band
    /// column that finds it otherwise; list every band the data holds)
    #[arg(long, value_name = "BANDS", value_parser = parse_bands, help_heading = "Columns")]
    pub(crate) bands: Option<BandList>,
    /// Rows whose time, flux or error is null, NaN or infinite, or whose error is <= 0:
    /// drop (left out of the functions that read that column, and counted), reject (fail
    /// naming file, row and object) or keep (the function sees the value)
    #[arg(long, value_name = "POLICY", default_value = "drop",
          value_parser = parsed::<BadValues>, help_heading = "Columns")]
    pub(crate) bad_values: BadValues,
    /// Re-cut partitions to about SIZE of decoded data (5KB, 64MB, 1GiB)
    #[arg(long, value_name = "SIZE", value_parser = parse_partition_size,
          conflicts_with = "partitions", help_heading = "Partitions and run")]
    pub(crate) partition_size: Option<usize>,
    /// Re-cut into N partitions (default: one per Parquet row group)
    #[arg(long, value_name = "N", help_heading = "Partitions and run")]
    pub(crate) partitions: Option<usize>,
    /// Worker threads (default: all cores)
    #[arg(long, value_name = "N", help_heading = "Partitions and run")]
    pub(crate) threads: Option<usize>,
    /// Most memory one run may hold (256MB, 4GiB): partitions in flight, shuffle buckets
    /// and results; beyond it buckets and results spill to disk (default: no limit)
    #[arg(long, value_name = "SIZE", value_parser = parse_partition_size,
          help_heading = "Partitions and run")]
    pub(crate) memory_limit: Option<usize>,
    /// Directory for spill files (default: the system's temporary directory); a
    /// subdirectory per run is removed when the run ends
    #[arg(long, value_name = "DIR", help_heading = "Partitions and run")]
    pub(crate) spill_dir: Option<PathBuf>,
    /// Stop the compute after this long (90s, 5m, 1h, 250ms) with an error
    #[arg(long, value_name = "DURATION", value_parser = parse_duration,
          help_heading = "Partitions and run")]
    pub(crate) timeout: Option<Duration>,
    /// Serve a live dashboard of the run on ADDR (127.0.0.1:8787; port 0 picks a free
    /// one); its address is printed to standard error at start
    #[arg(long, value_name = "ADDR", help_heading = "Partitions and run")]
    pub(crate) dashboard: Option<String>,
    /// Run the computes on the Apache DataFusion Ballista cluster whose scheduler is at
    /// ADDR (df://HOST:PORT) instead of local threads; needs the lsstseries-ballista
    /// program beside this one (the paths must be readable on every executor too)
    #[arg(long, value_name = "ADDR")]
    pub(crate) cluster: Option<String>,
}

/// Which sources and objects batch reads (applied in this order, before the function).
#[derive(Args)]
pub(crate) struct SelectArgs {
    /// Object table: one row per object, joined to the sources on the id column; its
    /// columns can be used in --query-objects (and, with batch --join-objects, in results)
    #[arg(long, value_name = "FILE", help_heading = "Selection")]
    pub(crate) object_file: Option<PathBuf>,
    /// Keep source rows matching a query, e.g. "psFlux > 0 and filterName in ('g', 'r')"
    #[arg(long, value_name = "EXPR", help_heading = "Selection")]
    pub(crate) query: Option<String>,
    /// Keep objects whose object-table row (nobs_<band>, nobs_total, and the columns of
    /// --object-file) matches, with their sources, e.g. "nobs_r >= 50"
    #[arg(long, value_name = "EXPR", help_heading = "Selection")]
    pub(crate) query_objects: Option<String>,
    /// Keep objects with at least N observations (TAPE's prune)
    #[arg(long, value_name = "N", help_heading = "Selection")]
    pub(crate) prune: Option<u64>,
}

/// Where batch and sf2 write their result.
#[derive(Args)]
pub(crate) struct OutArgs {
    /// Output file: .csv or .parquet (never one of the inputs; written whole or not at all)
    #[arg(long, value_name = "FILE", value_parser = parse_out)]
    pub(crate) out: PathBuf,
    /// Replace the output file if it exists (default: refuse)
    #[arg(long)]
    pub(crate) overwrite: bool,
}

#[derive(Args)]
pub(crate) struct ModeArgs {
    /// auto: shuffle only if lightcurves span partitions; per-partition: no data movement
    /// (wrong for split lightcurves); grouped: always regroup by id
    #[arg(long, value_name = "MODE", default_value = "auto", value_parser = parsed::<BatchMode>,
          help_heading = "Partitions and run")]
    pub(crate) mode: BatchMode,
}

#[derive(Args)]
pub(crate) struct Sf2Args {
    /// Parquet files, directories (read recursively) or glob patterns (quoted or not)
    #[arg(value_name = "PATH", required = true)]
    pub(crate) paths: Vec<PathBuf>,
    #[command(flatten)]
    pub(crate) out: OutArgs,
    /// Estimator: basic, bauer_2009a, bauer_2009b, schmidt_2010, macleod_2012
    #[arg(long, value_name = "METHOD", default_value = "basic", value_parser = parsed::<Estimator>)]
    pub(crate) method: Estimator,
    /// Time-lag binning: size (equal pair counts), length, loglength
    #[arg(long, value_name = "METHOD", default_value = "size", value_parser = parsed::<Binning>,
          conflicts_with = "bins")]
    pub(crate) bin_method: Binning,
    /// Explicit time-lag bin edges instead, e.g. 0,1,10,100
    #[arg(long, value_name = "EDGES", value_parser = parse_edges)]
    pub(crate) bins: Option<Edges>,
    /// Target pairs per bin
    #[arg(long, value_name = "N", default_value_t = SfOptions::default().bin_count_target)]
    pub(crate) bin_count_target: usize,
    /// Pool all objects' pairs per band
    #[arg(long)]
    pub(crate) combine: bool,
    /// Estimate 1-sigma errors from N bootstrap repetitions (0: none)
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub(crate) bootstrap: usize,
    /// Seed of the bootstrap
    #[arg(long, value_name = "S", default_value_t = 42)]
    pub(crate) seed: u64,
    #[command(flatten)]
    pub(crate) source: SourceArgs,
}

#[derive(Args)]
pub(crate) struct GenerateArgs {
    /// Directory to write the Parquet files into
    pub(crate) dir: PathBuf,
    /// Number of objects
    #[arg(long, value_name = "N", default_value_t = GeneratorConfig::default().objects)]
    pub(crate) objects: usize,
    /// Observations per object
    #[arg(long, value_name = "M", default_value_t = GeneratorConfig::default().observations)]
    pub(crate) observations: usize,
    /// Band names; each observation picks one at random
    #[arg(long, value_name = "BANDS", value_parser = parse_bands,
          default_value_t = BandList(GeneratorConfig::default().bands))]
    pub(crate) bands: BandList,
    /// Number of files
    #[arg(long, value_name = "F", default_value_t = GeneratorConfig::default().files)]
    pub(crate) files: usize,
    /// Row groups per file
    #[arg(long, value_name = "R", default_value_t = GeneratorConfig::default().row_groups_per_file)]
    pub(crate) row_groups: usize,
    /// Shuffle the row order within files
    #[arg(long)]
    pub(crate) shuffle: bool,
    /// Spread each lightcurve over several files
    #[arg(long)]
    pub(crate) scatter: bool,
    /// Seed of the generator
    #[arg(long, value_name = "S", default_value_t = GeneratorConfig::default().seed)]
    pub(crate) seed: u64,
    /// Replace the part-NNNNN.parquet files of an earlier run in DIR (without it, a DIR
    /// holding .parquet files is refused; other files are never removed)
    #[arg(long)]
    pub(crate) overwrite: bool,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum Preset {
    /// id, mjd, flux, flux_err, band (what `generate` writes)
    Generated,
    /// ps1_objid, midPointTai, psFlux, psFluxErr, filterName
    Tape,
    /// TAPE's ZTF map: ps1_objid, mjd, mag, magerr, band
    Ztf,
    /// TAPE's ZTF map of a HiPSCat catalog: _hipscat_index, mjd, mag, magerr, band
    ZtfHipscat,
    /// TAPE's PS1 map: objID, obsTime, apFlux, apFluxErr, filterID (codes 1-5 = g,r,i,z,y)
    Ps1,
    /// TAPE's PS1 map of a HiPSCat catalog: _hipscat_index, obsTime, apFlux, apFluxErr,
    /// filterID (codes)
    Ps1Hipscat,
}

/// A comma-separated list of band names.
#[derive(Clone)]
pub(crate) struct BandList(pub(crate) Vec<String>);

impl fmt::Display for BandList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(","))
    }
}

/// Explicit bin edges (a newtype so clap takes one comma-separated value).
#[derive(Clone)]
pub(crate) struct Edges(pub(crate) Vec<f64>);

/// The library's own parsers (and error messages) for modes, estimators and binnings.
fn parsed<T>(s: &str) -> Result<T, String>
where
    T: FromStr<Err = Error>,
{
    s.parse().map_err(reason)
}

fn parse_partition_size(s: &str) -> Result<usize, String> {
    parse_size(s).map_err(reason)
}

/// A duration: a number with a unit (ms, s, m, h), or plain seconds.
pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 = number
        .parse()
        .map_err(|_| "expected a duration such as 90s, 5m, 1h or 250ms".to_string())?;
    let seconds = match unit.trim() {
        "ms" => value / 1000.0,
        "" | "s" => value,
        "m" | "min" => value * 60.0,
        "h" => value * 3600.0,
        other => return Err(format!("unknown unit '{other}'; use ms, s, m or h")),
    };
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("duration '{s}' is out of range"))
}

/// The library's message without its "invalid argument:" prefix: clap already says
/// "invalid value 'V' for '--option'".
fn reason(e: Error) -> String {
    match e {
        Error::InvalidData(m) | Error::InvalidArgument(m) => m,
        other => other.to_string(),
    }
}

fn parse_bands(s: &str) -> Result<BandList, String> {
    let bands: Vec<String> = s.split(',').map(|b| b.trim().to_string()).collect();
    if bands.iter().any(String::is_empty) {
        return Err("expected comma-separated band names, e.g. g,r,i".into());
    }
    Ok(BandList(bands))
}

fn parse_edges(s: &str) -> Result<Edges, String> {
    s.split(',')
        .map(|x| x.trim().parse::<f64>())
        .collect::<Result<Vec<f64>, _>>()
        .map(Edges)
        .map_err(|_| "expected comma-separated numbers, e.g. 0,1,10,100".into())
}

fn parse_out(s: &str) -> Result<PathBuf, String> {
    let out = PathBuf::from(s);
    match out.extension().and_then(|e| e.to_str()) {
        Some("csv" | "parquet") => Ok(out),
        _ => Err("use a .csv or .parquet file name".into()),
    }
}

impl SourceArgs {
    pub(crate) fn column_map(&self) -> ColumnMap {
        let mut map = match self.columns {
            Preset::Generated => ColumnMap::generated(),
            Preset::Tape => ColumnMap::tape(),
            Preset::Ztf => ColumnMap::ztf(false),
            Preset::ZtfHipscat => ColumnMap::ztf(true),
            Preset::Ps1 => ColumnMap::ps1(false),
            Preset::Ps1Hipscat => ColumnMap::ps1(true),
        };
        if let Some(codes) = &self.band_codes {
            map.band_codes = Some(codes.clone());
        }
        for (given, slot) in [
            (&self.id, &mut map.id),
            (&self.time, &mut map.time),
            (&self.flux, &mut map.flux),
            (&self.err, &mut map.err),
            (&self.band, &mut map.band),
        ] {
            if let Some(v) = given {
                slot.clone_from(v);
            }
        }
        map
    }

    /// The partitioning the options ask for (`--partitions` and `--partition-size`
    /// conflict, so at most one is set).
    pub(crate) fn partitioning(&self) -> Partitioning {
        match (self.partition_size, self.partitions) {
            (Some(bytes), _) => Partitioning::Bytes(bytes),
            (None, Some(n)) => Partitioning::Count(n),
            (None, None) => Partitioning::RowGroups,
        }
    }
}

impl Sf2Args {
    /// The structure-function options the arguments ask for (not yet validated).
    pub(crate) fn options(&self) -> SfOptions {
        let mut options = SfOptions {
            estimator: self.method,
            binning: match &self.bins {
                Some(edges) => Binning::Edges(edges.0.clone()),
                None => self.bin_method.clone(),
            },
            bin_count_target: self.bin_count_target,
            ..SfOptions::default()
        };
        if self.bootstrap > 0 {
            options.bootstrap = Some(Bootstrap {
                repetitions: self.bootstrap,
                seed: self.seed,
                ..Bootstrap::default()
            });
        }
        options
    }
}

impl GenerateArgs {
    /// The generator configuration the arguments ask for (checked by `generate`).
    pub(crate) fn config(&self) -> GeneratorConfig {
        GeneratorConfig {
            objects: self.objects,
            observations: self.observations,
            bands: self.bands.0.clone(),
            files: self.files,
            row_groups_per_file: self.row_groups,
            shuffle_rows: self.shuffle,
            scatter: self.scatter,
            seed: self.seed,
            overwrite: self.overwrite,
            ..GeneratorConfig::default()
        }
    }
}

impl Command {
    /// The --cluster address of the command, with whether the command can run there
    /// (`head` and `day-gap-offset` read partitions in this process).
    pub(crate) fn cluster(&self) -> Option<(&str, bool)> {
        let (source, ships) = match self {
            Command::Batch { source, .. }
            | Command::Explain { source, .. }
            | Command::Info { source, .. }
            | Command::BinSources { source, .. } => (source, true),
            Command::Sf2(a) => (&a.source, true),
            Command::Head { source, .. } | Command::DayGapOffset { source, .. } => (source, false),
            _ => return None,
        };
        source.cluster.as_deref().map(|c| (c, ships))
    }

    /// The --memory-limit of a command that runs a source.
    pub(crate) fn memory_limit(&self) -> Option<usize> {
        match self {
            Command::Batch { source, .. }
            | Command::Explain { source, .. }
            | Command::Info { source, .. } => source.memory_limit,
            Command::Sf2(a) => a.source.memory_limit,
            Command::BinSources { source, .. } => source.memory_limit,
            _ => None,
        }
    }
}
