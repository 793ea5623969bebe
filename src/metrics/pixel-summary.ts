// Per-student pixel-tier summary and per-second samples, from what a browser student's page
// recorded (src/web/pixel-observations.ts; times already on the Node clock, corrected by the
// driver) and the teacher's sent frames. The one place the pixel tier's metric families meet; each
// family's formula lives in its own file (freezes.ts, switch-gap.ts, mos-*.ts, stats.ts).
//
//   e2e latency          = presentedUnixMs − captureUnixMs of the same sent frame, joined on
//                          rtpTimestamp, else on clipId+frameIndex (latest send not after the
//                          presentation); `captureTimeLatencyMs` = presented − the browser's own
//                          captureTime estimate (RTCP-derived), as a cross-check.
//   freezes              = W3C rule (freezes.ts) over presentation times; Chromium's own
//                          freezeCount / totalFreezesDuration (last getStats) beside it.
//   switch gaps          = switch-gap.ts over presented frames (completeMs = presentation time).
//   lip-sync per marker  = video clock at the flash − audio marker played time − bias
//                          (positive = audio leads, DESIGN.md). Flash onset: first presented frame
//                          of a flash run (flashLuma > 128 after a frame ≤ 128; without a luma, the
//                          frame code's frameIndex % fps < FLASH_FRAMES). Video clock at the flash:
//                          median over the ±10 presented frames around it of (presentation − RTP
//                          time since the flash's first frame), so one frame's display quantum
//                          (16.7 ms) does not count as A/V offset; the onset frame's own reading is
//                          kept as presentedOffsetMs. Each onset pairs with the nearest marker
//                          within ±500 ms. bias = PIXEL_LIPSYNC_BIAS_MS (see there).
//   playout lip-sync     = audio − video estimatedPlayoutTimestamp per getStats snapshot (same sign).
//   network / audio      = cumulative inbound-rtp counters of the last snapshot (since the stream
//                          began): loss = lost / (received + lost); concealment = concealedSamples
//                          / totalSamplesReceived; bitrate = Δbytes·8 / Δt between first and last
//                          snapshot; jitter = mean of the snapshots' RFC 3550 jitter.
//   MOS                  = as the wire tier: E-model (mos-audio.ts) with one-way delay = video
//                          latency p50 − lip-sync p50 (when audio leads it is heard earlier) and
//                          loss = concealment; G.1070 (mos-video.ts) on bitrate, presented fps, loss.
// Units: ms, ratios 0..1, kbit/s.
import { summarize, type Summary } from "./stats.js";
import { detectFreezes, type Freeze } from "./freezes.js";
import { switchGaps, type SwitchGap } from "./switch-gap.js";
import { opusEModel } from "./mos-audio.js";
import { g1070VideoQuality } from "./mos-video.js";
import { FLASH_FRAMES } from "../media/clip-pattern.js";
import type { InboundRtpStats, PageObservations, PresentedFrame, StatsSnapshot } from "../web/pixel-observations.js";
import type { Point, Tags } from "./sample.js";

/**
 * The detectors' own lip-sync bias (ms), subtracted from every raw reading (DESIGN.md: measured by
 * running the same detectors on the source). 0: the frame code names the flash frame and the
 * matched filter finds a source soundtrack's bursts at their first sample (marker-detector test).
 * What Chromium adds on top (a clean clip reads −50…+47 ms through the teacher, as its own A/V sync
 * moves; its estimatedPlayoutTimestamp difference moves with it) is the browser's A/V, not detector
 * bias: docs/pixel-probe.md.
 */
export const PIXEL_LIPSYNC_BIAS_MS = 0;
/** A flash and a marker further apart than this are not the same sync marker. */
export const LIPSYNC_PAIR_WINDOW_MS = 500;
const FLASH_ON_LUMA = 128;

export type SentFrame = { captureUnixMs: number; clipId: number; frameIndex: number; rtpTimestamp: number };

