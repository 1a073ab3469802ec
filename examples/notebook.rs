//! The lsstseries notebook "Scaling to Large Data Volume", step by step, on the bundled
//! TAPE test file (data/tape/test_source.parquet).
//!
//! Run: `cargo run --release --example notebook`

use lsstseries::{BatchMode, ColumnMap, Ensemble, Executor, ExecutorConfig, Partitioning};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/data/tape/test_source.parquet").to_string()
    });

    println!("## 1. The default executor (ens.client_info())");
    let ens = Ensemble::new()?;
    println!("{}\n", ens.executor_info());
    ens.close();

    println!("## 2. A tailored executor: 3 workers x 2 threads");
    let tailored = Ensemble::builder()
        .n_workers(3)
        .threads_per_worker(2)
        .build()?;
    println!("{}\n", tailored.executor_info());
    tailored.close();

    println!("## 3. One executor shared by two ensembles (Ensemble(client=client))");
    let shared = Executor::new(ExecutorConfig::default().n_workers(2))?;
    let a = Ensemble::with_executor(shared.clone());
    let b = Ensemble::with_executor(shared.clone());
    println!(
        "same executor: {} (a sees {} threads, b sees {})",
        std::sync::Arc::ptr_eq(a.executor(), b.executor()),
        a.executor_info().total_threads,
        b.executor_info().total_threads
    );
    a.close();
    println!(
        "after closing ensemble a, the shared executor is {:?}\n",
        b.executor_info().status
    );
    drop(b);

    println!("## 4. from_parquet with 5KB partitions");
    let mut ens = Ensemble::new()?;
    ens.from_parquet(&path, ColumnMap::tape(), Partitioning::size("5KB")?)?;
    let source = ens.source_table()?;
    println!(
        "{} rows in {} partitions ({}), about {:.0} bytes per decoded row\n",
        source.rows,
        source.partitions.len(),
        source.partitioning,
        source.bytes_per_row
    );

    println!("## 5. ens.info()");
    println!("{}", ens.info()?);

    println!("## 6. batch(stetson_j) in the three modes");
    for mode in [BatchMode::PerPartition, BatchMode::Grouped, BatchMode::Auto] {
        let frame = ens.batch_named_with("stetson_j", mode)?;
        let (result, metrics) = frame.compute_with_metrics()?;
        println!(
            "mode={mode:<13} results={:>3}  rows in={} out={}  stages={}  shuffled={} B",
            result.num_rows(),
            metrics.rows_in,
            metrics.rows_out,
            metrics.stages.len(),
            metrics.bytes_shuffled
        );
        for w in frame.warnings()? {
            println!("  warning: {w}");
        }
    }

    println!("\n## 7. explain() of the default (auto) batch");
    println!("{}", ens.batch_named("stetson_j")?.explain()?);

    println!("## 8. The result (first rows)");
    let result = ens.batch_named("stetson_j")?.compute()?;
    let out = std::env::temp_dir().join("lsstseries_stetson_j.csv");
    lsstseries::io::write_csv(&out, &result)?;
    for line in std::fs::read_to_string(&out)?.lines().take(6) {
        println!("  {line}");
    }
    println!(
        "  ... ({} objects; full table in {})",
        result.num_rows(),
        out.display()
    );
    println!("\n{}", ens.executor_info());
    Ok(())
}
