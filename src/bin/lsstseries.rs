//! `lsstseries`: the engine from the command line, for people who will not write Rust.

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use lsstseries::analysis::structure_function::{Binning, Bootstrap, Estimator, SfOptions};
use lsstseries::format::human_bytes;
use lsstseries::io::generate::{generate, GeneratorConfig};
use lsstseries::io::{
    parse_size, write_csv_stream, write_parquet_stream, IfExists, SourceOptions, SourcePaths,
};
use lsstseries::{
    BadValues, BatchMode, Cancellation, ColumnMap, Ensemble, Error, Frame, FunctionRegistry,
    Partitioning, ResultStream, RunMetrics,
};
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::str::FromStr;
use std::time::{Duration, Instant};

/// Shown after the command list of `lsstseries --help`: the options most runs need, in one
/// place (each command's own `--help` has the full list).
const OVERVIEW: &str = "\
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
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Compute a function for every object: one output row per object, id first, in id order
    Batch {
        /// Function to compute (stetson_j, features, sf2, ...; `lsstseries functions` lists them)
        function: String,
        /// Parquet files, directories (read recursively) or glob patterns (quoted or not)
        #[arg(value_name = "PATH", required = true)]
        paths: Vec<PathBuf>,
        #[command(flatten)]
        out: OutArgs,
        #[command(flatten)]
        mode: ModeArgs,
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
        #[arg(long)]
        dot: bool,
        #[command(flatten)]
        mode: ModeArgs,
        #[command(flatten)]
        source: SourceArgs,
    },
    /// Structure function per object and band (or --combine: all objects pooled per band),
    /// one row per time-lag bin
    Sf2(Sf2Args),
    /// Rows, id range, columns, partitions and memory of the source and object tables
    Info {
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
struct SourceArgs {
    /// Preset column mapping; tape: ps1_objid, midPointTai, psFlux, psFluxErr, filterName
    #[arg(long, value_enum, default_value_t = Preset::Generated, help_heading = "Columns")]
    columns: Preset,
    /// Column holding the object id (overrides --columns)
    #[arg(long, value_name = "COLUMN", help_heading = "Columns")]
    id: Option<String>,
    /// Column holding the observation time
    #[arg(long, value_name = "COLUMN", help_heading = "Columns")]
    time: Option<String>,
    /// Column holding the flux
    #[arg(long, value_name = "COLUMN", help_heading = "Columns")]
    flux: Option<String>,
    /// Column holding the flux error
    #[arg(long, value_name = "COLUMN", help_heading = "Columns")]
    err: Option<String>,
    /// Column holding the band name
    #[arg(long, value_name = "COLUMN", help_heading = "Columns")]
    band: Option<String>,
    /// Declare the complete band set of the source, e.g. g,r,i (skips the scan of the band
    /// column that finds it otherwise; list every band the data holds)
    #[arg(long, value_name = "BANDS", value_parser = parse_bands, help_heading = "Columns")]
    bands: Option<BandList>,
    /// Rows whose time, flux or error is null, NaN or infinite, or whose error is <= 0:
    /// drop (left out of the functions that read that column, and counted), reject (fail
    /// naming file, row and object) or keep (the function sees the value)
    #[arg(long, value_name = "POLICY", default_value = "drop",
          value_parser = parsed::<BadValues>, help_heading = "Columns")]
    bad_values: BadValues,
    /// Re-cut partitions to about SIZE of decoded data (5KB, 64MB, 1GiB)
    #[arg(long, value_name = "SIZE", value_parser = parse_size_arg,
          conflicts_with = "partitions", help_heading = "Partitions and run")]
    partition_size: Option<usize>,
    /// Re-cut into N partitions (default: one per Parquet row group)
    #[arg(long, value_name = "N", help_heading = "Partitions and run")]
    partitions: Option<usize>,
    /// Worker threads (default: all cores)
    #[arg(long, value_name = "N", help_heading = "Partitions and run")]
    threads: Option<usize>,
    /// Most memory one run may hold (256MB, 4GiB): partitions in flight, shuffle buckets
    /// and results; beyond it buckets and results spill to disk (default: no limit)
    #[arg(long, value_name = "SIZE", value_parser = parse_size_arg,
          help_heading = "Partitions and run")]
    memory_limit: Option<usize>,
    /// Directory for spill files (default: the system's temporary directory); a
    /// subdirectory per run is removed when the run ends
    #[arg(long, value_name = "DIR", help_heading = "Partitions and run")]
    spill_dir: Option<PathBuf>,
    /// Stop the compute after this long (90s, 5m, 1h, 250ms) with an error
    #[arg(long, value_name = "DURATION", value_parser = parse_duration,
          help_heading = "Partitions and run")]
    timeout: Option<Duration>,
}

