// Browser-student density bench (issue #8): how many browser students (headless Chromium, one
// window each, 640×360 30 fps VP8 + Opus) one core of Chromium holds, with the pixel tier on.
//
// Layout: the teacher (proctor's streamer + room server serving the student page) in one process;
// one Chromium (BrowserPool: one browser process, one window per student) driven from this
// process by puppeteer (BrowserStudent, polling each page once a second as a run does). Variants,
// same run, same teacher and clip:
//   pixel — the reference student page with the pixel probe (frame codes from VideoFrame copies,
//           audio marker tap, getStats once a second): what a run's browser student costs;
//   plain — the same page with probe=0: plain playback, comparable to CHROMIUM.md's ≈ 11 % of a
//           core per student;
//   light — proctor's light students (all in one process, density bench's class) at a small N:
//           the wire tier's per-student cost beside it.
// Chromium's CPU = utime + stime of the browser process and every descendant (/proc), over a
// steady window after warm-up. Presented fps per student: probe frames (requestVideoFrameCallback)
// with the probe on, getVideoPlaybackQuality (total − dropped) with it off; freezes by the W3C
// rule from the probe's presented frames, and getStats freezeCount for both.
// Figure: students per core = N / Chromium cores at the largest N where every student kept
// ≥ 27 presented fps (else the class was starved). Target ≥ 6.
import { cpus } from "node:os";
import { spawnChild } from "./lib/ipc.mjs";
import { cpuSample, cpuBetween, machineSample, machineBusyBetween, machineIrqBetween, waitForQuiet } from "./lib/cpu.mjs";
import { treeSample, treeCpuBetween } from "./lib/proc-tree-cpu.mjs";
import { measureClass } from "./lib/class-run.mjs";
import { BENCH_ROOM } from "./lib/teacher-proctor.mjs";
import { summarize, round } from "./lib/stats.mjs";
import { perCore } from "./fanout.mjs";
import { BrowserPool } from "../dist/agents/browser/browser-pool.js";
import { BrowserStudent } from "../dist/agents/browser/browser-student.js";
import { proctorAdapter } from "../dist/agents/browser/page-adapter.js";
import { chromiumUnavailable } from "../dist/agents/browser/chromium-flags.js";
import { detectFreezes } from "../dist/metrics/freezes.js";

export const BROWSERS_TARGET_PER_CORE = 6;
/** A browser student "keeps up" when it presented at least this many frames per second in the window. */
export const BROWSER_FPS_FLOOR = 27;
/** CHROMIUM.md capacity table: plain playback ≈ 11 % of a core per student (no pixel reads). */
export const REFERENCE_PCT_PER_STUDENT = 11;
const LIGHT_N = 6;
/** Chromium needs a few seconds after connecting (first keyframe, jitter buffer, RTT for captureTime). */
const MIN_WARM_MS = 3_000;
/** A class whose own processes (Chromium, teacher, driver, loopback interrupts) kept this fraction of all cores busy saturated the machine: larger N are skipped. */
const SATURATED_BUSY = 0.9;
const JOIN_TIMEOUT_MS = 20_000;
/** New classes start only within this time of the bench's start (keeps it ≤ ~3 min). */
const BENCH_BUDGET_MS = 150_000;

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const unixNow = () => performance.timeOrigin + performance.now();

