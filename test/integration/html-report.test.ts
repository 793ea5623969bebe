// A real short class (one light student through a netem profile that adds 100 ms at 2 s), its
// report.html opened in real Chromium: the latency chart holds a plotted line with a point per
// second that rises after the step, the netem steps are shaded, the budget table shows the failing
// budget; a screenshot goes to reports/test-artifacts/report-html.png. Also junit.xml from the same
// run quotes the measured value.
import { describe, it, expect, beforeAll } from "vitest";
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { runYaml } from "../helpers/class-run.js";
import type { RunResult } from "../../src/scenario/runner.js";
import { writeHtmlReport, NETEM_STEP_FILLS } from "../../src/report/html-report.js";
import { writeJUnit } from "../../src/report/junit.js";
import { parseReportJson } from "../../src/report/report-schema.js";

import { CHROMIUM, CHROMIUM_ARGS } from "../helpers/chromium.js";
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.log(`[html-report] skipping the browser check: no Chromium at ${CHROMIUM} (Debian package "chromium")`);
const ARTIFACTS = fileURLToPath(new URL("../../reports/test-artifacts/", import.meta.url));
const SECONDS = 8;

const YAML = `name: html-report
seed: 11
duration: ${SECONDS}s
lesson:
  clips:
    - { name: first, duration: 4s }
    - { name: second, duration: 4s }
rooms:
  - id: room-1
    students:
      - group: s
        count: 1
        agent: werift
        netem:
          steps:
            - { at: 0s, both: { delay: 20ms } }
            - { at: 2s, both: { delay: 120ms, jitter: 5ms } }
budgets:
  latency_ms: ["p95 <= 400", "p50 <= 1"]
  switch_gap_ms: ["max <= 1000"]
`;

let run: RunResult;
let htmlPath: string;

beforeAll(async () => {
  run = await runYaml(YAML);
  htmlPath = await writeHtmlReport(run.runDir, run.report);
}, 120_000);

