// The lsstseries dashboard: drawn from /api/* and kept live by the event stream
// (/api/events). Nothing polls: the server sends each task as it starts and ends, and a
// status snapshot about once a second while a compute runs. Drawing is batched per frame.
"use strict";

const PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
const $ = (id) => document.getElementById(id);

const state = {
  status: null,      // last StatusSnapshot
  selected: null,    // id of the compute shown
  compute: null,     // its ComputeSnapshot
  stages: [],        // its StageProgress, kept current from task events
  spans: [],         // its finished tasks (TaskSpan)
  spanKeys: new Set(),
  running: new Map(),// thread key -> {stage, partition, at_us}
  clock: { us: 0, at: performance.now(), live: false }, // compute time, for open bars
  memory: [],        // [{t, used}] sampled from status events
  history: [],
  events: 0,
};

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "style") e.style.cssText = v; else if (k.startsWith("on")) e[k] = v; else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return e;
}

function human(n) {
  if (n === null || n === undefined) return "–";
  const units = ["", "K", "M", "G", "T"];
  let i = 0;
  while (Math.abs(n) >= 1000 && i < units.length - 1) { n /= 1000; i++; }
  return (i ? n.toFixed(1) : Math.round(n)) + units[i];
}

function bytes(n) {
  if (n === null || n === undefined) return "no limit";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : n) + " " + units[i];
}

function threadKey(t) { return t === null || t === undefined ? "caller" : String(t); }
function spanKey(s) { return s.stage + ":" + s.partition + ":" + s.start_us; }

async function getJson(url) {
  const r = await fetch(url, { cache: "no-store" });
  if (!r.ok) throw new Error(url + ": " + r.status);
  return r.json();
}

// ---- state changes -------------------------------------------------------------------

function nowUs() {
  const c = state.clock;
  return c.live ? c.us + (performance.now() - c.at) * 1000 : c.us;
}

function setClock(us, live) {
  state.clock = { us: Math.max(us, state.clock.us), at: performance.now(), live };
}

function addSpan(span) {
  const k = spanKey(span);
  if (state.spanKeys.has(k)) return false;
  state.spanKeys.add(k);
  state.spans.push(span);
  if (span.end_us > state.clock.us) setClock(span.end_us, state.clock.live);
  return true;
}

async function select(id) {
  if (state.selected !== id) {
    state.selected = id;
    state.compute = null;
    state.stages = [];
    state.spans = [];
    state.spanKeys = new Set();
    state.running = new Map();
    state.memory = [];
    state.clock = { us: 0, at: performance.now(), live: false };
    $("plan-picture").replaceChildren();
    $("explain").textContent = "";
  }
  try {
    const d = await getJson("/api/computes/" + id);
    if (state.selected !== id) return;
    state.compute = d.compute;
    state.stages = d.compute.stages.map((s) => ({ ...s }));
    for (const s of d.spans) addSpan(s);
    const live = d.compute.status === "running";
    setClock(d.compute.elapsed_ms * 1000, live);
    showPlan(d);
  } catch (e) {
    console.warn(e);
  }
  schedule();
}

function showPlan(d) {
  const c = d.compute;
  $("explain").textContent = c.analyze || c.explain || "";
  const box = $("plan-picture");
  if (box.dataset.compute === String(c.id)) return;
  box.dataset.compute = String(c.id);
  const img = el("img", { alt: "plan of compute " + c.id });
  img.onerror = () => {
    // No Graphviz on the server: show the DOT text instead.
    box.replaceChildren(el("pre", { id: "plan-dot" }, d.dot || "(no plan picture)"));
  };
  img.src = "/api/computes/" + c.id + "/plan.svg";
  box.replaceChildren(img);
}

async function loadHistory() {
  try {
    state.history = await getJson("/api/computes");
  } catch (e) {
    console.warn(e);
  }
  renderHistory();
}

function onStatus(s) {
  state.status = s;
  const running = s.running.slice().sort((a, b) => b.id - a.id);
  if (running.length && state.selected !== running[0].id) {
    select(running[0].id);
  }
  const mine = s.running.find((c) => c.id === state.selected);
  if (mine) {
    state.compute = mine;
    // Counts from the server are the truth; events in between only move them forward.
    mine.stages.forEach((st, i) => {
      const cur = state.stages[i];
      state.stages[i] = cur && cur.tasks_done > st.tasks_done ? cur : { ...st };
    });
    setClock(mine.elapsed_ms * 1000, true);
    // Tasks in flight, as of this snapshot (a page opened mid-task missed their start).
    state.running = new Map();
    for (const t of s.threads) {
      const r = t.running;
      if (r && r.compute === mine.id) {
        const at = Math.max(0, (mine.elapsed_ms - r.running_ms) * 1000);
        state.running.set(threadKey(t.thread), { stage: r.stage, partition: r.partition, at_us: at });
      }
    }
    state.memory.push({ t: mine.elapsed_ms / 1000, used: mine.memory_used, peak: mine.memory_peak });
  }
  renderThreads();
  renderCluster();
  schedule();
}

