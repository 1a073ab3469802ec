//! Reading `explain()`: why a shuffle is there or not, what fusion did, and what happens
//! when a plan would give wrong answers. The text is stable (snapshot-tested).
//!
//! Run: `cargo run --release --example 07_explain`

use lsstseries::optimizer::Optimizer;
use lsstseries::prelude::*;

fn main() -> std::result::Result<(), Box<dyn std::error::Error>> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/data/tape/test_source.parquet");
    let mut ens = Ensemble::builder().n_workers(2).build()?;

    // Row groups of the TAPE file hold whole lightcurves (row-group statistics prove it):
    // no data movement at all.
    ens.from_parquet(path, ColumnMap::tape(), Partitioning::RowGroups)?;
    println!(
        "### row groups, mode auto\n{}",
        ens.batch_named("stetson_j")?.explain()?
    );

    // 5 KB partitions cut lightcurves; the file is sorted by id, so the cuts move to
    // lightcurve boundaries instead of a shuffle.
    ens.from_parquet(path, ColumnMap::tape(), Partitioning::size("5KB")?)?;
    println!(
        "### 5 KB, mode auto\n{}",
        ens.batch_named("stetson_j")?.explain()?
    );

    // Grouped always shuffles (TAPE's use_map=False); per-partition never does, and warns.
    let grouped = ens.batch_named_with("stetson_j", BatchMode::Grouped)?;
    println!("### 5 KB, mode grouped\n{}", grouped.explain()?);
    let pieces = ens.batch_named_with("stetson_j", BatchMode::PerPartition)?;
    println!("### 5 KB, mode per-partition\n{}", pieces.explain()?);

    // Fusion: a filter and a function run as one task per partition; compare without it.
    let fused = ens
        .source()?
        .filter(col("psFlux").gt(0.0))?
        .batch_named("stetson_j")?;
    println!("### fused\n{}", fused.explain()?);
    let unfused = fused.explain_with(&Optimizer::default().without("fuse_maps"))?;
    println!("### without fuse_maps\n{unfused}");

    // Without enforce_cohesion nothing makes the lightcurves whole: physical planning
    // refuses the plan rather than compute one result per piece.
    let refused = fused.explain_with(&Optimizer::default().without("enforce_cohesion"));
    println!("### without enforce_cohesion\n{}\n", refused.unwrap_err());

    // The optimized plan as Graphviz DOT (`dot -Tsvg`).
    println!("### DOT\n{}", fused.explain_dot()?);
    Ok(())
}