export type PixelInput = {
  /** Every drain of the page, concatenated (mergeObservations). */
  observations: PageObservations;
  /** What the teacher sent on this student's program (RunResult.sentFrames). */
  sentFrames: readonly SentFrame[];
  fps: number;
  /** Default PIXEL_LIPSYNC_BIAS_MS. */
  lipSyncBiasMs?: number;
  /** Session span for the freeze ratio (ms); default first → last presented frame. */
  sessionMs?: number;
};

export type LipSyncPair = {
  /** The video clock at the flash's first frame (see lipSyncPairs). */
  flashUnixMs: number;
  markerUnixMs: number;
  /** flash − marker − bias (positive = audio leads). */
  offsetMs: number;
  /** The onset frame's own presentation − marker − bias. */
  presentedOffsetMs?: number;
  /** Chromium's own reading at that moment: audio − video estimatedPlayoutTimestamp of the nearest getStats snapshot (≤ 1 s away). */
  playoutOffsetMs?: number;
  clipId?: number;
  frameIndex?: number;
  score: number;
};

export type PixelStreamStats = {
  packetsReceived: number;
  packetsLost: number;
  lossFraction: number;
  jitterMs: number;
  bitrateKbps: number;
  nackCount?: number;
  pliCount?: number;
};

export type PixelSummary = {
  framesPresented: number;
  /** Presented frames whose frame code was read. */
  framesCoded: number;
  codeReadRatio: number;
  /** Presented frames joined to a sent frame (the latency sample count). */
  framesJoined: number;
  latencyMs: Summary;
  captureTimeLatencyMs: Summary;
  /** Frame received (last packet) → presented. */
  receiveToPresentMs: Summary;
  /** Capture → frame received (its last packet, repairs included; rVFC receiveTime): the network part, comparable to the wire tier's latency. */
  networkLatencyMs: Summary;
  fps: number;
  freezes: { count: number; totalMs: number; ratio: number; pauses: number; list: Freeze[] };
  /** Chromium's own counters (last snapshot). */
  statsFreezes?: { count: number; totalMs: number };
  switchGaps: SwitchGap[];
  lipSync: { pairs: LipSyncPair[]; offsetMs: Summary; biasMs: number; flashes: number; markers: number };
  /** audio − video estimatedPlayoutTimestamp per snapshot. */
  playoutLipSyncMs: Summary;
  video?: PixelStreamStats & { framesDecoded?: number; framesDropped?: number; jitterBufferMs?: number };
  audio?: PixelStreamStats & {
    concealmentRatio: number;
    concealmentEvents?: number;
    interruptionCount?: number;
    totalInterruptionMs?: number;
    jitterBufferMs?: number;
    /** The output device's own playout delay (media-playout), after the hand-off lip-sync is read at. */
    outputDelayMs?: number;
  };
  /** candidate-pair currentRoundTripTime. */
  rttMs: Summary;
  /** What the page sent (a voice answer), as the teacher's receiver reports saw it (last snapshot with a sender). */
  uplink?: { kind: string; packetsSent: number; packetsLost?: number; lossFraction?: number; jitterMs?: number; rttMs?: number };
  mos: { audioR: number; audio: number; video: number };
  /** The probe's per-frame cost. */
  readMs: Summary;
  errors: string[];
};

/** Concatenate drains (each drain holds only what came since the previous one). */
export function mergeObservations(drains: readonly PageObservations[]): PageObservations {
  return {
    frames: drains.flatMap((d) => d.frames),
    markers: drains.flatMap((d) => d.markers),
    stats: drains.flatMap((d) => d.stats),
    errors: drains.flatMap((d) => d.errors),
  };
}

/**
 * Capture times of sent frames, by RTP timestamp and by frame code. Append-only: `update` indexes
 * only what was added to the sent list since the last call, so a run can keep one per student and
 * join presented frames every second without re-reading the whole lesson.
 */
export class SentFrameIndex {
  private readonly byTs = new Map<number, number[]>();
  private readonly byCode = new Map<string, number[]>();
  private indexed = 0;

  update(sent: readonly SentFrame[]): this {
    for (; this.indexed < sent.length; this.indexed++) {
      const s = sent[this.indexed]!;
      add(this.byTs, s.rtpTimestamp >>> 0, s.captureUnixMs);
      add(this.byCode, `${s.clipId}:${s.frameIndex}`, s.captureUnixMs);
    }
    return this;
  }

