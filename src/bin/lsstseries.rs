//! `lsstseries`: the engine from the command line, for people who will not write Rust.

use lsstseries::io::generate::{generate, GeneratorConfig};
use lsstseries::io::{parse_size, write_csv, write_parquet, SourceOptions};
use lsstseries::{BatchMode, ColumnMap, Ensemble, Error, Partitioning};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

const HELP: &str = "\
lsstseries — per-lightcurve statistics over Parquet lightcurve tables

USAGE
  lsstseries <COMMAND> [ARGS] [OPTIONS]

COMMANDS
  batch <function> <path> --out <file.csv|file.parquet>
        Compute <function> for every object of the Parquet file or directory <path>;
        one output row per object, id first, in id order.
  explain <function> <path>
        Show the plan batch would run: as written, optimized (which rules fired and
        why, e.g. whether a shuffle is needed), and the physical stages. --dot for Graphviz.
  sf2 <path> --out <file.csv|file.parquet>
        Structure function per object and band (or --combine: all objects pooled per
        band): one row per time-lag bin.
  info <path>
        Rows, id range, columns, partitions and memory of the source and object tables.
  generate <dir>
        Write a deterministic synthetic dataset (sinusoidal variables and constant stars).
  functions
        List the functions batch and explain accept.

COLUMN OPTIONS (batch, explain, info)
  --id C --time C --flux C --err C --band C
        Which columns hold the object id, time, flux, flux error and band.
        Default: the generator's names (id, mjd, flux, flux_err, band).
  --columns tape
        Use TAPE's mapping (ps1_objid, midPointTai, psFlux, psFluxErr, filterName).

PARTITION AND RUN OPTIONS
  --partition-size S   Re-cut partitions to about S of decoded data (5KB, 64MB, 1GiB).
  --partitions N       Re-cut into N partitions.   (default: one per Parquet row group)
  --mode M             auto (default): shuffle only if lightcurves span partitions;
                       per-partition: no data movement (wrong for split lightcurves);
                       grouped: always regroup by id.
  --threads N          Worker threads (default: all cores).
  --bands g,r          Bands to report (default: found in the data).

STRUCTURE FUNCTION OPTIONS (sf2)
  --method M           basic (default), bauer_2009a, bauer_2009b, schmidt_2010, macleod_2012
  --bin-method B       size (default: equal counts), length, loglength
  --bins e0,e1,...     explicit time-lag bin edges instead
  --bin-count-target N target pairs per bin (100)
  --combine            pool all objects' pairs per band
  --bootstrap N        estimate 1-sigma errors from N bootstrap repetitions (seed: --seed)

GENERATE OPTIONS
  --objects N (1000)  --observations M (200)  --bands g,r,i  --files F (1)
  --row-groups R (1 per file)  --shuffle (row order within files)
  --scatter (spread each lightcurve over files)  --seed S (42)

EXAMPLES
  lsstseries generate /tmp/lc --objects 10000 --files 4
  lsstseries batch stetson_j /tmp/lc --out sj.csv
  lsstseries batch stetson_j data/tape/test_source.parquet --columns tape --partition-size 5KB --out sj.csv
  lsstseries explain stetson_j data/tape/test_source.parquet --columns tape --partition-size 5KB
  lsstseries sf2 data/tape/test_source.parquet --columns tape --method macleod_2012 --bootstrap 100 --out sf.csv
";

struct Args {
    positional: Vec<String>,
    options: HashMap<String, String>,
    flags: Vec<String>,
}

const FLAGS: [&str; 5] = ["--shuffle", "--scatter", "--dot", "--help", "--combine"];

fn parse(args: Vec<String>) -> Result<Args, Error> {
    let mut out = Args {
        positional: Vec::new(),
        options: HashMap::new(),
        flags: Vec::new(),
    };
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        if FLAGS.contains(&a.as_str()) || a == "-h" {
            out.flags.push(if a == "-h" { "--help".into() } else { a });
        } else if let Some(name) = a.strip_prefix("--") {
            let (k, v) = match name.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => {
                    let v = it.next().ok_or_else(|| {
                        Error::InvalidArgument(format!("option --{name} needs a value"))
                    })?;
                    (name.to_string(), v)
                }
            };
            out.options.insert(k, v);
        } else {
            out.positional.push(a);
        }
    }
    Ok(out)
}

