//! The memory budget of a run: every operator that holds data (a task's partition and its
//! intermediate batches, shuffle buckets, gathered results) reserves bytes here first.
//!
//! Two kinds of consumers share one limit. Tasks are admitted before they read a
//! partition: a task waits while other tasks hold memory and its estimate would not fit, so
//! the number of partitions in flight adapts to the limit (peak memory scales with workers
//! x partition size, never with the dataset). Buffers (shuffle buckets, results) never wait:
//! when they cannot grow they spill to disk instead. A task alone is always admitted, so
//! waiting cannot deadlock; if its partition alone does not fit, the run fails with
//! [`Error::MemoryLimit`] naming the operation.

use crate::error::{Error, Result};
use std::sync::{Condvar, Mutex};

#[derive(Debug, Default)]
struct Usage {
    /// Bytes reserved by everyone.
    used: usize,
    /// Bytes reserved by running tasks.
    tasks: usize,
    /// Bytes held by tasks that wait to grow (they cannot release until they proceed).
    waiting: usize,
    /// A task runs alone: no other task is admitted until it ends.
    exclusive: bool,
    /// Most bytes reserved at once.
    peak: usize,
}

/// A byte budget shared by the operators of one run.
///
/// ```
/// use lsstseries::MemoryPool;
/// let pool = MemoryPool::new(Some(1000));
/// assert!(pool.try_reserve_buffer(600));
/// assert!(!pool.try_reserve_buffer(600)); // would pass the limit: spill instead
/// pool.release_buffer(600);
/// assert!(pool.try_reserve_buffer(600));
/// assert_eq!(pool.peak(), 600);
/// ```
#[derive(Debug)]
pub struct MemoryPool {
    limit: Option<usize>,
    usage: Mutex<Usage>,
    released: Condvar,
}

impl MemoryPool {
    /// A pool with `limit` bytes (`None`: unlimited, only counted).
    pub fn new(limit: Option<usize>) -> Self {
        MemoryPool {
            limit,
            usage: Mutex::new(Usage::default()),
            released: Condvar::new(),
        }
    }

    /// The limit, if any.
    pub fn limit(&self) -> Option<usize> {
        self.limit
    }

    /// Bytes reserved now.
    pub fn used(&self) -> usize {
        self.lock().used
    }

    /// Most bytes reserved at once so far.
    pub fn peak(&self) -> usize {
        self.lock().peak
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Usage> {
        self.usage.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Admits a task that expects to need `estimate` bytes: waits while other tasks hold
    /// memory and the estimate does not fit; a task alone is admitted whatever it asks.
    /// The reservation starts at `estimate` (clamped to what is free) and is resized to the
    /// task's real batches with [`TaskReservation::resize`].
    ///
    /// An `exclusive` task waits until no other task holds memory: the retry of a task that
    /// could not grow while others held the rest.
    pub fn admit_task(
        &self,
        estimate: usize,
        operation: &str,
        exclusive: bool,
    ) -> TaskReservation<'_> {
        let mut u = self.lock();
        if let Some(limit) = self.limit {
            while u.exclusive
                || (u.tasks > 0 && (exclusive || u.used.saturating_add(estimate) > limit))
            {
                u = self.released.wait(u).unwrap_or_else(|e| e.into_inner());
            }
        }
        let granted = match self.limit {
            Some(limit) => estimate.min(limit.saturating_sub(u.used)),
            None => estimate,
        };
        u.used += granted;
        u.tasks += granted;
        u.peak = u.peak.max(u.used);
        let exclusive = exclusive && self.limit.is_some();
        u.exclusive |= exclusive;
        TaskReservation {
            pool: self,
            bytes: granted,
            operation: operation.to_string(),
            exclusive,
        }
    }

    /// Reserves `bytes` for a buffer if they fit under the limit; `false` means "spill
    /// instead". The owner gives them back with [`MemoryPool::release_buffer`].
    pub fn try_reserve_buffer(&self, bytes: usize) -> bool {
        let mut u = self.lock();
        if let Some(limit) = self.limit {
            if u.used.saturating_add(bytes) > limit {
                return false;
            }
        }
        u.used += bytes;
        u.peak = u.peak.max(u.used);
        true
    }

    /// Gives back `bytes` reserved with [`MemoryPool::try_reserve_buffer`].
    pub fn release_buffer(&self, bytes: usize) {
        self.release(bytes, false);
    }

    /// Reserves `bytes` for a buffer whatever the limit (data that is already in memory and
    /// cannot go elsewhere, counted so the peak is honest).
    pub fn force_reserve_buffer(&self, bytes: usize) {
        let mut u = self.lock();
        u.used += bytes;
        u.peak = u.peak.max(u.used);
    }

    fn release(&self, bytes: usize, task: bool) {
        if bytes == 0 {
            return;
        }
        let mut u = self.lock();
        u.used = u.used.saturating_sub(bytes);
        if task {
            u.tasks = u.tasks.saturating_sub(bytes);
        }
        drop(u);
        self.released.notify_all();
    }
}

/// Memory held by a running task; released when dropped.
#[derive(Debug)]
pub struct TaskReservation<'a> {
    pool: &'a MemoryPool,
    bytes: usize,
    operation: String,
    exclusive: bool,
}

