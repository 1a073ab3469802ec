//! The plan picture: Graphviz `dot -Tsvg` over the compute's DOT text, when Graphviz is
//! installed; otherwise 404 with a message (the page then shows the DOT text itself).

use super::routes::respond;
use std::io::Write;
use std::process::{Command, Stdio};
use tiny_http::Request;

/// Answers `request` from a thread of its own: `dot` may take a moment on a large plan.
pub(super) fn spawn(request: Request, dot: String) {
    let run = move || {
        let (status, body, kind) = match render(&dot) {
            Ok(svg) => (200, svg, "image/svg+xml"),
            Err(message) => (404, message.into_bytes(), "text/plain; charset=utf-8"),
        };
        respond(request, status, body, kind);
    };
    // Without a thread to spare the request is dropped, which closes its connection.
    let _ = std::thread::Builder::new()
        .name("lsstseries-dashboard-svg".into())
        .spawn(run);
}

fn render(dot: &str) -> Result<Vec<u8>, String> {
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!("Graphviz `dot` is not available on the server ({e}); the page shows the plan as DOT text")
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        // dot reads all of its input before it writes, so this cannot deadlock.
        stdin
            .write_all(dot.as_bytes())
            .map_err(|e| format!("cannot hand the plan to `dot`: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("`dot` failed: {e}"))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(format!(
            "`dot` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}
