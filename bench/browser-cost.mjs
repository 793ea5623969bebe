// Where a browser student's CPU goes (issue #8): the pixel probe's parts one at a time, and the
// other layout the issue asks about — several students per page (iframes of one window share a
// renderer process and its main thread) — beside one window per student.
//
// Same teacher, clip and N (default 4) for every variant, each a fresh Chromium; the page is the
// reference student page with the probe off (`probe=0`), and a variant adds one part in the page:
//   plain    — nothing: plain playback (<video> + <audio>), the floor;
//   rvfc     — a requestVideoFrameCallback loop that does nothing;
//   vframe   — that loop + new VideoFrame(video) + copyTo of the picture (what the probe reads);
//   audio    — the probe's audio tap only (watchAudio: MediaStreamTrackProcessor + marker detector);
//   probe    — the whole probe (`probe=1`: frames, frame codes, audio tap, getStats);
//   iframes  — the whole probe, the N students as N iframes of one window.
// Per variant: Chromium CPU (browser + every descendant, /proc) over a steady window, per student;
// presented frames/s (the video's getVideoPlaybackQuality, totalVideoFrames − droppedVideoFrames)
// and, where a frame callback runs, callbacks/s: with several students on one main thread the
// callbacks coalesce (one per rendering update) and the probe no longer sees every frame.
import { prepareBenchClip, BENCH_FPS } from "./lib/clip.mjs";
import { createProctorTeacher, BENCH_ROOM } from "./lib/teacher-proctor.mjs";
import { treeSample, treeCpuBetween } from "./lib/proc-tree-cpu.mjs";
import { waitForQuiet } from "./lib/cpu.mjs";
import { cpus } from "node:os";
import { BrowserPool } from "../dist/agents/browser/browser-pool.js";
import { chromiumUnavailable } from "../dist/agents/browser/chromium-flags.js";

export const COST_VARIANTS = ["plain", "rvfc", "vframe", "audio", "probe", "iframes"];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const signed = (x) => `${x >= 0 ? "+" : "−"}${Math.abs(x).toFixed(1)}`;

/** Runs in the page: add one part of the probe by hand (the page was opened with probe=0). */
function addPart(part) {
  const w = window;
  const v = document.querySelector("video");
  const a = document.querySelector("audio");
  w.__costCallbacks = 0;
  if (part === "rvfc" || part === "vframe") {
    const buf = new Uint8Array(v.videoWidth * v.videoHeight * 2 || 640 * 360 * 2);
    const cb = () => {
      v.requestVideoFrameCallback(cb);
      w.__costCallbacks++;
      if (part !== "vframe") return;
      const f = new VideoFrame(v);
      f.copyTo(buf).catch(() => undefined).finally(() => f.close());
    };
    v.requestVideoFrameCallback(cb);
  }
  if (part === "audio") {
    // The probe's own audio tap, alone: watchAudio without the frame callbacks or getStats.
    return import("/static/web/page/probe.js").then(({ installProbe }) => installProbe().watchAudio(a.srcObject));
  }
  if (part === "probe" || part === "iframes") {
    // The real probe's frame callbacks: count them through its drain instead.
    w.__costCallbacks = -1;
  }
}

/** Runs in the page: presented frames so far and frame callbacks so far. */
function readCounters() {
  const v = document.querySelector("video");
  const q = v.getVideoPlaybackQuality();
  const w = window;
  const cb = w.__costCallbacks === -1 ? (w.__costProbeFrames = (w.__costProbeFrames ?? 0) + (w.__proctorProbe?.drain().frames.length ?? 0)) : w.__costCallbacks;
  return { presented: q.totalVideoFrames - q.droppedVideoFrames, callbacks: cb };
}

async function runVariant({ variant, n, url, warmMs, windowMs }) {
  const pool = new BrowserPool();
  try {
    const browser = await pool.get();
    const pid = browser.process()?.pid;
    const base = url.replace("127.0.0.1", "localhost");
    const probe = variant === "probe" || variant === "iframes";
    const q = (i) => `/student?room=${BENCH_ROOM}&student=c${i}-${variant}${probe ? "" : "&probe=0"}`;
    const frames = [];
    if (variant === "iframes") {
      const page = await browser.newPage({ type: "window" });
      // Wide enough that every iframe is on screen (off-screen iframes are not rendered).
      await page.setViewport({ width: 1300, height: 410 * Math.ceil(n / 2) });
      await page.goto(`${base}/student?room=-&student=-&probe=0`).catch(() => undefined);
      await page.setContent(`<body style="margin:0">${Array.from({ length: n }, (_, i) => `<iframe src="${q(i)}" width="645" height="405" style="border:0;float:left"></iframe>`).join("")}</body>`);
      const deadline = Date.now() + 10_000;
      while (page.frames().length < n + 1 && Date.now() < deadline) await sleep(100);
      frames.push(...page.frames().filter((f) => f !== page.mainFrame()));
    } else {
      for (let i = 0; i < n; i++) {
        const page = await browser.newPage({ type: "window" });
        await page.goto(`${base}${q(i)}`);
        frames.push(page.mainFrame());
      }
    }
    await Promise.all(frames.map((f) => f.waitForFunction(() => window.__proctorStudent?.state === "connected", { timeout: 20_000, polling: 100 })));
    await sleep(warmMs);
    await Promise.all(frames.map((f) => f.evaluate(addPart, variant)));
    await sleep(1000);
    const c0 = treeSample(pid);
    const before = await Promise.all(frames.map((f) => f.evaluate(readCounters)));
    const t0 = performance.now();
    await sleep(windowMs);
    const after = await Promise.all(frames.map((f) => f.evaluate(readCounters)));
    const c1 = treeSample(pid);
    const s = (performance.now() - t0) / 1000;
    const cpu = treeCpuBetween(c0, c1);
    const presented = after.map((x, i) => (x.presented - before[i].presented) / s);
    const callbacks = after.map((x, i) => (variant === "plain" || variant === "audio" ? null : (x.callbacks - before[i].callbacks) / s));
    return {
      variant,
      n,
      chromiumCpu: cpu.fraction,
      perStudentPct: (100 * cpu.fraction) / n,
      renderers: cpu.renderers,
      presentedFpsMin: Math.min(...presented),
      callbacksPerPresented: callbacks[0] === null ? null : Math.min(...callbacks.map((c, i) => c / presented[i])),
    };
  } finally {
    await pool.close();
  }
}

