// runSummaryPoints: the end-of-run points the post-class dashboard reads. A student who received
// nothing (NaN statistics) writes no NaN fields; budgets on one metric stay distinct series; the
// run_metric statistics are those of the given value lists; everything is stamped at the run's end.
import { describe, expect, it } from "vitest";
import { runEndUnixMs, runSummaryPoints } from "../../src/metrics/run-points.js";
import { summarizeWire, type WireStreamStats } from "../../src/metrics/wire-summary.js";
import { toLine } from "../../src/metrics/line-protocol.js";
import { percentile } from "../../src/metrics/stats.js";
import { REPORT_SCHEMA_VERSION, type RunReport } from "../../src/report/run-report.js";

const stream: WireStreamStats = { packetsReceived: 90, packetsExpected: 100, packetsLost: 10, lossFraction: 0.1, jitterMs: 4, jitterMeanMs: 3, duplicates: 0, lossBeforeRepair: 0.25, repairRttMs: 12 };
const empty = summarizeWire({ frames: [], audio: [], senderReports: [], video: stream, audioStats: { ...stream, lossFraction: 0.02 }, fps: 30, sentFrameCaptureUnixMs: [], framesDropped: 0, joinMs: 321, joinRetries: 1 });

const report: RunReport = {
  schemaVersion: REPORT_SCHEMA_VERSION,
  tool: { name: "proctor", version: "0.1.0" },
  run: { id: "r-1", scenario: "smoke", seed: 1, startedAt: "2025-03-01T10:00:00.000Z", durationMs: 12_345, scenarioFile: "x.yaml" },
  media: { width: 320, height: 240, fps: 30, videoKbps: 300, clips: [] },
  streamer: { framesSent: 300, audioPacketsSent: 500, maxPacingLatenessMs: 2 },
  students: [
    { room: "room-1", student: "s-1", group: "s", agent: "werift", profile: "loss-30", wire: empty },
    { room: "room-1", student: "s-2", group: "s", agent: "werift", wire: empty, error: "join failed" },
  ],
  budgets: [
    { metric: "lipsync_ms", expression: "p95 >= -100", measured: -20, limit: -100, op: ">=", pass: true },
    { metric: "lipsync_ms", expression: "p95 <= 25", measured: 40, limit: 25, op: "<=", pass: false },
    { metric: "latency_ms", expression: "p95 <= 400", measured: NaN, limit: 400, op: "<=", pass: false, note: "no data" },
  ],
  status: "failed",
  errors: ["s-2: join failed"],
};

describe("runSummaryPoints", () => {
  const at = Date.parse("2025-03-01T10:00:00.000Z") + 12_345;
  const latency = [5, 1, 9, 3, 7, 2, 8];
  const points = runSummaryPoints(report, { build: "abc123" }, { latency_ms: latency, join_ms: [] });

  it("stamps every point at the run's end and tags it with run, scenario and the caller's tags", () => {
    expect(runEndUnixMs(report)).toBe(at);
    for (const p of points) {
      expect(p.timeUnixMs).toBe(at);
      expect(p.tags).toMatchObject({ run: "r-1", scenario: "smoke", build: "abc123" });
    }
    expect(points.map((p) => p.measurement)).toEqual(["student_summary", "student_summary", "budget", "budget", "budget", "run_metric", "run_summary"]);
  });

  it("student_summary: one per student, profile 'none' when unimpaired, NaN statistics left out, report figures kept", () => {
    const [a, b] = points;
    expect(a!.tags).toMatchObject({ room: "room-1", student: "s-1", agent: "werift", profile: "loss-30" });
    expect(b!.tags.profile).toBe("none");
    expect(a!.fields).toMatchObject({ loss: 0.25, residual_loss: 0.1, audio_loss: 0.02, jitter_ms: 3, rtt_ms: 12, join_ms: 321, join_retries: 1, freeze_count: 0, switch_count: 0, error: 0 });
    expect(b!.fields.error).toBe(1);
    expect(a!.fields).not.toHaveProperty("lipsync_ms");
    expect(a!.fields).not.toHaveProperty("switch_gap_max_ms");
    const line = toLine(a!)!;
    expect(line).not.toMatch(/latency_p50_ms|NaN/);
    expect(line).toMatch(/^student_summary,agent=werift,build=abc123,profile=loss-30,room=room-1,run=r-1,scenario=smoke,student=s-1 /);
  });

  it("budget: metric and expression are tags, so two budgets on one metric are distinct series; pass is 1/0", () => {
    const budgets = points.filter((p) => p.measurement === "budget");
    const lines = budgets.map((p) => toLine(p)!);
    const seriesKey = (l: string) => /^(?:\\.|[^ \\])+/.exec(l)![0]; // up to the first unescaped space
    expect(new Set(lines.map(seriesKey)).size).toBe(3);
    expect(lines[0]).toContain("expression=p95\\ >\\=\\ -100,metric=lipsync_ms");
    expect(budgets.map((p) => p.fields.pass)).toEqual([1, 0, 0]);
    expect(lines[2]).toMatch(/ limit=400,pass=0 /); // measured NaN is not written
  });

  it("run_metric: statistics of the given value lists; empty lists make no point", () => {
    const rm = points.filter((p) => p.measurement === "run_metric");
    expect(rm).toHaveLength(1);
    const sorted = [...latency].sort((x, y) => x - y);
    expect(rm[0]!.tags).toMatchObject({ metric: "latency_ms" });
    expect(rm[0]!.fields).toEqual({ count: 7, min: 1, p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: 9, mean: 5 });
    expect(runSummaryPoints(report).filter((p) => p.measurement === "run_metric")).toEqual([]);
  });

  it("run_summary: status, exit code and counts", () => {
    const rs = points.at(-1)!;
    expect(rs.fields).toEqual({ students: 2, budgets: 3, budgets_failed: 2, status: "failed", exit_code: 1, errors: 1, duration_ms: 12_345, frames_sent: 300, audio_packets_sent: 500, max_pacing_lateness_ms: 2 });
    expect(() => runSummaryPoints({ ...report, run: { ...report.run, startedAt: "yesterday" } })).toThrow(/startedAt/);
  });
});
