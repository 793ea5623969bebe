import { describe, expect, it } from "vitest";
import { ManualClock, systemClock } from "../../src/clock.js";
import { Pacer } from "../../src/streamer/pacer.js";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function busyWait(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    /* block the event loop */
  }
}

describe("Pacer (real clock)", () => {
  it("30 fps for ~3 s: exact due times, consecutive ticks, missed ticks replayed after a 200 ms stall", async () => {
    const period = 1000 / 30;
    const t0 = systemClock.nowMs() + 5;
    const fired: { tick: number; due: number; at: number }[] = [];
    const pacer = new Pacer(systemClock, period, t0, (tick, due) => {
      fired.push({ tick, due, at: systemClock.nowMs() });
    });
    pacer.start();
    await sleep(1500);
    const stallStart = systemClock.nowMs();
    busyWait(200);
    await sleep(1500);
    const stoppedAt = systemClock.nowMs();
    pacer.stop();
    const countAtStop = fired.length;
    await sleep(200);

    // stop() stops: nothing fires afterwards.
    expect(fired.length).toBe(countAtStop);

    // Consecutive from 0, no skips or repeats; due = t0 + k·period computed from k (bit-exact).
    expect(fired.map((f) => f.tick)).toEqual(fired.map((_, i) => i));
    for (const f of fired) expect(f.due).toBe(t0 + f.tick * period);

    // Count matches elapsed time: ticks due at or before the stop instant, ±1.
    const expected = Math.floor((stoppedAt - t0) / period) + 1;
    expect(Math.abs(fired.length - expected)).toBeLessThanOrEqual(1);

    // No tick fires (much) before its due time.
    for (const f of fired) expect(f.at).toBeGreaterThanOrEqual(f.due - 0.5);

    // The ticks that fell due during the stall fire late, in one burst, each with its own due time.
    const stalled = fired.filter((f) => f.due > stallStart + 5 && f.due < stallStart + 195);
    expect(stalled.length).toBeGreaterThanOrEqual(5);
    const burstAt = stalled[0]!.at;
    for (const f of stalled) {
      expect(f.at).toBeGreaterThanOrEqual(stallStart + 199);
      expect(f.at - burstAt).toBeLessThan(20);
    }
    expect(pacer.maxLatenessMs).toBeGreaterThan(150);
    expect(pacer.maxLatenessMs).toBeLessThan(400);
  });
});

describe("Pacer (manual clock)", () => {
  it("rejects a non-positive period", () => {
    const c = new ManualClock();
    expect(() => new Pacer(c, 0, 0, () => {})).toThrow(/period/);
    expect(() => new Pacer(c, NaN, 0, () => {})).toThrow(/period/);
  });

  it("starts at the first tick due at or after now and fires each once as the clock advances", async () => {
    const c = new ManualClock(95);
    const got: [number, number][] = [];
    const p = new Pacer(c, 10, 0, (k, due) => got.push([k, due]));
    expect(p.dueMs(3)).toBe(30);
    p.start();
    p.start(); // second start is a no-op
    await sleep(5);
    expect(got).toEqual([]); // tick 10 (due 100) is in the future on the manual clock
    c.set(100);
    await sleep(20);
    expect(got).toEqual([[10, 100]]);
    c.set(135); // ticks 11, 12, 13 are now due: fired at once, in order, each with its own due time
    await sleep(30);
    expect(got).toEqual([
      [10, 100],
      [11, 110],
      [12, 120],
      [13, 130],
    ]);
    expect(p.maxLatenessMs).toBe(25); // tick 11 seen at 135
    p.stop();
    c.set(200);
    await sleep(30);
    expect(got).toHaveLength(4);
  });

  it("starts at tick 0 when t0 is in the future, and on an exact boundary includes it", async () => {
    const c = new ManualClock(50);
    const got: number[] = [];
    const p = new Pacer(c, 10, 60, (k) => got.push(k));
    p.start();
    c.set(60);
    await sleep(30);
    p.stop();
    expect(got).toEqual([0]);

    const c2 = new ManualClock(40);
    const got2: number[] = [];
    const p2 = new Pacer(c2, 10, 0, (k) => got2.push(k));
    p2.start();
    await sleep(20);
    p2.stop();
    expect(got2).toEqual([4]);
  });

  it("start(firstTick) begins there even when that tick is already past", async () => {
    const c = new ManualClock(35.2);
    const got: [number, number][] = [];
    const p = new Pacer(c, 10, 0, (k, due) => got.push([k, due]));
    p.start(0);
    await sleep(20);
    p.stop();
    expect(got).toEqual([
      [0, 0],
      [1, 10],
      [2, 20],
      [3, 30],
    ]);
    expect(p.maxLatenessMs).toBeCloseTo(35.2, 9);
  });

  it("a handler that stops the pacer ends the burst", async () => {
    const c = new ManualClock(0);
    const got: number[] = [];
    const p = new Pacer(c, 10, 0, (k) => {
      got.push(k);
      if (k === 2) p.stop();
    });
    p.start();
    c.set(100);
    await sleep(30);
    expect(got).toEqual([0, 1, 2]);
  });
});