impl TaskReservation<'_> {
    /// Bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Sets the reservation to `bytes` (the task's live batches). Growing past the limit
    /// fails with [`Error::MemoryLimit`]; `make_room` is called first, so buffers can spill
    /// to let the task go on (its error, e.g. a full disk, is returned as is).
    pub fn resize(&mut self, bytes: usize, make_room: impl Fn() -> Result<()>) -> Result<()> {
        if bytes <= self.bytes {
            self.pool.release(self.bytes - bytes, true);
            self.bytes = bytes;
            return Ok(());
        }
        let extra = bytes - self.bytes;
        loop {
            if self.try_grow(extra) {
                return Ok(());
            }
            make_room()?;
            if self.try_grow(extra) || self.wait_to_grow(extra)? {
                return Ok(());
            }
            // Only buffers (which can always spill) stood in the way: spill them again.
        }
    }

    /// Waits for other tasks to release memory, while some task that is not itself waiting
    /// holds memory (it will finish and release). `Ok(true)`: grown. `Ok(false)`: no task
    /// can release, but buffers filled in since `make_room` and the task would fit without
    /// them, so the caller spills again. When the tasks' own memory leaves no room and
    /// every other holder waits too, the task fails rather than deadlock.
    fn wait_to_grow(&mut self, extra: usize) -> Result<bool> {
        let limit = self.pool.limit.unwrap_or(usize::MAX);
        let mut u = self.pool.lock();
        u.waiting += self.bytes;
        loop {
            if u.used.saturating_add(extra) <= limit {
                u.waiting -= self.bytes;
                u.used += extra;
                u.tasks += extra;
                u.peak = u.peak.max(u.used);
                self.bytes += extra;
                return Ok(true);
            }
            let others_running = u.tasks.saturating_sub(u.waiting) > 0;
            if !others_running {
                u.waiting -= self.bytes;
                let buffers_in_the_way = u.tasks.saturating_add(extra) <= limit;
                drop(u);
                // Someone may have stopped waiting and could proceed now.
                self.pool.released.notify_all();
                if buffers_in_the_way {
                    return Ok(false);
                }
                return Err(Error::MemoryLimit {
                    operation: self.operation.clone(),
                    needed: self.bytes.saturating_add(extra),
                    limit,
                });
            }
            u = self
                .pool
                .released
                .wait(u)
                .unwrap_or_else(|e| e.into_inner());
        }
    }

    fn try_grow(&mut self, extra: usize) -> bool {
        let mut u = self.pool.lock();
        if let Some(limit) = self.pool.limit {
            if u.used.saturating_add(extra) > limit {
                return false;
            }
        }
        u.used += extra;
        u.tasks += extra;
        u.peak = u.peak.max(u.used);
        self.bytes += extra;
        true
    }
}

impl Drop for TaskReservation<'_> {
    fn drop(&mut self) {
        if self.exclusive {
            self.pool.lock().exclusive = false;
            // Wake waiters even when no bytes were held.
            self.pool.released.notify_all();
        }
        self.pool.release(self.bytes, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn buffers_never_pass_the_limit() {
        let pool = MemoryPool::new(Some(100));
        assert!(pool.try_reserve_buffer(60));
        assert!(!pool.try_reserve_buffer(41));
        assert!(pool.try_reserve_buffer(40));
        assert_eq!(pool.used(), 100);
        pool.release_buffer(100);
        assert_eq!(pool.used(), 0);
        assert_eq!(pool.peak(), 100);
    }

    #[test]
    fn a_task_alone_is_admitted_then_fails_clearly() {
        let pool = MemoryPool::new(Some(100));
        let mut t = pool.admit_task(500, "scan of partition 3", false);
        assert_eq!(t.bytes(), 100);
        let spilled = std::cell::Cell::new(false);
        let err = t
            .resize(500, || {
                spilled.set(true);
                Ok(())
            })
            .unwrap_err();
        assert!(spilled.get(), "buffers are asked to make room first");
        assert!(err.to_string().contains("scan of partition 3"), "{err}");
        t.resize(10, || Ok(())).unwrap();
        assert_eq!(pool.used(), 10);
    }

    /// A buffer filled in by another task right after the buffers spilled does not fail a
    /// task that fits without buffers: the buffers spill again.
    #[test]
    fn buffers_that_refill_are_spilled_again() {
        let pool = MemoryPool::new(Some(100));
        let mut t = pool.admit_task(50, "t", false);
        assert!(pool.try_reserve_buffer(40));
        let calls = std::cell::Cell::new(0);
        t.resize(90, || {
            calls.set(calls.get() + 1);
            pool.release_buffer(40);
            if calls.get() == 1 {
                // A finishing task parks its result right away.
                assert!(pool.try_reserve_buffer(40));
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(calls.get(), 2);
        assert_eq!(pool.used(), 90);
    }

    #[test]
    fn tasks_wait_for_memory_instead_of_failing() {
        let pool = Arc::new(MemoryPool::new(Some(100)));
        let first = pool.admit_task(80, "a", false);
        let p = pool.clone();
        let waiter = std::thread::spawn(move || {
            let r = p.admit_task(80, "b", false);
            r.bytes()
        });
        std::thread::sleep(Duration::from_millis(50));
        assert!(!waiter.is_finished(), "the second task must wait");
        drop(first);
        assert_eq!(waiter.join().unwrap(), 80);
        assert_eq!(pool.used(), 0);
        assert!(pool.peak() <= 100);
    }

    #[test]
    fn unlimited_pools_count() {
        let pool = MemoryPool::new(None);
        let mut t = pool.admit_task(10, "x", false);
        t.resize(1 << 40, || panic!("no room needed")).unwrap();
        assert_eq!(pool.peak(), 1 << 40);
    }
}
