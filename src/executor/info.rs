//! What `executor_info()` reports.

use crate::format::human_bytes;
use serde::Serialize;
use std::fmt;

/// Whether an executor accepts work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExecutorStatus {
    /// Threads are running.
    Running,
    /// `shutdown()` was called.
    Closed,
}

/// A snapshot of an executor, like Dask's `client_info()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutorInfo {
    /// Worker groups.
    pub workers: usize,
    /// Threads per worker.
    pub threads_per_worker: usize,
    /// Threads in all.
    pub total_threads: usize,
    /// Configured memory limit of a run, bytes (every operator; buffers spill beyond it).
    pub memory_limit: Option<usize>,
    /// Physical memory of the machine, bytes, where the OS tells.
    pub system_memory: Option<usize>,
    /// Running or closed.
    pub status: ExecutorStatus,
    /// Tasks run so far (counted as each `Executor::run` completes).
    pub tasks_run: u64,
    /// Tasks taken from another thread's deque.
    pub steals: u64,
    /// The live dashboard's address, when one serves this executor.
    pub dashboard: Option<String>,
    /// The cluster computes run on, when the ensemble was built with one
    /// ([`EnsembleBuilder::cluster`](crate::EnsembleBuilder::cluster)); the local threads
    /// above then only plan and gather.
    pub cluster: Option<ClusterInfo>,
}

/// A cluster as its scheduler describes it (what `executor_info()` shows for a cluster).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterInfo {
    /// The engine, e.g. "Apache DataFusion Ballista 55.0.0".
    pub engine: String,
    /// The scheduler's address as given, e.g. `df://127.0.0.1:50050`.
    pub scheduler: String,
    /// Why the scheduler did not answer, when it did not.
    pub unreachable: Option<String>,
    /// Executors registered with the scheduler (empty when it did not answer).
    pub executors: Vec<ClusterExecutor>,
}

/// One executor of a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterExecutor {
    /// The scheduler's name for it.
    pub id: String,
    /// `HOST:PORT` where it serves shuffle data.
    pub address: String,
    /// Tasks it runs at once.
    pub slots: usize,
    /// As the scheduler sees it: "active", "terminating", "dead", "lost" (no recent
    /// heartbeat) or "unknown".
    pub status: String,
    /// Seconds since its last heartbeat, when the scheduler has one.
    pub heartbeat_age_s: Option<u64>,
}

impl ClusterInfo {
    /// Task slots over the executors that are active.
    pub fn active_slots(&self) -> usize {
        self.executors
            .iter()
            .filter(|e| e.status == "active")
            .map(|e| e.slots)
            .sum()
    }
}

impl fmt::Display for ClusterInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Cluster ({})", self.engine)?;
        writeln!(f, "  scheduler:          {}", self.scheduler)?;
        match &self.unreachable {
            None => write!(
                f,
                "  executors:          {} ({} active slots)",
                self.executors.len(),
                self.active_slots()
            )?,
            Some(why) => write!(f, "  status:             not answering: {why}")?,
        }
        for e in &self.executors {
            let age = e
                .heartbeat_age_s
                .map(|s| format!(", heartbeat {s} s ago"))
                .unwrap_or_default();
            write!(
                f,
                "\n    {} at {}: {} slot{}, {}{age}",
                e.id,
                e.address,
                e.slots,
                if e.slots == 1 { "" } else { "s" },
                e.status
            )?;
        }
        Ok(())
    }
}

impl fmt::Display for ExecutorInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Executor (local, work-stealing)")?;
        writeln!(
            f,
            "  status:             {}",
            match self.status {
                ExecutorStatus::Running => "running",
                ExecutorStatus::Closed => "closed",
            }
        )?;
        writeln!(f, "  workers:            {}", self.workers)?;
        writeln!(f, "  threads per worker: {}", self.threads_per_worker)?;
        writeln!(f, "  total threads:      {}", self.total_threads)?;
        let sys = self
            .system_memory
            .map(|m| format!(" (machine: {})", human_bytes(m)))
            .unwrap_or_default();
        match self.memory_limit {
            Some(m) => writeln!(f, "  memory limit:       {}{sys}", human_bytes(m))?,
            None => writeln!(f, "  memory limit:       none{sys}")?,
        }
        write!(
            f,
            "  tasks run:          {} ({} stolen)",
            self.tasks_run, self.steals
        )?;
        if let Some(d) = &self.dashboard {
            write!(f, "\n  dashboard:          {d}")?;
        }
        if let Some(c) = &self.cluster {
            write!(f, "\n{c}")?;
        }
        Ok(())
    }
}

/// Physical memory from /proc/meminfo (Linux); `None` elsewhere.
pub(crate) fn system_memory() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: usize = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}