function onEvent(ev) {
  state.events++;
  document.body.dataset.events = state.events;
  switch (ev.type) {
    case "status":
      onStatus(ev);
      return;
    case "compute_started":
      select(ev.compute);
      loadHistory();
      return;
    case "task_started":
      if (ev.compute !== state.selected) return;
      state.running.set(threadKey(ev.thread), { stage: ev.stage, partition: ev.partition, at_us: ev.at_us });
      if (state.stages[ev.stage]) state.stages[ev.stage].tasks_running++;
      if (ev.at_us > state.clock.us) setClock(ev.at_us, true);
      break;
    case "task_finished": {
      if (ev.compute !== state.selected) return;
      const s = ev.span;
      state.running.delete(threadKey(s.thread));
      if (addSpan(s) && state.stages[s.stage]) {
        const st = state.stages[s.stage];
        st.tasks_done = Math.min(st.tasks_total, st.tasks_done + 1);
        st.tasks_running = Math.max(0, st.tasks_running - 1);
        st.rows_in += s.rows_in;
        st.rows_out += s.rows_out;
      }
      break;
    }
    case "stopped":
      // The server is going away: stop reconnecting.
      source.close();
      $("connection").textContent = "dashboard stopped";
      $("connection").className = "off";
      document.body.dataset.connected = "no";
      return;
    case "compute_finished":
      if (ev.compute === state.selected) {
        state.running.clear();
        state.clock.live = false;
        select(ev.compute);
      }
      loadHistory();
      return;
  }
  schedule();
}

// ---- drawing -------------------------------------------------------------------------

let scheduled = false;
let source = null;
function schedule() {
  if (scheduled) return;
  scheduled = true;
  requestAnimationFrame(() => {
    scheduled = false;
    render();
  });
}

function render() {
  renderSummary();
  renderProgress();
  drawStream();
  drawRate();
  drawMemory();
  if (state.clock.live && state.running.size) schedule(); // open bars grow with time
}

function renderSummary() {
  const s = state.status;
  if (s) {
    $("executor").textContent = `executor: ${s.workers} worker(s) × ${s.threads_per_worker} thread(s), memory limit ${bytes(s.memory_limit)}, ${s.computes_finished} compute(s) finished`;
  }
  const c = state.compute;
  if (!c) return;
  document.body.dataset.compute = c.id;
  $("compute-title").textContent = `#${c.id} ${c.label}`;
  const done = state.stages.reduce((a, st) => a + st.tasks_done, 0);
  const total = state.stages.reduce((a, st) => a + st.tasks_total, 0);
  const rowsIn = state.stages.length ? state.stages[0].rows_in : 0;
  const secs = nowUs() / 1e6;
  $("compute-summary").replaceChildren(
    el("span", { class: "status-" + c.status }, c.status),
    el("span", {}, `tasks ${done} / ${total}`),
    el("span", {}, `rows in ${human(rowsIn)}`),
    el("span", {}, `rows/s ${human(secs > 0 ? rowsIn / secs : 0)}`),
    el("span", {}, `elapsed ${secs.toFixed(1)} s`),
    el("span", {}, `memory ${bytes(c.memory_used)} (peak ${bytes(c.memory_peak)}, limit ${bytes(c.memory_limit)})`),
    c.error ? el("span", { class: "status-failed" }, c.error) : "",
  );
  document.body.dataset.tasksDone = done;
  document.body.dataset.tasksTotal = total;
}

function renderProgress() {
  const box = $("progress");
  box.replaceChildren(...state.stages.map((st, i) => {
    const colour = PALETTE[i % PALETTE.length];
    const pct = (n) => (st.tasks_total ? (100 * n) / st.tasks_total : 0).toFixed(2) + "%";
    return el("div", { class: "stage", "data-stage": i, "data-done": st.tasks_done, "data-total": st.tasks_total },
      el("div", { class: "label", title: st.label }, `stage ${i}: ${st.label}`),
      el("div", { class: "bar" },
        el("div", { class: "done", style: `left:0;width:${pct(st.tasks_done)};background:${colour}` }),
        el("div", { class: "running", style: `left:${pct(st.tasks_done)};width:${pct(st.tasks_running)};background:${colour}` })),
      el("div", { class: "count" }, `${st.tasks_done} / ${st.tasks_total} tasks, ${st.tasks_running} running, ${human(st.rows_in)} rows in, ${human(st.rows_out)} out`));
  }));
  $("legend").replaceChildren(...state.stages.map((st, i) =>
    el("span", {}, el("i", { style: "background:" + PALETTE[i % PALETTE.length] }), `stage ${i}`)));
}

