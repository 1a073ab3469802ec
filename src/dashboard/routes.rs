//! Which answer each request gets: the page and its script, JSON snapshots of the monitor,
//! the plan picture, the event stream; 404 for anything else and 405 for anything but GET.

use super::{events, svg, Shared, MAX_EVENT_CLIENTS};
use serde::Serialize;
use std::io::Cursor;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tiny_http::{Header, Method, Request, Response, StatusCode};

const PAGE: &str = include_str!("page/index.html");
const SCRIPT: &str = include_str!("page/dashboard.js");
const STYLE: &str = include_str!("page/dashboard.css");

type Body = Response<Cursor<Vec<u8>>>;

fn header(name: &str, value: &str) -> Header {
    // Only ever called with the constant names and values below.
    Header::from_bytes(name.as_bytes(), value.as_bytes()).expect("valid header")
}

fn with_type(body: Body, content_type: &str) -> Body {
    body.with_header(header("Content-Type", content_type))
        .with_header(header("Cache-Control", "no-store"))
        .with_header(header("X-Content-Type-Options", "nosniff"))
}

fn text(status: u16, message: &str) -> Body {
    with_type(
        Response::from_string(message).with_status_code(StatusCode(status)),
        "text/plain; charset=utf-8",
    )
}

fn json<T: Serialize>(value: &T) -> Body {
    match serde_json::to_vec(value) {
        Ok(bytes) => with_type(Response::from_data(bytes), "application/json"),
        Err(e) => text(500, &format!("cannot serialise the answer: {e}")),
    }
}

/// One compute with its task stream and analysis (`GET /api/computes/{id}`).
#[derive(Serialize)]
struct ComputeDetail {
    compute: crate::executor::ComputeSnapshot,
    spans: Vec<crate::executor::TaskSpan>,
    spans_dropped: u64,
    /// `explain_analyze` JSON (schema in `explain`), once the compute finished.
    analyze: Option<serde_json::Value>,
    /// The optimized plan as Graphviz DOT, shown when no SVG can be drawn.
    dot: Option<String>,
}

/// Answers `request`; never panics on what a client sends.
/// (Runs on a thread of its own: `dot` for the plan picture may take a moment.)
pub(super) fn handle(request: Request, shared: &Arc<Shared>) {
    if *request.method() != Method::Get {
        let body = text(405, "only GET is served here").with_header(header("Allow", "GET"));
        let _ = request.respond(body);
        return;
    }
    let path = request
        .url()
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .to_string();
    let monitor = &shared.monitor;
    let body = match path.as_str() {
        "/" | "/index.html" => with_type(Response::from_string(PAGE), "text/html; charset=utf-8"),
        "/dashboard.js" => with_type(
            Response::from_string(SCRIPT),
            "text/javascript; charset=utf-8",
        ),
        "/dashboard.css" => with_type(Response::from_string(STYLE), "text/css; charset=utf-8"),
        "/api/status" => json(&monitor.status()),
        "/api/computes" => json(&monitor.computes()),
        "/api/events" => {
            if shared.clients.load(Ordering::Acquire) >= MAX_EVENT_CLIENTS {
                text(503, "too many event-stream clients")
            } else {
                events::spawn(request, shared.clone());
                return;
            }
        }
        p => match p.strip_prefix("/api/computes/") {
            Some(rest) => match rest.split_once('/') {
                None => match rest.parse::<u64>().ok().and_then(|id| detail(shared, id)) {
                    Some(d) => json(&d),
                    None => text(404, &format!("no compute '{rest}' (see /api/computes)")),
                },
                Some((id, "plan.svg")) => {
                    match id.parse::<u64>().ok().and_then(|id| monitor.plan_dot(id)) {
                        Some(dot) => svg::answer(&dot),
                        None => text(404, &format!("no compute '{id}' (see /api/computes)")),
                    }
                }
                Some(_) => text(404, "not found"),
            },
            None => text(404, "not found; the page is at /, the API under /api/"),
        },
    };
    let _ = request.respond(body);
}

fn detail(shared: &Shared, id: u64) -> Option<ComputeDetail> {
    let monitor = &shared.monitor;
    let compute = monitor.compute(id)?;
    let (spans, spans_dropped) = monitor.task_spans(id).unwrap_or_default();
    Some(ComputeDetail {
        compute,
        spans,
        spans_dropped,
        analyze: monitor
            .analyze_json(id)
            .and_then(|s| serde_json::from_str(&s).ok()),
        dot: monitor.plan_dot(id).filter(|d| !d.is_empty()),
    })
}

/// Too many requests in flight.
pub(super) fn busy(request: Request) {
    let _ = request.respond(text(503, "the dashboard is busy; try again"));
}
