// Pixel-tier summary from constructed page observations whose truth is known: latency joined on
// RTP timestamp (and on the frame code when the timestamp is absent), W3C freezes, switch gaps at
// presentation, lip-sync sign and pairing, network counters, per-second `pixel` points.
import { describe, expect, it } from "vitest";
import {
  flashOnsets,
  lipSyncPairs,
  mergeObservations,
  pixelSamplesPerSecond,
  sentFrameJoiner,
  SentFrameIndex,
  summarizePixel,
  type SentFrame,
} from "../../src/metrics/pixel-summary.js";
import type { AudioMarker, PageObservations, PresentedFrame, StatsSnapshot } from "../../src/web/pixel-observations.js";

const FPS = 30;
const T0 = 1_700_000_000_000;
const TICK = 1000 / FPS;

/** Teacher frames: clip 1 for `n1` frames, then clip 2; capture every 33.3 ms, RTP 3000 ticks apart. */
function sent(n1: number, n2: number): SentFrame[] {
  const out: SentFrame[] = [];
  for (let i = 0; i < n1 + n2; i++) {
    const clipId = i < n1 ? 1 : 2;
    const frameIndex = i < n1 ? i : i - n1;
    out.push({ captureUnixMs: T0 + i * TICK, clipId, frameIndex, rtpTimestamp: (4_294_900_000 + i * 3000) >>> 0 });
  }
  return out;
}

/** Presented frames for sent frames, `latencyMs` after capture; the flash square follows the frame index. */
function presented(s: readonly SentFrame[], latencyMs: number, opts: { skip?: (i: number) => boolean; extraDelay?: (i: number) => number } = {}): PresentedFrame[] {
  const out: PresentedFrame[] = [];
  s.forEach((f, i) => {
    if (opts.skip?.(i)) return;
    out.push({
      presentedUnixMs: f.captureUnixMs + latencyMs + (opts.extraDelay?.(i) ?? 0),
      expectedDisplayUnixMs: f.captureUnixMs + latencyMs + 8,
      rtpTimestamp: f.rtpTimestamp,
      presentedFrames: i + 1,
      clipId: f.clipId,
      frameIndex: f.frameIndex,
      flashLuma: f.frameIndex % FPS < 3 ? 235 : 16,
      readMs: 0.2,
    });
  });
  return out;
}

function obs(frames: PresentedFrame[], markers: AudioMarker[] = [], stats: StatsSnapshot[] = []): PageObservations {
  return { frames, markers, stats, errors: [] };
}

