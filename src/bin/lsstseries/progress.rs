//! The CLI's progress bar: polls the executor's monitor and draws tasks done / total of the
//! running compute, the stage it is in, rows/s and the ETA. Drawn only when standard error
//! is a terminal (indicatif hides itself otherwise), so pipes, files and tests stay clean.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use lsstseries::executor::{ComputeStatus, Monitor};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How often the bar reads the monitor: fast enough to look live, slow enough to cost
/// nothing measurable (one snapshot per tick).
const TICK: Duration = Duration::from_millis(120);

/// A bar following the computes of one monitor until dropped.
pub(crate) struct Progress {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Progress {
    /// Starts following `monitor` when `enabled` and stderr is a terminal; otherwise a
    /// no-op handle.
    pub(crate) fn start(monitor: Arc<Monitor>, enabled: bool) -> Progress {
        let stop = Arc::new(AtomicBool::new(false));
        if !enabled || !std::io::stderr().is_terminal() {
            return Progress { stop, thread: None };
        }
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("lsstseries-progress".into())
            .spawn(move || follow(&monitor, &flag))
            .ok();
        Progress { stop, thread }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn follow(monitor: &Monitor, stop: &AtomicBool) {
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr_with_hz(8));
    let style = ProgressStyle::with_template(
        "{spinner} {elapsed_precise} {bar:24} {pos}/{len} tasks {msg} eta {eta}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    let mut current = None;
    while !stop.load(Ordering::Acquire) {
        let status = monitor.status();
        if let Some(c) = status.running.first() {
            if current != Some(c.id) {
                current = Some(c.id);
                bar.reset();
            }
            bar.set_length(c.tasks_total as u64);
            bar.set_position(c.tasks_done as u64);
            let stage = c
                .stages
                .iter()
                .position(|s| s.tasks_done < s.tasks_total)
                .unwrap_or(c.stages.len().saturating_sub(1));
            bar.set_message(format!(
                "stage {}/{} {} rows/s",
                stage + 1,
                c.stages.len(),
                lsstseries::format::thousands(c.rows_per_s as usize)
            ));
        } else if let Some(id) = current.take() {
            // The compute ended between two ticks: show where it ended.
            if let Some(done) = monitor.compute(id) {
                bar.set_position(done.tasks_done as u64);
                if done.status == ComputeStatus::Failed {
                    bar.abandon_with_message("failed");
                    return;
                }
            }
        }
        if current.is_some() {
            bar.tick();
        }
        std::thread::sleep(TICK);
    }
    bar.finish_and_clear();
}