export async function runBrowserCost({ fps = BENCH_FPS, n = 4, warmMs = 4000, windowMs = 10_000, log }) {
  const unavailable = chromiumUnavailable();
  if (unavailable) {
    log(`browser-cost: ${unavailable}; skipped`);
    return { name: "browser-cost", title: "Browser student CPU by part", rows: [], figures: { note: unavailable } };
  }
  const generated = await prepareBenchClip(undefined, () => undefined);
  const teacher = await createProctorTeacher({ generated, fps, studentPage: true });
  teacher.start({ playMs: (COST_VARIANTS.length + 1) * (warmMs + windowMs + 20_000) });
  const rows = [];
  try {
    for (const variant of COST_VARIANTS) {
      await waitForQuiet({ maxBusyCores: 0.35, cores: cpus().length, maxWaitMs: 5_000 });
      log(`browser-cost: ${variant}, ${n} students`);
      rows.push(await runVariant({ variant, n, url: teacher.url, warmMs, windowMs }));
    }
  } finally {
    await teacher.close();
  }
  const plain = rows.find((r) => r.variant === "plain");
  const by = Object.fromEntries(rows.map((r) => [r.variant, r]));
  const over = (v) => by[v].perStudentPct - plain.perStudentPct;
  return {
    name: "browser-cost",
    title: "Browser student CPU by part (Chromium, % of a core per student)",
    rows,
    figures: {
      n,
      plainPerStudentPct: plain.perStudentPct,
      plainPerCore: 100 / plain.perStudentPct,
      rvfcPct: over("rvfc"),
      videoFrameCopyPct: by.vframe.perStudentPct - by.rvfc.perStudentPct,
      audioTapPct: over("audio"),
      probePct: over("probe"),
      probePerCore: 100 / by.probe.perStudentPct,
      iframesPerStudentPct: by.iframes.perStudentPct,
      iframesCallbacksPerPresented: by.iframes.callbacksPerPresented,
      windowsCallbacksPerPresented: by.probe.callbacksPerPresented,
    },
  };
}

export function printBrowserCost(r) {
  console.log(`\n== ${r.title} ==`);
  if (!r.rows.length) return console.log(`   ${r.figures.note}`);
  console.log("   variant   N  Chromium %  %/student  over plain  presented fps min  callbacks / presented");
  const plain = r.rows.find((x) => x.variant === "plain");
  for (const x of r.rows) {
    console.log(
      `   ${x.variant.padEnd(8)} ${String(x.n).padStart(2)}  ${(100 * x.chromiumCpu).toFixed(1).padStart(10)}  ${x.perStudentPct.toFixed(1).padStart(9)}  ${(x.perStudentPct - plain.perStudentPct).toFixed(1).padStart(10)}  ${x.presentedFpsMin.toFixed(1).padStart(17)}  ${x.callbacksPerPresented === null ? "-".padStart(21) : x.callbacksPerPresented.toFixed(2).padStart(21)}`,
    );
  }
  console.log(browserCostSummary(r));
}

export function browserCostSummary(r) {
  const f = r.figures;
  if (f.note) return `   ${f.note}`;
  return [
    `-> plain playback ${f.plainPerStudentPct.toFixed(1)} %/student (${f.plainPerCore.toFixed(1)} per core); the probe adds ${signed(f.probePct)} (${f.probePerCore.toFixed(1)} per core):`,
    `   requestVideoFrameCallback alone ${signed(f.rvfcPct)}, VideoFrame copy ${signed(f.videoFrameCopyPct)}, audio tap ${signed(f.audioTapPct)} %/student (N=${f.n}; each ± ~3 run to run)`,
    `   N students as iframes of one window: ${f.iframesPerStudentPct.toFixed(1)} %/student, but frame callbacks see ${(100 * f.iframesCallbacksPerPresented).toFixed(0)} % of presented frames (one window each: ${(100 * f.windowsCallbacksPerPresented).toFixed(0)} %)`,
  ].join("\n");
}
