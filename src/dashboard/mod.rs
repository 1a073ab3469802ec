//! The live dashboard: a small HTTP server over the executor's [`Monitor`], serving a page
//! (task stream, per-stage progress, rows/s and memory, plans, past computes) and the JSON
//! and server-sent events it is drawn from.
//!
//! `tiny_http` accepts and parses requests on its own threads; one thread of ours hands each
//! to a short-lived thread that answers it (a snapshot serialised from the monitor), and each
//! event-stream client gets a thread of its own, so a slow client never holds up the others
//! or a compute. The
//! server binds exactly the address asked for and stops when the [`Dashboard`] is dropped.
//!
//! ```
//! use lsstseries::dashboard::Dashboard;
//! use lsstseries::executor::Monitor;
//! use std::sync::Arc;
//! let monitor = Arc::new(Monitor::new(1, 2, None));
//! let dashboard = Dashboard::start("127.0.0.1:0", monitor)?;
//! assert!(dashboard.url().starts_with("http://127.0.0.1:"));
//! # Ok::<(), lsstseries::Error>(())
//! ```

mod events;
mod routes;
mod svg;

use crate::error::{Error, Result};
use crate::executor::Monitor;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// Event-stream clients served at once; beyond this `/api/events` answers 503, so a
/// misbehaving script cannot pile up threads.
pub const MAX_EVENT_CLIENTS: usize = 64;

/// Requests answered at once, event streams aside; beyond this the server answers 503, so
/// clients that never read their answers cannot pile up threads.
pub const MAX_REQUESTS: usize = 32;

/// What the request threads share.
#[derive(Debug)]
struct Shared {
    monitor: Arc<Monitor>,
    stop: AtomicBool,
    clients: AtomicUsize,
    requests: AtomicUsize,
}

/// Counts a request while its thread answers it.
struct RequestSlot(Arc<Shared>);

impl Drop for RequestSlot {
    fn drop(&mut self) {
        self.0.requests.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A running dashboard server; see the module docs. Dropping it stops the server and frees
/// its port.
pub struct Dashboard {
    server: Arc<tiny_http::Server>,
    addr: SocketAddr,
    shared: Arc<Shared>,
    handler: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Dashboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dashboard")
            .field("addr", &self.addr)
            .field("clients", &self.event_clients())
            .finish()
    }
}

impl Dashboard {
    /// Serves `monitor` on `addr` (`HOST:PORT`; port 0 picks a free port). Binds that address
    /// only: `127.0.0.1:0` is reachable from this machine alone.
    pub fn start(addr: &str, monitor: Arc<Monitor>) -> Result<Dashboard> {
        let server = tiny_http::Server::http(addr).map_err(|e| {
            Error::InvalidArgument(format!(
                "cannot serve the dashboard on '{addr}': {e} (give HOST:PORT, e.g. 127.0.0.1:8787; port 0 picks a free one)"
            ))
        })?;
        let addr = match server.server_addr() {
            tiny_http::ListenAddr::IP(a) => a,
            #[allow(unreachable_patterns)] // a Unix socket, only with tiny_http's own constructor
            _ => {
                return Err(Error::InvalidArgument(format!(
                    "the dashboard address '{addr}' is not a TCP address"
                )))
            }
        };
        let server = Arc::new(server);
        let shared = Arc::new(Shared {
            monitor,
            stop: AtomicBool::new(false),
            clients: AtomicUsize::new(0),
            requests: AtomicUsize::new(0),
        });
        let handler = {
            let server = server.clone();
            let shared = shared.clone();
            std::thread::Builder::new()
                .name("lsstseries-dashboard".into())
                .spawn(move || serve(&server, &shared))
                .map_err(Error::Thread)?
        };
        Ok(Dashboard {
            server,
            addr,
            shared,
            handler: Some(handler),
        })
    }

    /// The page's address, `http://HOST:PORT/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// The address the server is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Clients reading `/api/events` now.
    pub fn event_clients(&self) -> usize {
        self.shared.clients.load(Ordering::Acquire)
    }
}

/// Hands each request to a thread of its own (one client slow to read holds up no other)
/// until the dashboard stops.
fn serve(server: &tiny_http::Server, shared: &Arc<Shared>) {
    loop {
        match server.recv() {
            Ok(request) => {
                let slot = RequestSlot(shared.clone());
                if shared.requests.fetch_add(1, Ordering::AcqRel) >= MAX_REQUESTS {
                    drop(slot);
                    routes::busy(request);
                    continue;
                }
                // Without a thread to spare the request is dropped, closing its connection.
                let _ = std::thread::Builder::new()
                    .name("lsstseries-dashboard-request".into())
                    .spawn(move || routes::handle(request, &slot.0));
            }
            // `unblock()` from drop, or the accept thread gave up: either way nothing more
            // will arrive once the stop flag is set.
            Err(_) if shared.stop.load(Ordering::Acquire) => return,
            Err(_) => std::thread::sleep(std::time::Duration::from_millis(50)),
        }
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
        self.server.unblock();
        if let Some(h) = self.handler.take() {
            let _ = h.join();
        }
        // A shared executor outlives us: it must not point at a closed page.
        let monitor = &self.shared.monitor;
        if monitor.dashboard().as_deref() == Some(self.url().as_str()) {
            monitor.set_dashboard(None);
        }
        // Our `Arc` is now the last one: dropping it (after this) closes the listener.
    }
}