impl Args {
    fn take(&mut self, key: &str) -> Option<String> {
        self.options.remove(key)
    }
    fn number(&mut self, key: &str, default: usize) -> Result<usize, Error> {
        match self.take(key) {
            None => Ok(default),
            Some(v) => v.parse().map_err(|_| {
                Error::InvalidArgument(format!("--{key} {v}: expected a whole number"))
            }),
        }
    }
    fn flag(&self, f: &str) -> bool {
        self.flags.iter().any(|x| x == f)
    }
    fn finish(&self) -> Result<(), Error> {
        if let Some(k) = self.options.keys().next() {
            return Err(Error::InvalidArgument(format!(
                "unknown option --{k} (see --help)"
            )));
        }
        Ok(())
    }
}

fn column_map(a: &mut Args) -> Result<ColumnMap, Error> {
    let mut map = match a.take("columns").as_deref() {
        None | Some("generated") => ColumnMap::generated(),
        Some("tape") => ColumnMap::tape(),
        Some(other) => {
            return Err(Error::InvalidArgument(format!(
                "--columns {other}: expected 'tape' or 'generated'"
            )))
        }
    };
    for (key, slot) in [
        ("id", &mut map.id),
        ("time", &mut map.time),
        ("flux", &mut map.flux),
        ("err", &mut map.err),
        ("band", &mut map.band),
    ] {
        if let Some(v) = a.take(key) {
            *slot = v;
        }
    }
    Ok(map)
}

fn open(a: &mut Args, path: &str) -> Result<Ensemble, Error> {
    let columns = column_map(a)?;
    let partitioning = match (a.take("partition-size"), a.take("partitions")) {
        (Some(_), Some(_)) => {
            return Err(Error::InvalidArgument(
                "give --partition-size or --partitions, not both".into(),
            ))
        }
        (Some(s), None) => Partitioning::Bytes(parse_size(&s)?),
        (None, Some(n)) => Partitioning::Count(n.parse().map_err(|_| {
            Error::InvalidArgument(format!("--partitions {n}: expected a whole number"))
        })?),
        (None, None) => Partitioning::RowGroups,
    };
    let threads = a.number("threads", 0)?;
    let mut ens = if threads > 0 {
        Ensemble::builder().n_workers(threads).build()?
    } else {
        Ensemble::new()?
    };
    let mut options = SourceOptions::new(columns, partitioning);
    options.bands = a
        .take("bands")
        .map(|b| b.split(',').map(|s| s.trim().to_string()).collect());
    ens.from_parquet_with(path, options)?;
    Ok(ens)
}

fn output_path(a: &mut Args, command: &str) -> Result<PathBuf, Error> {
    let out = PathBuf::from(a.take("out").ok_or_else(|| {
        Error::InvalidArgument(format!("{command} needs --out <file.csv|file.parquet>"))
    })?);
    match out.extension().and_then(|e| e.to_str()) {
        Some("csv" | "parquet") => Ok(out),
        _ => Err(Error::InvalidArgument(format!(
            "--out {}: use a .csv or .parquet file name",
            out.display()
        ))),
    }
}

fn write_result(out: &std::path::Path, result: &arrow::array::RecordBatch) -> Result<(), Error> {
    match out.extension().and_then(|e| e.to_str()) {
        Some("parquet") => write_parquet(out, result),
        _ => write_csv(out, result),
    }
}

fn positional(a: &Args, i: usize, what: &str) -> Result<String, Error> {
    a.positional
        .get(i)
        .cloned()
        .ok_or_else(|| Error::InvalidArgument(format!("missing {what} (see --help)")))
}

