//! `lsstseries-ballista`: our Ballista scheduler and executor programs, and the whole
//! `lsstseries` command line with the Ballista backend linked in, so
//! `lsstseries-ballista batch ... --cluster df://HOST:PORT` runs on a cluster (the core's
//! `lsstseries` hands `--cluster` commands to this program when it sits beside it).

// The core's command line, compiled here with `df://` registered: one source, two programs.
#[path = "../../../src/bin/lsstseries.rs"]
mod core_cli;

use clap::{Parser, Subcommand};
use lsstseries::analysis::FunctionRegistry;
use lsstseries_ballista::server::{
    print_listening, run_executor, run_scheduler, ExecutorOptions, SchedulerOptions,
};
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
    Scheduler(SchedulerOptions),
    /// Run an executor; prints `executor listening on HOST:PORT` first.
    Executor(ExecutorOptions),
}

async fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    let registry = FunctionRegistry::with_builtins();
    match cli.command {
        Command::Scheduler(o) => {
            run_scheduler(
                &o.bind_host,
                o.bind_port,
                registry,
                print_listening("scheduler"),
            )
            .await?
        }
        Command::Executor(o) => run_executor(o, registry, print_listening("executor")).await?,
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
