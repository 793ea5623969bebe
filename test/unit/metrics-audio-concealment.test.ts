import { describe, expect, it } from "vitest";
import { estimateConcealment, type ConcealmentPacket } from "../../src/metrics/audio-concealment.js";

/** 100 packets (2 s of 20 ms frames) from seq 1000, 40 ms network delay; `lost` and `delay` per seq offset. */
function stream(lost: (i: number) => boolean = () => false, delay: (i: number) => number = () => 40): ConcealmentPacket[] {
  const out: ConcealmentPacket[] = [];
  for (let i = 0; i < 100; i++) {
    if (i !== 0 && i !== 99 && lost(i)) continue; // keep the ends so the range is 100
    out.push({ extSeq: 1000 + i, captureUnixMs: 50_000 + i * 20, arrivalUnixMs: 50_000 + i * 20 + delay(i) });
  }
  return out;
}

describe("estimateConcealment", () => {
  it.each([
    // [name, lost(i), delay(i), lost, late, interruptions, interruption ms]
    ["clean", () => false, () => 40, 0, 0, 0, 0],
    ["every 10th lost: 10 single frames", (i: number) => i % 10 === 5, () => 40, 10, 0, 0, 0],
    ["7 in a row lost = 140 ms: not an interruption", (i: number) => i >= 20 && i < 27, () => 40, 7, 0, 0, 0],
    ["8 in a row lost = 160 ms: one interruption", (i: number) => i >= 20 && i < 28, () => 40, 8, 0, 1, 160],
    ["15 lost = 300 ms blackout", (i: number) => i >= 50 && i < 65, () => 40, 15, 0, 1, 300],
  ])("%s", (_name, lost, delay, nLost, nLate, nInt, intMs) => {
    const r = estimateConcealment(stream(lost, delay), { playoutDelayMs: 100 });
    expect(r.expectedFrames).toBe(100);
    expect(r.lostFrames).toBe(nLost);
    expect(r.lateFrames).toBe(nLate);
    expect(r.concealedFrames).toBe(nLost + nLate);
    expect(r.concealmentRatio).toBeCloseTo((nLost + nLate) / 100, 12);
    expect(r.interruptionCount).toBe(nInt);
    expect(r.totalInterruptionMs).toBe(intMs);
  });

  it("a packet later than capture + playoutDelayMs is concealed; on time exactly at the deadline", () => {
    // Frames 30..33 arrive 120 ms after capture (deadline 100): late. Frame 34 arrives at exactly 100.
    const delay = (i: number): number => (i >= 30 && i <= 33 ? 120 : i === 34 ? 100 : 40);
    const r = estimateConcealment(stream(() => false, delay), { playoutDelayMs: 100 });
    expect(r.lostFrames).toBe(0);
    expect(r.lateFrames).toBe(4);
    expect(r.concealmentRatio).toBeCloseTo(0.04, 12);
    expect(r.interruptionCount).toBe(0);
  });

  it("lost and late frames join into one run: 4 lost + 4 late = 160 ms interruption", () => {
    const lost = (i: number): boolean => i >= 40 && i < 44;
    const delay = (i: number): number => (i >= 44 && i < 48 ? 500 : 40);
    const r = estimateConcealment(stream(lost, delay), { playoutDelayMs: 100 });
    expect(r.interruptions).toEqual([{ startSeq: 1040, frames: 8, durationMs: 160 }]);
  });

  it("duplicates count once, judged by their first arrival; order does not matter", () => {
    const s = stream();
    const dup = { ...s[10]!, arrivalUnixMs: s[10]!.arrivalUnixMs + 1000 }; // a late retransmission
    const shuffled = [...s.slice(50), dup, ...s.slice(0, 50)];
    const r = estimateConcealment(shuffled, { playoutDelayMs: 100 });
    expect(r.expectedFrames).toBe(100);
    expect(r.concealedFrames).toBe(0);
  });

  it("packets without a capture time cannot be late", () => {
    const s = stream(() => false, () => 1000).map(({ captureUnixMs: _c, ...p }) => p);
    expect(estimateConcealment(s, { playoutDelayMs: 100 }).concealedFrames).toBe(0);
  });

  it("frameMs changes the interruption rounding: 10 ms frames need 15", () => {
    const lost = (i: number): boolean => i >= 20 && i < 35; // 15 frames
    const r = estimateConcealment(stream(lost), { playoutDelayMs: 1e9, frameMs: 10 });
    expect(r.interruptions).toEqual([{ startSeq: 1020, frames: 15, durationMs: 150 }]);
    const r14 = estimateConcealment(stream((i) => i >= 20 && i < 34), { playoutDelayMs: 1e9, frameMs: 10 });
    expect(r14.interruptionCount).toBe(0);
  });

  it("empty input", () => {
    expect(estimateConcealment([], { playoutDelayMs: 100 })).toMatchObject({ expectedFrames: 0, concealmentRatio: 0, interruptionCount: 0 });
  });
});
