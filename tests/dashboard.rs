//! The live dashboard over HTTP: JSON endpoints and the event stream during a real compute,
//! errors and the address it binds; and the page end to end in headless Chromium (skipped,
//! saying so, where /usr/bin/chromium is missing).
//!
//! The compute is held at a known point by a gate: the function waits before each lightcurve
//! beyond an allowance the test raises, so the test sees a half-done compute without timing.

use arrow::datatypes::{DataType, Field};
use lsstseries::dashboard::Dashboard;
use lsstseries::executor::Monitor;
use lsstseries::io::generate::{generate, GeneratorConfig};
use lsstseries::{closure_function, ColumnMap, Ensemble, Partitioning, Role};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const OBJECTS: usize = 600;
const PARTITIONS: usize = 30;
/// Most a wait in these tests lasts before it fails (a stuck server, not a slow machine).
const PATIENCE: Duration = Duration::from_secs(120);

/// A raw HTTP/1.1 exchange: status code and body.
fn request(addr: SocketAddr, method: &str, path: &str) -> (u16, String) {
    request_with(addr, method, path, "")
}

/// `request` with a JSON body.
fn request_with(addr: SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(PATIENCE)).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    // Read the head, then the body by its Content-Length (chromedriver keeps connections
    // open whatever the client asks), or to the end without one. Never chunked here.
    let mut r = BufReader::new(s);
    let mut head = String::new();
    let mut line = String::new();
    while r.read_line(&mut line).unwrap() > 0 && line != "\r\n" {
        head.push_str(&line);
        line.clear();
    }
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let length = head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("content-length")
            .then(|| v.trim().parse::<usize>().ok())?
    });
    let mut body = Vec::new();
    match length {
        Some(n) => {
            body.resize(n, 0);
            r.read_exact(&mut body).unwrap();
        }
        None => {
            r.read_to_end(&mut body).unwrap();
        }
    }
    (status, String::from_utf8_lossy(&body).to_string())
}