/// Where batch and sf2 write their result.
#[derive(Args)]
struct OutArgs {
    /// Output file: .csv or .parquet (never one of the inputs; written whole or not at all)
    #[arg(long, value_name = "FILE", value_parser = parse_out)]
    out: PathBuf,
    /// Replace the output file if it exists (default: refuse)
    #[arg(long)]
    overwrite: bool,
}

#[derive(Args)]
struct ModeArgs {
    /// auto: shuffle only if lightcurves span partitions; per-partition: no data movement
    /// (wrong for split lightcurves); grouped: always regroup by id
    #[arg(long, value_name = "MODE", default_value = "auto", value_parser = parsed::<BatchMode>,
          help_heading = "Partitions and run")]
    mode: BatchMode,
}

#[derive(Args)]
struct Sf2Args {
    /// Parquet files, directories (read recursively) or glob patterns (quoted or not)
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<PathBuf>,
    #[command(flatten)]
    out: OutArgs,
    /// Estimator: basic, bauer_2009a, bauer_2009b, schmidt_2010, macleod_2012
    #[arg(long, value_name = "METHOD", default_value = "basic", value_parser = parsed::<Estimator>)]
    method: Estimator,
    /// Time-lag binning: size (equal pair counts), length, loglength
    #[arg(long, value_name = "METHOD", default_value = "size", value_parser = parsed::<Binning>,
          conflicts_with = "bins")]
    bin_method: Binning,
    /// Explicit time-lag bin edges instead, e.g. 0,1,10,100
    #[arg(long, value_name = "EDGES", value_parser = parse_edges)]
    bins: Option<Edges>,
    /// Target pairs per bin
    #[arg(long, value_name = "N", default_value_t = SfOptions::default().bin_count_target)]
    bin_count_target: usize,
    /// Pool all objects' pairs per band
    #[arg(long)]
    combine: bool,
    /// Estimate 1-sigma errors from N bootstrap repetitions (0: none)
    #[arg(long, value_name = "N", default_value_t = 0)]
    bootstrap: usize,
    /// Seed of the bootstrap
    #[arg(long, value_name = "S", default_value_t = 42)]
    seed: u64,
    #[command(flatten)]
    source: SourceArgs,
}