  /** Capture time of the frame a presented frame shows, or undefined when it cannot be joined. */
  captureOf(f: PresentedFrame): number | undefined {
    if (f.rtpTimestamp !== undefined) {
      const c = pick(this.byTs.get(f.rtpTimestamp >>> 0), f.presentedUnixMs);
      if (c !== undefined) return c;
    }
    if (f.clipId !== undefined && f.frameIndex !== undefined) return pick(this.byCode.get(`${f.clipId}:${f.frameIndex}`), f.presentedUnixMs);
    return undefined;
  }
}

/** Keep each list in capture order (sent lists arrive in order; a test may not). */
function add<K>(m: Map<K, number[]>, k: K, v: number): void {
  const l = m.get(k);
  if (!l) return void m.set(k, [v]);
  l.push(v);
  if (l.length > 1 && l[l.length - 2]! > v) l.sort((a, b) => a - b);
}

/** A key can repeat (a clip played twice, an RTP wrap): the latest send not after the presentation. */
function pick(l: number[] | undefined, at: number): number | undefined {
  if (!l) return undefined;
  let best: number | undefined;
  for (const c of l) if (c <= at) best = c;
  return best ?? l[0];
}

/** Capture time of the frame a presented frame shows, or undefined when it cannot be joined. */
export function sentFrameJoiner(sent: readonly SentFrame[] | SentFrameIndex): (f: PresentedFrame) => number | undefined {
  const index = sent instanceof SentFrameIndex ? sent : new SentFrameIndex().update(sent);
  return (f) => index.captureOf(f);
}

function isFlash(f: PresentedFrame, fps: number): boolean | undefined {
  if (f.flashLuma !== undefined) return f.flashLuma > FLASH_ON_LUMA;
  if (f.frameIndex !== undefined) return f.frameIndex % fps < FLASH_FRAMES;
  return undefined;
}

/** First presented frame of every flash run (frames in presentation order). */
export function flashOnsets(frames: readonly PresentedFrame[], fps: number): PresentedFrame[] {
  return flashOnsetIndexes(frames, fps).map((i) => frames[i]!);
}

function flashOnsetIndexes(frames: readonly PresentedFrame[], fps: number): number[] {
  const out: number[] = [];
  let prev: boolean | undefined;
  frames.forEach((f, i) => {
    const on = isFlash(f, fps);
    if (on === undefined) return;
    if (on && prev === false) out.push(i);
    prev = on;
  });
  return out;
}

/** Presented frames on either side of a flash onset whose timing estimates the video clock there. */
export const LIPSYNC_VIDEO_WINDOW_FRAMES = 10;

/**
 * When the video stream presents the flash's first frame, on its own clock: the median over the
 * presented frames within ±LIPSYNC_VIDEO_WINDOW_FRAMES of the onset of (presentation − RTP time
 * since the flash's first frame). One frame's presentation jitters by a display quantum (16.7 ms at
 * 60 Hz) and by renderer scheduling; the stream's delay around it does not. When the code shows the
 * first flash frame was not presented (frameIndex % fps > 0), its RTP time is taken one frame
 * interval per missing frame earlier. Without RTP timestamps: the onset frame's own presentation.
 */
function videoClockAtFlash(frames: readonly PresentedFrame[], i: number, fps: number): number {
  const f = frames[i]!;
  if (f.rtpTimestamp === undefined) return f.presentedUnixMs;
  const lateFrames = f.frameIndex !== undefined ? f.frameIndex % fps : 0;
  const flashRtp = f.rtpTimestamp - (lateFrames * 90000) / fps;
  const est: number[] = [];
  for (let k = Math.max(0, i - LIPSYNC_VIDEO_WINDOW_FRAMES); k <= Math.min(frames.length - 1, i + LIPSYNC_VIDEO_WINDOW_FRAMES); k++) {
    const g = frames[k]!;
    if (g.rtpTimestamp === undefined) continue;
    // Signed 32-bit RTP difference (wrap-aware), 90 kHz → ms.
    est.push(g.presentedUnixMs - ((g.rtpTimestamp - flashRtp) | 0) / 90);
  }
  return summarize(est).p50;
}

