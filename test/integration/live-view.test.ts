// The live page in real Chromium: a fastify app with registerLiveView over a LiveBuffer fed with
// generated `wire` points (20 s of history, then one new second per second, three students, one
// named with markup) and marker events. The page must poll, draw every series on every student's
// canvases (pixels of each series colour counted in the canvas bitmap), grow as new seconds
// arrive, show names as text, and never request anything but its own origin.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import Fastify, { type FastifyInstance } from "fastify";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { CHROMIUM, CHROMIUM_ARGS } from "../helpers/chromium.js";
import { LiveBuffer, registerLiveView } from "../../src/signaling/live-routes.js";
import { LIVE_CHARTS } from "../../src/web/live-view.js";
import type { Point } from "../../src/metrics/sample.js";

const ARGS = CHROMIUM_ARGS;
const STUDENTS = ["alice", "bob", "<b>mallory</b>"] as const;
const ARTIFACT = join(process.cwd(), "reports", "test-artifacts", "live-view.png");

/** A deterministic second of one student: latency rises with i, bob loses 20 %. */
function wirePoint(student: string, k: number, sec: number): Point {
  const latency = 40 + k * 30 + 10 * Math.sin(sec / 3);
  return {
    measurement: "wire",
    tags: { run: "live-test", scenario: "live", room: "room-1", student, agent: "werift", profile: "none" },
    fields: {
      frames: 30,
      fps: 30 - k,
      bitrate_kbps: 400 + 50 * k + 20 * Math.cos(sec / 2),
      latency_p50_ms: latency,
      latency_p95_ms: latency * 1.5,
      latency_max_ms: latency * 2,
      loss_pct: student === "bob" ? 20 + 5 * Math.sin(sec) : 1 + k,
      audio_loss_pct: 0.5 * k,
      jitter_ms: 3 + k,
    },
    timeUnixMs: sec * 1000,
  };
}

const available = existsSync(CHROMIUM);
if (!available) console.log(`live-view: skipped: ${CHROMIUM} not found (apt install chromium)`);