fn get_json(addr: SocketAddr, path: &str) -> Value {
    let (status, body) = request(addr, "GET", path);
    assert_eq!(status, 200, "GET {path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("GET {path}: {e}: {body}"))
}

fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < PATIENCE, "gave up waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// How many lightcurves the function may start; it waits at the next one.
struct Gate {
    allowed: AtomicUsize,
    started: AtomicUsize,
}

impl Gate {
    fn open(&self) {
        self.allowed.store(usize::MAX, Ordering::Release);
    }
}

/// An ensemble with a dashboard over `OBJECTS` lightcurves in `PARTITIONS` partitions, and
/// the gate its `slow` function waits at.
fn setup(dir: &std::path::Path, allowed: usize) -> (Ensemble, Arc<Gate>, SocketAddr) {
    generate(
        &GeneratorConfig {
            objects: OBJECTS,
            observations: 8,
            files: 2,
            row_groups_per_file: 3,
            ..GeneratorConfig::default()
        },
        dir,
    )
    .unwrap();
    let mut ens = Ensemble::builder()
        .n_workers(3)
        .dashboard("127.0.0.1:0")
        .build()
        .unwrap();
    ens.from_parquet(dir, ColumnMap::generated(), Partitioning::Count(PARTITIONS))
        .unwrap();
    let url = ens.dashboard_url().unwrap();
    let addr: SocketAddr = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap();
    let gate = Arc::new(Gate {
        allowed: AtomicUsize::new(allowed),
        started: AtomicUsize::new(0),
    });
    (ens, gate, addr)
}

/// Starts the gated compute on another thread; joins to its row count.
fn spawn_compute(ens: &Ensemble, gate: &Arc<Gate>) -> std::thread::JoinHandle<usize> {
    let g = gate.clone();
    let slow = closure_function(
        "slow_count",
        &[Role::Flux],
        vec![Field::new("n", DataType::Float64, true)],
        move |lc, out| {
            let n = g.started.fetch_add(1, Ordering::AcqRel);
            while n >= g.allowed.load(Ordering::Acquire) {
                std::thread::sleep(Duration::from_millis(2));
            }
            out.push(lc.flux.len() as f64);
        },
    );
    let frame = ens.batch(slow).unwrap();
    std::thread::spawn(move || frame.compute().unwrap().num_rows())
}

fn running_compute(addr: SocketAddr) -> Option<Value> {
    let status = get_json(addr, "/api/status");
    status["running"].as_array()?.first().cloned()
}

#[test]
fn json_endpoints_follow_a_compute_to_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let (ens, gate, addr) = setup(dir.path(), OBJECTS / 3);
    assert!(ens
        .executor_info()
        .to_string()
        .contains(&format!("dashboard:          http://{addr}/")));
    let compute = spawn_compute(&ens, &gate);

    // Held at the gate: some tasks done, not all.
    let held = wait_for("the compute to reach the gate", || {
        (gate.started.load(Ordering::Acquire) > OBJECTS / 3)
            .then(|| running_compute(addr))
            .flatten()
    });
    let id = held["id"].as_u64().unwrap();
    let total = held["tasks_total"].as_u64().unwrap();
    assert_eq!(held["status"], "running");
    assert!(held["explain"].as_str().unwrap().contains("slow_count"));
    let threads = get_json(addr, "/api/status")["threads"].clone();
    assert_eq!(threads.as_array().unwrap().len(), 3);
    assert!(
        threads
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["running"]["compute"] == id),
        "a thread should be running a task of compute {id}: {threads}"
    );
    let detail = get_json(addr, &format!("/api/computes/{id}"));
    assert_eq!(detail["compute"]["id"], id);
    assert!(detail["analyze"].is_null());

    // Released: progress rises, never falls, to the total.
    gate.open();
    let mut seen = vec![held["tasks_done"].as_u64().unwrap()];
    while let Some(c) = running_compute(addr) {
        seen.push(c["tasks_done"].as_u64().unwrap());
    }
    assert_eq!(compute.join().unwrap(), OBJECTS);
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    assert!(seen[0] > 0 && seen[0] < total, "{seen:?} of {total}");

    let computes = get_json(addr, "/api/computes");
    let done = &computes[0];
    assert_eq!(done["id"], id);
    assert_eq!(done["status"], "done");
    assert_eq!(done["tasks_done"], total);
    assert_eq!(
        done["rows_in"].as_u64().unwrap(),
        (OBJECTS * 8) as u64,
        "every source row read"
    );
    assert!(done["analyze"].as_str().unwrap().contains("slow_count"));
    let detail = get_json(addr, &format!("/api/computes/{id}"));
    let spans = detail["spans"].as_array().unwrap();
    assert_eq!(spans.len() as u64, total, "one span per task");
    let partitions: std::collections::BTreeSet<u64> = spans
        .iter()
        .filter(|s| s["stage"] == 0)
        .map(|s| s["partition"].as_u64().unwrap())
        .collect();
    assert_eq!(partitions.len(), PARTITIONS);
    assert!(spans
        .iter()
        .all(|s| s["end_us"].as_u64() >= s["start_us"].as_u64()));
    assert_eq!(
        detail["analyze"]["schema_version"], 1,
        "{}",
        detail["analyze"]
    );
}

/// Reads server-sent events off `stream`, one JSON value per `data:` line.
struct Events(BufReader<TcpStream>);

impl Events {
    fn open(addr: SocketAddr) -> Events {
        Events::open_with(addr, "keep-alive")
    }