/**
 * Pair each flash onset with the nearest audio marker within ±LIPSYNC_PAIR_WINDOW_MS. `offsetMs`
 * uses the video clock at the flash (videoClockAtFlash); `presentedOffsetMs` the onset frame's own
 * presentation, as one frame was shown.
 */
export function lipSyncPairs(
  frames: readonly PresentedFrame[],
  markers: PageObservations["markers"],
  fps: number,
  biasMs = PIXEL_LIPSYNC_BIAS_MS,
): { pairs: LipSyncPair[]; flashes: number } {
  const ordered = [...frames].sort((a, b) => a.presentedUnixMs - b.presentedUnixMs);
  const onsets = flashOnsetIndexes(ordered, fps);
  const ms = [...markers].sort((a, b) => a.playedUnixMs - b.playedUnixMs);
  const pairs: LipSyncPair[] = [];
  for (const i of onsets) {
    const f = ordered[i]!;
    const videoMs = videoClockAtFlash(ordered, i, fps);
    let best: (typeof ms)[number] | undefined;
    for (const m of ms) {
      const d = Math.abs(videoMs - m.playedUnixMs);
      if (d <= LIPSYNC_PAIR_WINDOW_MS && (!best || d < Math.abs(videoMs - best.playedUnixMs))) best = m;
    }
    if (!best) continue;
    pairs.push({
      flashUnixMs: videoMs,
      markerUnixMs: best.playedUnixMs,
      offsetMs: videoMs - best.playedUnixMs - biasMs,
      presentedOffsetMs: f.presentedUnixMs - best.playedUnixMs - biasMs,
      clipId: f.clipId,
      frameIndex: f.frameIndex,
      score: best.score,
    });
  }
  return { pairs, flashes: onsets.length };
}

/**
 * Mean jitter-buffer delay (ms) of what a stream emitted, webrtc-stats jitterBufferDelay /
 * jitterBufferEmittedCount: since the stream began (`from` omitted) or between two snapshots.
 */
function jitterBufferMs(to: InboundRtpStats | undefined, from?: InboundRtpStats): number | undefined {
  const n = (to?.jitterBufferEmittedCount ?? 0) - (from?.jitterBufferEmittedCount ?? 0);
  if (to?.jitterBufferDelay === undefined || n <= 0) return undefined;
  return ((to.jitterBufferDelay - (from?.jitterBufferDelay ?? 0)) / n) * 1000;
}

/** Chromium's own A/V reading in a snapshot: audio − video estimatedPlayoutTimestamp (positive = audio leads). */
function playoutOffsetMs(s: StatsSnapshot): number | undefined {
  const a = s.audio?.estimatedPlayoutTimestamp;
  const v = s.video?.estimatedPlayoutTimestamp;
  return a !== undefined && v !== undefined ? a - v : undefined;
}

/** The first snapshot at which `kind`'s packetsReceived reached its final value (the stream's last active second). */
export function lastActive(stats: readonly StatsSnapshot[], kind: "video" | "audio"): StatsSnapshot | undefined {
  let i = stats.length - 1;
  while (i > 0 && stats[i - 1]![kind] !== undefined && stats[i - 1]![kind]!.packetsReceived === stats[i]![kind]?.packetsReceived) i--;
  return stats[i];
}