#[derive(Args)]
struct GenerateArgs {
    /// Directory to write the Parquet files into
    dir: PathBuf,
    /// Number of objects
    #[arg(long, value_name = "N", default_value_t = GeneratorConfig::default().objects)]
    objects: usize,
    /// Observations per object
    #[arg(long, value_name = "M", default_value_t = GeneratorConfig::default().observations)]
    observations: usize,
    /// Band names; each observation picks one at random
    #[arg(long, value_name = "BANDS", value_parser = parse_bands,
          default_value_t = BandList(GeneratorConfig::default().bands))]
    bands: BandList,
    /// Number of files
    #[arg(long, value_name = "F", default_value_t = GeneratorConfig::default().files)]
    files: usize,
    /// Row groups per file
    #[arg(long, value_name = "R", default_value_t = GeneratorConfig::default().row_groups_per_file)]
    row_groups: usize,
    /// Shuffle the row order within files
    #[arg(long)]
    shuffle: bool,
    /// Spread each lightcurve over several files
    #[arg(long)]
    scatter: bool,
    /// Seed of the generator
    #[arg(long, value_name = "S", default_value_t = GeneratorConfig::default().seed)]
    seed: u64,
    /// Replace the part-NNNNN.parquet files of an earlier run in DIR (without it, a DIR
    /// holding .parquet files is refused; other files are never removed)
    #[arg(long)]
    overwrite: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Preset {
    /// id, mjd, flux, flux_err, band (what `generate` writes)
    Generated,
    /// ps1_objid, midPointTai, psFlux, psFluxErr, filterName
    Tape,
}

/// A comma-separated list of band names.
#[derive(Clone)]
struct BandList(Vec<String>);

impl fmt::Display for BandList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join(","))
    }
}

/// Explicit bin edges (a newtype so clap takes one comma-separated value).
#[derive(Clone)]
struct Edges(Vec<f64>);

/// The library's own parsers (and error messages) for modes, estimators and binnings.
fn parsed<T>(s: &str) -> Result<T, String>
where
    T: FromStr<Err = Error>,
{
    s.parse().map_err(reason)
}

fn parse_size_arg(s: &str) -> Result<usize, String> {
    parse_size(s).map_err(reason)
}

