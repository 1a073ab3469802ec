//! A work-stealing thread pool (crossbeam-deque): one global injector for work submitted
//! from outside, one LIFO deque per thread for work a task spawns, random-victim stealing,
//! and a sleep protocol that re-checks the queues under the lock so no wake-up is lost.
//!
//! A task is a whole partition (never one lightcurve). A panicking task is caught and
//! returned as that task's error; the pool keeps running.

mod cancel;
mod info;
mod memory;
pub mod monitor;

pub use cancel::Cancellation;
pub use info::{ClusterExecutor, ClusterInfo, ExecutorInfo, ExecutorStatus};
pub use memory::{MemoryPool, TaskReservation};
pub use monitor::{
    ClusterProbe, ComputeHandle, ComputePlan, ComputeSnapshot, ComputeStatus, Monitor,
    MonitorEvent, RunningTask, StageProgress, StatusSnapshot, TaskSpan, TaskToken, ThreadActivity,
};

use crate::error::{Error, Result};
use crossbeam_deque::{Injector, Steal, Stealer, Worker};
use std::any::Any;
use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

type Job = Box<dyn FnOnce() + Send + 'static>;

/// The outcome of one task: its value, or the panic message.
pub type TaskResult<T> = std::result::Result<T, String>;

/// How an executor is sized.
///
/// ```
/// use lsstseries::ExecutorConfig;
/// let cfg = ExecutorConfig::default().n_workers(3).threads_per_worker(2);
/// assert_eq!(cfg.total_threads(), 6);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutorConfig {
    /// Worker groups (Dask's workers). In this in-process pool they are a grouping of
    /// threads reported by `executor_info()`; a distributed backend maps them to machines.
    pub workers: usize,
    /// Threads in each worker.
    pub threads_per_worker: usize,
    /// Upper bound on bytes one run may hold at once, over every operator (partitions in
    /// flight, shuffle buckets, gathered results); shuffle buckets and results spill to
    /// `spill_dir` beyond it. `None` = no limit.
    pub memory_limit: Option<usize>,
    /// Where runs write spill files (a fresh subdirectory per run, removed afterwards);
    /// `None` = the system's temporary directory.
    pub spill_dir: Option<std::path::PathBuf>,
}

impl Default for ExecutorConfig {
    /// One single-threaded worker per available core, no memory limit.
    fn default() -> Self {
        ExecutorConfig {
            workers: std::thread::available_parallelism().map_or(1, |n| n.get()),
            threads_per_worker: 1,
            memory_limit: None,
            spill_dir: None,
        }
    }
}

impl ExecutorConfig {
    /// Sets the number of workers.
    pub fn n_workers(mut self, n: usize) -> Self {
        self.workers = n;
        self
    }
    /// Sets threads per worker.
    pub fn threads_per_worker(mut self, n: usize) -> Self {
        self.threads_per_worker = n;
        self
    }
    /// Sets a memory limit in bytes.
    pub fn memory_limit(mut self, bytes: usize) -> Self {
        self.memory_limit = Some(bytes);
        self
    }
    /// Sets the directory for spill files.
    pub fn spill_dir(mut self, dir: impl Into<std::path::PathBuf>) -> Self {
        self.spill_dir = Some(dir.into());
        self
    }
    /// Threads in the pool.
    pub fn total_threads(&self) -> usize {
        self.workers * self.threads_per_worker
    }
}

struct Shared {
    pool_id: usize,
    injector: Injector<Job>,
    stealers: Vec<Stealer<Job>>,
    sleepers: Mutex<usize>,
    wake: Condvar,
    shutdown: AtomicBool,
    tasks_run: AtomicU64,
    steals: AtomicU64,
}

impl Shared {
    fn has_work(&self) -> bool {
        !self.injector.is_empty() || self.stealers.iter().any(|s| !s.is_empty())
    }

    fn notify(&self, all: bool) {
        let sleepers = self.sleepers.lock().unwrap_or_else(|e| e.into_inner());
        if *sleepers > 0 {
            if all {
                self.wake.notify_all();
            } else {
                self.wake.notify_one();
            }
        }
    }
}

thread_local! {
    /// (pool id, worker index) of the current thread, if it is a pool worker.
    static CURRENT: Cell<Option<(usize, usize)>> = const { Cell::new(None) };
}

/// The pool thread index of the calling thread, if it is a pool worker.
pub(crate) fn current_thread_index() -> Option<usize> {
    CURRENT.with(|c| c.get()).map(|(_, i)| i)
}

static NEXT_POOL: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(1);

