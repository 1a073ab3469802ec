//! The plan picture: Graphviz `dot -Tsvg` over the compute's DOT text, when Graphviz is
//! installed; otherwise 404 with a message (the page then shows the DOT text itself).

use std::io::{Cursor, Write};
use std::process::{Command, Stdio};
use tiny_http::{Header, Response, StatusCode};

/// The picture of `dot`, or 404 saying why there is none.
pub(super) fn answer(dot: &str) -> Response<Cursor<Vec<u8>>> {
    let (status, body, kind) = match render(dot) {
        Ok(svg) => (200, svg, &b"image/svg+xml"[..]),
        Err(message) => (404, message.into_bytes(), &b"text/plain; charset=utf-8"[..]),
    };
    // Constant names and values: always valid.
    let header = |k: &[u8], v: &[u8]| Header::from_bytes(k, v).expect("valid header");
    Response::from_data(body)
        .with_status_code(StatusCode(status))
        .with_header(header(b"Content-Type", kind))
        .with_header(header(b"Cache-Control", b"no-store"))
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