/// A duration: a number with a unit (ms, s, m, h), or plain seconds.
fn parse_duration(s: &str) -> Result<Duration, String> {
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
    fn column_map(&self) -> ColumnMap {
        let mut map = match self.columns {
            Preset::Generated => ColumnMap::generated(),
            Preset::Tape => ColumnMap::tape(),
        };
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

    fn open(&self, paths: &[PathBuf]) -> Result<Ensemble, Error> {
        let partitioning = match (self.partition_size, self.partitions) {
            (Some(bytes), _) => Partitioning::Bytes(bytes),
            (None, Some(n)) => Partitioning::Count(n),
            (None, None) => Partitioning::RowGroups,
        };
        let mut builder = Ensemble::builder().bad_values(self.bad_values);
        if let Some(n) = self.threads.filter(|&n| n > 0) {
            builder = builder.n_workers(n);
        }
        if let Some(limit) = self.memory_limit {
            builder = builder.memory_limit(limit);
        }
        if let Some(dir) = &self.spill_dir {
            builder = builder.spill_dir(dir);
        }
        let mut ens = builder.build()?;
        let mut options = SourceOptions::new(self.column_map(), partitioning);
        options.bands = self.bands.as_ref().map(|b| b.0.clone());
        ens.from_parquet_with(SourcePaths::new(paths), options)?;
        let rows = ens.source_table()?.rows;
        if self.partitions.is_some_and(|n| n > rows) {
            eprintln!(
                "note: --partitions is more than the {rows} rows; using one partition per row"
            );
        }
        Ok(ens)
    }
}

/// Says on stderr what the source paths held that was not read (`info` lists each entry).
fn note_skipped(ens: &Ensemble) -> Result<(), Error> {
    let skipped = &ens.source_table()?.skipped;
    if let Some((first, why)) = skipped.first() {
        eprintln!(
            "note: skipped {} entr(ies) under the source paths, e.g. {}: {why} (`lsstseries info` lists them)",
            skipped.len(),
            first.display()
        );
    }
    Ok(())
}

impl OutArgs {
    /// Refuses, before any work, an output that is an input, that sits as a `.parquet` file
    /// inside an input directory (a later read of the directory would take it for input),
    /// or that exists without `--overwrite`.
    fn check(&self, inputs: &[PathBuf]) -> Result<(), Error> {
        let out = &self.out;
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let canonical_out = match out.canonicalize() {
            Ok(p) => p,
            Err(_) => {
                let dir = parent.canonicalize().map_err(|e| Error::io(parent, e))?;
                match out.file_name() {
                    Some(name) => dir.join(name),
                    None => dir,
                }
            }
        };
        // A glob pattern reads below its literal prefix: that directory counts as an input.
        for root in SourcePaths::new(inputs).roots() {
            self.check_against(&root, &canonical_out)?;
        }
        if !self.overwrite && out.symlink_metadata().is_ok() {
            return Err(self.exists());
        }
        Ok(())
    }

    /// Refuses `--out` as `input` itself, or as a `.parquet` file below an input directory.
    fn check_against(&self, input: &Path, canonical_out: &Path) -> Result<(), Error> {
        let out = &self.out;
        // An input that cannot be resolved is reported when it is opened.
        if let Ok(canonical_in) = input.canonicalize() {
            if canonical_out == canonical_in {
                return Err(Error::InvalidArgument(format!(
                    "--out {} is the input {}; write the result to another file",
                    out.display(),
                    input.display()
                )));
            }
            let parquet = out.extension().is_some_and(|e| e == "parquet");
            if parquet && canonical_in.is_dir() && canonical_out.starts_with(&canonical_in) {
                return Err(Error::InvalidArgument(format!(
                    "--out {} is inside the input directory {}, where a later read would take \
                     it for input; write it elsewhere (or as .csv)",
                    out.display(),
                    input.display()
                )));
            }
        }
        Ok(())
    }

    fn exists(&self) -> Error {
        Error::InvalidArgument(format!(
            "--out {} already exists; pass --overwrite to replace it",
            self.out.display()
        ))
    }

    /// Writes whole or not at all; without `--overwrite`, an output that appeared since
    /// [`OutArgs::check`] (another run) is kept, not replaced.
    /// Writes the result as it streams (it never has to fit in memory whole).
    fn write(&self, result: &mut ResultStream) -> Result<(), Error> {
        let if_exists = if self.overwrite {
            IfExists::Replace
        } else {
            IfExists::Refuse
        };
        let schema = result.schema();
        let written = match self.out.extension().and_then(|e| e.to_str()) {
            Some("parquet") => write_parquet_stream(&self.out, &schema, result, if_exists),
            _ => write_csv_stream(&self.out, &schema, result, if_exists),
        };
        match written {
            Err(Error::Io { source, .. })
                if source.kind() == std::io::ErrorKind::AlreadyExists && !self.overwrite =>
            {
                Err(self.exists())
            }
            other => other,
        }
    }
}

/// Why a command failed: the library's error, or standard output that cannot be written.
enum Failure {
    Lib(Error),
    Stdout(std::io::Error),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Lib(e)
    }
}

/// Writes to standard output, returning an error instead of panicking as `print!` does
/// when stdout is closed (`| head`) or full (`> /dev/full`).
fn print_out(text: impl AsRef<[u8]>) -> Result<(), Failure> {
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_ref())
        .and_then(|()| stdout.flush())
        .map_err(Failure::Stdout)
}

