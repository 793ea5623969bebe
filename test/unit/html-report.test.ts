// HTML report from synthetic runs (no network): the timeline it builds from metrics.lp points, the
// page's self-containment, the budget table, and its size for a 20 s / 3-student run and a crowded
// room. The real-run + Chromium check is test/integration/html-report.test.ts.
import { describe, it, expect } from "vitest";
import { mkdtempSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toLine } from "../../src/metrics/line-protocol.js";
import { buildTimeline, renderHtmlReport, writeHtmlReport, MAX_STUDENT_SERIES, NETEM_STEP_FILLS } from "../../src/report/html-report.js";
import { parseLineProtocol } from "../../src/report/lp-reader.js";
import { fakeReport, fakeRunPoints, fakeStudent, fakeWire, verdict } from "../helpers/report-fixture.js";

const names = (n: number): string[] => Array.from({ length: n }, (_, i) => `light-${i + 1}`);
const lp = (n: number, seconds: number) => parseLineProtocol(fakeRunPoints(names(n), seconds).map((p) => toLine(p)!).join("\n")).points;

describe("buildTimeline", () => {
  it("one latency series per student, plotted mid-second from t = first clip start, with both netem steps", () => {
    const report = fakeReport({ students: names(3).map((s) => fakeStudent(s)) });
    const tl = buildTimeline(report, lp(3, 20));
    expect(tl.latency.map((s) => s.name)).toEqual(names(3));
    const first = tl.latency[1]!.data;
    expect(first).toHaveLength(20);
    expect(first[0]).toEqual([0.5, 21]); // latency = 20 + i + sec, student index 1
    expect(first[5]).toEqual([5.5, 126]); // +100 ms from the 2 s step on
    expect(tl.steps.map((s) => [s.fromS, s.toS, s.index])).toEqual([[0, 2, 0], [2, 20, 1]]); // 3 students, 2 directions: drawn once
    expect(tl.steps[1]!.label).toBe("step 1, delay 120 ms, loss 5.0 %");
    expect(tl.clipStarts.map((c) => c.atS)).toEqual([0, 6, 12, 18]);
    expect(tl.endS).toBe(20);
  });

  it("breaks a line where a second has no samples (a blackout)", () => {
    const report = fakeReport({ students: [fakeStudent("light-1")] });
    const pts = lp(1, 10).filter((p) => !(p.measurement === "wire" && p.timeUnixMs >= 1_790_000_004_000 && p.timeUnixMs < 1_790_000_007_000));
    const data = buildTimeline(report, pts).latency[0]!.data;
    const gap = data.findIndex((d) => d[1] === null);
    expect(gap).toBeGreaterThan(0);
    expect(data[gap - 1]![0]).toBe(3.5);
    expect(data[gap + 1]![0]).toBe(7.5);
  });

  it("a crowded room plots median and max across students instead of one line each", () => {
    const n = MAX_STUDENT_SERIES + 6;
    const report = fakeReport({ students: names(n).map((s) => fakeStudent(s)) });
    const tl = buildTimeline(report, lp(n, 5));
    expect(tl.latency.map((s) => s.name)).toEqual([`median of ${n} students`, `max of ${n} students`]);
    // second 0: latencies 20 + i for i = 0..n-1 → median 20 + floor((n-1)/2), max 20 + n - 1
    expect(tl.latency[0]!.data[0]).toEqual([0.5, 20 + Math.floor((n - 1) / 2)]);
    expect(tl.latency[1]!.data[0]).toEqual([0.5, 20 + n - 1]);
  });
});

describe("renderHtmlReport", () => {
  const report = fakeReport({
    status: "failed",
    students: names(3).map((s, i) => fakeStudent(s, fakeWire({ avSyncMs: -20 + 10 * i, gaps: [1 + i, 2], freezes: i === 0 ? [400] : [] }))),
    budgets: [verdict("latency_ms", "p95 <= 400", 612.31, "<=", 400, false), verdict("loss", "max <= 0.01", 0, "<=", 0.01, true)],
  });

  it("is self-contained: no script, no external URL; charts are inline SVG", () => {
    const html = renderHtmlReport(report, buildTimeline(report, lp(3, 20)));
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/url\(\s*["']?https?:/i);
    for (const id of ["chart-latency", "chart-loss", "chart-lipsync", "chart-switch", "chart-freezes"]) {
      expect(html).toMatch(new RegExp(`<figure id="${id}"><svg[^>]*viewBox`));
    }
    const latency = /<figure id="chart-latency">([\s\S]*?)<\/figure>/.exec(html)![1]!;
    const [r, g, b, a] = /rgba\((\d+),(\d+),(\d+),([\d.]+)\)/.exec(NETEM_STEP_FILLS[0])!.slice(1);
    expect(latency).toContain(`fill="rgb(${r},${g},${b})" fill-opacity="${a}"`);
    expect(latency).toContain("step 1, delay 120 ms, loss 5.0 %");
    // The freeze of light-1 at 5 s is drawn as a red bar on the freeze timeline.
    const freezes = /<figure id="chart-freezes">([\s\S]*?)<\/figure>/.exec(html)![1]!;
    expect(freezes).toMatch(/<path d="M[^"]+" fill="#c0392b"/);
    expect(freezes).toContain(">light-1</text>");
  });

  it("shows the status banner and the budget table with measured vs allowed", () => {
    const html = renderHtmlReport(report, buildTimeline(report, []));
    expect(html).toContain('<div class="banner failed" id="status">FAILED — 1 of 2 budget(s) failed</div>');
    expect(html).toContain("<td>612.3</td><td>&lt;= 400</td><td class=\"res \">FAIL</td>");
    expect(html).toContain("No per-second samples");
  });

  it("stays small: 20 s × 3 students < 200 kB, 20 s × 300 students < 1 MB", () => {
    const small = renderHtmlReport(report, buildTimeline(report, lp(3, 20)));
    const crowdReport = fakeReport({ students: names(300).map((s, i) => fakeStudent(s, fakeWire({ avSyncMs: (i % 40) - 20, gaps: [i % 7] }))) });
    const crowd = renderHtmlReport(crowdReport, buildTimeline(crowdReport, lp(300, 20)));
    console.log(`report.html sizes: 3 students ${(small.length / 1024).toFixed(1)} kB, 300 students ${(crowd.length / 1024).toFixed(1)} kB`);
    expect(small.length).toBeLessThan(200_000);
    expect(crowd.length).toBeLessThan(1_000_000);
  });

  it("writeHtmlReport reads <runDir>/metrics.lp and writes <runDir>/report.html", async () => {
    const dir = mkdtempSync(join(tmpdir(), "proctor-html-"));
    writeFileSync(join(dir, "metrics.lp"), fakeRunPoints(names(3), 8).map((p) => toLine(p)).join("\n") + "\nnot line protocol\n");
    const path = await writeHtmlReport(dir, report);
    expect(path).toBe(join(dir, "report.html"));
    const html = readFileSync(path, "utf8");
    expect(html).toContain("step 1, delay 120 ms");
    expect(html).toContain("1 malformed line(s) in metrics.lp were skipped.");
  });
});