function renderThreads() {
  const s = state.status;
  if (!s) return;
  $("threads").tBodies[0].replaceChildren(...s.threads.map((t) => {
    const r = t.running;
    return el("tr", {}, el("td", {}, t.thread), el("td", {}, t.worker),
      el("td", {}, r ? `compute ${r.compute} stage ${r.stage} partition ${r.partition} (${r.running_ms} ms)` : "idle"));
  }));
}

// The cluster computes run on, when the ensemble has one: its scheduler's executors.
function renderCluster() {
  const c = state.status && state.status.cluster;
  $("cluster-section").hidden = !c;
  if (!c) return;
  $("cluster-scheduler").textContent = c.unreachable
    ? `${c.engine} at ${c.scheduler}: not answering (${c.unreachable})`
    : `${c.engine} at ${c.scheduler}`;
  $("cluster").tBodies[0].replaceChildren(...c.executors.map((e) =>
    el("tr", { class: "executor-" + e.status }, el("td", {}, e.id), el("td", {}, e.address),
      el("td", {}, e.slots), el("td", {}, e.status),
      el("td", {}, e.heartbeat_age_s === null ? "–" : `${e.heartbeat_age_s} s ago`))));
}

function fitCanvas(canvas) {
  const ratio = window.devicePixelRatio || 1;
  const w = Math.max(200, canvas.clientWidth || canvas.width);
  const h = canvas.height / (canvas._ratio || 1);
  if (canvas._w !== w || canvas._ratio !== ratio) {
    canvas._w = w;
    canvas._ratio = ratio;
    canvas.width = Math.round(w * ratio);
    canvas.height = Math.round(h * ratio);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return { ctx, w, h };
}

function niceStep(range, ticks) {
  const raw = range / ticks;
  const p = Math.pow(10, Math.floor(Math.log10(raw)));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

function timeAxis(ctx, x0, x1, y, maxS) {
  ctx.fillStyle = "#555";
  ctx.strokeStyle = "#ccc";
  ctx.font = "11px sans-serif";
  const step = niceStep(maxS || 1, 8);
  for (let t = 0; t <= maxS + 1e-9; t += step) {
    const x = x0 + ((x1 - x0) * t) / maxS;
    ctx.beginPath(); ctx.moveTo(x, 0); ctx.lineTo(x, y); ctx.stroke();
    ctx.fillText(t.toFixed(step < 1 ? 1 : 0) + " s", x + 2, y + 12);
  }
}

function drawStream() {
  const canvas = $("stream");
  const threads = state.status ? state.status.threads.map((t) => String(t.thread)) : [];
  const rows = threads.slice();
  const hasCaller = state.spans.some((s) => s.thread === null) || state.running.has("caller");
  if (hasCaller) rows.push("caller");
  for (const s of state.spans) if (!rows.includes(threadKey(s.thread))) rows.push(threadKey(s.thread));
  const rowH = Math.max(6, Math.min(24, Math.floor(190 / Math.max(1, rows.length))));
  canvas.height = (rows.length * rowH + 24) * (canvas._ratio || 1);
  canvas._w = null;
  const { ctx, w } = fitCanvas(canvas);
  const left = 52, right = w - 8, axisY = rows.length * rowH;
  const endUs = Math.max(nowUs(), 1);
  const x = (us) => left + ((right - left) * us) / endUs;
  timeAxis(ctx, left, right, axisY, endUs / 1e6);
  ctx.fillStyle = "#333";
  ctx.font = "11px sans-serif";
  rows.forEach((r, i) => ctx.fillText(r === "caller" ? "caller" : "thread " + r, 2, i * rowH + rowH * 0.75));
  const rowOf = new Map(rows.map((r, i) => [r, i]));
  let bars = 0;
  for (const s of state.spans) {
    const row = rowOf.get(threadKey(s.thread));
    ctx.fillStyle = s.ok ? PALETTE[s.stage % PALETTE.length] : "#000";
    ctx.fillRect(x(s.start_us), row * rowH + 1, Math.max(1, x(s.end_us) - x(s.start_us) - 0.5), rowH - 2);
    bars++;
  }
  ctx.globalAlpha = 0.45;
  for (const [k, t] of state.running) {
    const row = rowOf.get(k);
    if (row === undefined) continue;
    ctx.fillStyle = PALETTE[t.stage % PALETTE.length];
    ctx.fillRect(x(t.at_us), row * rowH + 1, Math.max(1, x(endUs) - x(t.at_us)), rowH - 2);
  }
  ctx.globalAlpha = 1;
  document.body.dataset.spans = state.spans.length;
  document.body.dataset.streamBars = bars;
}

function lineChart(canvas, series, opts) {
  const { ctx, w, h } = fitCanvas(canvas);
  const left = 56, right = w - 8, top = 6, bottom = h - 18;
  const maxT = Math.max(1e-3, ...series.flatMap((s) => s.points.map((p) => p.t)));
  const maxY = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.y)));
  timeAxis(ctx, left, right, bottom, maxT);
  ctx.fillStyle = "#555";
  ctx.font = "11px sans-serif";
  for (const f of [0, 0.5, 1]) {
    const y = bottom - (bottom - top) * f;
    ctx.fillText(opts.format(maxY * f), 2, y + 4);
  }
  for (const s of series) {
    if (!s.points.length) continue;
    ctx.strokeStyle = s.colour;
    ctx.lineWidth = 2;
    ctx.setLineDash(s.dash || []);
    ctx.beginPath();
    s.points.forEach((p, i) => {
      const px = left + ((right - left) * p.t) / maxT;
      const py = bottom - ((bottom - top) * p.y) / maxY;
      if (i) ctx.lineTo(px, py); else ctx.moveTo(px, py);
    });
    ctx.stroke();
    ctx.setLineDash([]);
  }
  if (!series.some((s) => s.points.length)) {
    ctx.fillStyle = "#999";
    ctx.fillText(opts.empty, left + 8, top + 20);
  }
}

