//! What the executor is doing, for people and front ends: the computes it ran and is
//! running, per-stage progress, which thread runs which task, and a live event stream.
//!
//! Every [`Executor`](super::Executor) owns one [`Monitor`]. A compute registers itself with
//! [`Monitor::begin`] and reports through the returned [`ComputeHandle`]; the cost per task is
//! a few atomic updates and one short lock, so monitoring is always on. Readers either poll
//! ([`Monitor::status`], [`Monitor::computes`]) or [`Monitor::subscribe`] to events; a reader
//! that falls behind loses events, never slows a task.

use super::info::ClusterInfo;
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// Finished computes kept for [`Monitor::computes`].
pub const HISTORY: usize = 32;
/// Task spans kept per compute (the earliest ones; later ones are counted, not kept).
pub const TASK_SPANS: usize = 20_000;
/// Events queued per subscriber before the newest are dropped for it.
pub const SUBSCRIBER_QUEUE: usize = 4_096;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Where a compute stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ComputeStatus {
    /// Tasks are running.
    Running,
    /// Finished with a result.
    Done,
    /// Stopped by an error (or cancellation).
    Failed,
}

/// One task as it ran: which thread, when (microseconds since its compute began), how long.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskSpan {
    /// Stage index.
    pub stage: usize,
    /// Partition index inside the stage.
    pub partition: usize,
    /// Pool thread that ran it (`None`: the calling thread, helping in a nested run).
    pub thread: Option<usize>,
    /// Start, microseconds since the compute began.
    pub start_us: u64,
    /// End, microseconds since the compute began.
    pub end_us: u64,
    /// Rows read.
    pub rows_in: u64,
    /// Rows written.
    pub rows_out: u64,
    /// Whether it succeeded.
    pub ok: bool,
}

/// A change the monitor saw, as sent to subscribers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MonitorEvent {
    /// A compute began.
    ComputeStarted {
        /// Compute id.
        compute: u64,
        /// What it computes.
        label: String,
    },
    /// A task began on a thread.
    TaskStarted {
        /// Compute id.
        compute: u64,
        /// Stage index.
        stage: usize,
        /// Partition.
        partition: usize,
        /// Thread.
        thread: Option<usize>,
        /// Microseconds since the compute began.
        at_us: u64,
    },
    /// A task ended.
    TaskFinished {
        /// Compute id.
        compute: u64,
        /// The task.
        span: TaskSpan,
    },
    /// A compute ended.
    ComputeFinished {
        /// Compute id.
        compute: u64,
        /// Done or failed.
        status: ComputeStatus,
    },
}

/// Progress of one stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageProgress {
    /// Stage label (its operators).
    pub label: String,
    /// Tasks in the stage.
    pub tasks_total: usize,
    /// Tasks finished.
    pub tasks_done: usize,
    /// Tasks running now.
    pub tasks_running: usize,
    /// Rows read by finished tasks.
    pub rows_in: u64,
    /// Rows written by finished tasks.
    pub rows_out: u64,
}

/// A compute as seen from outside: progress, memory and plan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComputeSnapshot {
    /// Compute id (increasing per executor).
    pub id: u64,
    /// What it computes (the top plan node).
    pub label: String,
    /// Running, done or failed.
    pub status: ComputeStatus,
    /// The error, if it failed.
    pub error: Option<String>,
    /// When it began, milliseconds since the Unix epoch.
    pub started_unix_ms: u64,
    /// Milliseconds since it began (or until it ended).
    pub elapsed_ms: u64,
    /// Per stage.
    pub stages: Vec<StageProgress>,
    /// Tasks in all stages.
    pub tasks_total: usize,
    /// Tasks finished in all stages.
    pub tasks_done: usize,
    /// Rows read by the first stage's finished tasks.
    pub rows_in: u64,
    /// Rows written by the last stage's finished tasks.
    pub rows_out: u64,
    /// Rows read per second so far.
    pub rows_per_s: f64,
    /// Bytes the run holds now (its memory pool), as of the last finished task.
    pub memory_used: usize,
    /// Most bytes held at once so far.
    pub memory_peak: usize,
    /// The run's memory limit, if any.
    pub memory_limit: Option<usize>,
    /// `explain()` of the plan.
    pub explain: String,
    /// `explain_analyze()` text, once finished.
    pub analyze: Option<String>,
}