export async function runBrowsers({ generated, fps, ns = [2, 4, 6], warmMs, windowMs, log }) {
  const t0 = performance.now();
  const deadline = t0 + BENCH_BUDGET_MS;
  const warm = Math.max(warmMs, MIN_WARM_MS);
  const rows = [];
  const unavailable = chromiumUnavailable();
  if (unavailable) log(`browsers: ${unavailable}; browser classes skipped`);

  log(`browsers: light students, ${LIGHT_N} in one process (baseline)`);
  const light = await measureClass({ label: `browsers-light-${LIGHT_N}`, teacher: "proctor", receivers: "light", n: LIGHT_N, generated, fps, warmMs, windowMs, log }, { retries: 0 });

  const last = {};
  for (const [i, n] of ns.entries()) {
    const order = i % 2 === 0 ? ["pixel", "plain"] : ["plain", "pixel"]; // alternate, so load drift hits both
    for (const variant of order) {
      const label = `browsers-${variant}-${n}`;
      const skip = unavailable ?? skipReason(last[variant], deadline);
      if (skip) {
        log(`browsers: ${variant}, ${n} students: skipped (${skip})`);
        rows.push({ label, variant, n, skipped: skip, ok: false });
        continue;
      }
      log(`browsers: ${variant} (probe ${variant === "pixel" ? "on" : "off"}), ${n} students in one Chromium`);
      let row = await runBrowserClass({ label, variant, n, generated, fps, warmMs: warm, windowMs, log });
      // Starved while another tenant loaded the machine: once more, if time allows.
      if (!row.ok && row.contended && performance.now() < deadline) {
        log(`  ${label}: failed while contended (other load ${row.otherLoadCores.toFixed(2)} cores); measuring again`);
        const again = await runBrowserClass({ label, variant, n, generated, fps, warmMs: warm, windowMs, log });
        again.attempts = 2;
        row = again;
      }
      rows.push(row);
      last[variant] = row;
    }
  }
  rows.sort((a, b) => a.n - b.n || (a.variant === "pixel" ? -1 : 1));
  const figure = (variant) => {
    const measured = rows.filter((r) => r.variant === variant && !r.skipped);
    const f = perCore(measured, (r) => r.chromiumCpu);
    if (f.perCore === null) f.note = measured.length ? `the class was starved: no N kept every student ≥ ${BROWSER_FPS_FLOOR} presented fps` : "not measured";
    return f;
  };
  const pixel = figure("pixel");
  const plain = figure("plain");
  const lightFig = light.ok
    ? { n: light.n, cpu: light.studentsCpu, perStudentPct: light.studentsCpuPerStudentPct, perCore: light.n / light.studentsCpu }
    : { n: light.n, cpu: light.studentsCpu, perStudentPct: light.studentsCpuPerStudentPct, perCore: null, note: `light class did not hold 29.5 fps with 0 loss` };
  return {
    name: "browsers",
    title: "Browser-student density (Chromium CPU per student, pixel tier on; students per core)",
    layout: "teacher process (Teacher + room server + student page) | one Chromium, one window per student, driven by puppeteer from the bench process | light baseline: N light students in one process",
    rows,
    light,
    wallMs: Math.round(performance.now() - t0),
    figures: {
      unit: "browser students per core (pixel tier on)",
      pixel,
      plain,
      light: lightFig,
      reference: { source: "../shared/CHROMIUM.md capacity table (plain playback, no reads)", perStudentPct: REFERENCE_PCT_PER_STUDENT, perCore: 100 / REFERENCE_PCT_PER_STUDENT },
      fpsFloor: BROWSER_FPS_FLOOR,
      target: BROWSERS_TARGET_PER_CORE,
      meetsTarget: pixel.perCore !== null && pixel.perCore >= BROWSERS_TARGET_PER_CORE,
    },
  };
}

function skipReason(prev, deadline) {
  if (performance.now() > deadline) return "bench time budget used up";
  if (!prev) return null;
  if (prev.skipped) return prev.skipped;
  if (!prev.ok && !prev.contended) return `N=${prev.n} already starved (min ${prev.fpsMin.toFixed(1)} fps)`;
  if (prev.saturated) return `N=${prev.n} already saturated the machine (its processes used ${prev.ownCores.toFixed(2)} of ${cpus().length} cores)`;
  return null;
}