    fn open_with(addr: SocketAddr, connection: &str) -> Events {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(PATIENCE)).unwrap();
        write!(
            s,
            "GET /api/events HTTP/1.1\r\nHost: {addr}\r\nConnection: {connection}\r\n\r\n"
        )
        .unwrap();
        let mut r = BufReader::new(s);
        let mut line = String::new();
        r.read_line(&mut line).unwrap();
        assert!(line.starts_with("HTTP/1.1 200"), "{line}");
        let mut event_stream = false;
        loop {
            line.clear();
            r.read_line(&mut line).unwrap();
            if line.trim().is_empty() {
                break;
            }
            event_stream |= line.eq_ignore_ascii_case("content-type: text/event-stream\r\n");
        }
        assert!(event_stream, "not an event stream");
        Events(r)
    }

    fn next(&mut self) -> Value {
        let mut line = String::new();
        loop {
            line.clear();
            assert!(self.0.read_line(&mut line).unwrap() > 0, "stream closed");
            if let Some(data) = line.strip_prefix("data: ") {
                return serde_json::from_str(data).unwrap();
            }
        }
    }
}

#[test]
fn events_stream_every_task_and_a_status_while_running() {
    let dir = tempfile::tempdir().unwrap();
    let (ens, gate, addr) = setup(dir.path(), OBJECTS / 2);
    let mut events = Events::open(addr);
    assert_eq!(events.next()["type"], "status", "a status first");
    let compute = spawn_compute(&ens, &gate);
    let (mut started, mut finished, mut running_status) = (0, 0, false);
    let mut id = None;
    loop {
        let e = events.next();
        match e["type"].as_str().unwrap() {
            "compute_started" => id = e["compute"].as_u64(),
            "task_started" => started += 1,
            "task_finished" => {
                finished += 1;
                assert_eq!(e["compute"].as_u64(), id);
                assert!(e["span"]["end_us"].as_u64() >= e["span"]["start_us"].as_u64());
            }
            "status" => {
                // Sent about once a second while the compute is held at the gate.
                if e["running"].as_array().is_some_and(|r| !r.is_empty()) {
                    running_status = true;
                    gate.open();
                }
            }
            "compute_finished" => {
                assert_eq!(e["status"], "done");
                break;
            }
            other => panic!("unknown event type {other}: {e}"),
        }
    }
    assert!(running_status);
    assert_eq!(compute.join().unwrap(), OBJECTS);
    let total = get_json(addr, "/api/computes")[0]["tasks_total"]
        .as_u64()
        .unwrap();
    assert_eq!((started, finished), (total, total));
}

#[test]
fn a_client_that_leaves_frees_its_subscription() {
    let monitor = Arc::new(Monitor::new(1, 1, None));
    let d = Dashboard::start("127.0.0.1:0", monitor).unwrap();
    let events = Events::open(d.local_addr());
    wait_for("the client to be counted", || {
        (d.event_clients() == 1).then_some(())
    });
    drop(events);
    // Noticed at the next keep-alive write (about a second).
    wait_for("the client to be let go", || {
        (d.event_clients() == 0).then_some(())
    });

    // A client still there when the dashboard stops is told so, and the stream ends.
    let mut events = Events::open_with(d.local_addr(), "close");
    assert_eq!(events.next()["type"], "status");
    drop(d);
    assert_eq!(events.next()["type"], "stopped");
    let mut rest = String::new();
    events.0.read_to_string(&mut rest).unwrap();
    assert!(rest.trim().is_empty(), "{rest}");
}

