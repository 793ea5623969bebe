// report.html: one self-contained page per run (inline CSS, inline SVG, no script, no external
// URL), so it opens from a CI artifact or a mail attachment as is.
//
// Charts are drawn server-side by ECharts (SSR: `init(null, null, { renderer: "svg", ssr: true })`
// then `renderToSVGString()`), not hand-rolled SVG. Time charts read the run's metrics.lp (the
// per-second `wire` points and the netem_step / clip_start / freeze events) — report.json keeps
// only summaries; when metrics.lp is missing the page says so and still shows the rest.
//
// Charts: wire latency over time per student with netem steps shaded (markArea) and clip starts
// marked; loss over time per student (same shading); lip-sync offset per student (positive = audio
// leads; the product band −100..+25 ms shaded); clip-switch gaps; freezes on a timeline. Then the
// budget table (measured vs allowed) and a per-student table of the key figures.
// Above MAX_STUDENT_SERIES students, time charts plot the median and max across students per
// second and per-student charts become distributions, so the page stays small for a crowded room.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import * as echarts from "echarts";
import type { EChartsOption, LineSeriesOption, BarSeriesOption, CustomSeriesOption, CustomSeriesRenderItemAPI, CustomSeriesRenderItemParams } from "echarts";
import type { RunReport, StudentReport } from "./run-report.js";
import { readLineProtocolFile, numField, type LpPoint } from "./lp-reader.js";
import { formatMeasured } from "./junit.js";

export const MAX_STUDENT_SERIES = 24;
const CHART_WIDTH = 960;
const CHART_HEIGHT = 320;
/** Alternating fills for consecutive netem steps (the test looks for them). */
export const NETEM_STEP_FILLS = ["rgba(255,170,0,0.18)", "rgba(80,112,221,0.12)"] as const;
/** Lip-sync product band (DESIGN.md): audio may lag by 100 ms and lead by 25 ms. */
const LIPSYNC_BAND_MS = [-100, 25] as const;

type XY = [number, number | null];
type TimeSeries = { name: string; data: XY[] };
type StepArea = { fromS: number; toS: number; label: string; index: number };

/** What the time charts need, gathered from metrics.lp. */
export type RunTimeline = {
  /** Unix ms of t = 0 (the first clip start, else the first point). */
  originUnixMs: number;
  latency: TimeSeries[];
  loss: TimeSeries[];
  steps: StepArea[];
  clipStarts: { atS: number; clipId: number }[];
  freezes: { student: string; atS: number; durationMs: number }[];
  endS: number;
  /** Malformed lines skipped while reading metrics.lp. */
  skippedLines: number;
  hasData: boolean;
};

const studentKey = (room: string | undefined, student: string | undefined): string => `${room ?? "?"}/${student ?? "?"}`;

/** Per-student labels: the student name when the run has one room, room/student otherwise. */
function labeller(report: RunReport): (room: string | undefined, student: string | undefined) => string {
  const rooms = new Set(report.students.map((s) => s.room));
  return (room, student) => (rooms.size <= 1 ? (student ?? "?") : studentKey(room, student));
}

