// End-of-run summary points for the post-class dashboard: one point per student, one per budget
// verdict, one per run-level metric and one for the run itself, all stamped at the run's end
// (report.run.startedAt + durationMs). The per-second `wire` points and the `event` points are
// written live by the runner; these are the figures a run is judged by, so dashboards read exactly
// the numbers in report.json instead of re-aggregating per-second samples.
//
// Measurements (tags: run, scenario [, build] from the caller, plus the ones listed):
//   student_summary  + room, student, agent, profile   fields (units in the name; ratios 0..1):
//       latency_p50_ms latency_p95_ms latency_max_ms  audio_latency_p50_ms audio_latency_p95_ms
//       presented_latency_p95_ms lipsync_ms freeze_count freeze_total_ms freeze_ratio
//       audio_concealment audio_interruptions loss residual_loss audio_loss jitter_ms rtt_ms
//       mos_audio mos_video switch_count switch_gap_max_ms join_ms join_retries frames_received
//       frames_expected frames_received_ratio bitrate_kbps fps error (1 when the student broke)
//   budget           + metric, expression              fields measured, limit, pass (1|0)
//   run_metric       + metric                          fields count, min, p50, p95, p99, max, mean
//                    (from the same value lists the budgets were judged on; only when given)
//   run_summary      (run tags only)                   fields students, budgets, budgets_failed,
//       status ("passed"|"failed"|"broken"), exit_code, errors, duration_ms, frames_sent,
//       audio_packets_sent, max_pacing_lateness_ms
// Non-finite values are left out of a point (line-protocol.ts drops them), never written as 0.
import type { PixelSummary } from "./pixel-summary.js";
import { summarize } from "./stats.js";
import type { Point, Tags } from "./sample.js";
import type { RunReport, StudentReport } from "../report/run-report.js";

/** Tags beyond the bounded set in sample.ts (`metric`, `expression`): bounded by the scenario's budgets. */
type MetricTags = Tags & { metric: string; expression?: string };

/** When the run's summary points are stamped: its end, in unix ms. */
export function runEndUnixMs(report: RunReport): number {
  const start = Date.parse(report.run.startedAt);
  if (!Number.isFinite(start)) throw new Error(`report.run.startedAt is not a date: ${JSON.stringify(report.run.startedAt)}`);
  return start + Math.max(0, report.run.durationMs);
}

function studentFields(s: StudentReport): Point["fields"] {
  const w = s.wire;
  if (!w) return s.pixel ? pixelFields(s, s.pixel) : { error: 1 };
  const gaps = w.switchGaps.map((g) => g.gapMs).filter(Number.isFinite);
  return {
    latency_p50_ms: w.latencyMs.p50,
    latency_p95_ms: w.latencyMs.p95,
    latency_max_ms: w.latencyMs.max,
    audio_latency_p50_ms: w.audioLatencyMs.p50,
    audio_latency_p95_ms: w.audioLatencyMs.p95,
    presented_latency_p95_ms: w.playout.presentedLatencyMs.p95,
    ...(w.avSync ? { lipsync_ms: w.avSync.offsetMs } : {}),
    freeze_count: w.freezes.count,
    freeze_total_ms: w.freezes.totalMs,
    freeze_ratio: w.freezes.ratio,
    audio_concealment: w.audioConcealment.concealmentRatio,
    audio_interruptions: w.audioConcealment.interruptionCount,
    loss: w.video.lossBeforeRepair ?? w.video.lossFraction,
    residual_loss: w.video.lossFraction,
    audio_loss: w.audio.lossFraction,
    jitter_ms: w.video.jitterMeanMs ?? w.video.jitterMs,
    ...(w.video.repairRttMs !== undefined ? { rtt_ms: w.video.repairRttMs } : {}),
    mos_audio: w.mos.audio,
    mos_video: w.mos.video,
    switch_count: w.switchGaps.length,
    ...(gaps.length ? { switch_gap_max_ms: Math.max(...gaps) } : {}),
    ...(w.joinMs !== undefined ? { join_ms: w.joinMs } : {}),
    ...(w.joinRetries !== undefined ? { join_retries: w.joinRetries } : {}),
    frames_received: w.framesReceived,
    frames_expected: w.framesExpected,
    frames_received_ratio: w.framesReceivedRatio,
    bitrate_kbps: w.bitrateKbps,
    fps: w.playout.fps,
    error: s.error === undefined ? 0 : 1,
  };
}

