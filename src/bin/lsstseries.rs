//! `lsstseries`: the engine from the command line, for people who will not write Rust.

// A crate root looks for modules beside itself (src/bin/), so the path is named.
#[path = "lsstseries/args.rs"]
mod args;
#[path = "lsstseries/progress.rs"]
mod progress;

use args::{Cli, Command, DotPlan, LogLevel, OutArgs, SelectArgs, SourceArgs};
use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, Parser};
use lsstseries::format::human_bytes;
use lsstseries::io::generate::generate;
use lsstseries::io::{
    csv_text, write_csv_stream, write_parquet_stream, IfExists, SourceOptions, SourcePaths,
};
use lsstseries::{
    Cancellation, Ensemble, Error, Frame, FunctionRegistry, ResultStream, RunMetrics,
};
use progress::Progress;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

impl SourceArgs {
    fn open(&self, paths: &[PathBuf]) -> Result<Ensemble, Error> {
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
        if let Some(addr) = &self.dashboard {
            builder = builder.dashboard(addr.as_str());
        }
        if let Some(addr) = &self.cluster {
            builder = builder.cluster(addr.as_str());
            if self.memory_limit.is_some() || self.spill_dir.is_some() {
                eprintln!(
                    "note: --memory-limit and --spill-dir bound local runs; on the cluster \
                     {addr} each executor has its own memory and --work-dir"
                );
            }
        }
        let mut ens = builder.build()?;
        if let Some(url) = ens.dashboard_url() {
            eprintln!("dashboard: {url}");
        }
        let mut options = SourceOptions::new(self.column_map(), self.partitioning());
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

    /// `frame` with the --timeout deadline, counted from now.
    fn cancellable(&self, frame: Frame) -> Frame {
        match self.timeout {
            Some(t) => frame.with_cancellation(Cancellation::new().timeout(t)),
            None => frame,
        }
    }
}

impl SelectArgs {
    /// The source of `ens` with --object-file loaded, then --query, --query-objects and
    /// --prune applied, in that order.
    fn apply(&self, ens: &mut Ensemble) -> Result<Frame, Error> {
        if let Some(path) = &self.object_file {
            ens.from_parquet_objects(path)?;
        }
        let mut frame = ens.source()?;
        if let Some(q) = &self.query {
            frame = frame.query(q)?;
        }
        if let Some(q) = &self.query_objects {
            frame = frame.query_objects(q)?;
        }
        if let Some(n) = self.prune {
            frame = frame.prune(n)?;
        }
        Ok(frame)
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
        let canonical_out = self.canonical()?;
        // A glob pattern reads below its literal prefix: that directory counts as an input.
        for root in SourcePaths::new(inputs).roots() {
            self.check_against(&root, &canonical_out)?;
        }
        if !self.overwrite && out.symlink_metadata().is_ok() {
            return Err(self.exists());
        }
        Ok(())
    }

