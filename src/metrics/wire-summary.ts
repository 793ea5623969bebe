// Per-student wire-tier summary and per-second samples from a light student's observations.
import { summarize, type Summary } from "./stats.js";
import { videoLatenciesMs, audioLatenciesMs, type FrameTimes, type PacketTimes } from "./latency.js";
import { switchGaps, type SwitchFrame, type SwitchGap } from "./switch-gap.js";
import type { Point, Tags } from "./sample.js";

export type WireFrame = FrameTimes & SwitchFrame & { bytes: number };
export type WireStreamStats = { packetsReceived: number; packetsExpected: number; packetsLost: number; lossFraction: number; jitterMs: number; duplicates: number };

export type WireInput = {
  frames: readonly WireFrame[];
  audio: readonly PacketTimes[];
  video: WireStreamStats;
  audioStats: WireStreamStats;
  fps: number;
  /** Capture times (unix ms) of every frame the teacher sent to this student's stream. */
  sentFrameCaptureUnixMs: readonly number[];
  framesDropped: number;
  joinMs?: number;
};

export type WireSummary = {
  framesReceived: number;
  framesExpected: number;
  framesReceivedRatio: number;
  framesDropped: number;
  latencyMs: Summary;
  audioLatencyMs: Summary;
  switchGaps: SwitchGap[];
  video: WireStreamStats;
  audio: WireStreamStats;
  joinMs?: number;
};

export function summarizeWire(input: WireInput): WireSummary {
  const caps = input.frames.map((f) => f.captureUnixMs).filter((c): c is number => c !== undefined);
  let expected = 0;
  if (caps.length > 0) {
    // Frames sent from the first one this student received to the last: what it should have had.
    let first = Infinity;
    let last = -Infinity;
    for (const c of caps) {
      if (c < first) first = c;
      if (c > last) last = c;
    }
    for (const c of input.sentFrameCaptureUnixMs) if (c >= first - 0.5 && c <= last + 0.5) expected++;
  }
  const received = caps.length;
  return {
    framesReceived: input.frames.length,
    framesExpected: expected,
    framesReceivedRatio: expected === 0 ? 0 : Math.min(received, expected) / expected,
    framesDropped: input.framesDropped,
    latencyMs: summarize(videoLatenciesMs(input.frames)),
    audioLatencyMs: summarize(audioLatenciesMs(input.audio)),
    switchGaps: switchGaps(input.frames, input.fps),
    video: input.video,
    audio: input.audioStats,
    joinMs: input.joinMs,
  };
}

/** One `wire` point per student per second: frames, fps, bitrate, latency p50/p95/max. */
export function wireSamplesPerSecond(frames: readonly WireFrame[], tags: Tags): Point[] {
  const bins = new Map<number, { lat: number[]; bytes: number; n: number }>();
  for (const f of frames) {
    const sec = Math.floor(f.completeUnixMs / 1000);
    let b = bins.get(sec);
    if (!b) bins.set(sec, (b = { lat: [], bytes: 0, n: 0 }));
    b.n++;
    b.bytes += f.bytes;
    if (f.captureUnixMs !== undefined) b.lat.push(f.completeUnixMs - f.captureUnixMs);
  }
  const points: Point[] = [];
  for (const [sec, b] of [...bins].sort((x, y) => x[0] - y[0])) {
    const s = summarize(b.lat);
    points.push({
      measurement: "wire",
      tags,
      fields: { frames: b.n, fps: b.n, bitrate_kbps: (b.bytes * 8) / 1000, latency_p50_ms: s.p50, latency_p95_ms: s.p95, latency_max_ms: s.max },
      timeUnixMs: sec * 1000,
    });
  }
  return points;
}