/** A browser student's summary fields: the same names where the metric is the same, at the pixel tier. */
function pixelFields(s: StudentReport, p: PixelSummary): Point["fields"] {
  const gaps = p.switchGaps.map((g) => g.gapMs).filter(Number.isFinite);
  const opt = (k: string, v: number | undefined): Point["fields"] => (v !== undefined && Number.isFinite(v) ? { [k]: v } : {});
  return {
    latency_p50_ms: p.latencyMs.p50,
    latency_p95_ms: p.latencyMs.p95,
    latency_max_ms: p.latencyMs.max,
    ...opt("lipsync_ms", p.lipSync.offsetMs.p50),
    freeze_count: p.freezes.count,
    freeze_total_ms: p.freezes.totalMs,
    freeze_ratio: p.freezes.ratio,
    ...opt("audio_concealment", p.audio?.concealmentRatio),
    ...opt("loss", p.video?.lossFraction),
    ...opt("jitter_ms", p.video?.jitterMs),
    ...opt("rtt_ms", p.rttMs.p50),
    mos_audio: p.mos.audio,
    mos_video: p.mos.video,
    switch_count: p.switchGaps.length,
    ...(gaps.length ? { switch_gap_max_ms: Math.max(...gaps) } : {}),
    frames_presented: p.framesPresented,
    code_read_ratio: p.codeReadRatio,
    fps: p.fps,
    error: s.error === undefined ? 0 : 1,
  };
}

/**
 * The summary points of one finished run. `tags` adds run-wide tags (e.g. `{ build }`); run and
 * scenario come from the report. `values` is the map of metric → values the budgets were judged
 * on (the runner's `values`); without it no `run_metric` points are made.
 */
export function runSummaryPoints(report: RunReport, tags: Tags = {}, values?: Readonly<Record<string, readonly number[]>>): Point[] {
  const at = runEndUnixMs(report);
  const base: Tags = { ...tags, run: report.run.id, scenario: report.run.scenario };
  const points: Point[] = [];
  for (const s of report.students) {
    points.push({
      measurement: "student_summary",
      tags: { ...base, room: s.room, student: s.student, agent: s.agent, profile: s.profile ?? "none" },
      fields: studentFields(s),
      timeUnixMs: at,
    });
  }
  for (const v of report.budgets) {
    const t: MetricTags = { ...base, metric: v.metric, expression: v.expression };
    points.push({ measurement: "budget", tags: t, fields: { measured: v.measured, limit: v.limit, pass: v.pass ? 1 : 0 }, timeUnixMs: at });
  }
  for (const [metric, list] of Object.entries(values ?? {})) {
    const sm = summarize(list);
    if (sm.count === 0) continue;
    const t: MetricTags = { ...base, metric };
    points.push({
      measurement: "run_metric",
      tags: t,
      fields: { count: sm.count, min: sm.min, p50: sm.p50, p95: sm.p95, p99: sm.p99, max: sm.max, mean: sm.mean },
      timeUnixMs: at,
    });
  }
  const failed = report.budgets.filter((b) => !b.pass).length;
  points.push({
    measurement: "run_summary",
    tags: base,
    fields: {
      students: report.students.length,
      budgets: report.budgets.length,
      budgets_failed: failed,
      status: report.status,
      exit_code: report.status === "passed" ? 0 : report.status === "failed" ? 1 : 2,
      errors: report.errors.length,
      duration_ms: report.run.durationMs,
      frames_sent: report.streamer.framesSent,
      audio_packets_sent: report.streamer.audioPacketsSent,
      max_pacing_lateness_ms: report.streamer.maxPacingLatenessMs,
    },
    timeUnixMs: at,
  });
  return points;
}
