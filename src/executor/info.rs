//! What `executor_info()` reports.

use crate::format::human_bytes;
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
