//! The lsstseries notebook "Scaling to Large Data Volume", step by step, on the bundled
//! TAPE test file (data/tape/test_source.parquet): executors, `from_parquet` with
//! partitions, `info()`, `batch` in TAPE's three ways, `explain()`, and the result.
//!
//! Run: `cargo run --release --example 01_notebook [PATH]`

use lsstseries::prelude::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args().nth(1).unwrap_or_else(|| {
        concat!(env!("CARGO_MANIFEST_DIR"), "/data/tape/test_source.parquet").to_string()
    });

    println!("## 1. The default executor (the notebook's client info)");
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

    println!("## 3. from_parquet with 5KB partitions");
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

    println!("## 4. ens.info()");
    println!("{}", ens.info()?);

    println!("## 5. batch(stetson_j) in the three modes");
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
    // Dask cut the notebook's file into 32 partitions (it measured pandas memory, not
    // Arrow's): the same cut reproduces its 45 per-partition results for 15 objects.
    let mut dask_cut = Ensemble::new()?;
    dask_cut.from_parquet(&path, ColumnMap::tape(), Partitioning::Count(32))?;
    let pieces = dask_cut.batch_named_with("stetson_j", BatchMode::PerPartition)?;
    println!(
        "per-partition on Dask's 32 partitions: {} results\n",
        pieces.compute()?.num_rows()
    );

    println!("## 6. explain() of the default (auto) batch");
    println!("{}", ens.batch_named("stetson_j")?.explain()?);

    println!("## 7. The result (first rows)");
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
    Ok(())
}
