// Per-student wire-tier summary and per-second samples from a light student's observations:
// the single place where the metric families are combined (each family lives in its own file).
import { summarize, type Summary } from "./stats.js";
import { videoLatenciesMs, audioLatenciesMs, type FrameTimes, type PacketTimes } from "./latency.js";
import { switchGaps, type SwitchFrame, type SwitchGap } from "./switch-gap.js";
import { emulatePlayout, type PlayoutFrame } from "./playout.js";
import { detectFreezes, type Freeze } from "./freezes.js";
import { estimateAvSync, type SyncSenderReport, type AvSyncEstimate } from "./av-sync.js";
import { estimateConcealment, type ConcealmentReport } from "./audio-concealment.js";
import { opusEModel } from "./mos-audio.js";
import { g1070VideoQuality } from "./mos-video.js";
import type { Point, Tags } from "./sample.js";

export type WireFrame = FrameTimes & SwitchFrame & PlayoutFrame & { bytes: number };
export type WireAudioPacket = PacketTimes & { extSeq: number; rtpTimestamp: number };
/**
 * Receive counters of one stream. `lossFraction` is the residual loss after any repair (RFC 3550
 * counting); `lossBeforeRepair` the share of packets whose first transmission never arrived (what
 * the network lost), present when the student repairs with NACK.
 */
export type WireStreamStats = {
  packetsReceived: number;
  packetsExpected: number;
  packetsLost: number;
  lossFraction: number;
  jitterMs: number;
  /** Time-average of the running RFC 3550 estimate. */
  jitterMeanMs?: number;
  duplicates: number;
  lossBeforeRepair?: number;
  repaired?: number;
  nacksSent?: number;
  repairRttMs?: number;
};

/** Audio playout delay rule for the concealment estimate: p95 of audio transit + one frame, ≥ 20 ms. */
export function audioPlayoutDelayMs(latency: Summary): number {
  return Number.isFinite(latency.p95) ? Math.max(20, latency.p95 + 20) : 20;
}

export type WireInput = {
  frames: readonly WireFrame[];
  audio: readonly WireAudioPacket[];
  senderReports: readonly SyncSenderReport[];
  video: WireStreamStats;
  audioStats: WireStreamStats;
  fps: number;
  /** Capture times (unix ms) of every frame the teacher sent to this student's stream. */
  sentFrameCaptureUnixMs: readonly number[];
  framesDropped: number;
  joinMs?: number;
  joinRetries?: number;
  /** RTT samples (ms) from the teacher's view of this student's receiver reports. */
  rttSamplesMs?: readonly number[];
  /** Session span for the freeze ratio (ms); default first → last presented frame. */
  sessionMs?: number;
};

export type WireSummary = {
  framesReceived: number;
  framesExpected: number;
  framesReceivedRatio: number;
  framesDropped: number;
  latencyMs: Summary;
  audioLatencyMs: Summary;
  switchGaps: SwitchGap[];
  /** Switch gaps on the emulated playout's presentation times. */
  presentedSwitchGaps: SwitchGap[];
  playout: { presented: number; notDecodable: number; late: number; targetDelayMs: number; presentedLatencyMs: Summary; fps: number };
  freezes: { count: number; totalMs: number; ratio: number; pauses: number; list: Freeze[] };
  avSync?: AvSyncEstimate;
  audioConcealment: Omit<ConcealmentReport, "interruptions"> & { playoutDelayMs: number };
  mos: { audioR: number; audio: number; video: number };
  video: WireStreamStats;
  audio: WireStreamStats;
  bitrateKbps: number;
  /** RTCP round-trip time (RFC 3550 §6.4.1: A − LSR − DLSR), measured by the teacher from RRs. */
  rttMs?: Summary;
  joinMs?: number;
  joinRetries?: number;
};