/// What one pool thread is doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ThreadActivity {
    /// Thread index in the pool.
    pub thread: usize,
    /// Worker group of the thread.
    pub worker: usize,
    /// The task it runs, if any: compute, stage, partition.
    pub running: Option<RunningTask>,
}

/// A task in flight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunningTask {
    /// Compute id.
    pub compute: u64,
    /// Stage index.
    pub stage: usize,
    /// Partition.
    pub partition: usize,
    /// Milliseconds it has run.
    pub running_ms: u64,
}

/// The executor and its running computes, polled (`GET /api/status` serves this).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusSnapshot {
    /// Worker groups.
    pub workers: usize,
    /// Threads per worker.
    pub threads_per_worker: usize,
    /// Each thread and its task.
    pub threads: Vec<ThreadActivity>,
    /// The configured memory limit of a run.
    pub memory_limit: Option<usize>,
    /// Computes running now.
    pub running: Vec<ComputeSnapshot>,
    /// Computes finished since the executor started.
    pub computes_finished: u64,
    /// The dashboard's address, when one serves this executor.
    pub dashboard: Option<String>,
    /// The cluster computes run on, when there is one.
    pub cluster: Option<ClusterInfo>,
}

#[derive(Debug)]
struct StageState {
    label: String,
    tasks_total: usize,
    done: AtomicUsize,
    running: AtomicUsize,
    rows_in: AtomicU64,
    rows_out: AtomicU64,
}

#[derive(Debug)]
struct Outcome {
    status: ComputeStatus,
    error: Option<String>,
    elapsed: Option<Duration>,
    analyze: Option<String>,
    analyze_json: Option<String>,
}

/// What a compute will run, as registered with [`Monitor::begin`].
#[derive(Debug, Clone, Default)]
pub struct ComputePlan {
    /// What it computes (the top plan node).
    pub label: String,
    /// `explain()` text.
    pub explain: String,
    /// The optimized plan as Graphviz DOT.
    pub dot: String,
    /// Stages: label and number of tasks.
    pub stages: Vec<(String, usize)>,
}

/// Shared state of one compute.
#[derive(Debug)]
struct ComputeState {
    id: u64,
    label: String,
    explain: String,
    dot: String,
    started: Instant,
    started_at: SystemTime,
    stages: Vec<StageState>,
    memory_used: AtomicUsize,
    memory_peak: AtomicUsize,
    memory_limit: Option<usize>,
    spans: Mutex<Vec<TaskSpan>>,
    spans_dropped: AtomicU64,
    outcome: Mutex<Outcome>,
}

impl ComputeState {
    fn snapshot(&self) -> ComputeSnapshot {
        let outcome = lock(&self.outcome);
        let elapsed = outcome.elapsed.unwrap_or_else(|| self.started.elapsed());
        let stages: Vec<StageProgress> = self
            .stages
            .iter()
            .map(|s| StageProgress {
                label: s.label.clone(),
                tasks_total: s.tasks_total,
                tasks_done: s.done.load(Ordering::Relaxed),
                tasks_running: s.running.load(Ordering::Relaxed),
                rows_in: s.rows_in.load(Ordering::Relaxed),
                rows_out: s.rows_out.load(Ordering::Relaxed),
            })
            .collect();
        let rows_in = stages.first().map_or(0, |s| s.rows_in);
        let secs = elapsed.as_secs_f64();
        ComputeSnapshot {
            id: self.id,
            label: self.label.clone(),
            status: outcome.status,
            error: outcome.error.clone(),
            started_unix_ms: unix_ms(self.started_at),
            elapsed_ms: elapsed.as_millis() as u64,
            tasks_total: stages.iter().map(|s| s.tasks_total).sum(),
            tasks_done: stages.iter().map(|s| s.tasks_done).sum(),
            rows_in,
            rows_out: stages.last().map_or(0, |s| s.rows_out),
            rows_per_s: if secs > 0.0 {
                rows_in as f64 / secs
            } else {
                0.0
            },
            stages,
            memory_used: self.memory_used.load(Ordering::Relaxed),
            memory_peak: self.memory_peak.load(Ordering::Relaxed),
            memory_limit: self.memory_limit,
            explain: self.explain.clone(),
            analyze: outcome.analyze.clone(),
        }
    }
}

