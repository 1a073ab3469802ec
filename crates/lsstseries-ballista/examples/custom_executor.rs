//! A function of your own on the cluster: a scheduler and executor program with one extra
//! registered function, `flux_range` (max - min flux per lightcurve). Plans ship functions
//! by name, so the executors (and the scheduler, which decodes plans, and the client) must
//! have it in their registry: compile it into your own program, as here.
//!
//! ```sh
//! cargo build --release -p lsstseries-ballista --example custom_executor
//! X=target/release/examples/custom_executor
//! $X scheduler --bind-port 50050 &
//! $X executor --bind-port 50051 --bind-grpc-port 50052 --scheduler-port 50050 &
//! $X run df://127.0.0.1:50050 /path/to/sources   # flux_range on the cluster, checked against local
//! $X demo                                          # all of it in this process, on generated data
//! ```

use lsstseries::analysis::{closure_function, FunctionRegistry, LightcurveFunction};
use lsstseries::io::generate::{generate, GeneratorConfig};
use lsstseries::{ColumnMap, Ensemble, Partitioning, Role};
use lsstseries_ballista::server::{
    print_listening, run_executor, run_scheduler, ExecutorOptions, SchedulerOptions,
};
use std::sync::Arc;

/// max - min of the flux of a lightcurve.
fn flux_range() -> Arc<dyn LightcurveFunction> {
    closure_function(
        "flux_range",
        &[Role::Flux],
        vec![arrow::datatypes::Field::new(
            "flux_range",
            arrow::datatypes::DataType::Float64,
            true,
        )],
        |lc, out| {
            let (lo, hi) = lc
                .flux
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &f| {
                    (lo.min(f), hi.max(f))
                });
            out.push(if lo <= hi { hi - lo } else { f64::NAN })
        },
    )
}

/// The built-ins and ours: the same in every program of the cluster and in the client.
fn registry() -> FunctionRegistry {
    let mut r = FunctionRegistry::with_builtins();
    r.register(flux_range());
    r
}

/// The program's commands: our scheduler and executor flags, and a client.
#[derive(clap::Parser)]
enum Command {
    /// A scheduler whose registry has `flux_range`.
    Scheduler(SchedulerOptions),
    /// An executor whose registry has `flux_range`.
    Executor(ExecutorOptions),
    /// `flux_range` of the sources at PATH on the cluster at ADDRESS, checked against local.
    Run {
        /// df://HOST:PORT
        address: String,
        /// Parquet files, a directory or a glob.
        path: std::path::PathBuf,
    },
    /// All of it in this process, on generated data.
    Demo,
}

/// Computes `flux_range` for the sources at `path` on the cluster at `address` and
/// locally, and says whether they agree.
fn run(address: &str, path: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    lsstseries_ballista::install();
    let mut ens = Ensemble::builder()
        .registry(registry())
        .cluster(address)
        .build()?;
    ens.from_parquet(path, ColumnMap::generated(), Partitioning::RowGroups)?;
    let frame = ens.batch_named("flux_range")?;
    let remote = frame.compute()?;
    let local = frame.local().compute()?;
    println!(
        "flux_range on {address}: {} objects, {} the local result",
        remote.num_rows(),
        if remote == local {
            "equal to"
        } else {
            "DIFFERENT from"
        }
    );
    if remote != local {
        return Err("the cluster's result differs from the local one".into());
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let command = <Command as clap::Parser>::parse();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match command {
        Command::Scheduler(o) => rt.block_on(run_scheduler(
            &o.bind_host,
            o.bind_port,
            registry(),
            print_listening("scheduler"),
        ))?,
        Command::Executor(o) => {
            rt.block_on(run_executor(o, registry(), print_listening("executor")))?
        }
        Command::Run { address, path } => run(&address, &path)?,
        Command::Demo => {
            let address = rt.block_on(lsstseries_ballista::start_standalone(registry(), 2, 2))?;
            let dir = tempfile::tempdir()?;
            let cfg = GeneratorConfig {
                objects: 500,
                observations: 50,
                files: 4,
                scatter: true,
                ..GeneratorConfig::default()
            };
            generate(&cfg, dir.path())?;
            run(&address, dir.path())?;
        }
    }
    Ok(())
}