export function summarizeWire(input: WireInput): WireSummary {
  const caps = input.frames.map((f) => f.captureUnixMs).filter((c): c is number => c !== undefined);
  let expected = 0;
  let first = Infinity;
  let last = -Infinity;
  for (const c of caps) {
    if (c < first) first = c;
    if (c > last) last = c;
  }
  // Frames sent from the first one this student received to the last: what it should have had.
  if (caps.length > 0) for (const c of input.sentFrameCaptureUnixMs) if (c >= first - 0.5 && c <= last + 0.5) expected++;
  const received = caps.length;

  const playout = emulatePlayout(input.frames);
  const presentedTimes = playout.presented.map((p) => p.presentMs);
  const spanMs = presentedTimes.length > 1 ? presentedTimes[presentedTimes.length - 1]! - presentedTimes[0]! : 0;
  const freezes = detectFreezes(presentedTimes, { sessionMs: input.sessionMs ?? spanMs });
  const byTs = new Map(input.frames.map((f) => [f.rtpTimestamp, f]));
  const presentedForGaps = playout.presented.map((p) => {
    const f = byTs.get(p.rtpTimestamp);
    return { rtpTimestamp: p.rtpTimestamp, completeMs: p.presentMs, captureUnixMs: p.captureUnixMs, clipId: f?.clipId, frameIndex: f?.frameIndex };
  });
  const presentedLatency = summarize(playout.presented.filter((p) => p.presentUnixMs !== undefined && p.captureUnixMs !== undefined).map((p) => p.presentUnixMs! - p.captureUnixMs!));

  const audioLatencyMs = summarize(audioLatenciesMs(input.audio));
  const playoutDelayMs = audioPlayoutDelayMs(audioLatencyMs);
  const { interruptions: _list, ...concealment } = estimateConcealment(input.audio, { playoutDelayMs });
  const latencyMs = summarize(videoLatenciesMs(input.frames));
  const bytes = input.frames.reduce((n, f) => n + f.bytes, 0);
  const bitrateKbps = spanMs > 0 ? (bytes * 8) / spanMs : 0;
  const presentedFps = spanMs > 0 ? ((playout.presented.length - 1) * 1000) / spanMs : 0;
  const e = opusEModel({ oneWayDelayMs: (Number.isFinite(audioLatencyMs.p50) ? audioLatencyMs.p50 : 0) + playoutDelayMs, lossPercent: concealment.concealmentRatio * 100 });
  const vq = g1070VideoQuality({ bitrateKbps: Math.max(1, bitrateKbps), fps: Math.max(1, presentedFps), lossPercent: input.video.lossFraction * 100 });

  return {
    framesReceived: input.frames.length,
    framesExpected: expected,
    framesReceivedRatio: expected === 0 ? 0 : Math.min(received, expected) / expected,
    framesDropped: input.framesDropped,
    latencyMs,
    audioLatencyMs,
    switchGaps: switchGaps(input.frames, input.fps),
    presentedSwitchGaps: switchGaps(presentedForGaps, input.fps),
    playout: {
      presented: playout.presented.length,
      notDecodable: playout.notDecodable,
      late: playout.late,
      targetDelayMs: playout.presented.length ? playout.presented[playout.presented.length - 1]!.targetDelayMs : NaN,
      presentedLatencyMs: presentedLatency,
      fps: presentedFps,
    },
    freezes: { count: freezes.freezeCount, totalMs: freezes.totalFreezeMs, ratio: freezes.freezeRatio, pauses: freezes.pauseCount, list: freezes.freezes },
    avSync: estimateAvSync(input.frames, input.audio, input.senderReports),
    audioConcealment: { ...concealment, playoutDelayMs },
    mos: { audioR: e.R, audio: e.mos, video: vq.vq },
    video: input.video,
    audio: input.audioStats,
    bitrateKbps,
    rttMs: summarize(input.rttSamplesMs ?? []),
    joinMs: input.joinMs,
    joinRetries: input.joinRetries,
  };
}

/** A snapshot of a student's cumulative receive counters, taken once per second by the runner. */
export type CounterSnapshot = { unixMs: number; videoExpected: number; videoReceived: number; audioExpected: number; audioReceived: number; jitterMs: number };

/** One `wire` point per student per second: frames, bitrate, latency p50/p95/max, loss and jitter. */
export function wireSamplesPerSecond(frames: readonly WireFrame[], snapshots: readonly CounterSnapshot[], tags: Tags): Point[] {
  const bins = new Map<number, { lat: number[]; bytes: number; n: number }>();
  for (const f of frames) {
    const sec = Math.floor(f.completeUnixMs / 1000);
    let b = bins.get(sec);
    if (!b) bins.set(sec, (b = { lat: [], bytes: 0, n: 0 }));
    b.n++;
    b.bytes += f.bytes;
    if (f.captureUnixMs !== undefined) b.lat.push(f.completeUnixMs - f.captureUnixMs);
  }
  const loss = new Map<number, { loss: number; jitter: number; audioLoss: number }>();
  for (let i = 1; i < snapshots.length; i++) {
    const a = snapshots[i - 1]!;
    const b = snapshots[i]!;
    const ev = b.videoExpected - a.videoExpected;
    const ea = b.audioExpected - a.audioExpected;
    // A snapshot pair [a, b) taken just after second boundaries belongs to the second a starts in.
    loss.set(Math.floor(a.unixMs / 1000), {
      loss: ev > 0 ? Math.max(0, ev - (b.videoReceived - a.videoReceived)) / ev : 0,
      audioLoss: ea > 0 ? Math.max(0, ea - (b.audioReceived - a.audioReceived)) / ea : 0,
      jitter: b.jitterMs,
    });
  }
  const points: Point[] = [];
  for (const [sec, b] of [...bins].sort((x, y) => x[0] - y[0])) {
    const s = summarize(b.lat);
    const l = loss.get(sec);
    points.push({
      measurement: "wire",
      tags,
      fields: {
        frames: b.n,
        fps: b.n,
        bitrate_kbps: (b.bytes * 8) / 1000,
        latency_p50_ms: s.p50,
        latency_p95_ms: s.p95,
        latency_max_ms: s.max,
        ...(l ? { loss_pct: l.loss * 100, audio_loss_pct: l.audioLoss * 100, jitter_ms: l.jitter } : {}),
      },
      timeUnixMs: sec * 1000,
    });
  }
  return points;
}