/** One class: teacher up, Chromium up, N windows join, lesson starts, warm-up, window, teardown. */
async function runBrowserClass({ label, variant, n, generated, fps, warmMs, windowMs, log }) {
  const quiet = await waitForQuiet({ maxBusyCores: 0.35, cores: cpus().length, maxWaitMs: 5_000 });
  if (!quiet.quiet) log(`  ${label}: machine still busy (${quiet.busyCores.toFixed(2)} cores) after ${(quiet.waitedMs / 1000).toFixed(0)} s; measuring anyway`);
  const t0 = performance.now();
  const pool = new BrowserPool();
  const students = [];
  let tch;
  try {
    tch = await spawnChild(`${label}/teacher`);
    const { url } = await tch.call("teacher", { variant: "proctor", generated, fps, studentPage: true });
    const browser = await pool.get();
    const pid = browser.process()?.pid;
    if (!pid) throw new Error("Chromium has no process id (not launched by puppeteer?)");

    const names = Array.from({ length: n }, (_, i) => `b${String(i + 1).padStart(2, "0")}`);
    for (const name of names) students.push(new BrowserStudent({ adapter: proctorAdapter, serverUrl: url, room: BENCH_ROOM, student: name, joinTimeoutMs: JOIN_TIMEOUT_MS, probe: variant === "pixel" }));
    const joinT0 = performance.now();
    const joins = await Promise.allSettled(students.map((s) => s.join(browser)));
    const failedJoins = joins.flatMap((j, i) => (j.status === "rejected" ? [{ name: names[i], error: String(j.reason?.message ?? j.reason) }] : []));
    const joined = n - failedJoins.length;
    const joinMs = summarize(students.filter((s) => s.joinMs !== undefined).map((s) => s.joinMs));
    log(`  ${label}: ${joined}/${n} joined in ${((performance.now() - joinT0) / 1000).toFixed(1)} s (Chromium pid ${pid})${failedJoins.length ? ` (${failedJoins[0].name}: ${failedJoins[0].error})` : ""}`);

    await tch.call("start", { playMs: warmMs + windowMs + 30_000 });
    await sleep(warmMs);

    const pages = await pagesOf(browser, names);
    const before = await Promise.all(pages.map((p) => (p ? playbackSnapshot(p) : null)));
    const m0 = machineSample();
    const c0 = treeSample(pid);
    const d0 = cpuSample();
    const w0 = unixNow();
    await tch.call("markStart", {});
    await sleep(windowMs);
    const tEnd = await tch.call("markEnd", {});
    const w1 = unixNow();
    const d1 = cpuSample();
    const c1 = treeSample(pid);
    const m1 = machineSample();
    const after = await Promise.all(pages.map((p) => (p ? playbackSnapshot(p) : null)));
    await sleep(300); // frames presented at the window's end reach the probe's buffer
    await Promise.all(students.map((s) => s.poll()));

    const chromium = treeCpuBetween(c0, c1);
    const teacherCpu = cpuBetween(tEnd.start, tEnd.end).fraction;
    const driverCpu = cpuBetween(d0, d1).fraction;
    const wallS = (w1 - w0) / 1000;
    const perStudent = students.map((s, i) => studentFigures(s, before[i], after[i], w0, w1, wallS, variant));
    const fpsValues = perStudent.filter((p) => p.joined).map((p) => p.presentedFps ?? 0);
    const fpsMin = fpsValues.length ? Math.min(...fpsValues) : 0;
    const busy = machineBusyBetween(m0, m1);
    const irq = machineIrqBetween(m0, m1);
    const cores = cpus().length;
    const ownCores = chromium.fraction + teacherCpu + driverCpu + (irq ?? 0) * cores;
    const otherLoadCores = busy === null ? null : Math.max(0, busy * cores - ownCores);
    const ok = joined === n && fpsMin >= BROWSER_FPS_FLOOR;
    return {
      label,
      variant,
      probe: variant === "pixel",
      n,
      joined,
      failedJoins,
      joinMs: { p50: round(joinMs.p50, 0), max: round(joinMs.max, 0) },
      windowMs: Math.round(chromium.wallMs),
      chromiumCpu: chromium.fraction,
      chromiumCpuPerStudentPct: (100 * chromium.fraction) / n,
      chromiumByKind: Object.fromEntries(Object.entries(chromium.byKind).map(([k, v]) => [k, round(v, 4)])),
      chromiumProcesses: chromium.processes,
      renderers: chromium.renderers,
      processesBornDied: [chromium.born, chromium.died],
      teacherCpu,
      driverCpu,
      perStudent,
      fpsMin,
      fpsMean: fpsValues.length ? fpsValues.reduce((a, b) => a + b, 0) / fpsValues.length : 0,
      freezes: perStudent.reduce((a, p) => a + (p.freezes ?? p.statsFreezes ?? 0), 0),
      machineBusyCores: busy === null ? null : busy * cores,
      irqCores: irq === null ? null : irq * cores,
      otherLoadCores,
      contended: otherLoadCores !== null && otherLoadCores > 0.4,
      ownCores,
      saturated: ownCores >= SATURATED_BUSY * cores,
      busyBeforeCores: quiet.busyCores,
      ok,
      starved: joined === n && !ok,
      wallMs: Math.round(performance.now() - t0),
    };
  } finally {
    // Every path closes every window and the browser, then the teacher.
    await Promise.race([Promise.allSettled(students.map((s) => s.leave())), sleep(5_000)]);
    await pool.close();
    await tch?.stop(2_000);
  }
}