/// What a thread runs: compute, stage, partition, since when.
type ThreadTask = (Arc<ComputeState>, usize, usize, Instant);

#[derive(Debug, Default)]
struct Registry {
    running: Vec<Arc<ComputeState>>,
    history: VecDeque<Arc<ComputeState>>,
    finished: u64,
}

/// The executor's record of computes and threads; see the module docs.
///
/// ```
/// use lsstseries::executor::{ComputePlan, ComputeStatus, Monitor};
/// use std::sync::Arc;
/// let monitor = Arc::new(Monitor::new(1, 2, None));
/// let events = monitor.subscribe();
/// let compute = Arc::new(monitor.begin(ComputePlan {
///     label: "demo".into(),
///     stages: vec![("Scan -> Collect".into(), 2)],
///     ..Default::default()
/// }));
/// let task = compute.task_started(0, 0);
/// compute.task_finished(task, 10, 10, true);
/// assert_eq!(compute.snapshot().stages[0].tasks_done, 1);
/// compute.finish_ok(None, None);
/// assert_eq!(monitor.computes()[0].status, ComputeStatus::Done);
/// assert!(events.try_iter().count() >= 4);
/// ```
#[derive(Debug)]
pub struct Monitor {
    workers: usize,
    threads_per_worker: usize,
    memory_limit: Option<usize>,
    next_id: AtomicU64,
    registry: Mutex<Registry>,
    threads: Vec<Mutex<Option<ThreadTask>>>,
    subscribers: Mutex<Vec<crossbeam_channel::Sender<MonitorEvent>>>,
    has_subscribers: std::sync::atomic::AtomicBool,
    dashboard: Mutex<Option<String>>,
    cluster: Mutex<Option<ClusterProbe>>,
    /// The last answer of the probe: pollers (the progress bar, every 120 ms) share it.
    cluster_seen: Mutex<Option<(Instant, ClusterInfo)>>,
}

/// How long an answer of the cluster's scheduler is reused.
const CLUSTER_FRESH: Duration = Duration::from_secs(1);

/// Asks a cluster's scheduler for its executors (installed by an ensemble built with a
/// cluster, so `executor_info()` and the dashboard can show them).
#[derive(Clone)]
pub struct ClusterProbe(pub Arc<dyn Fn() -> ClusterInfo + Send + Sync>);

impl std::fmt::Debug for ClusterProbe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClusterProbe")
    }
}

impl Monitor {
    /// A monitor for a pool of `workers` x `threads_per_worker` threads.
    pub fn new(workers: usize, threads_per_worker: usize, memory_limit: Option<usize>) -> Self {
        Monitor {
            workers,
            threads_per_worker,
            memory_limit,
            next_id: AtomicU64::new(1),
            registry: Mutex::new(Registry::default()),
            threads: (0..workers * threads_per_worker)
                .map(|_| Mutex::new(None))
                .collect(),
            subscribers: Mutex::new(Vec::new()),
            has_subscribers: std::sync::atomic::AtomicBool::new(false),
            dashboard: Mutex::new(None),
            cluster: Mutex::new(None),
            cluster_seen: Mutex::new(None),
        }
    }

