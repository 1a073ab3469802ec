//! `lsstseries-ballista`: our Ballista scheduler and executor programs, and the whole
//! `lsstseries` command line with the Ballista backend linked in, so
//! `lsstseries-ballista batch ... --cluster df://HOST:PORT` runs on a cluster (the core's
//! `lsstseries` hands `--cluster` commands to this program when it sits beside it).

// The core's command line, compiled here with `df://` registered: one source, two programs.
#[path = "../../../src/bin/lsstseries.rs"]
mod core_cli;

use clap::{Parser, Subcommand};
use lsstseries::analysis::FunctionRegistry;
use lsstseries_ballista::server::{run_executor, run_scheduler, ExecutorOptions};
use std::io::Write;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    version,
    about = "lsstseries on an Apache DataFusion Ballista cluster: `scheduler` and `executor` \
             programs; every other command is lsstseries's own (see `lsstseries-ballista --help` \
             without a subcommand for them)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
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
    }
    Ok(())
}

fn main() -> ExitCode {
    // Our own subcommands; anything else is the core's command line.
    let own = std::env::args()
        .nth(1)
        .is_some_and(|a| a == "scheduler" || a == "executor");
    if !own {
        lsstseries_ballista::install();
        return core_cli::run_cli(false);
    }
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