/** Each student's page, by its URL's student parameter. */
async function pagesOf(browser, names) {
  const pages = await browser.pages();
  return names.map((name) => pages.find((p) => new URL(p.url(), "http://x").searchParams.get("student") === name) ?? null);
}

/** What the page's own counters say: getVideoPlaybackQuality and inbound-rtp getStats. */
function playbackSnapshot(page) {
  return page
    .evaluate(async () => {
      const v = document.querySelector("video");
      const q = v?.getVideoPlaybackQuality?.();
      const pc = window.__proctorStudent?.pc;
      let video = null;
      let audio = null;
      if (pc) {
        (await pc.getStats()).forEach((s) => {
          if (s.type !== "inbound-rtp") return;
          if (s.kind === "video") video = { framesDecoded: s.framesDecoded, framesDropped: s.framesDropped, freezeCount: s.freezeCount, totalFreezesDuration: s.totalFreezesDuration, packetsLost: s.packetsLost, packetsReceived: s.packetsReceived };
          else if (s.kind === "audio") audio = { totalSamplesReceived: s.totalSamplesReceived, concealedSamples: s.concealedSamples, packetsLost: s.packetsLost };
        });
      }
      return { atMs: performance.now(), total: q?.totalVideoFrames, dropped: q?.droppedVideoFrames, video, audio };
    })
    .catch(() => null);
}

function delta(a, b, f) {
  const x = f(a);
  const y = f(b);
  return typeof x === "number" && typeof y === "number" ? y - x : null;
}

function studentFigures(s, a, b, w0, w1, wallS, variant) {
  const joined = s.joinMs !== undefined;
  const pageS = a && b ? (b.atMs - a.atMs) / 1000 : null;
  const shown = delta(a, b, (x) => (x && x.total !== undefined ? x.total - x.dropped : undefined));
  const decoded = delta(a, b, (x) => x?.video?.framesDecoded);
  const vpqFps = shown !== null && pageS ? shown / pageS : null;
  const decodedFps = decoded !== null && pageS ? decoded / pageS : null;
  const out = {
    name: s.name,
    joined,
    joinMs: s.joinMs ?? null,
    vpqFps: round(vpqFps),
    decodedFps: round(decodedFps),
    statsFreezes: delta(a, b, (x) => x?.video?.freezeCount),
    statsFreezeMs: round((delta(a, b, (x) => x?.video?.totalFreezesDuration) ?? NaN) * 1000, 0),
    videoLost: delta(a, b, (x) => x?.video?.packetsLost),
    audioConcealment: round((delta(a, b, (x) => x?.audio?.concealedSamples) ?? NaN) / (delta(a, b, (x) => x?.audio?.totalSamplesReceived) ?? NaN), 4),
    errors: s.errors.slice(0, 3),
  };
  if (variant === "pixel") {
    // The probe's own record inside the window (driver clock). A frame callback reports the latest
    // frame only, so presented fps comes from its presentedFrames counter; callbacks/s is what the
    // probe read. Freezes: W3C rule over the callbacks' presentation times.
    const inWin = s.frames.filter((f) => f.presentedUnixMs >= w0 && f.presentedUnixMs <= w1);
    const times = inWin.map((f) => f.presentedUnixMs);
    const fr = detectFreezes(times, { sessionMs: w1 - w0 });
    const read = summarize(inWin.map((f) => f.readMs));
    const first = inWin[0];
    const last = inWin[inWin.length - 1];
    const spanS = first && last ? (last.presentedUnixMs - first.presentedUnixMs) / 1000 : 0;
    return {
      ...out,
      presentedFps: spanS > 0 ? round((last.presentedFrames - first.presentedFrames) / spanS) : 0,
      callbackFps: round(times.length / wallS),
      framesCoded: inWin.filter((f) => f.frameIndex !== undefined).length,
      freezes: fr.freezes.length,
      freezeMs: round(fr.freezes.reduce((t, f) => t + f.durationMs, 0), 0),
      readMsP50: round(read.p50, 3),
      readMsP99: round(read.p99, 3),
    };
  }
  return { ...out, presentedFps: out.vpqFps ?? out.decodedFps };
}

