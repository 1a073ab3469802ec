//! `lsstseries-ballista`: our Ballista scheduler and executor programs, and a client that
//! runs `batch` on a cluster.

use clap::{Parser, Subcommand, ValueEnum};
use lsstseries::analysis::FunctionRegistry;
use lsstseries::io::{write_csv, write_parquet};
use lsstseries::{ColumnMap, Ensemble, Partitioning};
use lsstseries_ballista::server::{run_executor, run_scheduler, ExecutorOptions};
use lsstseries_ballista::{lower_frame, run_on_cluster, LsstCodec};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

#[derive(Parser)]
#[command(version, about = "lsstseries on an Apache DataFusion Ballista cluster")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Preset {
    /// id, mjd, flux, flux_err, band
    Generated,
    /// ps1_objid, midPointTai, psFlux, psFluxErr, filterName
    Tape,
}

#[derive(Subcommand)]
enum Command {
    /// Run a scheduler; prints `scheduler listening on HOST:PORT` first.
    Scheduler {
        /// Host to bind.
        #[arg(long, default_value = "127.0.0.1")]
        bind_host: String,
        /// Port (0: a free one).
        #[arg(long, default_value_t = 50050)]
        bind_port: u16,
    },
    /// Run an executor; prints `executor listening on HOST:PORT` first.
    Executor {
        /// Host to bind.
        #[arg(long, default_value = "127.0.0.1")]
        bind_host: String,
        /// Arrow Flight port, where shuffle data is served (0: a free one).
        #[arg(long, default_value_t = 50051)]
        bind_port: u16,
        /// gRPC port (0: a free one).
        #[arg(long, default_value_t = 50052)]
        bind_grpc_port: u16,
        /// The scheduler's host.
        #[arg(long, default_value = "127.0.0.1")]
        scheduler_host: String,
        /// The scheduler's port.
        #[arg(long, default_value_t = 50050)]
        scheduler_port: u16,
        /// Tasks run at once.
        #[arg(long, default_value_t = 2)]
        concurrent_tasks: usize,
        /// Directory of shuffle files (default: a temporary directory).
        #[arg(long)]
        work_dir: Option<String>,
    },
    /// Apply a registered per-lightcurve function to every object and write the result.
    Batch {
        /// Function name (see `lsstseries functions`).
        function: String,
        /// Parquet files, directories or glob patterns.
        #[arg(required = true)]
        paths: Vec<PathBuf>,
        /// Scheduler address, df://HOST:PORT (without it: run locally).
        #[arg(long)]
        cluster: Option<String>,
        /// Output file, .parquet or .csv.
        #[arg(long)]
        out: PathBuf,
        /// Column mapping.
        #[arg(long, value_enum, default_value_t = Preset::Generated)]
        columns: Preset,
        /// Re-cut into N partitions (default: one per row group).
        #[arg(long)]
        partitions: Option<usize>,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 600)]
        timeout: u64,
    },
}

fn listening(kind: &'static str) -> impl FnOnce(std::net::SocketAddr) {
    move |addr| {
        println!("{kind} listening on {addr}");
        let _ = std::io::stdout().flush();
    }
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let registry = FunctionRegistry::with_builtins();
    match cli.command {
        Command::Scheduler {
            bind_host,
            bind_port,
        } => run_scheduler(&bind_host, bind_port, registry, listening("scheduler")).await?,
        Command::Executor {
            bind_host,
            bind_port,
            bind_grpc_port,
            scheduler_host,
            scheduler_port,
            concurrent_tasks,
            work_dir,
        } => {
            let opts = ExecutorOptions {
                bind_host,
                bind_port,
                bind_grpc_port,
                scheduler_host,
                scheduler_port,
                concurrent_tasks,
                work_dir,
            };
            run_executor(opts, registry, listening("executor")).await?
        }
        Command::Batch {
            function,
            paths,
            cluster,
            out,
            columns,
            partitions,
            timeout,
        } => {
            let columns = match columns {
                Preset::Generated => ColumnMap::generated(),
                Preset::Tape => ColumnMap::tape(),
            };
            let partitioning = partitions.map_or(Partitioning::RowGroups, Partitioning::Count);
            let mut ens = Ensemble::builder().registry(registry.clone()).build()?;
            ens.from_parquet(
                lsstseries::io::SourcePaths::new(&paths),
                columns,
                partitioning,
            )?;
            let frame = ens.source()?.batch_named(&function)?;
            let result = match cluster {
                Some(address) => {
                    let lowered = lower_frame(&frame)?;
                    let codec = Arc::new(LsstCodec::new(registry));
                    run_on_cluster(&lowered, &address, codec, Duration::from_secs(timeout)).await?
                }
                None => frame.compute()?,
            };
            match out.extension().and_then(|e| e.to_str()) {
                Some("csv") => write_csv(&out, &result)?,
                _ => write_parquet(&out, &result)?,
            }
            eprintln!("{} rows written to {}", result.num_rows(), out.display());
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: starting the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