/// `eprintln!` without its panic when stderr is closed: a note that cannot be shown is
/// dropped.
macro_rules! note {
    ($($arg:tt)*) => {{
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

impl SourceArgs {
    /// `frame` with the --timeout deadline, counted from now.
    fn cancellable(&self, frame: Frame) -> Frame {
        match self.timeout {
            Some(t) => frame.with_cancellation(Cancellation::new().timeout(t)),
            None => frame,
        }
    }
}

/// Says on stderr how many rows functions left out for bad values, if any.
fn note_bad_values(metrics: &RunMetrics) {
    if !metrics.bad_values.is_empty() {
        note!(
            "dropped {} (--bad-values reject to fail instead)",
            metrics.bad_values
        );
    }
}

/// Under --memory-limit, says on stderr what the run held at most and what it spilled.
fn note_memory(source: &SourceArgs, metrics: &RunMetrics) {
    if let Some(limit) = source.memory_limit {
        note!(
            "memory: peak {} of {} limit; spilled {} in {} file(s)",
            human_bytes(metrics.peak_memory),
            human_bytes(limit),
            human_bytes(metrics.bytes_spilled),
            metrics.spill_files
        );
    }
}

fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Functions => {
            let mut text = String::new();
            for name in FunctionRegistry::with_builtins().names() {
                text.push_str(&name);
                text.push('\n');
            }
            print_out(text)?;
        }
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cmd, env!("CARGO_BIN_NAME"), &mut script);
            print_out(script)?;
        }
        Command::Info { paths, source } => {
            let ens = source.open(&paths)?;
            print_out(ens.info()?.to_string())?;
        }
        Command::Explain {
            function,
            paths,
            dot,
            mode,
            source,
        } => {
            let ens = source.open(&paths)?;
            note_skipped(&ens)?;
            let frame = ens.batch_named_with(&function, mode.mode)?;
            if dot {
                print_out(frame.explain_dot()?)?;
            } else {
                print_out(frame.explain()?)?;
            }
        }
        Command::Batch {
            function,
            paths,
            out,
            mode,
            source,
        } => {
            let t0 = Instant::now();
            out.check(&paths)?;
            let ens = source.open(&paths)?;
            note_skipped(&ens)?;
            let frame = ens.batch_named_with(&function, mode.mode)?;
            for w in frame.warnings()? {
                note!("warning: {w}");
            }
            let mut result = source.cancellable(frame).compute_stream()?;
            out.write(&mut result)?;
            let metrics = result.metrics();
            let secs = t0.elapsed().as_secs_f64();
            note!(
                "{function}: {} rows in, {} result rows out, {} stage(s), {} tasks, {:.3} s ({:.0} rows/s) -> {}",
                metrics.rows_in,
                metrics.rows_out,
                metrics.stages.len(),
                metrics.stages.iter().map(|s| s.tasks).sum::<usize>(),
                secs,
                metrics.rows_in as f64 / secs,
                out.out.display()
            );
            note_bad_values(metrics);
            note_memory(&source, metrics);
        }
        Command::Sf2(a) => {
            let mut options = SfOptions {
                estimator: a.method,
                binning: match a.bins {
                    Some(edges) => Binning::Edges(edges.0),
                    None => a.bin_method,
                },
                bin_count_target: a.bin_count_target,
                ..SfOptions::default()
            };
            if a.bootstrap > 0 {
                options.bootstrap = Some(Bootstrap {
                    repetitions: a.bootstrap,
                    seed: a.seed,
                    ..Bootstrap::default()
                });
            }
            let t0 = Instant::now();
            a.out.check(&a.paths)?;
            let ens = a.source.open(&a.paths)?;
            note_skipped(&ens)?;
            let source = ens.source()?;
            let frame = if a.combine {
                source.structure_function_pooled(&options)?
            } else {
                source.structure_function(&options)?
            };
            let mut result = a.source.cancellable(frame).compute_stream()?;
            a.out.write(&mut result)?;
            note!(
                "sf2 ({}): {} rows -> {} in {:.3} s",
                options.estimator.name(),
                result.metrics().rows_out,
                a.out.out.display(),
                t0.elapsed().as_secs_f64()
            );
            note_bad_values(result.metrics());
            note_memory(&a.source, result.metrics());
        }
        Command::Generate(a) => {
            let cfg = GeneratorConfig {
                objects: a.objects,
                observations: a.observations,
                bands: a.bands.0,
                files: a.files,
                row_groups_per_file: a.row_groups,
                shuffle_rows: a.shuffle,
                scatter: a.scatter,
                seed: a.seed,
                overwrite: a.overwrite,
                ..GeneratorConfig::default()
            };
            let t0 = Instant::now();
            let s = generate(&cfg, &a.dir)?;
            note!(
                "wrote {} objects, {} rows in {} file(s) under {} in {:.2} s (columns: id, mjd, flux, flux_err, band)",
                s.objects,
                s.rows,
                s.files.len(),
                a.dir.display(),
                t0.elapsed().as_secs_f64()
            );
        }
    }
    Ok(())
}