describe.skipIf(!available)("live view in real Chromium", () => {
  let app: FastifyInstance;
  let url: string;
  let browser: Browser;
  let page: Page;
  let timer: NodeJS.Timeout | undefined;
  const buffer = new LiveBuffer();
  const requests: string[] = [];
  let pushed = 0;

  const pushSecond = (sec: number): void => {
    buffer.write(STUDENTS.map((s, k) => wirePoint(s, k, sec)));
    pushed++;
  };

  beforeAll(async () => {
    const nowSec = Math.floor(Date.now() / 1000);
    for (let sec = nowSec - 20; sec < nowSec; sec++) pushSecond(sec);
    buffer.write([
      { measurement: "event", tags: { run: "live-test", room: "room-1", student: "alice", kind: "netem_step" }, fields: { step: 1, delay_ms: 80 }, timeUnixMs: (nowSec - 12) * 1000 },
      { measurement: "event", tags: { run: "live-test", room: "room-1", kind: "clip_start" }, fields: { clip_id: 2 }, timeUnixMs: (nowSec - 8) * 1000 },
      { measurement: "event", tags: { run: "live-test", room: "room-1", student: "bob", kind: "freeze" }, fields: { duration_ms: 700 }, timeUnixMs: (nowSec - 5) * 1000 },
    ]);
    // One new second per second, as the runner's sampler does.
    let next = nowSec;
    timer = setInterval(() => pushSecond(next++), 1000);

    app = Fastify();
    registerLiveView(app, buffer, { windowSeconds: 60 });
    await app.listen({ host: "127.0.0.1", port: 0 });
    const addr = app.server.address();
    if (addr === null || typeof addr === "string") throw new Error("no address");
    url = `http://localhost:${addr.port}`;

    browser = await puppeteer.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
    page = await browser.newPage();
    await page.setViewport({ width: 1100, height: 800 });
    page.on("request", (r) => requests.push(r.url()));
  });

  afterAll(async () => {
    if (timer) clearInterval(timer);
    await browser?.close();
    await app?.close();
  });

  it("/live/data serves the window's samples and events as JSON and refuses a bad since", async () => {
    const before = pushed;
    const res = await fetch(`${url}/live/data`);
    expect(res.status).toBe(200);
    const j = (await res.json()) as { now: number; windowMs: number; samples: { student: string; unixMs: number; latencyP95Ms?: number }[]; events: { kind: string }[] };
    expect(j.windowMs).toBe(60_000);
    // The feeder may add a second while the request is in flight.
    expect(j.samples.length === before * STUDENTS.length || j.samples.length === (before + 1) * STUDENTS.length, `${j.samples.length} samples after ${before} seconds`).toBe(true);
    expect(new Set(j.samples.map((s) => s.student))).toEqual(new Set(STUDENTS));
    expect(j.events.map((e) => e.kind).sort()).toEqual(["clip_start", "freeze", "netem_step"]);
    const newest = Math.max(...j.samples.map((s) => s.unixMs));
    const later = (await (await fetch(`${url}/live/data?since=${newest}`)).json()) as { samples: { unixMs: number }[] };
    expect(later.samples.every((s) => s.unixMs >= newest)).toBe(true);
    expect(later.samples.filter((s) => s.unixMs === newest).length).toBe(STUDENTS.length);
    expect(later.samples.length).toBeLessThan(j.samples.length);
    const bad = await fetch(`${url}/live/data?since=yesterday`);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("yesterday");
    const html = await fetch(`${url}/live`);
    expect(html.headers.get("content-type")).toMatch(/text\/html/);
    expect(html.headers.get("content-security-policy")).toContain("default-src 'none'");
    expect(await html.text()).not.toMatch(/(src|href)=["']?https?:/);
  });

  it("draws every series for every student, keeps updating each second, and stays on its own origin", async () => {
    await page.goto(`${url}/live`, { waitUntil: "load" });
    await page.waitForFunction(() => Number(document.body.dataset.ticks ?? "0") >= 1, { timeout: 10_000 });
    const pointsOf = () =>
      page.evaluate(() => Array.from(document.querySelectorAll("canvas")).map((c) => Number((c as HTMLCanvasElement).dataset.points)));
    const first = await pointsOf();
    await new Promise((r) => setTimeout(r, 3500));
    const ticks = await page.evaluate(() => Number(document.body.dataset.ticks));
    const second = await pointsOf();
    console.log(`ticks ${ticks}; points per canvas ${first.join(",")} → ${second.join(",")}`);
    expect(ticks).toBeGreaterThanOrEqual(3);
    expect(second.length).toBe(STUDENTS.length * LIVE_CHARTS.length);
    // New seconds arrived: every chart has more points than 3.5 s ago.
    second.forEach((n, i) => expect(n).toBeGreaterThan(first[i]!));

    mkdirSync(join(ARTIFACT, ".."), { recursive: true });
    await page.screenshot({ path: ARTIFACT, fullPage: true });

    const colours = LIVE_CHARTS.map((c) => ({ id: c.id, series: c.series.map((s) => ({ name: s.name, color: s.color })) }));
    const stats = await page.evaluate((charts) => {
      const hex = (h: string) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
      return Array.from(document.querySelectorAll(".card")).map((card) => ({
        student: (card as HTMLElement).dataset.student,
        heading: card.querySelector("h2")!.textContent,
        boldInjected: card.querySelector("h2 b") !== null,
        charts: charts.map((chart) => {
          const cv = card.querySelector(`canvas[data-chart="${chart.id}"]`) as HTMLCanvasElement;
          const px = cv.getContext("2d")!.getImageData(0, 0, cv.width, cv.height).data;
          let ink = 0;
          const series = chart.series.map(() => 0);
          const targets = chart.series.map((s) => hex(s.color));
          for (let i = 0; i < px.length; i += 4) {
            const r = px[i]!, g = px[i + 1]!, b = px[i + 2]!;
            if (r < 250 || g < 250 || b < 250) ink++;
            targets.forEach((t, k) => {
              if (Math.abs(r - t[0]!) + Math.abs(g - t[1]!) + Math.abs(b - t[2]!) < 24) series[k]!++;
            });
          }
          return { id: chart.id, size: cv.width * cv.height, ink, series, points: Number(cv.dataset.points) };
        }),
      }));
    }, colours);

    expect(stats.map((s) => s.student).sort()).toEqual([...STUDENTS].sort());
    for (const s of stats) {
      expect(s.heading).toBe(`${s.student} · room-1`);
      expect(s.boldInjected).toBe(false);
      for (const c of s.charts) {
        const line = `${s.student} ${c.id}: ink ${c.ink}/${c.size}, series px ${c.series.join("/")}, points ${c.points}`;
        console.log(line);
        // Each series: ≥ 20 seconds drawn as a polyline, so well over 100 pixels of its colour.
        c.series.forEach((n, k) => expect(n, `${line}: series ${k}`).toBeGreaterThan(100));
        expect(c.ink, line).toBeGreaterThan(c.size * 0.01);
        expect(c.ink, line).toBeLessThan(c.size * 0.6);
        const perSeries = LIVE_CHARTS.find((x) => x.id === c.id)!.series.length;
        expect(c.points % perSeries, line).toBe(0);
        expect(c.points / perSeries, line).toBeGreaterThanOrEqual(20);
      }
    }
    const foreign = requests.filter((r) => !r.startsWith(url));
    expect(foreign, `requests that left the page's origin: ${foreign.join(", ")}`).toEqual([]);
    expect(requests.filter((r) => r.includes("/live/data")).length).toBeGreaterThanOrEqual(3);
  });
});
