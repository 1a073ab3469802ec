//! Stopping a run early: a flag any thread can raise, and an optional deadline.
//!
//! Tasks check it before they start, between operators and every few lightcurves, so a
//! cancelled run returns promptly; queued tasks return at once, and the executor's threads
//! are free for the next run.

use crate::error::{Error, Result};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A cancellation flag with an optional deadline; clones share the flag.
///
/// ```
/// use lsstseries::Cancellation;
/// use std::time::Duration;
/// let c = Cancellation::new();
/// assert!(c.check().is_ok());
/// c.clone().cancel();
/// assert!(c.check().unwrap_err().to_string().contains("cancelled"));
/// let late = Cancellation::new().timeout(Duration::ZERO);
/// assert!(late.check().unwrap_err().to_string().contains("deadline"));
/// ```
#[derive(Debug, Clone, Default)]
pub struct Cancellation {
    flag: Arc<AtomicBool>,
    deadline: Option<(Instant, Duration)>,
}

impl Cancellation {
    /// A flag that is not raised, without deadline.
    pub fn new() -> Self {
        Self::default()
    }

    /// Stops the run `timeout` from now.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.deadline = Some((
            Instant::now()
                .checked_add(timeout)
                .unwrap_or_else(far_future),
            timeout,
        ));
        self
    }

    /// Raises the flag: running computes that hold this token (or a clone) stop.
    pub fn cancel(&self) {
        self.flag.store(true, Ordering::Release);
    }

    /// Whether the flag is raised or the deadline has passed.
    pub fn is_cancelled(&self) -> bool {
        self.flag.load(Ordering::Acquire) || self.deadline.is_some_and(|(d, _)| Instant::now() >= d)
    }

    /// `Err(Error::Cancelled)` once cancelled, saying why.
    pub fn check(&self) -> Result<()> {
        if self.flag.load(Ordering::Acquire) {
            return Err(Error::Cancelled("the compute was cancelled".into()));
        }
        if let Some((d, timeout)) = self.deadline {
            if Instant::now() >= d {
                return Err(Error::Cancelled(format!(
                    "the deadline of {timeout:?} passed"
                )));
            }
        }
        Ok(())
    }
}

/// An instant far enough ahead to mean "never" (`Instant + Duration::MAX` overflows).
fn far_future() -> Instant {
    let now = Instant::now();
    (0..64)
        .rev()
        .find_map(|k| now.checked_add(Duration::from_secs(1u64 << k)))
        .unwrap_or(now)
}