#[test]
fn unknown_paths_404_other_methods_405_hostile_requests_survive() {
    let monitor = Arc::new(Monitor::new(2, 1, None));
    let d = Dashboard::start("127.0.0.1:0", monitor).unwrap();
    let addr = d.local_addr();
    assert_eq!(request(addr, "GET", "/nope").0, 404);
    assert_eq!(request(addr, "GET", "/api/computes/42").0, 404);
    assert_eq!(request(addr, "GET", "/api/computes/x/plan.svg").0, 404);
    assert_eq!(request(addr, "GET", "/api/computes/1/other").0, 404);
    assert_eq!(request(addr, "POST", "/api/status").0, 405);
    assert_eq!(request(addr, "DELETE", "/").0, 405);
    // Garbage, a huge path, a half request: each fails alone.
    for junk in [
        b"\x00\x01\x02 garbage\r\n\r\n".to_vec(),
        format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(100_000)).into_bytes(),
        b"GET /api/status HTTP/1.1\r\nHost: x".to_vec(),
        b"GET /api/status HTTP/9.9\r\nContent-Length: -5\r\n\r\n".to_vec(),
    ] {
        if let Ok(mut s) = TcpStream::connect(addr) {
            let _ = s.write_all(&junk);
            let _ = s.shutdown(std::net::Shutdown::Write);
            let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
            let _ = s.read_to_end(&mut Vec::new());
        }
    }
    let (status, page) = request(addr, "GET", "/");
    assert_eq!(status, 200);
    assert!(page.contains("<canvas id=\"stream\""));
    assert!(request(addr, "GET", "/dashboard.js")
        .1
        .contains("EventSource"));
    assert_eq!(get_json(addr, "/api/status")["workers"], 2);
    assert_eq!(get_json(addr, "/api/computes"), Value::Array(vec![]));
}

#[test]
fn binds_only_the_address_asked_and_frees_it_on_drop() {
    let monitor = Arc::new(Monitor::new(1, 1, None));
    let d = Dashboard::start("127.0.0.1:0", monitor.clone()).unwrap();
    let addr = d.local_addr();
    assert_eq!(addr.ip().to_string(), "127.0.0.1");
    assert_ne!(addr.port(), 0);
    assert_eq!(d.url(), format!("http://{addr}/"));
    // All of 127/8 is this machine; a wildcard bind would answer on 127.0.0.2 too.
    let other: SocketAddr = format!("127.0.0.2:{}", addr.port()).parse().unwrap();
    assert!(
        TcpStream::connect_timeout(&other, Duration::from_secs(2)).is_err(),
        "the dashboard answers on {other}, not only on {addr}"
    );
    // The address is taken now: a second dashboard there fails, naming it.
    let err = Dashboard::start(&addr.to_string(), monitor.clone()).unwrap_err();
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
    let err = Ensemble::builder()
        .n_workers(1)
        .dashboard("not an address")
        .build()
        .unwrap_err();
    assert!(err.to_string().contains("'not an address'"), "{err}");

    assert_eq!(request(addr, "GET", "/api/status").0, 200);
    drop(d);
    // The listener closes when the server's accept thread ends, just after drop.
    wait_for("the port to close", || {
        TcpStream::connect_timeout(&addr, Duration::from_secs(2))
            .is_err()
            .then_some(())
    });
    // And it can be bound again.
    let again = Dashboard::start(&addr.to_string(), monitor).unwrap();
    assert_eq!(again.local_addr(), addr);
}

#[test]
fn plan_svg_is_drawn_by_graphviz_or_404_with_a_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (ens, gate, addr) = setup(dir.path(), usize::MAX);
    gate.open();
    assert_eq!(spawn_compute(&ens, &gate).join().unwrap(), OBJECTS);
    let id = get_json(addr, "/api/computes")[0]["id"].as_u64().unwrap();
    let (status, body) = request(addr, "GET", &format!("/api/computes/{id}/plan.svg"));
    let has_dot = std::process::Command::new("dot").arg("-V").output().is_ok();
    if has_dot {
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("<svg"), "{body}");
    } else {
        assert_eq!(status, 404);
        assert!(body.contains("Graphviz"), "{body}");
        let detail = get_json(addr, &format!("/api/computes/{id}"));
        assert!(detail["dot"].as_str().unwrap().contains("digraph"));
    }
}