/** Gather per-second series and events from metrics.lp points (pure; exported for tests). */
export function buildTimeline(report: RunReport, points: readonly LpPoint[], skippedLines = 0): RunTimeline {
  const label = labeller(report);
  const wire = points.filter((p) => p.measurement === "wire" && Number.isFinite(p.timeUnixMs));
  const events = points.filter((p) => p.measurement === "event" && Number.isFinite(p.timeUnixMs));
  const clipStartTimes = events.filter((e) => e.tags.kind === "clip_start").map((e) => e.timeUnixMs);
  const firstOf = (xs: number[]): number => xs.reduce((a, b) => Math.min(a, b), Infinity);
  let origin = firstOf(clipStartTimes);
  if (!Number.isFinite(origin)) origin = firstOf(wire.map((p) => p.timeUnixMs));
  if (!Number.isFinite(origin)) origin = 0;
  const t = (unixMs: number): number => (unixMs - origin) / 1000;

  // Per student: field value per second, plotted mid-bin; a missing second breaks the line.
  const perStudent = (field: string): Map<string, XY[]> => {
    const m = new Map<string, XY[]>();
    for (const p of [...wire].sort((a, b) => a.timeUnixMs - b.timeUnixMs)) {
      const k = label(p.tags.room, p.tags.student);
      let list = m.get(k);
      if (!list) m.set(k, (list = []));
      const x = t(p.timeUnixMs + 500);
      const prev = list[list.length - 1];
      if (prev && x - prev[0] > 1.5) list.push([(x + prev[0]) / 2, null]);
      const v = numField(p, field);
      list.push([round(x, 3), v === undefined ? null : round(v, 3)]);
    }
    return m;
  };
  const toSeries = (m: Map<string, XY[]>): TimeSeries[] => {
    if (m.size <= MAX_STUDENT_SERIES) return [...m].map(([name, data]) => ({ name, data }));
    // Crowded room: median and max across students, per second.
    const bySecond = new Map<number, number[]>();
    for (const data of m.values()) {
      for (const [x, y] of data) {
        if (y === null) continue;
        const key = Math.round(x * 2) / 2;
        let l = bySecond.get(key);
        if (!l) bySecond.set(key, (l = []));
        l.push(y);
      }
    }
    const secs = [...bySecond.keys()].sort((a, b) => a - b);
    const stat = (f: (sorted: number[]) => number): XY[] => secs.map((s) => [s, round(f([...bySecond.get(s)!].sort((a, b) => a - b)), 3)]);
    return [
      { name: `median of ${m.size} students`, data: stat((v) => v[Math.floor((v.length - 1) / 2)]!) },
      { name: `max of ${m.size} students`, data: stat((v) => v[v.length - 1]!) },
    ];
  };
  const latency = toSeries(perStudent("latency_p95_ms"));
  const loss = toSeries(perStudent("loss_pct"));

  const xs = [...latency, ...loss].flatMap((s) => s.data.map((d) => d[0]));
  const endS = Math.max(1, Math.ceil(xs.reduce((a, b) => Math.max(a, b), 0)));

  // Netem steps: per student, the downlink steps (what latency and loss show); uplink when the
  // profile only ever sets uplink. Identical areas across students are drawn once.
  const stepEvents = events.filter((e) => e.tags.kind === "netem_step");
  const byStudent = new Map<string, LpPoint[]>();
  for (const e of stepEvents) {
    const k = studentKey(e.tags.room, e.tags.student);
    let l = byStudent.get(k);
    if (!l) byStudent.set(k, (l = []));
    l.push(e);
  }
  const areas = new Map<string, StepArea>();
  for (const list of byStudent.values()) {
    const down = list.filter((e) => numField(e, "direction") === 0);
    const chosen = (down.length > 0 ? down : list).sort((a, b) => a.timeUnixMs - b.timeUnixMs);
    for (const [i, e] of chosen.entries()) {
      const fromS = round(t(e.timeUnixMs), 2);
      const next = chosen[i + 1];
      const toS = next ? round(t(next.timeUnixMs), 2) : endS;
      if (toS <= fromS) continue;
      const step = numField(e, "step") ?? i;
      const area: StepArea = { fromS, toS, index: step, label: stepLabel(e, step) };
      areas.set(`${fromS}|${toS}|${area.label}`, area);
    }
  }

  const clipStarts = new Map<number, number>();
  for (const e of events.filter((x) => x.tags.kind === "clip_start")) {
    const atS = round(t(e.timeUnixMs), 1);
    if (!clipStarts.has(atS)) clipStarts.set(atS, numField(e, "clip_id") ?? 0);
  }
  const freezes = events
    .filter((e) => e.tags.kind === "freeze")
    .map((e) => ({ student: label(e.tags.room, e.tags.student), atS: round(t(e.timeUnixMs), 3), durationMs: numField(e, "duration_ms") ?? 0 }));

  return {
    originUnixMs: origin,
    latency,
    loss,
    steps: [...areas.values()].sort((a, b) => a.fromS - b.fromS),
    clipStarts: [...clipStarts].map(([atS, clipId]) => ({ atS, clipId })).sort((a, b) => a.atS - b.atS),
    freezes,
    endS,
    skippedLines,
    hasData: wire.length > 0,
  };
}

function stepLabel(e: LpPoint, step: number): string {
  const delay = numField(e, "delay_ms");
  const jitter = numField(e, "jitter_ms");
  const loss = numField(e, "loss_pct");
  const parts = [`step ${step}`];
  if (delay !== undefined) parts.push(`delay ${fmt(delay, 0)} ms${jitter ? ` ±${fmt(jitter, 0)}` : ""}`);
  parts.push(loss === undefined ? "loss: model" : `loss ${fmt(loss, 1)} %`);
  return parts.join(", ");
}