    /// Registers a compute of `plan`; report through the returned handle.
    pub fn begin(self: &Arc<Self>, plan: ComputePlan) -> ComputeHandle {
        let state = Arc::new(ComputeState {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            label: plan.label,
            explain: plan.explain,
            dot: plan.dot,
            started: Instant::now(),
            started_at: SystemTime::now(),
            stages: plan
                .stages
                .into_iter()
                .map(|(label, tasks)| StageState {
                    label,
                    tasks_total: tasks,
                    done: AtomicUsize::new(0),
                    running: AtomicUsize::new(0),
                    rows_in: AtomicU64::new(0),
                    rows_out: AtomicU64::new(0),
                })
                .collect(),
            memory_used: AtomicUsize::new(0),
            memory_peak: AtomicUsize::new(0),
            memory_limit: self.memory_limit,
            spans: Mutex::new(Vec::new()),
            spans_dropped: AtomicU64::new(0),
            outcome: Mutex::new(Outcome {
                status: ComputeStatus::Running,
                error: None,
                elapsed: None,
                analyze: None,
                analyze_json: None,
            }),
        });
        lock(&self.registry).running.push(state.clone());
        self.send(MonitorEvent::ComputeStarted {
            compute: state.id,
            label: state.label.clone(),
        });
        ComputeHandle {
            monitor: self.clone(),
            state,
            finished: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// A receiver of every event from now on. Events queue up to `SUBSCRIBER_QUEUE` (4,096) per
    /// subscriber; beyond that the newest are dropped for that subscriber. Dropping the
    /// receiver unsubscribes.
    pub fn subscribe(&self) -> crossbeam_channel::Receiver<MonitorEvent> {
        let (tx, rx) = crossbeam_channel::bounded(SUBSCRIBER_QUEUE);
        let mut subs = lock(&self.subscribers);
        subs.push(tx);
        self.has_subscribers.store(true, Ordering::Release);
        rx
    }

    fn send(&self, event: MonitorEvent) {
        if !self.has_subscribers.load(Ordering::Acquire) {
            return;
        }
        let mut subs = lock(&self.subscribers);
        subs.retain(|tx| match tx.try_send(event.clone()) {
            Ok(()) | Err(crossbeam_channel::TrySendError::Full(_)) => true,
            Err(crossbeam_channel::TrySendError::Disconnected(_)) => false,
        });
        if subs.is_empty() {
            self.has_subscribers.store(false, Ordering::Release);
        }
    }

    /// The pool, its threads' tasks and the running computes.
    pub fn status(&self) -> StatusSnapshot {
        // Asked before any lock is taken: the probe may wait on the network.
        let cluster = self.cluster();
        let threads = self
            .threads
            .iter()
            .enumerate()
            .map(|(i, slot)| ThreadActivity {
                thread: i,
                worker: i / self.threads_per_worker.max(1),
                running: lock(slot)
                    .as_ref()
                    .map(|(c, stage, partition, t)| RunningTask {
                        compute: c.id,
                        stage: *stage,
                        partition: *partition,
                        running_ms: t.elapsed().as_millis() as u64,
                    }),
            })
            .collect();
        let registry = lock(&self.registry);
        StatusSnapshot {
            workers: self.workers,
            threads_per_worker: self.threads_per_worker,
            threads,
            memory_limit: self.memory_limit,
            running: registry.running.iter().map(|c| c.snapshot()).collect(),
            computes_finished: registry.finished,
            dashboard: self.dashboard(),
            cluster,
        }
    }

    /// Running computes, then finished ones (newest first, up to `HISTORY`, 32).
    pub fn computes(&self) -> Vec<ComputeSnapshot> {
        let registry = lock(&self.registry);
        registry
            .running
            .iter()
            .chain(registry.history.iter().rev())
            .map(|c| c.snapshot())
            .collect()
    }

    /// One compute by id (running or in the history).
    pub fn compute(&self, id: u64) -> Option<ComputeSnapshot> {
        self.find(id).map(|c| c.snapshot())
    }

    /// The task spans of compute `id` (the task stream) and how many were not kept.
    pub fn task_spans(&self, id: u64) -> Option<(Vec<TaskSpan>, u64)> {
        self.find(id).map(|c| {
            (
                lock(&c.spans).clone(),
                c.spans_dropped.load(Ordering::Relaxed),
            )
        })
    }

    /// The plan of compute `id` as Graphviz DOT.
    pub fn plan_dot(&self, id: u64) -> Option<String> {
        self.find(id).map(|c| c.dot.clone())
    }

    /// `explain_analyze()` as JSON for compute `id`, once it finished.
    pub fn analyze_json(&self, id: u64) -> Option<String> {
        self.find(id)
            .and_then(|c| lock(&c.outcome).analyze_json.clone())
    }

    fn find(&self, id: u64) -> Option<Arc<ComputeState>> {
        let registry = lock(&self.registry);
        registry
            .running
            .iter()
            .chain(registry.history.iter())
            .find(|c| c.id == id)
            .cloned()
    }

    /// Records the address of a dashboard serving this monitor (shown by `executor_info()`).
    pub fn set_dashboard(&self, url: Option<String>) {
        *lock(&self.dashboard) = url;
    }

    /// The dashboard's address, if one serves this monitor.
    pub fn dashboard(&self) -> Option<String> {
        lock(&self.dashboard).clone()
    }

    /// Records how to ask the cluster this monitor's computes run on for its state.
    pub fn set_cluster(&self, probe: Option<ClusterProbe>) {
        *lock(&self.cluster) = probe;
        *lock(&self.cluster_seen) = None;
    }

    /// The cluster's state when computes run on one, asked at most once a second.
    pub fn cluster(&self) -> Option<ClusterInfo> {
        let probe = lock(&self.cluster).clone()?;
        if let Some((at, info)) = lock(&self.cluster_seen).as_ref() {
            if at.elapsed() < CLUSTER_FRESH {
                return Some(info.clone());
            }
        }
        let info = (probe.0)();
        *lock(&self.cluster_seen) = Some((Instant::now(), info.clone()));
        Some(info)
    }
}

/// A started task, handed back to [`ComputeHandle::task_finished`].
#[derive(Debug)]
pub struct TaskToken {
    stage: usize,
    partition: usize,
    thread: Option<usize>,
    start_us: u64,
}

/// A compute's reporting end: tasks started and finished, memory, the outcome. Dropping it
/// unfinished records the compute as failed.
#[derive(Debug)]
pub struct ComputeHandle {
    monitor: Arc<Monitor>,
    state: Arc<ComputeState>,
    finished: std::sync::atomic::AtomicBool,
}

impl ComputeHandle {
    /// The compute's id.
    pub fn id(&self) -> u64 {
        self.state.id
    }

    fn since_start_us(&self) -> u64 {
        self.state.started.elapsed().as_micros() as u64
    }

    /// A task of `stage` on `partition` starts on the current thread.
    pub fn task_started(&self, stage: usize, partition: usize) -> TaskToken {
        let thread = super::current_thread_index();
        let start_us = self.since_start_us();
        if let Some(s) = self.state.stages.get(stage) {
            s.running.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(slot) = thread.and_then(|t| self.monitor.threads.get(t)) {
            *lock(slot) = Some((self.state.clone(), stage, partition, Instant::now()));
        }
        self.monitor.send(MonitorEvent::TaskStarted {
            compute: self.state.id,
            stage,
            partition,
            thread,
            at_us: start_us,
        });
        TaskToken {
            stage,
            partition,
            thread,
            start_us,
        }
    }

    /// The task ended, having read `rows_in` and written `rows_out` rows.
    pub fn task_finished(&self, token: TaskToken, rows_in: u64, rows_out: u64, ok: bool) {
        if let Some(s) = self.state.stages.get(token.stage) {
            s.running.fetch_sub(1, Ordering::Relaxed);
            s.done.fetch_add(1, Ordering::Relaxed);
            s.rows_in.fetch_add(rows_in, Ordering::Relaxed);
            s.rows_out.fetch_add(rows_out, Ordering::Relaxed);
        }
        if let Some(slot) = token.thread.and_then(|t| self.monitor.threads.get(t)) {
            *lock(slot) = None;
        }
        let span = TaskSpan {
            stage: token.stage,
            partition: token.partition,
            thread: token.thread,
            start_us: token.start_us,
            end_us: self.since_start_us(),
            rows_in,
            rows_out,
            ok,
        };
        {
            let mut spans = lock(&self.state.spans);
            if spans.len() < TASK_SPANS {
                spans.push(span.clone());
            } else {
                self.state.spans_dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.monitor.send(MonitorEvent::TaskFinished {
            compute: self.state.id,
            span,
        });
    }

    /// The run's memory pool holds `used` bytes, `peak` at most so far.
    pub fn memory(&self, used: usize, peak: usize) {
        self.state.memory_used.store(used, Ordering::Relaxed);
        self.state.memory_peak.fetch_max(peak, Ordering::Relaxed);
    }

    /// This compute as seen from outside.
    pub fn snapshot(&self) -> ComputeSnapshot {
        self.state.snapshot()
    }

    /// Records success with the compute's `explain_analyze` text and JSON.
    pub fn finish_ok(&self, analyze: Option<String>, analyze_json: Option<String>) {
        self.finish(ComputeStatus::Done, None, analyze, analyze_json);
    }

    /// Records failure with its error message.
    pub fn finish_err(&self, error: &str) {
        self.finish(ComputeStatus::Failed, Some(error.to_string()), None, None);
    }

    fn finish(
        &self,
        status: ComputeStatus,
        error: Option<String>,
        analyze: Option<String>,
        analyze_json: Option<String>,
    ) {
        if self.finished.swap(true, Ordering::AcqRel) {
            return;
        }
        {
            let mut o = lock(&self.state.outcome);
            o.status = status;
            o.error = error;
            o.elapsed = Some(self.state.started.elapsed());
            o.analyze = analyze;
            o.analyze_json = analyze_json;
        }
        {
            let mut registry = lock(&self.monitor.registry);
            registry.running.retain(|c| c.id != self.state.id);
            registry.history.push_back(self.state.clone());
            while registry.history.len() > HISTORY {
                registry.history.pop_front();
            }
            registry.finished += 1;
        }
        self.monitor.send(MonitorEvent::ComputeFinished {
            compute: self.state.id,
            status,
        });
    }
}

impl Drop for ComputeHandle {
    fn drop(&mut self) {
        self.finish(
            ComputeStatus::Failed,
            Some("the compute ended without a result".into()),
            None,
            None,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_is_bounded_and_newest_first() {
        let m = Arc::new(Monitor::new(1, 1, None));
        for i in 0..(HISTORY + 5) {
            m.begin(ComputePlan {
                label: format!("c{i}"),
                ..Default::default()
            })
            .finish_ok(None, None);
        }
        let all = m.computes();
        assert_eq!(all.len(), HISTORY);
        assert_eq!(all[0].label, format!("c{}", HISTORY + 4));
        assert_eq!(m.status().computes_finished, (HISTORY + 5) as u64);
    }

    #[test]
    fn a_dropped_handle_is_a_failed_compute() {
        let m = Arc::new(Monitor::new(1, 1, None));
        drop(m.begin(ComputePlan {
            label: "x".into(),
            stages: vec![("s".into(), 3)],
            ..Default::default()
        }));
        let c = &m.computes()[0];
        assert_eq!(c.status, ComputeStatus::Failed);
        assert!(m.status().running.is_empty());
    }

    #[test]
    fn a_slow_subscriber_loses_events_not_tasks() {
        let m = Arc::new(Monitor::new(1, 1, None));
        let rx = m.subscribe();
        let c = m.begin(ComputePlan {
            label: "x".into(),
            stages: vec![("s".into(), SUBSCRIBER_QUEUE * 2)],
            ..Default::default()
        });
        for p in 0..SUBSCRIBER_QUEUE * 2 {
            let t = c.task_started(0, p);
            c.task_finished(t, 1, 1, true);
        }
        assert_eq!(c.snapshot().tasks_done, SUBSCRIBER_QUEUE * 2);
        assert_eq!(rx.try_iter().count(), SUBSCRIBER_QUEUE);
        drop(rx);
        c.finish_ok(None, None);
        // The closed receiver was dropped from the list.
        assert!(!m.has_subscribers.load(Ordering::Acquire));
    }
}