// ---- the page in a real browser ------------------------------------------------------
//
// Driven through chromedriver (WebDriver is plain HTTP + JSON): `chromium --dump-dom` reads
// the page at its load event, before the page has fetched anything, and
// `--virtual-time-budget` never ends while the page holds its event stream open.

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// A chromedriver process and one headless Chromium session; both end on drop.
struct Browser {
    driver: std::process::Child,
    addr: SocketAddr,
    session: String,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn start() -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = std::process::Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        wait_for("chromedriver", || {
            TcpStream::connect(addr)
                .is_ok()
                .then(|| request_with(addr, "GET", "/status", ""))
                .filter(|(status, _)| *status == 200)
        });
        let profile = tempfile::tempdir().unwrap();
        // The flags that keep Chromium off the network on a closed machine.
        let caps = serde_json::json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                     "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-first-run", "--hide-scrollbars",
                     "--window-size=1280,1100",
                     format!("--user-data-dir={}", profile.path().display())]
        }}}});
        let mut browser = Browser {
            driver,
            addr,
            session: String::new(),
            _profile: profile,
        };
        let answer = browser.call("POST", "/session", &caps);
        browser.session = answer["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {answer}"))
            .to_string();
        browser
    }

    /// A WebDriver command on the session (`path` after `/session/ID`); its `value`.
    fn call(&self, method: &str, path: &str, body: &Value) -> Value {
        let path = if self.session.is_empty() {
            path.to_string()
        } else {
            format!("/session/{}{path}", self.session)
        };
        let body = if body.is_null() {
            String::new()
        } else {
            body.to_string()
        };
        let (status, text) = request_with(self.addr, method, &path, &body);
        let v: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        assert_eq!(status, 200, "{method} {path}: {text}");
        v["value"].clone()
    }

    fn eval(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            &serde_json::json!({"script": script, "args": []}),
        )
    }

    /// The page's `<body data-*>` counters, as numbers where they are numbers.
    fn counters(&self) -> Value {
        self.eval("return Object.assign({}, document.body.dataset)")
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let path = format!("/session/{}", self.session);
            let _ = request_with(self.addr, "DELETE", &path, "");
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn num(v: &Value, key: &str) -> u64 {
    v[key].as_str().and_then(|s| s.parse().ok()).unwrap_or(0)
}

#[test]
fn the_page_draws_the_task_stream_and_progress_in_chromium() {
    for tool in [CHROMIUM, CHROMEDRIVER] {
        if !Path::new(tool).exists() {
            println!(
                "skipped: {tool} is missing (apt-get install chromium chromium-driver; .ci/run does)"
            );
            return;
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let (ens, gate, addr) = setup(dir.path(), OBJECTS / 3);
    let compute = spawn_compute(&ens, &gate);
    let held = wait_for("the compute to reach the gate", || {
        (gate.started.load(Ordering::Acquire) > OBJECTS / 3)
            .then(|| running_compute(addr))
            .flatten()
    });
    let id = held["id"].as_u64().unwrap();
    let total = held["tasks_total"].as_u64().unwrap();

    let browser = Browser::start();
    browser.call(
        "POST",
        "/url",
        &serde_json::json!({"url": format!("http://{addr}/")}),
    );
    // Held at the gate: the page shows the running compute, part done.
    let page = wait_for("the page to draw the running compute", || {
        let c = browser.counters();
        (c["connected"] == "yes" && num(&c, "streamBars") > 0 && num(&c, "tasksTotal") > 0)
            .then_some(c)
    });
    assert_eq!(num(&page, "compute"), id, "{page}");
    assert_eq!(num(&page, "tasksTotal"), total, "{page}");
    assert!(
        num(&page, "tasksDone") > 0 && num(&page, "tasksDone") < total,
        "{page}"
    );
    assert_eq!(num(&page, "streamBars"), num(&page, "spans"), "{page}");
    let stages = browser.eval(
        "return [...document.querySelectorAll('.stage')].map(s => [s.dataset.done, s.dataset.total])",
    );
    assert!(!stages.as_array().unwrap().is_empty(), "no progress bar");
    let explain = browser.eval("return document.getElementById('explain').textContent");
    assert!(
        explain.as_str().unwrap().contains("slow_count"),
        "{explain}"
    );

    let shot = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .unwrap_or(Path::new("target"))
        .join("dashboard-screenshot.png");
    let png64 = browser.call("GET", "/screenshot", &Value::Null);
    let png = base64::Engine::decode(
        &base64::engine::general_purpose::STANDARD,
        png64.as_str().unwrap(),
    )
    .unwrap();
    std::fs::write(&shot, &png).unwrap();
    let rect = browser.eval(
        "const r = document.getElementById('stream').getBoundingClientRect(); \
         return [r.left, r.top, r.right, r.bottom].map(Math.round)",
    );
    let rect: Vec<usize> = rect
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let (drawn, bars) = drawn_pixels(&png, &rect);
    println!(
        "screenshot: {} ({drawn} drawn pixels; {bars} in the task stream's bars)",
        shot.display()
    );
    assert!(
        drawn > 20_000,
        "the screenshot is nearly blank: {drawn} pixels"
    );
    // Three threads each running a task for most of the time shown: long bars.
    assert!(
        bars > 5_000,
        "no task bars in the screenshot: {bars} pixels"
    );

    // Released: the events carry the page to the end, and the compute joins the history.
    gate.open();
    assert_eq!(compute.join().unwrap(), OBJECTS);
    let end = wait_for("the page to show the compute done", || {
        let c = browser.counters();
        (num(&c, "tasksDone") == total).then_some(c)
    });
    assert_eq!(num(&end, "spans"), total, "{end}");
    // The history is fetched again when the compute-finished event arrives.
    let first = "return document.querySelector('#history details .status-done') !== null \
                 && document.querySelector('#history details').dataset.compute";
    let listed = wait_for("the history to list the compute as done", || {
        browser.eval(first).as_str().map(str::to_string)
    });
    assert_eq!(listed, id.to_string());
}

use std::path::Path;

/// Pixels of the PNG `bytes` that differ from the page background, and the bluish ones
/// (stage 0's #1f77b4, solid for finished tasks, lighter for running ones; axes and labels
/// are grey) inside `rect` (left, top, right, bottom: the task stream).
fn drawn_pixels(bytes: &[u8], rect: &[usize]) -> (usize, usize) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    assert!(channels >= 3, "{:?}", info.color_type);
    let width = info.width as usize;
    let (mut drawn, mut bars) = (0, 0);
    for (i, p) in buf[..info.buffer_size()].chunks(channels).enumerate() {
        let (x, y) = (i % width, i / width);
        let [r, g, b] = [p[0] as i32, p[1] as i32, p[2] as i32];
        if [r, g, b] != [0xfa, 0xfa, 0xfa] && [r, g, b] != [0xff, 0xff, 0xff] {
            drawn += 1;
        }
        let inside = x >= rect[0] && x < rect[2] && y >= rect[1] && y < rect[3];
        if inside && b > r + 40 && b > g + 10 {
            bars += 1;
        }
    }
    (drawn, bars)
}

#[test]
fn the_cli_prints_the_dashboard_address_and_names_a_bad_one() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sj.csv");
    let run = |addr: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_lsstseries"))
            .args(["batch", "stetson_j", "data/tape/test_source.parquet"])
            .args(["--columns", "tape", "--overwrite", "--dashboard", addr])
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap()
    };
    let ok = run("127.0.0.1:0");
    let stderr = String::from_utf8_lossy(&ok.stderr);
    assert!(ok.status.success(), "{stderr}");
    assert!(
        stderr.starts_with("dashboard: http://127.0.0.1:"),
        "{stderr}"
    );
    let bad = run("127.0.0.1:not-a-port");
    let stderr = String::from_utf8_lossy(&bad.stderr);
    assert!(!bad.status.success());
    assert!(stderr.contains("'127.0.0.1:not-a-port'"), "{stderr}");
}