fn run(argv: Vec<String>) -> Result<(), Error> {
    let mut a = parse(argv)?;
    if a.positional.is_empty() || a.flag("--help") {
        print!("{HELP}");
        return Ok(());
    }
    let command = a.positional[0].clone();
    match command.as_str() {
        "functions" => {
            for name in lsstseries::FunctionRegistry::with_builtins().names() {
                println!("{name}");
            }
            Ok(())
        }
        "info" => {
            let path = positional(&a, 1, "<path>")?;
            let ens = open(&mut a, &path)?;
            a.finish()?;
            print!("{}", ens.info()?);
            Ok(())
        }
        "explain" => {
            let function = positional(&a, 1, "<function>")?;
            let path = positional(&a, 2, "<path>")?;
            let mode: BatchMode = a.take("mode").as_deref().unwrap_or("auto").parse()?;
            let ens = open(&mut a, &path)?;
            a.finish()?;
            let frame = ens.batch_named_with(&function, mode)?;
            if a.flag("--dot") {
                print!("{}", frame.explain_dot()?);
            } else {
                print!("{}", frame.explain()?);
            }
            Ok(())
        }
        "batch" => {
            let function = positional(&a, 1, "<function>")?;
            let path = positional(&a, 2, "<path>")?;
            let out = output_path(&mut a, "batch")?;
            let mode: BatchMode = a.take("mode").as_deref().unwrap_or("auto").parse()?;
            let t0 = Instant::now();
            let ens = open(&mut a, &path)?;
            a.finish()?;
            let frame = ens.batch_named_with(&function, mode)?;
            for w in frame.warnings()? {
                eprintln!("warning: {w}");
            }
            let (result, metrics) = frame.compute_with_metrics()?;
            write_result(&out, &result)?;
            let secs = t0.elapsed().as_secs_f64();
            eprintln!(
                "{function}: {} rows in, {} result rows out, {} stage(s), {} tasks, {:.3} s ({:.0} rows/s) -> {}",
                metrics.rows_in,
                metrics.rows_out,
                metrics.stages.len(),
                metrics.stages.iter().map(|s| s.tasks).sum::<usize>(),
                secs,
                metrics.rows_in as f64 / secs,
                out.display()
            );
            Ok(())
        }
        "sf2" => {
            use lsstseries::analysis::structure_function::{Binning, Bootstrap, SfOptions};
            let path = positional(&a, 1, "<path>")?;
            let out = output_path(&mut a, "sf2")?;
            let mut options = SfOptions::default();
            if let Some(m) = a.take("method") {
                options.estimator = m.parse()?;
            }
            if let Some(b) = a.take("bin-method") {
                options.binning = b.parse()?;
            }
            if let Some(edges) = a.take("bins") {
                let parsed: Result<Vec<f64>, _> = edges.split(',').map(|x| x.trim().parse::<f64>()).collect();
                options.binning = Binning::Edges(parsed.map_err(|_| {
                    Error::InvalidArgument(format!("--bins {edges}: expected comma-separated numbers"))
                })?);
            }
            options.bin_count_target = a.number("bin-count-target", options.bin_count_target)?;
            let reps = a.number("bootstrap", 0)?;
            let seed = a.number("seed", 42)? as u64;
            if reps > 0 {
                options.bootstrap = Some(Bootstrap { repetitions: reps, seed, ..Bootstrap::default() });
            }
            let t0 = Instant::now();
            let ens = open(&mut a, &path)?;
            a.finish()?;
            let source = ens.source()?;
            let frame = if a.flag("--combine") {
                source.structure_function_pooled(&options)?
            } else {
                source.structure_function(&options)?
            };
            let result = frame.compute()?;
            write_result(&out, &result)?;
            eprintln!(
                "sf2 ({}): {} rows -> {} in {:.3} s",
                options.estimator.name(),
                result.num_rows(),
                out.display(),
                t0.elapsed().as_secs_f64()
            );
            Ok(())
        }
        "generate" => {
            let dir = PathBuf::from(positional(&a, 1, "<dir>")?);
            let d = GeneratorConfig::default();
            let cfg = GeneratorConfig {
                objects: a.number("objects", d.objects)?,
                observations: a.number("observations", d.observations)?,
                bands: a
                    .take("bands")
                    .map(|b| b.split(',').map(|s| s.trim().to_string()).collect())
                    .unwrap_or(d.bands),
                files: a.number("files", d.files)?,
                row_groups_per_file: a.number("row-groups", d.row_groups_per_file)?,
                shuffle_rows: a.flag("--shuffle"),
                scatter: a.flag("--scatter"),
                seed: a.number("seed", d.seed as usize)? as u64,
                ..d
            };
            a.finish()?;
            let t0 = Instant::now();
            let s = generate(&cfg, &dir)?;
            eprintln!(
                "wrote {} objects, {} rows in {} file(s) under {} in {:.2} s (columns: id, mjd, flux, flux_err, band)",
                s.objects,
                s.rows,
                s.files.len(),
                dir.display(),
                t0.elapsed().as_secs_f64()
            );
            Ok(())
        }
        other => Err(Error::InvalidArgument(format!(
            "unknown command '{other}' (commands: batch, explain, info, generate, functions; see --help)"
        ))),
    }
}

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
    // SAFETY: mallopt only adjusts glibc malloc parameters; called before any threads.
    unsafe {
        mallopt(M_MMAP_THRESHOLD, 256 << 20);
        mallopt(M_TRIM_THRESHOLD, 512 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_allocator() {}

fn main() -> ExitCode {
    tune_allocator();
    match run(std::env::args().skip(1).collect()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
