// Synthetic RunReports (and matching metrics.lp points) for report-writer tests: every field
// filled, values chosen per test, no run needed.
import { summarize } from "../../src/metrics/stats.js";
import type { WireSummary } from "../../src/metrics/wire-summary.js";
import type { Point } from "../../src/metrics/sample.js";
import type { Verdict } from "../../src/report/evaluate.js";
import { REPORT_SCHEMA_VERSION, type RunReport, type StudentReport } from "../../src/report/run-report.js";

export function fakeWire(opts: { latencies?: number[]; avSyncMs?: number; gaps?: number[]; freezes?: number[]; loss?: number } = {}): WireSummary {
  const lat = summarize(opts.latencies ?? [10, 12, 14, 20]);
  const gaps = (opts.gaps ?? [1.5]).map((g, i) => ({ fromClip: i + 1, toClip: i + 2, fromFrame: 89, toFrame: 0, gapMs: g, captureGapMs: 0, atMs: 3000 * (i + 1) }));
  const stream = { packetsReceived: 1000, packetsExpected: 1000, packetsLost: 0, lossFraction: opts.loss ?? 0, jitterMs: 1.2, jitterMeanMs: 1.1, duplicates: 0 };
  const freezes = (opts.freezes ?? []).map((d, i) => ({ startMs: 1000 * (i + 1), durationMs: d }));
  return {
    framesReceived: 270,
    framesExpected: 270,
    framesReceivedRatio: 1,
    framesDropped: 0,
    latencyMs: lat,
    audioLatencyMs: lat,
    switchGaps: gaps,
    presentedSwitchGaps: gaps,
    playout: { presented: 270, notDecodable: 0, late: 0, targetDelayMs: 5, presentedLatencyMs: lat, fps: 30 },
    freezes: { count: freezes.length, totalMs: freezes.reduce((n, f) => n + f.durationMs, 0), ratio: 0, pauses: 0, list: freezes },
    avSync: opts.avSyncMs === undefined ? undefined : { offsetMs: opts.avSyncMs, videoSrErrorMs: 0, audioSrErrorMs: 0, videoSamples: 270, audioSamples: 450 },
    audioConcealment: { expectedFrames: 450, lostFrames: 0, lateFrames: 0, concealedFrames: 0, concealmentRatio: 0, interruptionCount: 0, totalInterruptionMs: 0, playoutDelayMs: 30 },
    mos: { audioR: 90, audio: 4.3, video: 3.1 },
    video: { ...stream, lossBeforeRepair: opts.loss ?? 0, repaired: 0, nacksSent: 0, repairRttMs: 20 },
    audio: stream,
    bitrateKbps: 480,
    joinMs: 700,
  };
}

export function fakeStudent(student: string, wire: WireSummary = fakeWire(), extra: Partial<StudentReport> = {}): StudentReport {
  return { room: "class-a", student, group: "light", agent: "werift", profile: "none", wire, ...extra };
}

export function verdict(metric: string, expression: string, measured: number, op: string, limit: number, pass: boolean, note?: string): Verdict {
  return { metric, expression, measured, op, limit, pass, note };
}

export function fakeReport(over: Partial<RunReport> & { scenario?: string } = {}): RunReport {
  const { scenario = "smoke", ...rest } = over;
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: "proctor", version: "0.1.0" },
    run: { id: `${scenario}-20260101-000000-abcd`, scenario, seed: 42, startedAt: "2026-01-01T00:00:00.000Z", durationMs: 21500, scenarioFile: `scenarios/${scenario}.yaml` },
    media: { width: 640, height: 360, fps: 30, videoKbps: 500, clips: [{ name: "intro", clipId: 1, durationMs: 6000, hash: "ab".repeat(32) }] },
    streamer: { framesSent: 540, audioPacketsSent: 900, maxPacingLatenessMs: 3 },
    students: [fakeStudent("light-1")],
    budgets: [verdict("latency_ms", "p95 <= 400", 12.5, "<=", 400, true)],
    status: "passed",
    errors: [],
    ...rest,
  };
}

/**
 * The metrics.lp points of a run of `seconds` s with these students (room class-a): one wire point
 * per student per second (latency = base + 10·s), clip starts every 6 s, and a netem step at 0 s
 * and at `stepAtS` s for each student, and one 400 ms freeze of the first student at 5 s.
 */
export function fakeRunPoints(students: string[], seconds: number, stepAtS = 2, t0 = 1_790_000_000_000): Point[] {
  const points: Point[] = [];
  const base = { run: "r", scenario: "smoke", room: "class-a" };
  for (let c = 0; c * 6 < seconds; c++) points.push({ measurement: "event", tags: { ...base, kind: "clip_start" }, fields: { clip_id: c + 1 }, timeUnixMs: t0 + c * 6000 });
  for (const [i, s] of students.entries()) {
    const tags = { ...base, student: s, agent: "werift", profile: "p" };
    for (const [step, at, delay] of [[0, 0, 20], [1, stepAtS, 120]] as const) {
      for (const direction of [0, 1]) {
        points.push({ measurement: "event", tags: { ...tags, kind: "netem_step" }, fields: { step, direction, at_ms: at * 1000, delay_ms: delay, jitter_ms: 0, loss_pct: step * 5 }, timeUnixMs: t0 + at * 1000 });
      }
    }
    if (i === 0) points.push({ measurement: "event", tags: { ...tags, kind: "freeze" }, fields: { duration_ms: 400 }, timeUnixMs: t0 + 5000 });
    for (let sec = 0; sec < seconds; sec++) {
      const lat = 20 + i + (sec >= stepAtS ? 100 : 0) + sec;
      points.push({
        measurement: "wire",
        tags,
        fields: { frames: 30, fps: 30, bitrate_kbps: 480, latency_p50_ms: lat - 2, latency_p95_ms: lat, latency_max_ms: lat + 3, loss_pct: sec >= stepAtS ? 5 : 0, audio_loss_pct: 0, jitter_ms: 1 },
        timeUnixMs: t0 + sec * 1000,
      });
    }
  }
  return points;
}