function streamStats(first: StatsSnapshot, last: StatsSnapshot, kind: "video" | "audio", all: readonly StatsSnapshot[]): PixelStreamStats | undefined {
  const b = last[kind];
  if (!b) return undefined;
  // Bitrate over the stream's own span: from the first snapshot that lists it (it appears with its
  // first packet) to its last active one (not diluted by the idle tail after the program ends).
  const from = all.find((x) => x[kind] !== undefined) ?? first;
  const to = lastActive(all, kind) ?? last;
  const a = from[kind];
  const dt = to.atUnixMs - from.atUnixMs;
  const jitters = all.map((s) => s[kind]?.jitter).filter((j): j is number => j !== undefined);
  const total = b.packetsReceived + Math.max(0, b.packetsLost);
  return {
    packetsReceived: b.packetsReceived,
    packetsLost: b.packetsLost,
    lossFraction: total > 0 ? Math.max(0, b.packetsLost) / total : 0,
    jitterMs: jitters.length ? (jitters.reduce((x, y) => x + y, 0) / jitters.length) * 1000 : NaN,
    bitrateKbps: a && to[kind] && dt > 0 ? ((to[kind]!.bytesReceived - a.bytesReceived) * 8) / dt : NaN,
    nackCount: b.nackCount,
    pliCount: b.pliCount,
  };
}