/// A local work-stealing executor. Share it between ensembles with `Arc<Executor>`.
pub struct Executor {
    config: ExecutorConfig,
    shared: Arc<Shared>,
    monitor: Arc<Monitor>,
    threads: Mutex<Vec<JoinHandle<()>>>,
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Executor")
            .field("config", &self.config)
            .finish()
    }
}

impl Executor {
    /// Starts the threads.
    ///
    /// ```
    /// use lsstseries::{Executor, ExecutorConfig};
    /// let ex = Executor::new(ExecutorConfig::default().n_workers(2)).unwrap();
    /// let out = ex.run((0..4).map(|i| move || i * 10).collect()).unwrap();
    /// assert_eq!(out.into_iter().map(|r| r.unwrap()).collect::<Vec<_>>(), vec![0, 10, 20, 30]);
    /// ex.shutdown();
    /// ```
    pub fn new(config: ExecutorConfig) -> Result<Arc<Self>> {
        if config.workers == 0 || config.threads_per_worker == 0 {
            return Err(Error::InvalidArgument(format!(
                "executor needs at least one worker and one thread per worker (got {} x {})",
                config.workers, config.threads_per_worker
            )));
        }
        let n = config.total_threads();
        let workers: Vec<Worker<Job>> = (0..n).map(|_| Worker::new_lifo()).collect();
        let shared = Arc::new(Shared {
            pool_id: NEXT_POOL.fetch_add(1, Ordering::Relaxed),
            injector: Injector::new(),
            stealers: workers.iter().map(|w| w.stealer()).collect(),
            sleepers: Mutex::new(0),
            wake: Condvar::new(),
            shutdown: AtomicBool::new(false),
            tasks_run: AtomicU64::new(0),
            steals: AtomicU64::new(0),
        });
        let mut threads = Vec::with_capacity(n);
        for (i, w) in workers.into_iter().enumerate() {
            let s = shared.clone();
            let h = std::thread::Builder::new()
                .name(format!("lsstseries-worker-{i}"))
                .spawn(move || worker_loop(s, w, i))
                .map_err(Error::Thread)?;
            threads.push(h);
        }
        Ok(Arc::new(Executor {
            monitor: Arc::new(Monitor::new(
                config.workers,
                config.threads_per_worker,
                config.memory_limit,
            )),
            config,
            shared,
            threads: Mutex::new(threads),
        }))
    }

    /// The configuration it was started with.
    pub fn config(&self) -> &ExecutorConfig {
        &self.config
    }

    /// What the executor is doing: computes, progress, threads, events (see [`Monitor`]).
    pub fn monitor(&self) -> &Arc<Monitor> {
        &self.monitor
    }

    /// Whether `shutdown` has been called.
    pub fn is_closed(&self) -> bool {
        self.shared.shutdown.load(Ordering::Acquire)
    }

    /// A snapshot of the pool's state.
    pub fn info(&self) -> ExecutorInfo {
        ExecutorInfo {
            workers: self.config.workers,
            threads_per_worker: self.config.threads_per_worker,
            total_threads: self.config.total_threads(),
            memory_limit: self.config.memory_limit,
            system_memory: info::system_memory(),
            status: if self.is_closed() {
                ExecutorStatus::Closed
            } else {
                ExecutorStatus::Running
            },
            tasks_run: self.shared.tasks_run.load(Ordering::Relaxed),
            steals: self.shared.steals.load(Ordering::Relaxed),
            dashboard: self.monitor.dashboard(),
            cluster: self.monitor.cluster(),
        }
    }