    /// `--out` as an absolute path without links (its directory's, when it does not exist).
    fn canonical(&self) -> Result<PathBuf, Error> {
        let out = &self.out;
        let parent = match out.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        Ok(match out.canonicalize() {
            Ok(p) => p,
            Err(_) => {
                let dir = parent.canonicalize().map_err(|e| Error::io(parent, e))?;
                match out.file_name() {
                    Some(name) => dir.join(name),
                    None => dir,
                }
            }
        })
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

/// Renders DOT with Graphviz's `dot -Tsvg` into `path` (written whole: a temporary file,
/// then a rename). A missing `dot` is a clear error, not an empty file.
fn write_svg(dot: &str, path: &Path) -> Result<(), Error> {
    use std::process::{Command as Process, Stdio};
    let mut child = Process::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            Error::InvalidArgument(format!(
                "--svg needs Graphviz's `dot` on PATH ({e}); --dot prints the plan's DOT text \
                 instead"
            ))
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(dot.as_bytes())
            .map_err(|e| Error::io(Path::new("dot (stdin)"), e))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| Error::io(Path::new("dot"), e))?;
    if !out.status.success() {
        return Err(Error::InvalidArgument(format!(
            "`dot -Tsvg` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    let tmp = path.with_extension("svg.tmp");
    std::fs::write(&tmp, &out.stdout).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))
}

/// Installs a `tracing` subscriber printing spans and events at `level` on stderr.
fn start_logs(level: LogLevel) {
    let level = match level {
        LogLevel::Error => tracing::Level::ERROR,
        LogLevel::Warn => tracing::Level::WARN,
        LogLevel::Info => tracing::Level::INFO,
        LogLevel::Debug => tracing::Level::DEBUG,
        LogLevel::Trace => tracing::Level::TRACE,
    };
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_thread_names(true)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

fn run(command: Command, show_progress: bool) -> Result<(), Failure> {
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
            let mut text = ens.info()?.to_string();
            if let Some(cluster) = ens.executor_info().cluster {
                text.push_str(&format!("{cluster}\n"));
            }
            print_out(text)?;
        }
        Command::Explain {
            function,
            paths,
            dot,
            svg,
            plan,
            analyze,
            json,
            mode,
            source,
        } => {
            let ens = source.open(&paths)?;
            note_skipped(&ens)?;
            let frame = ens.batch_named_with(&function, mode.mode)?;
            let picture = || match plan {
                DotPlan::Logical => frame.explain_dot(),
                DotPlan::Physical => frame.explain_dot_physical(),
            };
            if let Some(path) = &svg {
                write_svg(&picture()?, path)?;
                note!("plan picture -> {}", path.display());
            }
            if dot {
                print_out(picture()?)?;
            } else if analyze {
                let _progress = Progress::start(ens.executor().monitor().clone(), show_progress);
                let report = source.cancellable(frame).explain_analyze_report()?;
                print_out(if json {
                    report.to_json() + "\n"
                } else {
                    report.to_text()
                })?;
            } else if svg.is_none() {
                print_out(frame.explain()?)?;
            }
        }
        Command::Batch {
            function,
            paths,
            on,
            out,
            mode,
            select,
            join_objects,
            source,
        } => {
            let t0 = Instant::now();
            out.check(&paths)?;
            if let Some(objects) = &select.object_file {
                out.check_against(objects, &out.canonical()?)?;
            }
            let mut ens = source.open(&paths)?;
            note_skipped(&ens)?;
            let frame = select.apply(&mut ens)?;
            let on: Vec<&str> = on.iter().map(String::as_str).collect();
            let mut frame = frame.batch_on_named_with(&function, &on, mode.mode)?;
            if join_objects {
                frame = frame.join_objects(&[])?;
            }
            for w in frame.warnings()? {
                note!("warning: {w}");
            }
            let progress = Progress::start(ens.executor().monitor().clone(), show_progress);
            let mut result = source.cancellable(frame).compute_stream()?;
            drop(progress);
            out.write(&mut result)?;
            let metrics = result.metrics();
            let secs = t0.elapsed().as_secs_f64();
            if let Some(c) = ens.cluster() {
                note!(
                    "{function}: {} rows in, {} result rows out, on the cluster {}, {secs:.3} s -> {}",
                    metrics.rows_in,
                    metrics.rows_out,
                    c.address(),
                    out.out.display()
                );
                return Ok(());
            }
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
            let options = a.options();
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
            let progress = Progress::start(ens.executor().monitor().clone(), show_progress);
            let mut result = a.source.cancellable(frame).compute_stream()?;
            drop(progress);
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
        Command::BinSources {
            paths,
            out,
            window,
            offset,
            source,
        } => {
            let t0 = Instant::now();
            out.check(&paths)?;
            let ens = source.open(&paths)?;
            note_skipped(&ens)?;
            let frame = ens.source()?.bin_sources(window, offset)?;
            let progress = Progress::start(ens.executor().monitor().clone(), show_progress);
            let mut result = source.cancellable(frame).compute_stream()?;
            drop(progress);
            out.write(&mut result)?;
            note!(
                "bin_sources: {} rows in, {} bins out -> {} in {:.3} s",
                result.metrics().rows_in,
                result.metrics().rows_out,
                out.out.display(),
                t0.elapsed().as_secs_f64()
            );
            note_bad_values(result.metrics());
            note_memory(&source, result.metrics());
        }
        Command::Head {
            paths,
            rows,
            tail,
            select,
            source,
        } => {
            let mut ens = source.open(&paths)?;
            note_skipped(&ens)?;
            let frame = select.apply(&mut ens)?;
            let frame = source.cancellable(frame);
            let batch = if tail {
                frame.tail(rows)?
            } else {
                frame.head(rows)?
            };
            print_out(csv_text(&batch)?)?;
        }
        Command::DayGapOffset { paths, source } => {
            let ens = source.open(&paths)?;
            note_skipped(&ens)?;
            print_out(format!("{}\n", ens.find_day_gap_offset()?))?;
        }
        Command::Generate(a) => {
            let cfg = a.config();
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

/// The program that runs `--cluster` commands: `lsstseries-ballista` beside this one,
/// which is this same command line with the Ballista backend linked in.
const CLUSTER_PROGRAM: &str = "lsstseries-ballista";

/// Hands the whole command line to [`CLUSTER_PROGRAM`] (replacing this process), since
/// this program links no cluster backend; returns only on failure.
fn run_on_cluster_program(address: &str) -> ExitCode {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join(CLUSTER_PROGRAM)));
    let Some(program) = beside.filter(|p| p.is_file()) else {
        note!(
            "error: --cluster {address}: this program has no cluster backend, and \
             {CLUSTER_PROGRAM} is not beside it; build it (cargo build --release -p \
             lsstseries-ballista) and keep it in the same directory as lsstseries"
        );
        return ExitCode::FAILURE;
    };
    let mut cmd = std::process::Command::new(&program);
    cmd.args(std::env::args_os().skip(1));
    #[cfg(unix)]
    let err = std::os::unix::process::CommandExt::exec(&mut cmd);
    #[cfg(not(unix))]
    let err = match cmd.status() {
        Ok(status) => return ExitCode::from(status.code().unwrap_or(1).clamp(0, 255) as u8),
        Err(e) => e,
    };
    note!(
        "error: --cluster {address}: cannot start {}: {err}",
        program.display()
    );
    ExitCode::FAILURE
}

// The lsstseries-ballista program includes this file as a module and calls `run_cli`.
#[allow(dead_code)]
fn main() -> ExitCode {
    run_cli(true)
}

/// The command line; a `--cluster` command whose backend this program lacks is handed to
/// the cluster program when `hand_over` is set (else it fails, naming what is missing).
pub(crate) fn run_cli(hand_over: bool) -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return report_parse_error(e),
    };
    if let Some((address, ships)) = cli.command.as_ref().and_then(Command::cluster) {
        if !ships {
            note!(
                "error: --cluster {address}: this command reads the partitions it needs in \
                 this process; run it without --cluster"
            );
            return ExitCode::FAILURE;
        }
        if hand_over && !lsstseries::cluster::cluster_scheme_registered(address) {
            return run_on_cluster_program(address);
        }
    }
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
    if let Some(level) = cli.log {
        start_logs(level);
    }
    // Logs and a bar would draw over each other.
    let show_progress = !cli.no_progress && cli.log.is_none();
    let result = match cli.command {
        Some(command) => run(command, show_progress),
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