function round(v: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function fmt(v: number | null | undefined, digits: number): string {
  return typeof v === "number" && Number.isFinite(v) ? v.toFixed(digits) : "—";
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** ECharts SSR: option → standalone SVG text. */
export function renderChartSvg(option: EChartsOption, width = CHART_WIDTH, height = CHART_HEIGHT): string {
  const chart = echarts.init(null, null, { renderer: "svg", ssr: true, width, height });
  try {
    chart.setOption({ animation: false, textStyle: { fontFamily: "system-ui, sans-serif" }, ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

const GRID = { left: 64, right: 24, top: 48, bottom: 48 };

function timeChart(tl: RunTimeline, series: TimeSeries[], yName: string, extra: { budgetLine?: { value: number; label: string } } = {}): EChartsOption {
  const steps = tl.steps;
  const lines: LineSeriesOption[] = series.map((s, i) => ({
    type: "line",
    name: s.name,
    data: s.data,
    showSymbol: false,
    connectNulls: false,
    lineStyle: { width: 1.5 },
    ...(i === 0
      ? {
          markArea: {
            silent: true,
            label: { show: true, position: "insideTop", fontSize: 10, color: "#444" },
            data: steps.map((st) => [
              { xAxis: st.fromS, name: st.label, itemStyle: { color: NETEM_STEP_FILLS[st.index % NETEM_STEP_FILLS.length] } },
              { xAxis: st.toS },
            ]),
          },
          markLine: {
            silent: true,
            symbol: "none",
            lineStyle: { type: "dashed", color: "#888" },
            label: { fontSize: 10, formatter: "{b}" },
            data: [
              ...tl.clipStarts.map((c) => ({ xAxis: c.atS, name: `clip ${c.clipId}` })),
              ...(extra.budgetLine ? [{ yAxis: extra.budgetLine.value, name: extra.budgetLine.label, lineStyle: { color: "#c0392b", type: "solid" as const }, label: { position: "insideEndTop" as const } }] : []),
            ],
          },
        }
      : {}),
  }));
  return {
    grid: GRID,
    legend: { top: 8, type: "plain", textStyle: { fontSize: 11 } },
    xAxis: { type: "value", name: "s since lesson start", nameLocation: "middle", nameGap: 28, min: Math.min(0, Math.floor(minX(series))), max: tl.endS },
    yAxis: { type: "value", name: yName, nameTextStyle: { align: "left" } },
    series: lines,
  };
}

function minX(series: TimeSeries[]): number {
  let m = 0;
  for (const s of series) for (const [x] of s.data) if (x < m) m = x;
  return m;
}

/** A budget limit worth drawing on the latency chart: an upper bound near the plotted values. */
function latencyBudgetLine(report: RunReport, tl: RunTimeline): { value: number; label: string } | undefined {
  const v = report.budgets.find((b) => b.metric === "latency_ms" && (b.op === "<=" || b.op === "<"));
  if (!v || typeof v.limit !== "number") return undefined;
  const maxY = Math.max(0, ...tl.latency.flatMap((s) => s.data.map((d) => d[1] ?? 0)));
  return v.limit <= 2 * maxY ? { value: v.limit, label: `budget ${v.expression}` } : undefined;
}

function lipSyncChart(report: RunReport, label: (r: string, s: string) => string): EChartsOption | undefined {
  const with_ = report.students.filter((s) => Number.isFinite(avOffsetOf(s)));
  if (with_.length === 0) return undefined;
  const band = {
    silent: true,
    itemStyle: { color: "rgba(46,160,67,0.12)" },
    label: { show: true, position: "insideTopLeft" as const, fontSize: 10, color: "#2e7d32" },
    data: [[{ yAxis: LIPSYNC_BAND_MS[0], name: "product band −100..+25 ms" }, { yAxis: LIPSYNC_BAND_MS[1] }]] as [object, object][],
  };
  if (with_.length <= MAX_STUDENT_SERIES) {
    const bar: BarSeriesOption = {
      type: "bar",
      name: "A/V offset (ms)",
      data: with_.map((s) => round(avOffsetOf(s)!, 2)),
      barMaxWidth: 36,
      markArea: band as BarSeriesOption["markArea"],
      label: { show: true, position: "top", fontSize: 10, formatter: (p: { value?: unknown }) => `${fmt(Number(p.value), 1)}` },
    };
    return {
      grid: GRID,
      xAxis: { type: "category", data: with_.map((s) => label(s.room, s.student)), axisLabel: { fontSize: 10 } },
      yAxis: { type: "value", name: "ms (positive: audio leads)", nameTextStyle: { align: "left" }, min: (v: { min: number }) => Math.min(v.min, -110), max: (v: { max: number }) => Math.max(v.max, 35) },
      series: [bar],
    };
  }
  // Distribution: 5-ms bins.
  const bins = new Map<number, number>();
  for (const s of with_) {
    const b = Math.floor(avOffsetOf(s)! / 5) * 5;
    bins.set(b, (bins.get(b) ?? 0) + 1);
  }
  const keys = [...bins.keys()].sort((a, b) => a - b);
  return {
    grid: GRID,
    xAxis: { type: "category", name: "A/V offset bin (ms)", nameLocation: "middle", nameGap: 28, data: keys.map((k) => `${k}..${k + 5}`) },
    yAxis: { type: "value", name: "students", nameTextStyle: { align: "left" } },
    series: [{ type: "bar", name: "students", data: keys.map((k) => bins.get(k)!) }],
  };
}

function switchGapChart(report: RunReport, label: (r: string, s: string) => string): EChartsOption | undefined {
  const students = report.students.filter((s) => gapsOf(s).length > 0);
  if (students.length === 0) return undefined;
  // Category per switch, in order of occurrence (a clip pair may repeat).
  const categoryOf = (s: StudentReport): string[] => {
    const seen = new Map<string, number>();
    return gapsOf(s).map((g) => {
      const base = `${g.fromClip}→${g.toClip}`;
      const n = (seen.get(base) ?? 0) + 1;
      seen.set(base, n);
      return n === 1 ? base : `${base} (#${n})`;
    });
  };
  const categories: string[] = [];
  for (const s of students) for (const c of categoryOf(s)) if (!categories.includes(c)) categories.push(c);
  const gapsBy = (s: StudentReport): Map<string, number> => {
    const cats = categoryOf(s);
    return new Map(gapsOf(s).map((g, i) => [cats[i]!, g.gapMs]));
  };
  let series: BarSeriesOption[];
  if (students.length <= MAX_STUDENT_SERIES) {
    series = students.map((s) => {
      const m = gapsBy(s);
      return { type: "bar", name: label(s.room, s.student), barMaxWidth: 28, data: categories.map((c) => (m.has(c) && Number.isFinite(m.get(c)!) ? round(m.get(c)!, 2) : null)) };
    });
  } else {
    const maps = students.map(gapsBy);
    const at = (c: string): number[] => maps.flatMap((m) => (m.has(c) && Number.isFinite(m.get(c)!) ? [m.get(c)!] : [])).sort((a, b) => a - b);
    series = [
      { type: "bar", name: `median of ${students.length} students`, data: categories.map((c) => { const v = at(c); return v.length ? round(v[Math.floor((v.length - 1) / 2)]!, 2) : null; }) },
      { type: "bar", name: `max of ${students.length} students`, data: categories.map((c) => { const v = at(c); return v.length ? round(v[v.length - 1]!, 2) : null; }) },
    ];
  }
  const frameMs = 1000 / report.media.fps;
  const first = series[0];
  if (first) {
    first.markLine = {
      silent: true,
      symbol: "none",
      lineStyle: { type: "dashed", color: "#c0392b" },
      label: { fontSize: 10, formatter: "{b}", position: "insideEndTop" },
      data: [{ yAxis: round(frameMs, 2), name: `one frame (${fmt(frameMs, 1)} ms)` }],
    };
  }
  return {
    grid: GRID,
    legend: { top: 8, textStyle: { fontSize: 11 } },
    xAxis: { type: "category", name: "clip switch", nameLocation: "middle", nameGap: 28, data: categories },
    yAxis: { type: "value", name: "gap ms (0 = seamless)", nameTextStyle: { align: "left" }, max: (v: { max: number }) => Math.ceil(Math.max(v.max, frameMs * 1.2)) },
    series,
  };
}

function freezeChart(report: RunReport, tl: RunTimeline, label: (r: string, s: string) => string): EChartsOption | undefined {
  if (tl.freezes.length === 0) return undefined;
  const students = report.students.map((s) => label(s.room, s.student));
  const rows = students.length <= MAX_STUDENT_SERIES ? students : [...new Set(tl.freezes.map((f) => f.student))].slice(0, MAX_STUDENT_SERIES);
  const data = tl.freezes.filter((f) => rows.includes(f.student)).map((f) => [rows.indexOf(f.student), f.atS, round(f.atS + f.durationMs / 1000, 3), f.durationMs]);
  const series: CustomSeriesOption = {
    type: "custom",
    name: "freezes",
    encode: { x: [1, 2], y: 0 },
    data,
    renderItem: (_params: CustomSeriesRenderItemParams, api: CustomSeriesRenderItemAPI) => {
      const row = api.value(0) as number;
      const start = api.coord([api.value(1), row]);
      const end = api.coord([api.value(2), row]);
      const h = (api.size?.([0, 1]) as number[] | undefined)?.[1] ?? 20;
      const x = start[0] ?? 0;
      const w = Math.max(2, (end[0] ?? x) - x);
      return { type: "rect", shape: { x, y: (start[1] ?? 0) - h * 0.3, width: w, height: h * 0.6 }, style: { fill: "#c0392b" } };
    },
  };
  return {
    grid: { ...GRID, left: 120 },
    xAxis: { type: "value", name: "s since lesson start", nameLocation: "middle", nameGap: 28, min: 0, max: tl.endS },
    yAxis: { type: "category", data: rows, axisLabel: { fontSize: 10 } },
    series: [series],
  };
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1d1d1f;background:#fafafa}
main{max-width:1040px;margin:0 auto;padding:16px 24px 48px}
h1{font-size:22px;margin:8px 0}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.banner{padding:14px 18px;border-radius:6px;color:#fff;font-weight:600;font-size:16px}
.banner.passed{background:#2e7d32}.banner.failed{background:#c62828}.banner.broken{background:#b35c00}
.meta{color:#555;margin:8px 0}.meta span{margin-right:18px}
table{border-collapse:collapse;width:100%;font-size:12.5px;background:#fff}
th,td{border:1px solid #e0e0e0;padding:4px 6px;text-align:right;white-space:nowrap}
th{background:#f0f0f0}td.l,th.l{text-align:left}
tr.fail td{background:#fdecea}.pass{color:#2e7d32;font-weight:600}.fail .res{color:#c62828;font-weight:600}
figure{margin:0;background:#fff;border:1px solid #e0e0e0;border-radius:6px;padding:4px}
figure svg{max-width:100%;height:auto;display:block}
figcaption{color:#555;font-size:12px;padding:4px 8px}
.note{color:#666;font-style:italic}.errors{background:#fff4e5;border:1px solid #f0c36d;padding:8px 14px;border-radius:6px}
.wide{overflow-x:auto}
`;

function figure(id: string, title: string, caption: string, option: EChartsOption | undefined, empty: string, height = CHART_HEIGHT): string {
  const body = option ? renderChartSvg(option, CHART_WIDTH, height) : `<p class="note">${escapeHtml(empty)}</p>`;
  return `<h2>${escapeHtml(title)}</h2>\n<figure id="${id}">${body}<figcaption>${escapeHtml(caption)}</figcaption></figure>\n`;
}

function budgetTable(report: RunReport): string {
  if (report.budgets.length === 0) return `<p class="note">This scenario declares no budgets.</p>`;
  const rows = report.budgets.map((v) => {
    const measured = typeof v.measured === "number" ? formatMeasured(v.measured) : "no data";
    return `<tr class="${v.pass ? "ok" : "fail"}"><td class="l">${escapeHtml(v.metric)}</td><td class="l"><code>${escapeHtml(v.expression)}</code></td><td>${escapeHtml(measured)}</td><td>${escapeHtml(`${v.op} ${formatMeasured(v.limit)}`)}</td><td class="res ${v.pass ? "pass" : ""}">${v.pass ? "pass" : "FAIL"}</td><td class="l">${escapeHtml(v.note ?? "")}</td></tr>`;
  });
  return `<table id="budgets"><thead><tr><th class="l">metric</th><th class="l">budget</th><th>measured</th><th>allowed</th><th>result</th><th class="l">note</th></tr></thead><tbody>${rows.join("")}</tbody></table>`;
}

function studentTable(report: RunReport): string {
  if (report.students.length === 0) return `<p class="note">No students.</p>`;
  const head = ["room", "student", "group", "profile", "frames", "latency p50 / p95 / max (ms)", "audio p95 (ms)", "loss net / residual (%)", "jitter (ms)", "freezes (n, ratio)", "A/V offset (ms)", "concealment (%)", "MOS audio / video", "join (ms)", "error"];
  const rows = report.students.map((s) => {
    const w = s.wire;
    if (!w) return pixelStudentRow(s);
    const net = w.video.lossBeforeRepair ?? w.video.lossFraction;
    const cells = [
      s.room,
      s.student,
      s.group,
      s.profile ?? "—",
      `${w.framesReceived}/${w.framesExpected} (${fmt(w.framesReceivedRatio * 100, 1)} %)`,
      `${fmt(w.latencyMs.p50, 1)} / ${fmt(w.latencyMs.p95, 1)} / ${fmt(w.latencyMs.max, 1)}`,
      fmt(w.audioLatencyMs.p95, 1),
      `${fmt(net * 100, 2)} / ${fmt(w.video.lossFraction * 100, 2)}`,
      fmt(w.video.jitterMs, 1),
      `${w.freezes.count}, ${fmt(w.freezes.ratio, 3)}`,
      fmt(w.avSync?.offsetMs, 1),
      fmt(w.audioConcealment.concealmentRatio * 100, 2),
      `${fmt(w.mos.audio, 2)} / ${fmt(w.mos.video, 2)}`,
      fmt(w.joinMs, 0),
      s.error ?? "",
    ];
    return `<tr${s.error ? ' class="fail"' : ""}>${cells.map((c, i) => `<td${i < 4 || i === 14 ? ' class="l"' : ""}>${escapeHtml(c)}</td>`).join("")}</tr>`;
  });
  return `<div class="wide"><table id="students"><thead><tr>${head.map((h, i) => `<th${i < 4 || i === 14 ? ' class="l"' : ""}>${escapeHtml(h)}</th>`).join("")}</tr></thead><tbody>${rows.join("")}</tbody></table></div>`;
}

/** Lip-sync of a student: the wire estimate, or the browser's marker reading (positive = audio leads). */
function avOffsetOf(s: StudentReport): number | undefined {
  return s.wire ? s.wire.avSync?.offsetMs : s.pixel?.lipSync.offsetMs.p50;
}

function gapsOf(s: StudentReport): readonly { fromClip: number; toClip: number; gapMs: number }[] {
  return s.wire?.switchGaps ?? s.pixel?.switchGaps ?? [];
}

/** A browser student in the student table: the same columns, pixel-tier figures ("presented" frames). */
function pixelStudentRow(s: StudentReport): string {
  const p = s.pixel;
  const cells = [
    s.room,
    `${s.student} (chromium)`,
    s.group,
    s.profile ?? "—",
    p ? `${p.framesCoded}/${p.framesPresented} presented, codes read` : "—",
    p ? `${fmt(p.latencyMs.p50, 1)} / ${fmt(p.latencyMs.p95, 1)} / ${fmt(p.latencyMs.max, 1)}` : "—",
    "—",
    p?.video ? `${fmt(p.video.lossFraction * 100, 2)} / —` : "—",
    fmt(p?.video?.jitterMs, 1),
    p ? `${p.freezes.count}, ${fmt(p.freezes.ratio, 3)}` : "—",
    fmt(p?.lipSync.offsetMs.p50, 1),
    fmt(p?.audio ? p.audio.concealmentRatio * 100 : undefined, 2),
    p ? `${fmt(p.mos.audio, 2)} / ${fmt(p.mos.video, 2)}` : "—",
    "—",
    s.error ?? "",
  ];
  return `<tr${s.error ? ' class="fail"' : ""}>${cells.map((c, i) => `<td${i < 4 || i === 14 ? ' class="l"' : ""}>${escapeHtml(c)}</td>`).join("")}</tr>`;
}

/** The whole page (pure; exported for tests). */
export function renderHtmlReport(report: RunReport, timeline: RunTimeline): string {
  const label = labeller(report);
  const failed = report.budgets.filter((v) => !v.pass).length;
  const statusText =
    report.status === "passed"
      ? `PASSED — all ${report.budgets.length} budget(s) hold`
      : report.status === "failed"
        ? `FAILED — ${failed} of ${report.budgets.length} budget(s) failed`
        : `BROKEN — the run did not complete normally`;
  const noSamples = "No per-second samples: metrics.lp is missing or holds no wire points.";
  const latencyBudget = latencyBudgetLine(report, timeline);
  const parts = [
    `<div class="banner ${report.status}" id="status">${escapeHtml(statusText)}</div>`,
    `<h1>${escapeHtml(report.run.scenario)} <small>${escapeHtml(report.run.id)}</small></h1>`,
    `<div class="meta"><span>started ${escapeHtml(report.run.startedAt)}</span><span>duration ${fmt(report.run.durationMs / 1000, 1)} s</span><span>seed ${escapeHtml(String(report.run.seed))}</span><span>${report.students.length} student(s)</span><span>${escapeHtml(`${report.media.width}×${report.media.height} @ ${report.media.fps} fps, ${report.media.videoKbps} kbit/s`)}</span><span>scenario ${escapeHtml(report.run.scenarioFile)}</span><span>proctor ${escapeHtml(report.tool.version)}</span></div>`,
  ];
  const errors = [...report.errors, ...report.students.filter((s) => s.error).map((s) => `${s.room}/${s.student}: ${s.error}`)];
  if (errors.length > 0) parts.push(`<div class="errors"><strong>Errors</strong><ul>${errors.map((e) => `<li>${escapeHtml(e)}</li>`).join("")}</ul></div>`);
  parts.push(`<h2>Budgets</h2>${budgetTable(report)}`);
  parts.push(
    figure(
      "chart-latency",
      "Latency over time",
      `Wire e2e video latency, p95 per second per student (frame complete − capture). Shaded: netem steps${timeline.steps.length ? "" : " (none in this run)"}; dashed: clip starts.`,
      timeline.hasData ? timeChart(timeline, timeline.latency, "ms", { budgetLine: latencyBudget }) : undefined,
      noSamples,
    ),
  );
  parts.push(
    figure("chart-loss", "Loss over time", "Video packets lost per second before any repair (% of expected), per student. Shaded: netem steps.", timeline.hasData ? timeChart(timeline, timeline.loss, "%") : undefined, noSamples),
  );
  parts.push(
    figure(
      "chart-lipsync",
      "Lip-sync (A/V offset)",
      "Wire estimate of video − audio presentation of the same instant; positive = audio leads. Shaded: product band −100..+25 ms.",
      lipSyncChart(report, label),
      "No A/V offset estimate in this run.",
    ),
  );
  parts.push(figure("chart-switch", "Clip-switch gaps", "Time from clip A's last frame to clip B's first at the student, minus one frame interval (0 = seamless).", switchGapChart(report, label), "No clip switches in this run."));
  const freezeRows = Math.min(report.students.length, MAX_STUDENT_SERIES);
  parts.push(
    figure(
      "chart-freezes",
      "Freezes",
      "Emulated-playout freezes (W3C webrtc-stats rule: an interval ≥ max(3 × avg, avg + 150 ms)) on the lesson timeline.",
      freezeChart(report, timeline, label),
      timeline.hasData ? "No freezes in this run." : noSamples,
      Math.max(160, 90 + 28 * freezeRows),
    ),
  );
  parts.push(`<h2>Students</h2>${studentTable(report)}`);
  if (timeline.skippedLines > 0) parts.push(`<p class="note">${timeline.skippedLines} malformed line(s) in metrics.lp were skipped.</p>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${escapeHtml(`proctor — ${report.run.scenario} — ${report.status}`)}</title>
<style>${CSS}</style></head>
<body><main>
${parts.join("\n")}
</main></body></html>
`;
}

/** Writes `<runDir>/report.html` (reading `<runDir>/metrics.lp` for the time charts); returns its path. */
export async function writeHtmlReport(runDir: string, report: RunReport): Promise<string> {
  const { points, errors } = await readLineProtocolFile(join(runDir, "metrics.lp"));
  const html = renderHtmlReport(report, buildTimeline(report, points, errors.length));
  const path = join(runDir, "report.html");
  await writeFile(path, html);
  return path;
}
