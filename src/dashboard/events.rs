//! `GET /api/events`: server-sent events. Each client thread subscribes to the monitor and
//! writes every [`MonitorEvent`](crate::executor::MonitorEvent) as one `data:` line of JSON
//! (tagged `type`), plus a `status` event (the [`StatusSnapshot`] with `"type": "status"`)
//! about once a second while a compute runs. When idle it writes a comment each second, so a
//! client that went away is noticed (the write fails) and its subscription freed. When the
//! dashboard stops, a last `{"type":"stopped"}` event tells the client to close.

use super::Shared;
use crate::executor::StatusSnapshot;
use serde::Serialize;
use std::io::Write;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tiny_http::Request;

/// How often a status event (or, when idle, a keep-alive comment) goes out.
const TICK: Duration = Duration::from_secs(1);
/// Events written before one flush, so a burst of small tasks costs one write.
const BATCH: usize = 256;

#[derive(Serialize)]
struct StatusEvent<'a> {
    r#type: &'static str,
    #[serde(flatten)]
    status: &'a StatusSnapshot,
}

/// Counts a client while its thread lives.
struct ClientSlot(Arc<Shared>);

impl Drop for ClientSlot {
    fn drop(&mut self) {
        self.0.clients.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Serves `request` as an event stream from a thread of its own.
pub(super) fn spawn(request: Request, shared: Arc<Shared>) {
    shared.clients.fetch_add(1, Ordering::AcqRel);
    let slot = ClientSlot(shared);
    // Without a thread to spare the request is dropped, closing its connection.
    let _ = std::thread::Builder::new()
        .name("lsstseries-dashboard-events".into())
        .spawn(move || {
            let _ = stream(request, &slot.0);
            drop(slot);
        });
}

fn write_data(out: &mut dyn Write, json: &[u8]) -> std::io::Result<()> {
    out.write_all(b"data: ")?;
    out.write_all(json)?;
    out.write_all(b"\n\n")
}

fn write_status(out: &mut dyn Write, status: &StatusSnapshot) -> std::io::Result<()> {
    let event = StatusEvent {
        r#type: "status",
        status,
    };
    write_data(
        out,
        &serde_json::to_vec(&event).map_err(std::io::Error::other)?,
    )
}

fn stream(request: Request, shared: &Shared) -> std::io::Result<()> {
    let events = shared.monitor.subscribe();
    let mut out = request.into_writer();
    // Written by hand: tiny_http's own responses buffer chunks, an event must go at once.
    out.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\n\
          Connection: close\r\nX-Content-Type-Options: nosniff\r\n\r\nretry: 2000\n\n",
    )?;
    write_status(&mut out, &shared.monitor.status())?;
    out.flush()?;
    let mut next_tick = Instant::now() + TICK;
    while !shared.stop.load(Ordering::Acquire) {
        let wait = next_tick.saturating_duration_since(Instant::now());
        match events.recv_timeout(wait) {
            Ok(first) => {
                for event in std::iter::once(first).chain(events.try_iter().take(BATCH)) {
                    write_data(
                        &mut out,
                        &serde_json::to_vec(&event).map_err(std::io::Error::other)?,
                    )?;
                }
            }
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => {}
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => return Ok(()),
        }
        if Instant::now() >= next_tick {
            let status = shared.monitor.status();
            if status.running.is_empty() {
                out.write_all(b": idle\n\n")?;
            } else {
                write_status(&mut out, &status)?;
            }
            next_tick = Instant::now() + TICK;
        }
        out.flush()?;
    }
    // The server stops. The socket closes once the client closes its end, or now if it
    // asked for `Connection: close`; the page closes its end on this event.
    out.write_all(b"data: {\"type\":\"stopped\"}\n\n")?;
    out.flush()
}
