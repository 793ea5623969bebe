// The in-class live page (no Grafana needed): one card per student with three canvas charts —
// latency p50/p95, video/audio loss, bitrate/fps — over the last minute, with netem steps, clip
// switches and freezes as vertical markers. It polls the room server's JSON (`/live/data`) once a
// second. Self-contained: inline script and style, no external URL, so it works offline and under
// a `default-src 'none'` Content-Security-Policy. The browser script is plain ES2020 in a string
// (the project compiles without DOM types); it builds DOM with textContent only, never innerHTML
// from data, so student names cannot inject markup.

export type LiveViewPageOptions = {
  /** Where the page fetches samples (default "/live/data"). */
  dataPath?: string;
  /** Seconds of history drawn (default 60). */
  windowSeconds?: number;
  /** Poll period in ms (default 1000). */
  pollMs?: number;
  title?: string;
};

function htmlText(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Series drawn per chart: sample field, legend, colour. Exported so tests can look for the colours. */
export const LIVE_CHARTS = [
  {
    id: "latency",
    title: "Latency (ms)",
    series: [
      { key: "latencyP50Ms", name: "p50", color: "#1f77b4" },
      { key: "latencyP95Ms", name: "p95", color: "#d62728" },
    ],
  },
  {
    id: "loss",
    title: "Loss (%) · jitter (ms)",
    series: [
      { key: "lossPct", name: "video loss", color: "#ff7f0e" },
      { key: "audioLossPct", name: "audio loss", color: "#9467bd" },
      { key: "jitterMs", name: "jitter", color: "#8c564b" },
    ],
  },
  {
    id: "rate",
    title: "Bitrate (kbps) · fps ×10",
    series: [
      { key: "bitrateKbps", name: "kbps", color: "#2ca02c" },
      { key: "fps10", name: "fps ×10", color: "#17becf" },
    ],
  },
] as const;

export const LIVE_EVENT_COLORS: Readonly<Record<string, string>> = { netem_step: "#f0a000", clip_switch: "#7b3fbf", freeze: "#e00000" };

export function liveViewHtml(opts: LiveViewPageOptions = {}): string {
  const config = {
    dataPath: opts.dataPath ?? "/live/data",
    windowMs: (opts.windowSeconds ?? 60) * 1000,
    pollMs: opts.pollMs ?? 1000,
    charts: LIVE_CHARTS,
    eventColors: LIVE_EVENT_COLORS,
  };
  const title = htmlText(opts.title ?? "proctor — live class");
  // JSON inside <script>: escape "<" so no string can close the element.
  const configJson = JSON.stringify(config).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>
  body { font: 13px/1.4 system-ui, sans-serif; margin: 16px; background: #f4f5f7; color: #222; }
  h1 { font-size: 18px; margin: 0 0 4px; }
  #status { color: #555; margin-bottom: 12px; }
  #status.error { color: #b00; }
  #students { display: grid; grid-template-columns: repeat(auto-fill, minmax(980px, 1fr)); gap: 12px; }
  .card { background: #fff; border: 1px solid #d8dbe0; border-radius: 6px; padding: 8px 10px; }
  .card h2 { font-size: 14px; margin: 0 0 6px; }
  .charts { display: flex; gap: 10px; flex-wrap: wrap; }
  .chart { display: flex; flex-direction: column; }
  .chart .t { font-weight: 600; font-size: 12px; }
  .legend span { margin-right: 10px; font-size: 11px; }
  .legend i { display: inline-block; width: 10px; height: 3px; vertical-align: middle; margin-right: 3px; }
  canvas { width: 310px; height: 130px; background: #ffffff; }
  #empty { color: #777; }
</style>
</head>
<body>
<h1>${title}</h1>
<div id="status">connecting…</div>
<div id="empty">No student data yet.</div>
<div id="students"></div>
<script>
"use strict";
(function () {
  var CFG = ${configJson};
  var students = new Map(); // key "room/student" -> { room, student, samples: Map(unixMs -> sample), el, canvases }
  var events = new Map();   // key -> event
  var since = 0;
  var statusEl = document.getElementById("status");
  var listEl = document.getElementById("students");
  var emptyEl = document.getElementById("empty");
  var ticks = 0;

  function card(s) {
    var el = document.createElement("div");
    el.className = "card";
    el.dataset.student = s.student;
    el.dataset.room = s.room;
    var h = document.createElement("h2");
    h.textContent = s.student + " · " + s.room;
    el.appendChild(h);
    var charts = document.createElement("div");
    charts.className = "charts";
    var canvases = {};
    CFG.charts.forEach(function (c) {
      var box = document.createElement("div");
      box.className = "chart";
      var t = document.createElement("div");
      t.className = "t";
      t.textContent = c.title;
      box.appendChild(t);
      var cv = document.createElement("canvas");
      cv.dataset.chart = c.id;
      cv.dataset.points = "0";
      box.appendChild(cv);
      var lg = document.createElement("div");
      lg.className = "legend";
      c.series.forEach(function (sr) {
        var sp = document.createElement("span");
        var sw = document.createElement("i");
        sw.style.background = sr.color;
        sp.appendChild(sw);
        sp.appendChild(document.createTextNode(sr.name));
        lg.appendChild(sp);
      });
      box.appendChild(lg);
      charts.appendChild(box);
      canvases[c.id] = cv;
    });
    el.appendChild(charts);
    return { el: el, canvases: canvases };
  }

  function value(sample, key) {
    if (key === "fps10") return typeof sample.fps === "number" ? sample.fps * 10 : null;
    var v = sample[key];
    return typeof v === "number" && isFinite(v) ? v : null;
  }

  function draw(cv, chart, samples, evs, t0, t1) {
    var dpr = window.devicePixelRatio || 1;
    var w = cv.clientWidth || 310, h = cv.clientHeight || 130;
    if (cv.width !== Math.round(w * dpr)) { cv.width = Math.round(w * dpr); cv.height = Math.round(h * dpr); }
    var g = cv.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.fillStyle = "#ffffff";
    g.fillRect(0, 0, w, h);
    var L = 36, R = 6, T = 6, B = 16;
    var ymax = 0;
    samples.forEach(function (s) { chart.series.forEach(function (sr) { var v = value(s, sr.key); if (v !== null && v > ymax) ymax = v; }); });
    ymax = ymax > 0 ? ymax * 1.15 : 1;
    var x = function (t) { return L + ((t - t0) / (t1 - t0)) * (w - L - R); };
    var y = function (v) { return T + (1 - v / ymax) * (h - T - B); };
    // grid + labels
    g.strokeStyle = "#e6e8eb"; g.lineWidth = 1; g.fillStyle = "#666"; g.font = "10px sans-serif";
    for (var i = 0; i <= 4; i++) {
      var gv = (ymax * i) / 4, gy = Math.round(y(gv)) + 0.5;
      g.beginPath(); g.moveTo(L, gy); g.lineTo(w - R, gy); g.stroke();
      g.fillText(gv >= 100 ? gv.toFixed(0) : gv.toFixed(1), 2, gy + 3);
    }
    g.fillText("-" + Math.round((t1 - t0) / 1000) + "s", L, h - 3);
    g.fillText("now", w - R - 20, h - 3);
    // event markers
    evs.forEach(function (e) {
      if (e.unixMs < t0 || e.unixMs > t1) return;
      g.strokeStyle = CFG.eventColors[e.kind] || "#999";
      g.setLineDash([3, 3]);
      var ex = Math.round(x(e.unixMs)) + 0.5;
      g.beginPath(); g.moveTo(ex, T); g.lineTo(ex, h - B); g.stroke();
      g.setLineDash([]);
    });
    // series
    var drawn = 0;
    chart.series.forEach(function (sr) {
      g.strokeStyle = sr.color; g.fillStyle = sr.color; g.lineWidth = 2;
      g.beginPath();
      var open = false, n = 0, lx = 0, ly = 0;
      samples.forEach(function (s) {
        var v = value(s, sr.key);
        if (v === null || s.unixMs < t0) { open = false; return; }
        var px = x(s.unixMs + 500), py = y(v);
        if (open) g.lineTo(px, py); else g.moveTo(px, py);
        open = true; n++; lx = px; ly = py;
      });
      g.stroke();
      if (n > 0) { g.beginPath(); g.arc(lx, ly, 2.5, 0, Math.PI * 2); g.fill(); }
      drawn += n;
    });
    cv.dataset.points = String(drawn);
  }

  function render(now) {
    var t1 = now, t0 = now - CFG.windowMs;
    var keys = Array.from(students.keys()).sort();
    emptyEl.style.display = keys.length ? "none" : "";
    keys.forEach(function (k) {
      var st = students.get(k);
      if (!st.view) { st.view = card(st); listEl.appendChild(st.view.el); }
      var samples = Array.from(st.samples.values()).sort(function (a, b) { return a.unixMs - b.unixMs; });
      var evs = Array.from(events.values()).filter(function (e) { return e.room === st.room && (e.student === undefined || e.student === st.student); });
      CFG.charts.forEach(function (c) { draw(st.view.canvases[c.id], c, samples, evs, t0, t1); });
    });
  }

  function ingest(j) {
    var newest = since;
    j.samples.forEach(function (s) {
      var k = s.room + "/" + s.student;
      var st = students.get(k);
      if (!st) { st = { room: s.room, student: s.student, samples: new Map() }; students.set(k, st); }
      st.samples.set(s.unixMs, s);
      if (s.unixMs > newest) newest = s.unixMs;
    });
    (j.events || []).forEach(function (e) { events.set(e.unixMs + "|" + e.kind + "|" + e.room + "|" + (e.student || ""), e); });
    var cut = j.now - CFG.windowMs;
    students.forEach(function (st) { st.samples.forEach(function (s, t) { if (t < cut) st.samples.delete(t); }); });
    events.forEach(function (e, k) { if (e.unixMs < cut) events.delete(k); });
    // Ask again from a little before the newest second: late seconds are merged by time.
    since = Math.max(cut, newest - 3000);
  }

  function tick() {
    var url = CFG.dataPath + "?since=" + Math.floor(since);
    fetch(url, { cache: "no-store" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (j) {
        ingest(j);
        render(j.now);
        ticks++;
        document.body.dataset.ticks = String(ticks);
        statusEl.className = "";
        statusEl.textContent = "updated " + new Date(j.now).toLocaleTimeString() + " · " + students.size + " student(s)";
      })
      .catch(function (e) { statusEl.className = "error"; statusEl.textContent = "no data: " + e.message; })
      .then(function () { setTimeout(tick, CFG.pollMs); });
  }
  tick();
})();
</script>
</body>
</html>
`;
}