export function printBrowsers(r) {
  console.log(`\n== ${r.title} ==\n   layout: ${r.layout}`);
  const head = ["variant", "N", "joined", "Chromium %", "%/student", "renderers %", "teacher %", "driver %", "fps min", "fps mean", "freezes", "other load", "ok"];
  const body = r.rows.map((row) =>
    row.skipped
      ? [row.variant, String(row.n), `skipped: ${row.skipped}`]
      : [
          row.variant,
          String(row.n),
          `${row.joined}/${row.n}`,
          pct(row.chromiumCpu),
          row.chromiumCpuPerStudentPct.toFixed(1),
          pct(row.chromiumByKind.renderer ?? 0),
          pct(row.teacherCpu),
          pct(row.driverCpu),
          row.fpsMin.toFixed(1),
          row.fpsMean.toFixed(1),
          String(row.freezes),
          row.otherLoadCores === null ? "-" : `${row.otherLoadCores.toFixed(2)}${row.contended ? "*" : ""}`,
          row.ok ? "yes" : row.starved ? "STARVED" : "NO",
        ],
  );
  const full = body.filter((b) => b.length === head.length);
  const widths = head.map((h, i) => Math.max(h.length, ...full.map((b) => b[i].length)));
  const line = (cells) =>
    cells.length < head.length
      ? `   ${cells[0].padEnd(widths[0])}  ${cells[1].padStart(widths[1])}  ${cells[2]}`
      : "   " + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  console.log(line(head));
  for (const b of body) console.log(line(b));
  const l = r.light;
  console.log(`   light  ${l.n} students in one process: ${pct(l.studentsCpu)} % (${l.studentsCpuPerStudentPct.toFixed(2)} %/student), fps min ${l.fpsMin.toFixed(1)}, lost ${l.videoLost + l.audioLost}${l.ok ? "" : " (did not hold)"}`);
  console.log(`   Chromium % = browser + all its processes (/proc utime+stime), % of one core over the window; pixel = probe on, plain = probe=0;`);
  console.log(`   fps = presented frames/s (the frame callbacks' presentedFrames counter; getVideoPlaybackQuality when the probe is off), floor ${r.figures.fpsFloor};`);
  const cb = r.rows.filter((x) => x.variant === "pixel" && !x.skipped).map((x) => `N=${x.n} ${Math.min(...x.perStudent.map((p) => p.callbackFps ?? 0)).toFixed(1)}`);
  if (cb.length) console.log(`   probe frame callbacks/s (frames read), min per student: ${cb.join(", ")};`);
  console.log(`   freezes = W3C rule on the probe's frames (pixel) or getStats freezeCount (plain); driver = puppeteer in the bench process.`);
  console.log(browsersSummary(r));
}

export function browsersSummary(r) {
  const f = r.figures;
  const one = (x) =>
    x.perCore === null
      ? x.note
      : `${x.perCore.toFixed(1)} per core (N=${x.n}: ${pct(x.cpu)} % of a core, ${x.perStudentPct.toFixed(1)} %/student${x.n < x.largestTestedN ? "; larger N did not hold" : ""})` +
        (x.marginal ? `; marginal ${x.marginal.perStudentPct.toFixed(1)} %/student + fixed ${x.marginal.fixedPct.toFixed(1)} %` : "");
  return [
    `-> ${f.unit}: ${one(f.pixel)}`,
    `   probe off (plain playback): ${one(f.plain)}`,
    `   reference (CHROMIUM.md, plain playback): ≈ ${f.reference.perStudentPct} %/student ≈ ${f.reference.perCore.toFixed(1)} per core`,
    `   light students (same run, N=${f.light.n}): ${f.light.perCore === null ? f.light.note : `${f.light.perCore.toFixed(0)} per core (${f.light.perStudentPct.toFixed(2)} %/student)`}`,
    `   target ≥ ${f.target} browser students per core (pixel tier on): ${f.meetsTarget ? "MET" : "NOT MET"}`,
  ].join("\n");
}

function pct(v) {
  return (100 * v).toFixed(1);
}
