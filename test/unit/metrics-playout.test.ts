import { describe, expect, it } from "vitest";
import { emulatePlayout, type PlayoutFrame } from "../../src/metrics/playout.js";

const FRAME = 1000 / 30;
const TICKS = 3000; // 90 kHz / 30 fps

/** Frame i of a 30 fps stream: RTP ts i·3000, complete at i·33.3 + extra, PictureID i, key every `gop`. */
function frame(i: number, extraMs = 0, opts: { gop?: number; ts0?: number; pid0?: number } = {}): PlayoutFrame {
  const gop = opts.gop ?? 1000;
  return {
    rtpTimestamp: ((opts.ts0 ?? 0) + i * TICKS) >>> 0,
    completeMs: 1000 + i * FRAME + extraMs,
    completeUnixMs: 1_700_000_000_000 + i * FRAME + extraMs,
    captureUnixMs: 1_700_000_000_000 + i * FRAME - 50,
    keyframe: i % gop === 0,
    pictureId: ((opts.pid0 ?? 0) + i) & 0x7fff,
  };
}

describe("emulatePlayout", () => {
  it("constant transit: every frame presented when complete (target 0); minPlayoutMs shifts all", () => {
    const frames = Array.from({ length: 90 }, (_, i) => frame(i));
    const r = emulatePlayout(frames);
    expect(r).toMatchObject({ frames: 90, decoded: 90, notDecodable: 0, late: 0, duplicates: 0 });
    r.presented.forEach((p, i) => {
      expect(p.rtpTimestamp).toBe(i * TICKS);
      expect(p.presentMs).toBeCloseTo(1000 + i * FRAME, 6);
      expect(p.bufferMs).toBeCloseTo(0, 6);
      expect(p.targetDelayMs).toBeCloseTo(0, 6);
      expect(p.presentUnixMs).toBeCloseTo(1_700_000_000_000 + i * FRAME, 3);
    });
    const delayed = emulatePlayout(frames, { minPlayoutMs: 40 });
    delayed.presented.forEach((p, i) => {
      expect(p.presentMs).toBeCloseTo(1040 + i * FRAME, 6);
      expect(p.bufferMs).toBeCloseTo(40, 6);
    });
  });

  it("jitter is absorbed: target = mean + 2σ − min of the window, presentation evenly spaced", () => {
    // Transit alternates +0 / +20 ms. With a 2-frame window: mean 10, σ 10, min 0 → target 30 ms.
    const frames = Array.from({ length: 60 }, (_, i) => frame(i, i % 2 === 1 ? 20 : 0));
    const r = emulatePlayout(frames, { windowFrames: 2 });
    expect(r.decoded).toBe(60);
    // Frame 0 saw only itself (σ 0): presented at completion, 1000 ms.
    expect(r.presented[0]!.presentMs).toBeCloseTo(1000, 6);
    for (let i = 1; i < 60; i++) {
      const p = r.presented[i]!;
      expect(p.targetDelayMs).toBeCloseTo(30, 6);
      expect(p.presentMs).toBeCloseTo(1000 + i * FRAME + 30, 6);
      expect(p.bufferMs).toBeCloseTo(i % 2 === 1 ? 10 : 30, 6);
    }
  });

  it("a missing frame breaks the VP8 chain until the next key frame (PictureID continuity)", () => {
    const frames = Array.from({ length: 30 }, (_, i) => frame(i, 0, { gop: 10 })).filter((f) => f.pictureId !== 5);
    const r = emulatePlayout(frames);
    expect(r.frames).toBe(29);
    expect(r.notDecodable).toBe(4); // 6, 7, 8, 9
    expect(r.decoded).toBe(25);
    expect(r.presented.map((p) => p.rtpTimestamp / TICKS)).toEqual([0, 1, 2, 3, 4, ...Array.from({ length: 20 }, (_, k) => 10 + k)]);
  });

  it("uses sequence-number continuity when there is no PictureID", () => {
    // Two packets per frame: frame i has seqs 2i, 2i+1 (starting near the 16-bit wrap).
    const seq0 = 65530;
    const frames = Array.from({ length: 12 }, (_, i) => {
      const { pictureId: _p, ...f } = frame(i, 0, { gop: 8 });
      return { ...f, firstSeq: (seq0 + 2 * i) & 0xffff, lastSeq: (seq0 + 2 * i + 1) & 0xffff };
    }).filter((_, i) => i !== 3);
    const r = emulatePlayout(frames);
    expect(r.notDecodable).toBe(4); // 4, 5, 6, 7; 8 is a key frame
    expect(r.presented.map((p) => p.rtpTimestamp / TICKS)).toEqual([0, 1, 2, 8, 9, 10, 11]);
  });

  it("a stream that starts without a key frame shows nothing until one arrives", () => {
    const frames = Array.from({ length: 20 }, (_, i) => frame(i + 5, 0, { gop: 10 })); // 5..24, key at 10, 20
    const r = emulatePlayout(frames);
    expect(r.notDecodable).toBe(5);
    expect(r.presented[0]!.rtpTimestamp / TICKS).toBe(10);
  });

  it("a frame slightly late is presented on arrival and its dependants right after it", () => {
    // Frame 5 completes 50 ms late: at 1216.7 ms, after 6 (1200) and before 7 (1233.3). Window 1 frame: transit of the frame itself is
    // the base, so target stays 0 and render = completion.
    const frames = Array.from({ length: 12 }, (_, i) => frame(i, i === 5 ? 50 : 0));
    const inCompletionOrder = frames.slice().sort((a, b) => a.completeMs - b.completeMs);
    const r = emulatePlayout(inCompletionOrder, { windowFrames: 1 });
    expect(r.late).toBe(0);
    const p = new Map(r.presented.map((x) => [x.rtpTimestamp / TICKS, x.presentMs]));
    const t5 = 1000 + 5 * FRAME + 50;
    expect(p.get(5)).toBeCloseTo(t5, 6);
    expect(p.get(6)).toBeCloseTo(t5, 6); // complete at 1200, waited for 5
    expect(p.get(7)).toBeCloseTo(1000 + 7 * FRAME, 6); // back on schedule
    expect(r.presented.map((x) => x.rtpTimestamp / TICKS)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it("a frame arriving after a later key frame is ready is not presented (nor its dependants)", () => {
    // Key frames every 8. Frame 5 completes 1 s late, after key frame 8: the decoder jumps to 8.
    const frames = Array.from({ length: 16 }, (_, i) => frame(i, i === 5 ? 1000 : 0, { gop: 8 }));
    const inCompletionOrder = frames.slice().sort((a, b) => a.completeMs - b.completeMs);
    const r = emulatePlayout(inCompletionOrder);
    expect(r.late).toBe(3); // 5, 6, 7
    expect(r.notDecodable).toBe(0);
    expect(r.decoded).toBe(13);
    expect(r.presented.map((x) => x.rtpTimestamp / TICKS)).toEqual([0, 1, 2, 3, 4, 8, 9, 10, 11, 12, 13, 14, 15]);
    // Presentation times never go backwards.
    for (let i = 1; i < r.presented.length; i++) {
      expect(r.presented[i]!.presentMs).toBeGreaterThanOrEqual(r.presented[i - 1]!.presentMs);
    }
  });

  it("orders by RTP time across the 32-bit wrap and drops duplicates", () => {
    const ts0 = 2 ** 32 - 4 * TICKS; // frames 0..3 before the wrap, 4.. after
    const frames = Array.from({ length: 10 }, (_, i) => frame(i, 0, { ts0, pid0: 32760 }));
    const withDup = [...frames.slice(0, 6), { ...frames[5]!, completeMs: frames[5]!.completeMs + 1 }, ...frames.slice(6)];
    const r = emulatePlayout(withDup);
    expect(r.duplicates).toBe(1);
    expect(r.decoded).toBe(10); // PictureID also wraps (32767 → 0) without breaking the chain
    expect(r.presented.map((p) => p.rtpTimestamp)).toEqual(frames.map((f) => f.rtpTimestamp));
  });

  it("is fast enough for an hour of video (108 000 frames)", () => {
    const frames = Array.from({ length: 108_000 }, (_, i) => frame(i, (i * 7919) % 13, { gop: 300 }));
    const t0 = performance.now();
    const r = emulatePlayout(frames);
    const ms = performance.now() - t0;
    expect(r.decoded).toBe(108_000);
    expect(ms).toBeLessThan(5000); // ~0.1–0.5 s here; an O(n²) slip would take minutes
  });
});