describe("pixel summary", () => {
  it("joins presented frames to sent frames on the RTP timestamp (across the 32-bit wrap)", () => {
    const s = sent(90, 0);
    // The RTP timestamps wrap inside this run (4 294 900 000 + 23·3000 > 2³²).
    expect(s.some((f) => f.rtpTimestamp < s[0]!.rtpTimestamp)).toBe(true);
    const sum = summarizePixel({ observations: obs(presented(s, 42)), sentFrames: s, fps: FPS });
    expect(sum.framesJoined).toBe(90);
    expect(sum.latencyMs.p50).toBeCloseTo(42, 9);
    expect(sum.latencyMs.max).toBeCloseTo(42, 9);
  });

  it("falls back to clipId+frameIndex, taking the latest send not after the presentation when a clip repeats", () => {
    const first = sent(30, 0);
    // The same clip sent again 10 s later: same codes, new capture times.
    const again = first.map((f) => ({ ...f, captureUnixMs: f.captureUnixMs + 10_000, rtpTimestamp: f.rtpTimestamp + 900_000 }));
    const frames = presented(again, 55).map((f) => ({ ...f, rtpTimestamp: undefined }));
    const join = sentFrameJoiner([...first, ...again]);
    expect(join(frames[5]!)).toBe(again[5]!.captureUnixMs);
    const sum = summarizePixel({ observations: obs(frames), sentFrames: [...first, ...again], fps: FPS });
    expect(sum.latencyMs.p50).toBeCloseTo(55, 9);
    // A frame with neither key joins nothing.
    expect(join({ presentedUnixMs: T0, expectedDisplayUnixMs: T0, presentedFrames: 1, readMs: 0 })).toBeUndefined();
  });

  it("an index kept over a growing sent list joins frames sent after it was made, and matches a fresh join", () => {
    const all = sent(60, 30);
    const index = new SentFrameIndex().update(all.slice(0, 40));
    const late = presented(all, 25)[70]!;
    expect(index.captureOf(late)).toBeUndefined();
    index.update(all); // the run's list grew: only frames 40.. are added
    expect(index.captureOf(late)).toBe(all[70]!.captureUnixMs);
    const fresh = sentFrameJoiner(all);
    for (const f of presented(all, 25)) expect(index.captureOf(f)).toBe(fresh(f));
  });

  it("reports the browser's captureTime estimate beside the joined latency", () => {
    const s = sent(60, 0);
    const frames = presented(s, 40).map((f, i) => ({ ...f, captureUnixMs: s[i]!.captureUnixMs + 3, receiveUnixMs: f.presentedUnixMs - 12 }));
    const sum = summarizePixel({ observations: obs(frames), sentFrames: s, fps: FPS });
    expect(sum.captureTimeLatencyMs.p50).toBeCloseTo(37, 9);
    expect(sum.receiveToPresentMs.p50).toBeCloseTo(12, 9);
  });

  it("counts a W3C freeze from presentation times (one 400 ms hole in steady 30 fps)", () => {
    const s = sent(150, 0);
    // Frames 60..71 never presented: the interval 59 → 72 is 13 ticks = 433 ms ≥ 33.3 + 150.
    const frames = presented(s, 30, { skip: (i) => i >= 60 && i < 72 });
    const stats: StatsSnapshot[] = [
      { atUnixMs: T0 + 1000, video: { packetsReceived: 100, packetsLost: 0, bytesReceived: 50_000, freezeCount: 0, totalFreezesDuration: 0 } },
      { atUnixMs: T0 + 5000, video: { packetsReceived: 500, packetsLost: 0, bytesReceived: 250_000, freezeCount: 1, totalFreezesDuration: 0.43 } },
    ];
    const sum = summarizePixel({ observations: obs(frames, [], stats), sentFrames: s, fps: FPS });
    expect(sum.freezes.count).toBe(1);
    expect(sum.freezes.totalMs).toBeCloseTo(13 * TICK, 3);
    expect(sum.freezes.list[0]!.startMs).toBeCloseTo(s[59]!.captureUnixMs + 30, 3);
    expect(sum.statsFreezes).toEqual({ count: 1, totalMs: 430 });
    // No freeze in a steady stream.
    expect(summarizePixel({ observations: obs(presented(s, 30)), sentFrames: s, fps: FPS }).freezes.count).toBe(0);
  });

  it("measures the clip-switch gap at presentation (a 100 ms hole at the switch → 100 ms)", () => {
    const s = sent(60, 60);
    const frames = presented(s, 30, { extraDelay: (i) => (i >= 60 ? 100 : 0) });
    const sum = summarizePixel({ observations: obs(frames), sentFrames: s, fps: FPS });
    expect(sum.switchGaps).toHaveLength(1);
    const g = sum.switchGaps[0]!;
    expect([g.fromClip, g.toClip, g.fromFrame, g.toFrame]).toEqual([1, 2, 59, 0]);
    expect(g.gapMs).toBeCloseTo(100, 3);
    expect(g.captureGapMs).toBeCloseTo(0, 3);
  });

  it("reads a flash 60 ms before its audio marker as −60 (audio lags), and 60 ms after as +60", () => {
    const s = sent(150, 0); // flashes at frames 0, 30, 60, 90, 120
    const frames = presented(s, 30);
    const onsets = flashOnsets(frames, FPS);
    // Frame 0 follows nothing, so it is not an onset; 30, 60, 90, 120 are.
    expect(onsets.map((f) => f.frameIndex)).toEqual([30, 60, 90, 120]);
    const lag = onsets.map((f) => ({ playedUnixMs: f.presentedUnixMs + 60, score: 0.9 }));
    const r1 = summarizePixel({ observations: obs(frames, lag), sentFrames: s, fps: FPS, lipSyncBiasMs: 0 });
    expect(r1.lipSync.pairs).toHaveLength(4);
    expect(r1.lipSync.offsetMs.p50).toBeCloseTo(-60, 9);
    const lead = onsets.map((f) => ({ playedUnixMs: f.presentedUnixMs - 60, score: 0.9 }));
    expect(summarizePixel({ observations: obs(frames, lead), sentFrames: s, fps: FPS, lipSyncBiasMs: 0 }).lipSync.offsetMs.p50).toBeCloseTo(60, 9);
    // The detectors' bias is removed: a raw −60 with a −10 bias reads −50.
    expect(summarizePixel({ observations: obs(frames, lag), sentFrames: s, fps: FPS, lipSyncBiasMs: -10 }).lipSync.offsetMs.p50).toBeCloseTo(-50, 9);
  });

  it("reads the video clock at the flash, not one frame's display quantum; a missing first flash frame is placed by RTP time", () => {
    const s = sent(150, 0);
    // Frame 60 (a flash onset) shown one 60 Hz vsync late; frame 90 never shown (onset is 91).
    const frames = presented(s, 30, { extraDelay: (i) => (i === 60 ? 16.7 : 0), skip: (i) => i === 90 });
    const markers = [30, 60, 90, 120].map((i) => ({ playedUnixMs: s[i]!.captureUnixMs + 30 + 45, score: 0.9 }));
    const { pairs } = lipSyncPairs(frames, markers, FPS, 0);
    const byFrame = new Map(pairs.map((p) => [p.frameIndex, p]));
    expect([...byFrame.keys()]).toEqual([30, 60, 91, 120]);
    for (const p of pairs) expect(p.offsetMs).toBeCloseTo(-45, 3);
    expect(byFrame.get(60)!.presentedOffsetMs).toBeCloseTo(-45 + 16.7, 3);
    expect(byFrame.get(91)!.presentedOffsetMs).toBeCloseTo(-45 + TICK, 3);
  });

  it("pairs each flash with the nearest marker within ±500 ms and ignores markers further away", () => {
    const s = sent(150, 0);
    const frames = presented(s, 30);
    const on = flashOnsets(frames, FPS);
    const markers: AudioMarker[] = [
      { playedUnixMs: on[0]!.presentedUnixMs + 20, score: 0.9 }, // nearest for flash 30
      { playedUnixMs: on[0]!.presentedUnixMs + 300, score: 0.9 }, // farther
      { playedUnixMs: on[2]!.presentedUnixMs - 520, score: 0.9 }, // 520 ms before flash 90 (outside), 480 ms after flash 60 (inside)
    ];
    const { pairs, flashes } = lipSyncPairs(frames, markers, FPS, 0);
    expect(flashes).toBe(4);
    const byFrame = new Map(pairs.map((p) => [p.frameIndex, p.offsetMs]));
    expect(byFrame.get(30)).toBeCloseTo(-20, 3);
    expect(byFrame.get(60)).toBeCloseTo(-480, 3);
    expect(byFrame.has(90)).toBe(false);
    expect(byFrame.has(120)).toBe(false);
  });

  it("finds flash onsets from the frame code when the flash luma is absent, and a late first frame is the onset", () => {
    const s = sent(90, 0);
    const frames = presented(s, 30, { skip: (i) => i === 30 }).map((f) => ({ ...f, flashLuma: undefined }));
    expect(flashOnsets(frames, FPS).map((f) => f.frameIndex)).toEqual([31, 60]);
  });

  it("counts audio concealment only while audio arrives: the silence after the teacher's program ends is not concealment", () => {
    const s = sent(60, 0);
    const snap = (at: number, received: number, total: number, concealed: number): StatsSnapshot => ({
      atUnixMs: T0 + at,
      audio: { packetsReceived: received, packetsLost: 0, bytesReceived: received * 100, totalSamplesReceived: total, concealedSamples: concealed },
    });
    // 2 s of audio with 2 % concealed, then 2 s after the stream stopped: 96 000 more samples, all concealed.
    const stats = [snap(0, 50, 48_000, 0), snap(1000, 100, 96_000, 960), snap(2000, 150, 144_000, 2880), snap(3000, 150, 192_000, 50_880), snap(4000, 150, 240_000, 98_880)];
    const sum = summarizePixel({ observations: obs(presented(s, 30), [], stats), sentFrames: s, fps: FPS });
    expect(sum.audio!.concealmentRatio).toBeCloseTo(2880 / 144_000, 12);
  });

  it("takes the bitrate over the stream's own span: from the snapshot that first lists it to its last active one", () => {
    const s = sent(60, 0);
    const v = (received: number, bytes: number) => ({ packetsReceived: received, packetsLost: 0, bytesReceived: bytes });
    // Before media flows there is no inbound-rtp; after the program ends the counters stand still.
    const stats: StatsSnapshot[] = [
      { atUnixMs: T0 },
      { atUnixMs: T0 + 1000, video: v(10, 10_000) },
      { atUnixMs: T0 + 3000, video: v(70, 110_000) },
      { atUnixMs: T0 + 4000, video: v(70, 110_000) },
    ];
    const sum = summarizePixel({ observations: obs(presented(s, 30), [], stats), sentFrames: s, fps: FPS });
    expect(sum.video!.bitrateKbps).toBeCloseTo(400, 9); // 100 000 B · 8 / 2000 ms
  });

  it("takes loss, jitter, bitrate, NACK/PLI, concealment and the playout cross-check from getStats", () => {
    const s = sent(150, 0);
    const stats: StatsSnapshot[] = [
      {
        atUnixMs: T0,
        rttMs: 10,
        video: { packetsReceived: 100, packetsLost: 0, bytesReceived: 100_000, jitter: 0.004, nackCount: 0, pliCount: 0, estimatedPlayoutTimestamp: T0 - 50 },
        audio: { packetsReceived: 50, packetsLost: 0, bytesReceived: 5_000, jitter: 0.002, totalSamplesReceived: 48_000, concealedSamples: 0, estimatedPlayoutTimestamp: T0 - 70 },
      },
      {
        atUnixMs: T0 + 2000,
        rttMs: 30,
        video: { packetsReceived: 180, packetsLost: 20, bytesReceived: 350_000, jitter: 0.006, nackCount: 7, pliCount: 1, framesDecoded: 60, jitterBufferDelay: 1.2, jitterBufferEmittedCount: 60, estimatedPlayoutTimestamp: T0 + 1950 },
        audio: { packetsReceived: 90, packetsLost: 10, bytesReceived: 9_000, jitter: 0.004, totalSamplesReceived: 144_000, concealedSamples: 14_400, concealmentEvents: 3, estimatedPlayoutTimestamp: T0 + 1930 },
      },
    ];
    const sum = summarizePixel({ observations: obs(presented(s, 30), [], stats), sentFrames: s, fps: FPS });
    expect(sum.video!.lossFraction).toBeCloseTo(0.1, 12); // 20 / (180 + 20)
    expect(sum.video!.bitrateKbps).toBeCloseTo(1000, 9); // 250 000 B · 8 / 2000 ms
    expect(sum.video!.jitterMs).toBeCloseTo(5, 9);
    expect(sum.video!.nackCount).toBe(7);
    expect(sum.video!.pliCount).toBe(1);
    expect(sum.video!.jitterBufferMs).toBeCloseTo(20, 9);
    expect(sum.audio!.lossFraction).toBeCloseTo(0.1, 12);
    expect(sum.audio!.concealmentRatio).toBeCloseTo(0.1, 12);
    expect(sum.rttMs.p50).toBeCloseTo(20, 9);
    // audio − video playout: −20 ms both times (audio lags).
    expect(sum.playoutLipSyncMs.p50).toBeCloseTo(-20, 9);
    expect(sum.mos.audio).toBeGreaterThan(1);
    expect(sum.mos.video).toBeGreaterThan(1);
    // More concealment → worse audio MOS; more loss → worse video MOS.
    const worse = structuredClone(stats);
    worse[1]!.audio!.concealedSamples = 43_200;
    worse[1]!.video!.packetsLost = 60;
    const sum2 = summarizePixel({ observations: obs(presented(s, 30), [], worse), sentFrames: s, fps: FPS });
    expect(sum2.mos.audio).toBeLessThan(sum.mos.audio);
    expect(sum2.mos.video).toBeLessThan(sum.mos.video);
  });

  it("each lip-sync pair carries Chromium's own reading of the nearest snapshot (≤ 1 s); audio reports its output device delay", () => {
    const s = sent(90, 0).map((f, i) => ({ ...f, captureUnixMs: T0 + i * TICK }));
    const frames = presented(s, 40);
    const on = flashOnsets(frames, FPS);
    const markers = on.map((f) => ({ playedUnixMs: f.presentedUnixMs + 25, score: 0.9 }));
    const snap = (at: number, diff: number): StatsSnapshot => ({
      atUnixMs: at,
      video: { packetsReceived: 1, packetsLost: 0, bytesReceived: 1, estimatedPlayoutTimestamp: at - 50 },
      audio: { packetsReceived: 1, packetsLost: 0, bytesReceived: 1, estimatedPlayoutTimestamp: at - 50 + diff },
      audioPlayout: { totalPlayoutDelay: 1.5, totalSamplesCount: 50 },
    });
    // Snapshots at 0.2 s (Chromium reads −10) and 2.9 s (−40): the flash onset at 1.04 s is nearer the first, the one at 2.04 s the second.
    const stats = [snap(T0 + 200, -10), snap(T0 + 2900, -40)];
    const sum = summarizePixel({ observations: obs(frames, markers, stats), sentFrames: s, fps: FPS, lipSyncBiasMs: 0 });
    const byIndex = new Map(sum.lipSync.pairs.map((p) => [p.frameIndex, p.playoutOffsetMs]));
    expect(byIndex.get(30)).toBe(-10);
    expect(byIndex.get(60)).toBe(-40);
    expect(byIndex.size).toBe(2);
    expect(sum.audio?.outputDelayMs).toBeCloseTo(30, 9);
    expect(sum.uplink).toBeUndefined(); // the page sent nothing
    const talking = [{ ...snap(T0 + 200, -10), uplink: { kind: "audio", packetsSent: 100, packetsLost: 20, jitter: 0.002, roundTripTimeMs: 3 } }];
    // Sent counts the lost packets too: 20 of 100 lost is 20 %, not 20 / 120.
    expect(summarizePixel({ observations: obs(frames, markers, talking), sentFrames: s, fps: FPS }).uplink).toEqual({ kind: "audio", packetsSent: 100, packetsLost: 20, lossFraction: 0.2, jitterMs: 2, rttMs: 3 });
    const far = summarizePixel({ observations: obs(frames, markers, [snap(T0 + 5000, -10)]), sentFrames: s, fps: FPS, lipSyncBiasMs: 0 });
    expect(far.lipSync.pairs.every((p) => p.playoutOffsetMs === undefined)).toBe(true);
  });

  it("merges drains in order", () => {
    const s = sent(10, 0);
    const f = presented(s, 30);
    const m = mergeObservations([obs(f.slice(0, 4)), { ...obs(f.slice(4)), errors: ["x"] }]);
    expect(m.frames.map((x) => x.frameIndex)).toEqual(s.map((x) => x.frameIndex));
    expect(m.errors).toEqual(["x"]);
  });

  it("writes one `pixel` point per second with the wire tags, frames, latency, lip-sync and per-interval network deltas", () => {
    // Start on a second boundary so the bins are whole seconds.
    const s = sent(90, 0).map((f, i) => ({ ...f, captureUnixMs: T0 + i * TICK }));
    const frames = presented(s, 40);
    const on = flashOnsets(frames, FPS);
    const markers = on.map((f) => ({ playedUnixMs: f.presentedUnixMs + 25, score: 0.9 }));
    const stats: StatsSnapshot[] = [
      {
        atUnixMs: T0 + 10,
        video: { packetsReceived: 0, packetsLost: 0, bytesReceived: 0, jitter: 0.003, jitterBufferDelay: 1, jitterBufferEmittedCount: 100 },
        audio: { packetsReceived: 0, packetsLost: 0, bytesReceived: 0, totalSamplesReceived: 0, concealedSamples: 0, jitterBufferDelay: 0, jitterBufferEmittedCount: 0 },
      },
      {
        atUnixMs: T0 + 1010,
        rttMs: 4,
        // Over the second: 30 video frames held 1.5 s in all (50 ms each), 48 000 audio samples 2 400 s (50 ms each).
        video: { packetsReceived: 90, packetsLost: 10, bytesReceived: 62_500, jitter: 0.005, jitterBufferDelay: 2.5, jitterBufferEmittedCount: 130, estimatedPlayoutTimestamp: T0 + 980 },
        audio: { packetsReceived: 50, packetsLost: 0, bytesReceived: 4000, totalSamplesReceived: 48_000, concealedSamples: 4800, jitterBufferDelay: 2400, jitterBufferEmittedCount: 48_000, estimatedPlayoutTimestamp: T0 + 967 },
      },
    ];
    const tags = { run: "r", scenario: "sc", room: "a", student: "browser-1", agent: "chromium", profile: "none" };
    const points = pixelSamplesPerSecond(obs(frames, markers, stats), s, FPS, tags, 0);
    expect(points.every((p) => p.measurement === "pixel" && p.tags === tags)).toBe(true);
    const first = points.find((p) => p.timeUnixMs === T0)!;
    // Presented 40 ms after capture: frames 0..28 fall in the first second.
    expect(first.fields.frames).toBe(29);
    expect(first.fields.codes_read).toBe(29);
    expect(first.fields.latency_p50_ms).toBeCloseTo(40, 9);
    expect(first.fields.loss_pct).toBeCloseTo(10, 9);
    expect(first.fields.bitrate_kbps).toBeCloseTo(500, 9);
    expect(first.fields.concealment_pct).toBeCloseTo(10, 9);
    expect(first.fields.jitter_ms).toBeCloseTo(5, 9);
    expect(first.fields.rtt_ms).toBe(4);
    expect(first.fields.jitter_buffer_ms).toBeCloseTo(50, 9);
    expect(first.fields.audio_jitter_buffer_ms).toBeCloseTo(50, 9);
    expect(first.fields.playout_lipsync_ms).toBeCloseTo(-13, 9);
    // The flash at frame 30 lands in the second second: lip-sync −25 there.
    const second = points.find((p) => p.timeUnixMs === T0 + 1000)!;
    expect(second.fields.lipsync_ms).toBeCloseTo(-25, 9);
    expect(second.fields.loss_pct).toBeUndefined();
  });
});