/** Coordinate pairs in an SVG path's d attribute (M/L absolute commands as ECharts writes them). */
function pathPoints(d: string): [number, number][] {
  return [...d.matchAll(/[ML]\s*(-?[\d.]+)[ ,]+(-?[\d.]+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
}

describe("report.html from a real run", () => {
  it("the run itself: one student, netem steps recorded, the unreachable budget failed", () => {
    expect(run.report.errors).toEqual([]);
    expect(run.report.status).toBe("failed");
    expect(run.report.budgets.map((b) => [b.expression, b.pass])).toEqual([["p95 <= 400", true], ["p50 <= 1", false], ["max <= 1000", true]]);
    expect(readFileSync(join(run.runDir, "metrics.lp"), "utf8")).toMatch(/kind=netem_step/);
    parseReportJson(JSON.parse(readFileSync(join(run.runDir, "report.json"), "utf8")), "report.json");
  });

  it("writes a small self-contained page", () => {
    const html = readFileSync(htmlPath, "utf8");
    console.log(`[html-report] ${htmlPath} (${(statSync(htmlPath).size / 1024).toFixed(1)} kB)`);
    expect(statSync(htmlPath).size).toBeLessThan(300_000);
    expect(html).not.toMatch(/<script|(src|href)\s*=\s*["']?https?:/i);
  });

  it("junit.xml from the same run: the failing budget quotes measured vs allowed", async () => {
    const path = join(run.runDir, "junit.xml");
    await writeJUnit(path, [run.report]);
    const xml = readFileSync(path, "utf8");
    const failed = run.report.budgets.find((b) => !b.pass)!;
    expect(failed.measured).toBeGreaterThan(15);
    expect(xml).toMatch(/<failure message="latency_ms: p50 &lt;= 1 — measured \d+(\.\d+)?, allowed &lt;= 1" type="budget">/);
    expect(xml).toContain('tests="3" failures="1" errors="0"');
  });

  it.skipIf(!hasChromium)(
    "in Chromium the charts hold plotted data and the netem steps are shaded; screenshot saved",
    async () => {
      const { default: puppeteer } = await import("puppeteer-core");
      // file:// as a CI artifact opened locally (the resolver rules block every host name anyway).
      const url = pathToFileURL(htmlPath).href;
      const browser = await puppeteer.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_ARGS,
      });
      try {
        const page = await browser.newPage();
        const external: string[] = [];
        page.on("request", (r) => {
          if (r.url() !== url && !r.url().startsWith("data:")) external.push(r.url());
        });
        await page.setViewport({ width: 1100, height: 900 });
        await page.goto(url, { waitUntil: "load" });
        const seen = await page.evaluate(() => {
          const fig = document.querySelector("#chart-latency");
          const svg = fig?.querySelector("svg");
          const box = svg?.getBoundingClientRect();
          return {
            status: document.querySelector("#status")?.textContent ?? "",
            svgBox: box ? { w: box.width, h: box.height } : null,
            paths: [...(svg?.querySelectorAll("path") ?? [])].map((p) => ({ d: p.getAttribute("d") ?? "", stroke: p.getAttribute("stroke"), fill: p.getAttribute("fill") })),
            polygons: [...(svg?.querySelectorAll("polygon") ?? [])].map((p) => ({ fill: p.getAttribute("fill"), opacity: p.getAttribute("fill-opacity"), points: p.getAttribute("points") ?? "" })),
            texts: [...(svg?.querySelectorAll("text") ?? [])].map((t) => t.textContent ?? ""),
            otherCharts: ["chart-loss", "chart-lipsync", "chart-switch"].map((id) => document.querySelectorAll(`#${id} svg path`).length),
            failRows: [...document.querySelectorAll("#budgets tr.fail td")].map((td) => td.textContent ?? ""),
          };
        });
        mkdirSync(ARTIFACTS, { recursive: true });
        const shot = join(ARTIFACTS, "report-html.png");
        await page.screenshot({ path: shot, fullPage: true });
        console.log(`[html-report] screenshot: ${shot}`);

        expect(seen.status).toMatch(/^FAILED — 1 of 3 budget\(s\) failed/);
        expect(seen.svgBox!.w).toBeGreaterThan(600);
        expect(seen.svgBox!.h).toBeGreaterThan(200);
        // The student's line: a stroked, unfilled path with a point per second of the lesson.
        const lines = seen.paths.filter((p) => p.fill === "none" && p.stroke && p.stroke !== "#dbdee4" && p.stroke !== "#54555a").map((p) => pathPoints(p.d)).filter((pts) => pts.length > 3);
        expect(lines.length).toBeGreaterThanOrEqual(1);
        const line = lines.sort((a, b) => b.length - a.length)[0]!;
        expect(line.length).toBeGreaterThanOrEqual(SECONDS - 2);
        // x increases along the line; after the +100 ms step it is drawn higher (smaller SVG y).
        for (let i = 1; i < line.length; i++) expect(line[i]![0]).toBeGreaterThan(line[i - 1]![0]);
        expect(line[line.length - 1]![1]).toBeLessThan(line[0]![1] - 50);
        // Netem shading: one polygon per step in the step fills, the second one labelled.
        const fills = NETEM_STEP_FILLS.map((f) => /rgba\((\d+),(\d+),(\d+),/.exec(f)!.slice(1).join(","));
        const shaded = seen.polygons.filter((p) => fills.some((f) => p.fill === `rgb(${f})`) && Number(p.opacity) > 0);
        expect(shaded.length).toBeGreaterThanOrEqual(2);
        expect(seen.texts.some((t) => t.startsWith("step 1, delay 120 ms"))).toBe(true);
        expect(seen.otherCharts.every((n) => n > 0)).toBe(true);
        expect(seen.failRows.slice(0, 2)).toEqual(["latency_ms", "p50 <= 1"]);
        expect(external).toEqual([]);
      } finally {
        await browser.close();
      }
    },
    60_000,
  );
});
