// Baseline comparison on hand-built reports: thresholds (both absolute and relative must hold),
// direction (MOS worsens downward), aggregates, per-student matching, overrides, JUnit verdicts.
import { describe, it, expect } from "vitest";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  compareReports,
  formatComparison,
  baselineVerdicts,
  resolveThresholds,
  parseThreshold,
  parseThresholdFlags,
  findBaseline,
  BaselineError,
  BaselineSettingsSchema,
  DEFAULT_THRESHOLDS,
} from "../../src/report/baseline.js";
import { junitXml } from "../../src/report/junit.js";
import { fakeReport, fakeStudent, fakeWire } from "../helpers/report-fixture.js";
import type { RunReport } from "../../src/report/run-report.js";

const lat = (base: number): number[] => [base, base + 2, base + 4, base + 10];

function reportWith(latencies: number[][], over: Partial<RunReport> & { scenario?: string } = {}): RunReport {
  return fakeReport({ students: latencies.map((l, i) => fakeStudent(`s-${i + 1}`, fakeWire({ latencies: l }))), ...over });
}

describe("compareReports", () => {
  it("identical reports: nothing regresses or improves, every figure is counted unchanged", () => {
    const a = reportWith([lat(10), lat(12)]);
    const c = compareReports(a, structuredClone(a));
    expect(c.regressions).toEqual([]);
    expect(c.improvements).toEqual([]);
    // 2 students + aggregate; av_offset has no data (fakeWire has no avSync by default).
    expect(c.unchanged).toBeGreaterThan(0);
    expect(c.unchanged + c.skipped).toBe(11 * 3 + 3);
    expect(c.skipped).toBe(3);
    expect(baselineVerdicts(c).every((v) => v.pass)).toBe(true);
  });

  it("+100 ms of latency is a regression, per student and for the class, with the stated text", () => {
    const base = reportWith([lat(10), lat(10)]);
    const cur = reportWith([lat(110), lat(10)], { run: { ...base.run, id: "later" } });
    const c = compareReports(cur, base);
    const keys = c.regressions.map((r) => `${r.metric} ${r.scope}`).sort();
    expect(keys).toEqual(["latency_p50 aggregate", "latency_p50 class-a/s-1", "latency_p95 aggregate", "latency_p95 class-a/s-1"]);
    const p95 = c.regressions.find((r) => r.metric === "latency_p95" && r.scope === "class-a/s-1")!;
    // p95 of [10,12,14,20] (R-7) = 19.1; of [110,112,114,120] = 119.1
    expect(p95.baseline).toBeCloseTo(19.1, 6);
    expect(p95.current).toBeCloseTo(119.1, 6);
    expect(p95.text).toBe("latency_ms p95 (class-a/s-1): 19.1 → 119.1 ms (+100.0 ms, +524 %) REGRESSION (allowed +20 ms and +20 %)");
    // the class aggregate is the count-weighted mean of the students' p95: (119.1 + 19.1) / 2
    const agg = c.regressions.find((r) => r.metric === "latency_p95" && r.scope === "aggregate")!;
    expect(agg.current).toBeCloseTo(69.1, 6);
    const lines = formatComparison(c);
    expect(lines.some((l) => l.includes("latency_ms p95 (aggregate): 19.1 → 69.1 ms (+50.0 ms, +262 %) REGRESSION"))).toBe(true);
    expect(lines.at(-1)).toMatch(/^ {2}4 regression\(s\), 0 improvement\(s\), \d+ unchanged/);
  });

  it("both parts of a threshold must hold: +25 ms on 400 ms (6 %) and +15 ms on 10 ms (150 %) are not regressions", () => {
    const c1 = compareReports(reportWith([lat(425)]), reportWith([lat(400)]));
    expect(c1.regressions).toEqual([]);
    const c2 = compareReports(reportWith([lat(25)]), reportWith([lat(10)]));
    expect(c2.regressions).toEqual([]);
    // +90 ms on 400 ms is +22 % and +90 ms: both hold.
    const c3 = compareReports(reportWith([lat(490)]), reportWith([lat(400)]));
    expect(c3.regressions.map((r) => r.metric)).toContain("latency_p95");
  });

  it("lists improvements: lower latency, less loss, higher MOS", () => {
    const base = fakeReport({ students: [fakeStudent("s-1", fakeWire({ latencies: lat(200), loss: 0.1 }))] });
    const wire = fakeWire({ latencies: lat(50), loss: 0.02 });
    wire.mos.audio = 4.0;
    base.students[0]!.wire.mos.audio = 3.5;
    const c = compareReports(fakeReport({ students: [fakeStudent("s-1", wire)] }), base);
    expect(c.regressions).toEqual([]);
    const improved = new Set(c.improvements.map((r) => r.metric));
    for (const m of ["latency_p50", "latency_p95", "loss", "residual_loss", "mos_audio"]) expect(improved.has(m as never)).toBe(true);
    const loss = c.improvements.find((r) => r.metric === "loss" && r.scope === "aggregate")!;
    expect(loss.text).toBe("loss (aggregate): 10.00 → 2.00 % (−8.00 points) IMPROVEMENT (allowed +1 point)");
  });

  it("MOS regresses downward; loss in points; freezes by count; |A/V offset| by magnitude", () => {
    const base = fakeReport({ students: [fakeStudent("s-1", fakeWire({ loss: 0.005, freezes: [], avSyncMs: -5 }))] });
    const w = fakeWire({ loss: 0.03, freezes: [300, 400], avSyncMs: 20 });
    w.mos.video = base.students[0]!.wire.mos.video - 0.5;
    const c = compareReports(fakeReport({ students: [fakeStudent("s-1", w)] }), base);
    const agg = new Map(c.regressions.filter((r) => r.scope === "aggregate").map((r) => [r.metric, r]));
    expect(agg.get("loss")?.text).toBe("loss (aggregate): 0.50 → 3.00 % (+2.50 points) REGRESSION (allowed +1 point)");
    expect(agg.get("freeze_count")?.text).toBe("freeze_count (aggregate): 0 → 2 (+2) REGRESSION (allowed +1)");
    expect(agg.get("av_offset")?.delta).toBeCloseTo(15, 9);
    expect(agg.get("mos_video")?.text).toMatch(/^mos_video \(aggregate\): 3\.10 → 2\.60 \(−0\.50\) REGRESSION \(allowed −0\.2\)$/);
    // one freeze more is within the +1 allowance
    const c1 = compareReports(fakeReport({ students: [fakeStudent("s-1", fakeWire({ freezes: [300] }))] }), fakeReport());
    expect(c1.regressions.filter((r) => r.metric === "freeze_count")).toEqual([]);
  });

  it("students matched by room/student; unmatched ones are noted, not compared", () => {
    const base = reportWith([lat(10), lat(10)]);
    const cur = fakeReport({ students: [fakeStudent("s-1", fakeWire({ latencies: lat(10) })), fakeStudent("s-9", fakeWire({ latencies: lat(500) }))] });
    const c = compareReports(cur, base);
    expect(c.notes).toContain("not in the baseline: class-a/s-9");
    expect(c.notes).toContain("only in the baseline: class-a/s-2");
    expect(c.regressions.every((r) => r.scope === "aggregate")).toBe(true);
    expect(c.regressions.length).toBeGreaterThan(0);
  });

  it("notes a stalled pacer (an overloaded machine) on either side", () => {
    const base = reportWith([lat(10)]);
    const cur = reportWith([lat(10)]);
    cur.streamer.maxPacingLatenessMs = 790;
    const c = compareReports(cur, base);
    expect(c.notes).toEqual(["this run's teacher pacer was up to 790 ms late (machine overloaded?): its latency tail and switch gaps include that stall"]);
    expect(compareReports(base, structuredClone(base)).notes).toEqual([]);
  });

  it("null figures (NaN written as null in report.json) are skipped", () => {
    const base = reportWith([lat(10)]);
    const json = JSON.parse(JSON.stringify(base)) as RunReport;
    (json.students[0]!.wire.latencyMs as { p95: number | null }).p95 = null;
    const c = compareReports(json as never, base);
    expect(c.regressions).toEqual([]);
    expect(c.skipped).toBeGreaterThanOrEqual(2 + 2); // p95 student+aggregate, av_offset student+aggregate
  });
});

