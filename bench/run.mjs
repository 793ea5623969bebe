// `npm run bench` (after `npm run build`): proctor's two capacity figures, each beside a bare-werift
// baseline measured in the same run on the same machine —
//   1. streamer fan-out: students served per core of the AI teacher   (fanout.mjs; target ≥ 250)
//   2. light-student density: light students per core                  (density.mjs; target ≥ 120)
// and two cost figures (≤ ~1 min each) —
//   3. netem relay: relayed packets per second per core, added latency (relay vs direct path, same
//      window), CPU per packet under a typical profile                 (relay.mjs; issue 3)
//   4. wire-tier pipeline: the light student's observation pipeline in CPU µs per second of media
//      beside bare werift deSerialize, clean and with 30 % loss        (pipeline.mjs; issue 4)
//   5. browser students per core of Chromium, pixel tier on, beside probe-off playback and light
//      students in the same run (browsers.mjs; issue 8; ≤ ~3 min)
//   6. only with --only browser-cost: where a browser student's CPU goes — plain playback, then the
//      probe's parts one at a time, and several students per window as iframes (browser-cost.mjs;
//      ≈ 2.5 min)
// Every class runs in its own processes (child_process.fork, IPC), joins outside the measurement
// window, then a warm-up and a steady window (default 10 s). Prints a table per bench and the
// per-core figures; writes reports/bench/<bench>.json and reports/bench/summary.json.
//
// Options: --only fanout|density|relay|pipeline|browsers|browser-cost (comma-separated)   --browsers-n 2,4,6   --n 20,60,120 (fanout and density)   --fanout-n …   --density-n …
//          --window <s> (10)   --warm <s> (2)   --out <dir> (reports/bench)
//          Classes are skipped (and say why) once a variant failed on a quiet machine, once its
//          measured process was near a full core, or after ~5.5 min, to keep the bench ≤ ~6 min.
//          --profile: also CPU-profile every process over its window (node:inspector, as
//          --cpu-prof); .cpuprofile files and top self-time functions land under <out>/profiles.
//          Profiling slows the processes: use it to find hot spots, not for the figures.
import { parseArgs } from "node:util";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { cpus, loadavg, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { prepareBenchClip, describeClip, BENCH_FPS } from "./lib/clip.mjs";
import { FPS_FLOOR, CONTENDED_CORES } from "./lib/class-run.mjs";
import { runFanout } from "./fanout.mjs";
import { runDensity } from "./density.mjs";
import { runRelay, printRelay, relaySummary } from "./relay.mjs";
import { runPipeline, printPipeline, pipelineSummary, mediaPacketRate } from "./pipeline.mjs";
import { runBrowsers, printBrowsers, browsersSummary } from "./browsers.mjs";
import { runBrowserCost, printBrowserCost, browserCostSummary } from "./browser-cost.mjs";

const { values: args } = parseArgs({
  options: {
    only: { type: "string" },
    n: { type: "string" },
    "fanout-n": { type: "string" },
    "density-n": { type: "string" },
    "browsers-n": { type: "string" },
    window: { type: "string", default: "10" },
    warm: { type: "string", default: "2" },
    out: { type: "string", default: "reports/bench" },
    profile: { type: "boolean", default: false },
  },
});

const listOf = (s, fallback) => {
  if (!s) return fallback;
  const v = s.split(",").map((x) => Number(x.trim()));
  if (v.some((x) => !Number.isInteger(x) || x < 1)) throw new Error(`bench: bad N list "${s}" (want e.g. 20,60,120)`);
  return v;
};
const seconds = (s, name) => {
  const v = Number(s);
  if (!(v > 0)) throw new Error(`bench: --${name} must be a positive number of seconds, got "${s}"`);
  return v * 1000;
};

const t0 = performance.now();
const outDir = resolve(args.out);
const common = {
  fps: BENCH_FPS,
  warmMs: seconds(args.warm, "warm"),
  windowMs: seconds(args.window, "window"),
  profileDir: args.profile ? join(outDir, "profiles") : undefined,
  log: (line) => console.log(line),
  /** Re-measurements allowed for classes that failed while another tenant loaded the machine. */
  budget: { retries: 2, deadlineMs: performance.now() + 5.5 * 60_000 },
};
const BENCHES = ["fanout", "density", "relay", "pipeline", "browsers", "browser-cost"];
/** browser-cost explains the browsers figure; it runs when asked for. */
const DEFAULT_BENCHES = BENCHES.filter((b) => b !== "browser-cost");
const which = args.only ? args.only.split(",").map((w) => w.trim()) : DEFAULT_BENCHES;
for (const w of which) if (!BENCHES.includes(w)) throw new Error(`bench: --only takes ${BENCHES.join(", ")} (comma-separated), got "${w}"`);

const generated = await prepareBenchClip(undefined, (m) => console.log(`media: ${m}`));
const clip = await describeClip(generated);
const machine = {
  cpus: cpus().length,
  cpuModel: cpus()[0]?.model ?? "unknown",
  memGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  loadavgAtStart: loadavg().map((v) => Math.round(v * 100) / 100),
};
console.log(
  `bench: ${machine.cpus} cores (${machine.cpuModel}), node ${machine.node}, load ${machine.loadavgAtStart.join(" ")}; ` +
    `clip ${clip.width}×${clip.height}@${clip.fps} VP8 ${clip.videoKbps.toFixed(0)} kbps + Opus 20 ms ${clip.audioKbps.toFixed(0)} kbps; ` +
    `window ${common.windowMs / 1000} s after ${common.warmMs / 1000} s warm-up${args.profile ? "; PROFILING (figures inflated)" : ""}`,
);

await mkdir(outDir, { recursive: true });
const results = [];
if (which.includes("fanout")) {
  const r = await runFanout({ ...common, generated, ns: listOf(args["fanout-n"] ?? args.n, [20, 60, 120]) });
  results.push(r);
  printBench(r, "teacher", "teacherCpu");
  await writeJson(join(outDir, "fanout.json"), envelope(r));
}
if (which.includes("density")) {
  const r = await runDensity({ ...common, generated, ns: listOf(args["density-n"] ?? args.n, [20, 60, 120]) });
  results.push(r);
  printBench(r, "receivers", "studentsCpu");
  await writeJson(join(outDir, "density.json"), envelope(r));
}
if (which.includes("relay")) {
  const r = await runRelay({ studentPps: Math.round(await mediaPacketRate(generated)), log: (line) => console.log(line) });
  results.push(r);
  printRelay(r);
  await writeJson(join(outDir, "relay.json"), envelope(r));
}
if (which.includes("pipeline")) {
  const r = await runPipeline({ generated, log: (line) => console.log(line) });
  results.push(r);
  printPipeline(r);
  await writeJson(join(outDir, "pipeline.json"), envelope(r));
}
if (which.includes("browsers")) {
  const r = await runBrowsers({ ...common, generated, ns: listOf(args["browsers-n"], [2, 4, 6]) });
  results.push(r);
  printBrowsers(r);
  await writeJson(join(outDir, "browsers.json"), envelope(r));
}
if (which.includes("browser-cost")) {
  const r = await runBrowserCost({ fps: BENCH_FPS, windowMs: common.windowMs, log: (line) => console.log(line) });
  results.push(r);
  printBrowserCost(r);
  await writeJson(join(outDir, "browser-cost.json"), envelope(r));
}

console.log("\n== summary ==");
const SUMMARY_LINES = { relay: relaySummary, pipeline: pipelineSummary, browsers: browsersSummary, "browser-cost": browserCostSummary };
for (const r of results) console.log(`${r.name}:\n${(SUMMARY_LINES[r.name] ?? figureLine)(r)}`);
// With --only, the benches not run this time keep their figures from the previous summary (marked
// with the run they come from), so summary.json always holds the latest figure of every bench.
const previous = await readFile(join(outDir, "summary.json"), "utf8").then(JSON.parse).catch(() => null);
const kept = Object.entries(previous?.benches ?? {})
  .filter(([name]) => !results.some((r) => r.name === name))
  .map(([name, figures]) => [name, { ...figures, measuredAt: figures.measuredAt ?? previous.generatedAt }]);
const summary = {
  ...envelope(null),
  wallMs: Math.round(performance.now() - t0),
  benches: Object.fromEntries([...kept, ...results.map((r) => [r.name, { title: r.title, ...r.figures }])]),
};
await writeJson(join(outDir, "summary.json"), summary);
console.log(`\nwrote ${join(args.out, "summary.json")} (${results.map((r) => `${r.name}.json`).join(", ")}) in ${(summary.wallMs / 1000).toFixed(0)} s`);

function envelope(bench) {
  return {
    schemaVersion: 1,
    generatedAt: new Date().toISOString(),
    machine,
    clip,
    config: { fps: common.fps, warmMs: common.warmMs, windowMs: common.windowMs, fpsFloor: FPS_FLOOR, contendedCores: CONTENDED_CORES, profiled: args.profile },
    ...(bench ? { bench } : {}),
  };
}

async function writeJson(file, data) {
  await writeFile(file, `${JSON.stringify(data, null, 2)}\n`);
}

function printBench(r, variantKey, cpuKey) {
  console.log(`\n== ${r.title} ==\n   layout: ${r.layout}`);
  const head = ["variant", "N", "joined", "CPU %", "CPU %/student", "other side %", "fps min", "lost pkts", "e2e p50 ms", "e2e p99 ms", "other load", "ok"];
  const otherKey = cpuKey === "teacherCpu" ? "studentsCpu" : "teacherCpu";
  const body = r.rows.map((row) => row.skipped ? [label(row[variantKey]), String(row.n), `skipped: ${row.skipped}`, ...Array(head.length - 3).fill("")] : [
    label(row[variantKey]),
    String(row.n),
    `${row.joined}/${row.n}`,
    pct(row[cpuKey]),
    (row[cpuKey] * 100 / row.n).toFixed(3),
    pct(row[otherKey]),
    row.fpsMin.toFixed(2),
    String(row.videoLost + row.audioLost),
    fmt(row.e2eMs.p50),
    fmt(row.e2eMs.p99),
    row.otherLoadCores === null ? "-" : `${row.otherLoadCores.toFixed(2)}${row.contended ? "*" : ""}`,
    row.ok ? "yes" : "NO",
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.filter((b) => !b[2].startsWith("skipped")).map((b) => b[i].length)));
  const line = (cells) =>
    cells[2].startsWith("skipped")
      ? `   ${cells[0].padEnd(widths[0])}  ${cells[1].padStart(widths[1])}  ${cells[2]}`
      : "   " + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  console.log(line(head));
  for (const b of body) console.log(line(b));
  console.log(`   CPU % = the measured side's process(es), % of one core over the window; "other side" = the other process(es);`);
  console.log(`   other load = machine-wide busy cores not accounted to the bench's processes (other tenants, kernel softirq); * = contended.`);
  console.log(figureLine(r));
  if (r.rows.some((row) => row.profiles)) printProfiles(r);
}

function figureLine(r) {
  const f = r.figures;
  const one = (name, x) =>
    x.perCore === null
      ? `${name}: ${x.note}`
      : `${name}: ${x.perCore.toFixed(0)} per core (N=${x.n}: ${pct(x.cpu)} % of a core, ${x.perStudentPct.toFixed(3)} %/student${x.n < x.largestTestedN ? `; larger N did not hold` : ""})` +
        (x.marginal ? `; marginal ${x.marginal.perStudentPct.toFixed(3)} %/student + fixed ${x.marginal.fixedPct.toFixed(1)} % (N ${x.marginal.fromN.join(",")})` : "");
  return [
    `-> ${f.unit}: ${one("proctor", f.proctor)}`,
    `   baseline ${one("bare werift", f.baseline)}`,
    `   ratio proctor/baseline ${f.ratio === null ? "n/a" : f.ratio.toFixed(2)}; target ≥ ${f.target}: ${f.meetsTarget ? "MET" : "NOT MET"}`,
  ].join("\n");
}

function printProfiles(r) {
  for (const row of r.rows) {
    for (const p of row.profiles ?? []) {
      if (!p.topFunctions) continue;
      console.log(`   profile ${row.label}/${p.process} (${p.file}): busy ${p.busyMs} ms of ${p.totalMs} ms`);
      for (const a of p.areas.slice(0, 6)) console.log(`      area ${a.pctOfBusy.toFixed(1).padStart(5)} %  ${a.name}`);
      for (const f of p.topFunctions.slice(0, 10)) console.log(`      fn   ${f.pctOfBusy.toFixed(1).padStart(5)} %  ${f.name}`);
    }
  }
}

function label(v) {
  return { proctor: "proctor", bare: "bare werift", light: "proctor light", probe: "probe" }[v] ?? v;
}
function pct(f) {
  return (f * 100).toFixed(1);
}
function fmt(v) {
  return v === null || v === undefined ? "-" : v.toFixed(1);
}
