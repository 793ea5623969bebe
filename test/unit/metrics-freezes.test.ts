import { describe, expect, it } from "vitest";
import { detectFreezes, freezeThresholdMs } from "../../src/metrics/freezes.js";

const FRAME = 1000 / 30;

/** Presentation times: `n` frames at 30 fps starting at t0. */
function steady(n: number, t0 = 0): number[] {
  return Array.from({ length: n }, (_, i) => t0 + i * FRAME);
}

describe("freezeThresholdMs = max(3·avg, avg + 150)", () => {
  it.each([
    [FRAME, 183.333], // 30 fps: avg + 150 wins
    [50, 200], // 20 fps: equal
    [100, 300], // 10 fps: 3·avg wins
    [200, 600],
  ])("avg %d ms → %d ms", (avg, thr) => {
    expect(freezeThresholdMs(avg)).toBeCloseTo(thr, 3);
  });
});

describe("detectFreezes", () => {
  it("steady 30 fps: no freeze, no pause", () => {
    const r = detectFreezes(steady(300));
    expect(r.freezeCount).toBe(0);
    expect(r.pauseCount).toBe(0);
    expect(r.sessionMs).toBeCloseTo(299 * FRAME, 6);
    expect(r.freezeRatio).toBe(0);
  });

  it("a 300 ms gap at 30 fps is exactly one freeze of 300 ms", () => {
    const before = steady(60);
    const gapStart = before[before.length - 1]!;
    const after = steady(60, gapStart + 300);
    const r = detectFreezes([...before, ...after]);
    expect(r.freezeCount).toBe(1);
    expect(r.freezes[0]!.startMs).toBeCloseTo(gapStart, 9);
    expect(r.freezes[0]!.durationMs).toBeCloseTo(300, 9);
    expect(r.totalFreezeMs).toBeCloseTo(300, 9);
    // Session: 59 + 59 frame intervals + the 300 ms gap.
    const session = 118 * FRAME + 300;
    expect(r.sessionMs).toBeCloseTo(session, 6);
    expect(r.freezeRatio).toBeCloseTo(300 / session, 9);
  });

  it("the tested interval is inside its own average (libwebrtc adds the sample first)", () => {
    // After 29 steady intervals, δ is a freeze iff δ ≥ (29·33.33 + δ)/30 + 150, i.e.
    // δ ≥ (966.67/30 + 150)·30/29 = 188.506 ms — not the 183.3 ms of the history alone.
    const base = steady(30);
    const last = base[29]!;
    expect(detectFreezes([...base, last + 186]).freezeCount).toBe(0); // above 183.3, below 188.5
    expect(detectFreezes([...base, last + 188.4]).freezeCount).toBe(0);
    expect(detectFreezes([...base, last + 188.6]).freezeCount).toBe(1);
  });

  it("window is the last 30 intervals: a slow history is forgotten", () => {
    // 30 intervals of 100 ms (10 fps: threshold 300 ms), then 30 of 33.3 ms; a 250 ms gap after
    // that is judged against the fast history (avg (29·33.3 + 250)/30 = 40.56 → thr 190.56) → freeze.
    const slow = Array.from({ length: 31 }, (_, i) => i * 100);
    const fast = steady(31, 3000).slice(1);
    const t = fast[fast.length - 1]!;
    const r = detectFreezes([...slow, ...fast, t + 250]);
    expect(r.freezeCount).toBe(1);
    // The same gap straight after the slow history is not a freeze (avg ≈ 104.8, thr ≈ 314.5).
    expect(detectFreezes([...slow, 3000 + 250]).freezeCount).toBe(0);
  });

  it("honours the warm-up: no freeze can be detected before 5 intervals", () => {
    // Intervals: 33, 33, 33, 1000 → only 4 intervals, not judged.
    expect(detectFreezes([0, 33, 66, 99, 1099]).freezeCount).toBe(0);
    // Fifth interval is the first judged: 33 ×4 then 1000 (avg 226.4 → thr 679.2) → freeze.
    const r = detectFreezes([0, 33, 66, 99, 132, 1132]);
    expect(r.freezeCount).toBe(1);
    expect(r.freezes[0]).toEqual({ startMs: 132, durationMs: 1000 });
  });

  it("intervals over 5 s are pauses, not freezes, and stay out of the average", () => {
    const a = steady(40);
    const t = a[a.length - 1]!;
    const b = steady(40, t + 6000);
    const r = detectFreezes([...a, ...b]);
    expect(r.pauseCount).toBe(1);
    expect(r.totalPauseMs).toBeCloseTo(6000, 9);
    expect(r.freezeCount).toBe(0);
    // Exactly 5 s is not a pause (rule is "> 5 s") — it is a freeze.
    const c = steady(40, t + 5000);
    const r2 = detectFreezes([...a, ...c]);
    expect(r2.pauseCount).toBe(0);
    expect(r2.freezeCount).toBe(1);
  });

  it("sessionMs overrides the ratio's denominator; empty input is all zeros", () => {
    const before = steady(10);
    const r = detectFreezes([...before, before[9]! + 400], { sessionMs: 2000 });
    expect(r.freezeRatio).toBeCloseTo(400 / 2000, 12);
    const e = detectFreezes([]);
    expect(e).toMatchObject({ freezeCount: 0, pauseCount: 0, freezeRatio: 0, sessionMs: 0, framesPresented: 0 });
  });
});