/// An unknown command gets the list of commands and, if one is close, a suggestion;
/// every other parse error is clap's own (it names the argument and the value).
fn report_parse_error(e: clap::Error) -> ExitCode {
    if e.kind() != ErrorKind::InvalidSubcommand {
        e.exit();
    }
    let name = match e.get(ContextKind::InvalidSubcommand) {
        Some(ContextValue::String(s)) => s.clone(),
        _ => e.exit(),
    };
    let commands: Vec<String> = Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    note!(
        "error: unknown command '{name}' (commands: {}; see --help)",
        commands.join(", ")
    );
    if let Some(ContextValue::Strings(close)) = e.get(ContextKind::SuggestedSubcommand) {
        if let Some(first) = close.first() {
            note!("\n  tip: did you mean '{first}'?");
        }
    }
    ExitCode::from(2)
}

// Allocator: glibc malloc with the thresholds below, measured against plain glibc and
// against mimalloc 0.1 as `#[global_allocator]` (2026-11, shared 2-core machine, load ~9,
// 12 M rows from `lsstseries generate DIR --objects 60000 --files 8`, 11 interleaved runs,
// median wall time of `lsstseries batch stetson_j DIR --out x.csv` / `batch features`):
//   mallopt-tuned glibc 2.00 s / 5.17 s; plain glibc 2.05 s / 5.24 s; mimalloc 3.59 s / 5.81 s.
// mimalloc was slower, so it is not a dependency; rerun before switching.

/// Keeps freed partition buffers in the heap for reuse instead of returning them to the
/// OS after every task (glibc's defaults unmap large blocks, so each partition would
/// page-fault its buffers in again). Only the CLI does this; the library never touches
/// the allocator of the program embedding it.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn tune_allocator() {
    extern "C" {
        fn mallopt(param: i32, value: i32) -> i32;
    }
    const M_TRIM_THRESHOLD: i32 = -1;
    const M_MMAP_THRESHOLD: i32 = -3;
    // SAFETY: mallopt only adjusts glibc malloc parameters; called before any threads
    // (argument parsing starts none).
    unsafe {
        mallopt(M_MMAP_THRESHOLD, 256 << 20);
        mallopt(M_TRIM_THRESHOLD, 512 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}

impl Command {
    /// The --memory-limit of a command that runs a source.
    fn memory_limit(&self) -> Option<usize> {
        match self {
            Command::Batch { source, .. }
            | Command::Explain { source, .. }
            | Command::Info { source, .. } => source.memory_limit,
            Command::Sf2(a) => a.source.memory_limit,
            _ => None,
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return report_parse_error(e),
    };
    // The tuning keeps freed memory in the process for reuse (faster); under a memory limit
    // glibc's defaults give it back, so the process's footprint follows the limit.
    if cli
        .command
        .as_ref()
        .and_then(Command::memory_limit)
        .is_none()
    {
        tune_allocator();
    }
    let result = match cli.command {
        Some(command) => run(command),
        // No command at all: the overview, as `--help` prints it.
        None => print_out(Cli::command().render_long_help().to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader went away (`lsstseries functions | head -1`): it has what it wanted, so
        // exit quietly with success, as a program killed by SIGPIPE would leave no message
        // (and a `set -o pipefail` script does not fail on it).
        Err(Failure::Stdout(e)) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(Failure::Stdout(e)) => {
            note!("error: cannot write to standard output: {e}");
            ExitCode::FAILURE
        }
        Err(Failure::Lib(e)) => {
            note!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