describe("thresholds", () => {
  it("parses the grammar and checks units", () => {
    expect(parseThreshold("latency_p95", "+30ms +25%")).toEqual({ abs: 30, rel: 0.25 });
    expect(parseThreshold("latency_p95", "30 and 10%")).toEqual({ abs: 30, rel: 0.1 });
    expect(parseThreshold("loss", "+2pt")).toEqual({ abs: 2 });
    expect(parseThreshold("mos_audio", "-0.3")).toEqual({ abs: 0.3 });
    expect(parseThreshold("freeze_count", 3)).toEqual({ abs: 3 });
    expect(() => parseThreshold("loss", "+2ms")).toThrow(/"\+2ms" in "\+2ms" is in ms, but loss is in percentage points/);
    expect(() => parseThreshold("latency_p95", "fast")).toThrow(BaselineError);
  });

  it("layers override the defaults in order; false turns a figure off", () => {
    const t = resolveThresholds({ latency_p95: "+50ms", loss: false }, { latency_p95: "+80ms +10%" });
    expect(t.latency_p95).toEqual({ abs: 80, rel: 0.1 });
    expect(t.loss).toBe(false);
    expect(t.latency_p50).toEqual(DEFAULT_THRESHOLDS.latency_p50);
    const base = reportWith([lat(10)]);
    const cur = reportWith([lat(70)]);
    expect(compareReports(cur, base).regressions.length).toBeGreaterThan(0);
    expect(compareReports(cur, base, { thresholds: resolveThresholds({ latency_p50: "+100ms", latency_p95: "+100ms" }) }).regressions).toEqual([]);
  });

  it("CLI flags and the scenario schema reject bad input, quoting it", () => {
    expect(parseThresholdFlags(["latency_p95=+30ms,+25%", "mos_video=off"])).toEqual({ latency_p95: "+30ms,+25%", mos_video: false });
    expect(() => parseThresholdFlags(["latency=+30ms"])).toThrow(/unknown metric "latency"/);
    expect(() => parseThresholdFlags(["latency_p95"])).toThrow(/expected <metric>=<threshold>/);
    expect(BaselineSettingsSchema.safeParse({ latency_p95: "+30ms +25%", loss: 2, mos_audio: false }).success).toBe(true);
    const bad = BaselineSettingsSchema.safeParse({ latency_p95: "soon" });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(["latency_p95"]);
    expect(bad.error?.issues[0]?.message).toContain('"soon"');
    expect(BaselineSettingsSchema.safeParse({ latency: "+1" }).success).toBe(false);
    expect(BaselineSettingsSchema.safeParse({ per_student: false, loss: "+5" }).success).toBe(true);
    expect(BaselineSettingsSchema.safeParse({ per_student: "no" }).success).toBe(false);
  });
});