    /// Runs `tasks` to completion and returns their results in order. A panic in a task
    /// becomes that task's `Err(message)`; the other tasks and the pool are unaffected.
    ///
    /// Called from inside a task of the same pool, the caller helps run queued work while
    /// it waits, so nested runs cannot deadlock.
    pub fn run<T, F>(&self, tasks: Vec<F>) -> Result<Vec<TaskResult<T>>>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        if self.is_closed() {
            return Err(Error::ExecutorClosed);
        }
        let n = tasks.len();
        let (tx, rx) = crossbeam_channel::bounded::<(usize, TaskResult<T>)>(n);
        for (i, task) in tasks.into_iter().enumerate() {
            let tx = tx.clone();
            let job: Job = Box::new(move || {
                let r = catch_unwind(AssertUnwindSafe(task)).map_err(panic_message);
                let _ = tx.send((i, r));
            });
            self.shared.injector.push(job);
        }
        drop(tx);
        self.shared.notify(true);
        let mut out: Vec<Option<TaskResult<T>>> = (0..n).map(|_| None).collect();
        let nested = CURRENT
            .with(|c| c.get())
            .is_some_and(|(p, _)| p == self.shared.pool_id);
        let mut received = 0;
        while received < n {
            let msg = if nested {
                match rx.try_recv() {
                    Ok(m) => Some(m),
                    Err(_) => {
                        if let Steal::Success(job) = self.shared.injector.steal() {
                            job();
                        } else {
                            std::thread::yield_now();
                        }
                        None
                    }
                }
            } else {
                match rx.recv() {
                    Ok(m) => Some(m),
                    Err(_) => return Err(Error::ExecutorClosed),
                }
            };
            if let Some((i, r)) = msg {
                out[i] = Some(r);
                received += 1;
            }
        }
        // Counted once per run, when every result is in: exact as soon as `run` returns,
        // and no shared counter touched per task.
        self.shared.tasks_run.fetch_add(n as u64, Ordering::Relaxed);
        Ok(out
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err("task lost".into())))
            .collect())
    }

    /// Stops the threads after the queued work drains, and joins them. Idempotent.
    pub fn shutdown(&self) {
        self.shared.shutdown.store(true, Ordering::Release);
        self.shared.notify(true);
        let handles: Vec<_> =
            std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()));
        let me = std::thread::current().id();
        for h in handles {
            if h.thread().id() != me {
                let _ = h.join();
            }
        }
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn panic_message(p: Box<dyn Any + Send>) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_string()
    }
}

fn worker_loop(shared: Arc<Shared>, local: Worker<Job>, index: usize) {
    CURRENT.with(|c| c.set(Some((shared.pool_id, index))));
    let mut rng = (index as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    loop {
        if let Some(job) = find_job(&shared, &local, index, &mut rng) {
            job();
            continue;
        }
        let mut sleepers = shared.sleepers.lock().unwrap_or_else(|e| e.into_inner());
        if shared.has_work() {
            continue;
        }
        if shared.shutdown.load(Ordering::Acquire) {
            break;
        }
        *sleepers += 1;
        sleepers = shared
            .wake
            .wait(sleepers)
            .unwrap_or_else(|e| e.into_inner());
        *sleepers -= 1;
    }
}

fn find_job(shared: &Shared, local: &Worker<Job>, index: usize, rng: &mut u64) -> Option<Job> {
    if let Some(j) = local.pop() {
        return Some(j);
    }
    loop {
        match shared.injector.steal_batch_and_pop(local) {
            Steal::Success(j) => return Some(j),
            Steal::Retry => continue,
            Steal::Empty => break,
        }
    }
    let n = shared.stealers.len();
    if n > 1 {
        *rng ^= *rng << 13;
        *rng ^= *rng >> 7;
        *rng ^= *rng << 17;
        let start = (*rng % n as u64) as usize;
        for k in 0..n {
            let v = (start + k) % n;
            if v == index {
                continue;
            }
            loop {
                match shared.stealers[v].steal() {
                    Steal::Success(j) => {
                        shared.steals.fetch_add(1, Ordering::Relaxed);
                        return Some(j);
                    }
                    Steal::Retry => continue,
                    Steal::Empty => break,
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_in_order_and_contains_panics() {
        let ex = Executor::new(ExecutorConfig::default().n_workers(2)).unwrap();
        let tasks: Vec<Box<dyn FnOnce() -> usize + Send>> = (0..100usize)
            .map(|i| {
                Box::new(move || {
                    if i == 7 {
                        panic!("boom at {i}");
                    }
                    i * 2
                }) as Box<dyn FnOnce() -> usize + Send>
            })
            .collect();
        let out = ex.run(tasks).unwrap();
        assert_eq!(out[3], Ok(6));
        assert!(out[7].as_ref().unwrap_err().contains("boom at 7"));
        // the pool survives
        let again = ex.run(vec![|| 1]).unwrap();
        assert_eq!(again, vec![Ok(1)]);
        assert_eq!(ex.info().tasks_run, 101);
        ex.shutdown();
        assert!(ex.run(vec![|| 1]).is_err());
    }

    #[test]
    fn nested_runs_do_not_deadlock() {
        let ex = Executor::new(ExecutorConfig::default().n_workers(1)).unwrap();
        let inner = ex.clone();
        let out = ex
            .run(vec![move || {
                inner
                    .run((0..4).map(|i| move || i).collect::<Vec<_>>())
                    .unwrap()
                    .len()
            }])
            .unwrap();
        assert_eq!(out, vec![Ok(4)]);
    }

    #[test]
    fn zero_workers_is_an_error() {
        assert!(Executor::new(ExecutorConfig::default().n_workers(0)).is_err());
    }
}