export function summarizePixel(input: PixelInput): PixelSummary {
  const { fps } = input;
  const biasMs = input.lipSyncBiasMs ?? PIXEL_LIPSYNC_BIAS_MS;
  const frames = [...input.observations.frames].sort((a, b) => a.presentedUnixMs - b.presentedUnixMs);
  const stats = [...input.observations.stats].sort((a, b) => a.atUnixMs - b.atUnixMs);
  const join = sentFrameJoiner(input.sentFrames);

  const latencies: number[] = [];
  const network: number[] = [];
  const gapFrames = [];
  for (const f of frames) {
    const cap = join(f);
    if (cap !== undefined) latencies.push(f.presentedUnixMs - cap);
    if (cap !== undefined && f.receiveUnixMs !== undefined) network.push(f.receiveUnixMs - cap);
    if (f.rtpTimestamp !== undefined && f.clipId !== undefined) {
      gapFrames.push({ rtpTimestamp: f.rtpTimestamp, completeMs: f.presentedUnixMs, captureUnixMs: cap, clipId: f.clipId, frameIndex: f.frameIndex });
    }
  }
  const present = frames.map((f) => f.presentedUnixMs);
  const spanMs = present.length > 1 ? present[present.length - 1]! - present[0]! : 0;
  const fr = detectFreezes(present, { sessionMs: input.sessionMs ?? spanMs });
  const presentedFps = spanMs > 0 ? ((present.length - 1) * 1000) / spanMs : 0;
  const coded = frames.filter((f) => f.clipId !== undefined).length;

  const { pairs, flashes } = lipSyncPairs(frames, input.observations.markers, fps, biasMs);
  const playout = stats.flatMap((s) => {
    const offsetMs = playoutOffsetMs(s);
    return offsetMs !== undefined ? [{ at: s.atUnixMs, offsetMs }] : [];
  });
  const playoutSync = playout.map((p) => p.offsetMs);
  for (const p of pairs) {
    let near: (typeof playout)[number] | undefined;
    for (const q of playout) if (Math.abs(q.at - p.flashUnixMs) <= 1000 && (!near || Math.abs(q.at - p.flashUnixMs) < Math.abs(near.at - p.flashUnixMs))) near = q;
    if (near) p.playoutOffsetMs = near.offsetMs;
  }

  const first = stats[0];
  const last = stats[stats.length - 1];
  let video: PixelSummary["video"];
  let audio: PixelSummary["audio"];
  let statsFreezes: PixelSummary["statsFreezes"];
  if (first && last) {
    const v = streamStats(first, last, "video", stats);
    const lv = last.video;
    if (v && lv) {
      video = {
        ...v,
        framesDecoded: lv.framesDecoded,
        framesDropped: lv.framesDropped,
        jitterBufferMs: jitterBufferMs(lv),
      };
      if (lv.freezeCount !== undefined) statsFreezes = { count: lv.freezeCount, totalMs: (lv.totalFreezesDuration ?? 0) * 1000 };
    }
    const a = streamStats(first, last, "audio", stats);
    // Concealment up to the snapshot where the audio stopped arriving: once the teacher's program
    // ends, Chromium conceals the silence until the page leaves, which is not a network problem.
    const la = lastActive(stats, "audio")?.audio;
    if (a && la) {
      audio = {
        ...a,
        concealmentRatio: la.totalSamplesReceived ? (la.concealedSamples ?? 0) / la.totalSamplesReceived : 0,
        concealmentEvents: la.concealmentEvents,
        interruptionCount: la.interruptionCount,
        totalInterruptionMs: la.totalInterruptionDuration !== undefined ? la.totalInterruptionDuration * 1000 : undefined,
        jitterBufferMs: jitterBufferMs(la),
        outputDelayMs: last.audioPlayout?.totalSamplesCount ? (last.audioPlayout.totalPlayoutDelay / last.audioPlayout.totalSamplesCount) * 1000 : undefined,
      };
    }
  }

  const up = [...stats].reverse().find((x) => x.uplink)?.uplink;
  const uplink: PixelSummary["uplink"] = up && {
    kind: up.kind,
    packetsSent: up.packetsSent,
    // Sent counts every packet the page sent, lost ones included (the receiver's view is sent − lost).
    ...(up.packetsLost !== undefined ? { packetsLost: up.packetsLost, lossFraction: up.packetsSent > 0 ? Math.max(0, up.packetsLost) / up.packetsSent : 0 } : {}),
    ...(up.jitter !== undefined ? { jitterMs: up.jitter * 1000 } : {}),
    ...(up.roundTripTimeMs !== undefined ? { rttMs: up.roundTripTimeMs } : {}),
  };

  const latencyMs = summarize(latencies);
  const lipSyncMs = summarize(pairs.map((p) => p.offsetMs));
  const audioDelay = Number.isFinite(latencyMs.p50) ? latencyMs.p50 - (Number.isFinite(lipSyncMs.p50) ? lipSyncMs.p50 : 0) : 0;
  const e = opusEModel({ oneWayDelayMs: Math.max(0, audioDelay), lossPercent: (audio?.concealmentRatio ?? 0) * 100 });
  const vq = g1070VideoQuality({
    bitrateKbps: Math.max(1, Number.isFinite(video?.bitrateKbps) ? video!.bitrateKbps : 1),
    fps: Math.max(1, presentedFps),
    lossPercent: (video?.lossFraction ?? 0) * 100,
  });

  return {
    framesPresented: frames.length,
    framesCoded: coded,
    codeReadRatio: frames.length ? coded / frames.length : 0,
    framesJoined: latencies.length,
    latencyMs,
    captureTimeLatencyMs: summarize(frames.filter((f) => f.captureUnixMs !== undefined).map((f) => f.presentedUnixMs - f.captureUnixMs!)),
    receiveToPresentMs: summarize(frames.filter((f) => f.receiveUnixMs !== undefined).map((f) => f.presentedUnixMs - f.receiveUnixMs!)),
    networkLatencyMs: summarize(network),
    ...(uplink ? { uplink } : {}),
    fps: presentedFps,
    freezes: { count: fr.freezeCount, totalMs: fr.totalFreezeMs, ratio: fr.freezeRatio, pauses: fr.pauseCount, list: fr.freezes },
    statsFreezes,
    switchGaps: switchGaps(gapFrames, fps),
    lipSync: { pairs, offsetMs: lipSyncMs, biasMs, flashes, markers: input.observations.markers.length },
    playoutLipSyncMs: summarize(playoutSync),
    video,
    audio,
    rttMs: summarize(stats.map((s) => s.rttMs ?? NaN)),
    mos: { audioR: e.R, audio: e.mos, video: vq.vq },
    readMs: summarize(frames.map((f) => f.readMs)),
    errors: input.observations.errors,
  };
}

/**
 * One `pixel` point per student per second (tags as the wire tier's `wire` points): presented
 * frames, latency p50/p95/max, frame codes read, lip-sync of the markers in that second, and, from
 * consecutive getStats snapshots [a, b) (binned in the second a starts in), bitrate, loss, jitter,
 * audio concealment, RTT, Chromium's video and audio jitter-buffer delay over the span and its own
 * A/V reading (audio − video estimatedPlayoutTimestamp at b).
 */