describe("per_student: false", () => {
  it("compares the class figures only", () => {
    const base = reportWith([lat(10), lat(10)]);
    const cur = reportWith([lat(110), lat(10)]);
    const c = compareReports(cur, base, { perStudent: false });
    expect(c.regressions.map((r) => r.scope)).toEqual(["aggregate", "aggregate"]);
    expect(c.notes.some((n) => n.includes("per_student: false"))).toBe(true);
  });
});

describe("baselineVerdicts", () => {
  it("one verdict per aggregate figure plus each student regression; JUnit shows the failing ones with measured vs allowed", () => {
    const base = reportWith([lat(10)]);
    const cur = reportWith([lat(110)]);
    const c = compareReports(cur, base);
    const v = baselineVerdicts(c);
    expect(v.filter((x) => x.metric.endsWith("(aggregate)")).length).toBe(c.aggregates.length);
    const failing = v.filter((x) => !x.pass);
    expect(failing.map((x) => x.metric).sort()).toEqual([
      "baseline latency_ms p50 (aggregate)",
      "baseline latency_ms p50 (class-a/s-1)",
      "baseline latency_ms p95 (aggregate)",
      "baseline latency_ms p95 (class-a/s-1)",
    ]);
    const p95 = failing.find((x) => x.metric === "baseline latency_ms p95 (aggregate)")!;
    expect(p95.measured).toBeCloseTo(119.1, 6);
    expect(p95.limit).toBeCloseTo(39.1, 6); // 19.1 + max(20, 20 % of 19.1)
    const xml = junitXml([{ ...cur, budgets: [...cur.budgets, ...v], status: "failed" }]);
    expect(xml).toContain('name="baseline latency_ms p95 (aggregate): within +20 ms and +20 % of baseline"');
    expect(xml).toContain("measured 119.1, allowed &lt;= 39.1");
  });
});

describe("findBaseline", () => {
  it("picks the newest non-broken report of the same scenario, searching two levels down, excluding the current run", async () => {
    const dir = mkdtempSync(join(tmpdir(), "proctor-baseline-"));
    const put = (rel: string, r: RunReport): void => {
      mkdirSync(join(dir, rel), { recursive: true });
      writeFileSync(join(dir, rel, "report.json"), JSON.stringify(r));
    };
    const at = (iso: string, id: string, scenario = "smoke", status: RunReport["status"] = "passed"): RunReport => {
      const r = fakeReport({ scenario, status });
      r.run.startedAt = iso;
      r.run.id = id;
      return r;
    };
    put("old", at("2026-01-01T00:00:00.000Z", "old"));
    put("suite-x/mid", at("2026-01-02T00:00:00.000Z", "mid"));
    put("broken", at("2026-01-03T00:00:00.000Z", "broken", "smoke", "broken"));
    put("other", at("2026-01-04T00:00:00.000Z", "other", "crowded-room"));
    put("current", at("2026-01-05T00:00:00.000Z", "current"));
    writeFileSync(join(dir, "junk.json"), "{");
    mkdirSync(join(dir, "not-a-run"));
    writeFileSync(join(dir, "not-a-run", "report.json"), "{\"hello\": 1}");

    expect((await findBaseline(dir, "smoke", { excludeRunId: "current" }))?.report.run.id).toBe("mid");
    expect((await findBaseline(dir, "smoke", { before: "2026-01-01T12:00:00.000Z" }))?.report.run.id).toBe("old");
    expect((await findBaseline(dir, "smoke"))?.report.run.id).toBe("current");
    expect(await findBaseline(dir, "switch-stress")).toBeNull();
    expect((await findBaseline(join(dir, "other", "report.json"), "smoke"))?.report.run.id).toBe("other");
    expect((await findBaseline(join(dir, "old"), "smoke"))?.report.run.id).toBe("old");
    await expect(findBaseline(join(dir, "nope"), "smoke")).rejects.toThrow(/does not exist/);
    await expect(findBaseline(join(dir, "not-a-run", "report.json"), "smoke")).rejects.toThrow(/does not match report schema/);
  });
});