// Rows read per second, from the first stage's finished tasks binned by end time.
function drawRate() {
  const endUs = Math.max(nowUs(), 1);
  const bins = 40;
  const rows = new Array(bins).fill(0);
  for (const s of state.spans) {
    if (s.stage !== 0) continue;
    rows[Math.min(bins - 1, Math.floor((s.end_us / endUs) * bins))] += s.rows_in;
  }
  const width = endUs / 1e6 / bins;
  const points = state.spans.length ? rows.map((r, i) => ({ t: (i + 0.5) * width, y: r / width })) : [];
  lineChart($("rate"), [{ points, colour: PALETTE[0] }], { format: human, empty: "no finished tasks yet" });
}

function drawMemory() {
  const c = state.compute;
  const used = state.memory.map((m) => ({ t: m.t, y: m.used }));
  const series = [{ points: used, colour: PALETTE[2] }];
  if (c && c.memory_limit && used.length) {
    const t1 = used[used.length - 1].t;
    series.push({ points: [{ t: 0, y: c.memory_limit }, { t: t1, y: c.memory_limit }], colour: PALETTE[3], dash: [4, 3] });
  }
  lineChart($("memory"), series, { format: bytes, empty: "sampled once a second while a compute runs" });
}

function renderHistory() {
  const rows = state.history.map((c) => {
    const summary = el("summary", { class: "history-row" },
      el("b", {}, `#${c.id} `), c.label + " — ",
      el("span", { class: "status-" + c.status }, c.status),
      ` — ${(c.elapsed_ms / 1000).toFixed(2)} s, ${c.tasks_done}/${c.tasks_total} tasks, ${human(c.rows_in)} rows in, ${human(c.rows_out)} out`);
    summary.onclick = () => select(c.id);
    return el("details", { "data-compute": c.id }, summary,
      el("pre", {}, c.analyze || c.error || c.explain || ""));
  });
  $("history").replaceChildren(...rows);
  document.body.dataset.history = state.history.length;
}

// ---- start ---------------------------------------------------------------------------

async function start() {
  try {
    onStatus(await getJson("/api/status"));
  } catch (e) {
    console.warn(e);
  }
  await loadHistory();
  if (state.selected === null && state.history.length) select(state.history[0].id);
  source = new EventSource("/api/events");
  source.onopen = () => {
    $("connection").textContent = "live";
    $("connection").className = "on";
    document.body.dataset.connected = "yes";
  };
  source.onerror = () => {
    $("connection").textContent = "reconnecting…";
    $("connection").className = "off";
    document.body.dataset.connected = "no";
  };
  source.onmessage = (m) => {
    try {
      onEvent(JSON.parse(m.data));
    } catch (e) {
      console.warn(e);
    }
  };
  window.addEventListener("resize", schedule);
}

start();