export function pixelSamplesPerSecond(observations: PageObservations, sentFrames: readonly SentFrame[] | SentFrameIndex, fps: number, tags: Tags, lipSyncBiasMs = PIXEL_LIPSYNC_BIAS_MS): Point[] {
  const join = sentFrameJoiner(sentFrames);
  const frames = [...observations.frames].sort((a, b) => a.presentedUnixMs - b.presentedUnixMs);
  type Bin = { n: number; coded: number; lat: number[]; sync: number[]; net?: Record<string, number> };
  const bins = new Map<number, Bin>();
  const bin = (sec: number): Bin => {
    let b = bins.get(sec);
    if (!b) bins.set(sec, (b = { n: 0, coded: 0, lat: [], sync: [] }));
    return b;
  };
  for (const f of frames) {
    const b = bin(Math.floor(f.presentedUnixMs / 1000));
    b.n++;
    if (f.clipId !== undefined) b.coded++;
    const cap = join(f);
    if (cap !== undefined) b.lat.push(f.presentedUnixMs - cap);
  }
  for (const p of lipSyncPairs(frames, observations.markers, fps, lipSyncBiasMs).pairs) bin(Math.floor(p.flashUnixMs / 1000)).sync.push(p.offsetMs);
  const stats = [...observations.stats].sort((a, b) => a.atUnixMs - b.atUnixMs);
  for (let i = 1; i < stats.length; i++) {
    const a = stats[i - 1]!;
    const b = stats[i]!;
    const dt = b.atUnixMs - a.atUnixMs;
    if (dt <= 0) continue;
    const net: Record<string, number> = {};
    const lossPct = (x: StatsSnapshot["video"], y: StatsSnapshot["video"]): number | undefined => {
      if (!x || !y) return undefined;
      const rx = y.packetsReceived - x.packetsReceived;
      const lx = Math.max(0, y.packetsLost - x.packetsLost);
      return rx + lx > 0 ? (lx / (rx + lx)) * 100 : 0;
    };
    if (a.video && b.video) net.bitrate_kbps = ((b.video.bytesReceived - a.video.bytesReceived) * 8) / dt;
    const vl = lossPct(a.video, b.video);
    if (vl !== undefined) net.loss_pct = vl;
    const al = lossPct(a.audio, b.audio);
    if (al !== undefined) net.audio_loss_pct = al;
    if (b.video?.jitter !== undefined) net.jitter_ms = b.video.jitter * 1000;
    const dTotal = (b.audio?.totalSamplesReceived ?? 0) - (a.audio?.totalSamplesReceived ?? 0);
    if (dTotal > 0) net.concealment_pct = (((b.audio?.concealedSamples ?? 0) - (a.audio?.concealedSamples ?? 0)) / dTotal) * 100;
    if (b.rttMs !== undefined) net.rtt_ms = b.rttMs;
    // Chromium's jitter buffers over the second (Δ delay / Δ emitted, webrtc-stats) and its own A/V reading.
    const vjb = jitterBufferMs(b.video, a.video);
    if (vjb !== undefined) net.jitter_buffer_ms = vjb;
    const ajb = jitterBufferMs(b.audio, a.audio);
    if (ajb !== undefined) net.audio_jitter_buffer_ms = ajb;
    const playoutMs = playoutOffsetMs(b);
    if (playoutMs !== undefined) net.playout_lipsync_ms = playoutMs;
    bin(Math.floor(a.atUnixMs / 1000)).net = net;
  }
  const points: Point[] = [];
  for (const [sec, b] of [...bins].sort((x, y) => x[0] - y[0])) {
    const s = summarize(b.lat);
    const fields: Point["fields"] = { ...(b.net ?? {}) };
    if (b.n > 0) {
      fields.frames = b.n;
      fields.fps = b.n;
      fields.codes_read = b.coded;
    }
    if (s.count > 0) {
      fields.latency_p50_ms = s.p50;
      fields.latency_p95_ms = s.p95;
      fields.latency_max_ms = s.max;
    }
    if (b.sync.length) fields.lipsync_ms = summarize(b.sync).p50;
    if (Object.keys(fields).length === 0) continue;
    points.push({ measurement: "pixel", tags, fields, timeUnixMs: sec * 1000 });
  }
  return points;
}
