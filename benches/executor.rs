//! Executor overhead per task: `Executor::run` with N trivial tasks (N = 1,000 and 10,000)
//! from outside the pool, and the same N run nested, from inside a task of the pool.
//! Throughput is in tasks per second; the time per task is its inverse.
//!
//! `cargo bench --bench executor -- --measurement-time 3 --warm-up-time 1`

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use lsstseries::{Executor, ExecutorConfig};

fn trivial(n: usize) -> Vec<impl FnOnce() -> usize + Send + 'static> {
    (0..n).map(|i| move || black_box(i)).collect()
}

fn executor(c: &mut Criterion) {
    let ex = Executor::new(ExecutorConfig::default().n_workers(2)).unwrap();
    let mut group = c.benchmark_group("executor");
    for n in [1_000usize, 10_000] {
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("run", n), &n, |b, &n| {
            b.iter(|| {
                let out = ex.run(trivial(n)).unwrap();
                assert_eq!(out.len(), n);
            })
        });
        // One outer task that runs the N tasks with a nested `run` (the caller helps).
        group.bench_with_input(BenchmarkId::new("nested_run", n), &n, |b, &n| {
            b.iter(|| {
                let inner = ex.clone();
                let out = ex
                    .run(vec![move || inner.run(trivial(n)).unwrap().len()])
                    .unwrap();
                assert_eq!(out, vec![Ok(n)]);
            })
        });
    }
    group.finish();
    ex.shutdown();
}

criterion_group!(benches, executor);
criterion_main!(benches);
