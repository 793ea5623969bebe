import { describe, expect, it } from "vitest";
import { switchGaps, type SwitchFrame } from "../../src/metrics/switch-gap.js";

const FPS = 30;
const INTERVAL = 1000 / FPS;
// Unix-ms capture times near 1.7e12 carry ~2.4e-4 ms of float resolution: compare those to 1e-3.

/** Frames of a stream sent at `ticks`, clip/frame assigned per tick, arriving `delay(tick)` after capture. */
function frames(
  tsBase: number,
  ticks: { tick: number; clipId: number; frameIndex: number }[],
  delay: (tick: number) => number = () => 50,
): SwitchFrame[] {
  return ticks.map(({ tick, clipId, frameIndex }) => ({
    rtpTimestamp: (tsBase + tick * 3000) >>> 0,
    captureUnixMs: 1_700_000_000_000 + tick * INTERVAL,
    completeMs: 10_000 + tick * INTERVAL + delay(tick),
    clipId,
    frameIndex,
  }));
}

function run(clipA: number, framesA: number, holdTicks: number, clipB: number, framesB: number) {
  const out: { tick: number; clipId: number; frameIndex: number }[] = [];
  let tick = 0;
  for (let i = 0; i < framesA; i++) out.push({ tick: tick++, clipId: clipA, frameIndex: i });
  tick += holdTicks;
  for (let i = 0; i < framesB; i++) out.push({ tick: tick++, clipId: clipB, frameIndex: i });
  return out;
}

describe("switchGaps", () => {
  it("a seamless boundary gives 0 (wire and capture)", () => {
    const gaps = switchGaps(frames(1234, run(1, 10, 0, 2, 10)), FPS);
    expect(gaps).toHaveLength(1);
    const g = gaps[0]!;
    expect(g).toMatchObject({ fromClip: 1, toClip: 2, fromFrame: 9, toFrame: 0 });
    expect(g.gapMs).toBeCloseTo(0, 9);
    expect(g.captureGapMs).toBeCloseTo(0, 3);
    expect(g.atMs).toBeCloseTo(10_000 + 10 * INTERVAL + 50, 9);
  });

  it("a switch held for 10 ticks gives 333.3 ms on both clocks", () => {
    const gaps = switchGaps(frames(0, run(1, 5, 10, 2, 5)), FPS);
    expect(gaps).toHaveLength(1);
    expect(gaps[0]!.captureGapMs).toBeCloseTo(333.333, 3);
    expect(gaps[0]!.gapMs).toBeCloseTo(333.333, 3);
  });

  it("separates a network delay from a streamer gap", () => {
    // B's first frame arrives 40 ms later than its siblings: wire gap 40, capture gap 0.
    const gaps = switchGaps(frames(0, run(1, 5, 0, 2, 5), (t) => (t === 5 ? 90 : 50)), FPS);
    expect(gaps[0]!.gapMs).toBeCloseTo(40, 9);
    expect(gaps[0]!.captureGapMs).toBeCloseTo(0, 3);
  });

  it("orders by RTP timestamp across the 2^32 wrap, not by arrival or raw value", () => {
    const base = 2 ** 32 - 3000 * 3; // ticks 0..2 before the wrap, tick 3 lands on 0
    const f = frames(base, run(7, 4, 0, 8, 4));
    expect(f[3]!.rtpTimestamp).toBe(0);
    // Shuffle the input: sorting must restore tick order.
    const shuffled = [f[5]!, f[0]!, f[7]!, f[3]!, f[1]!, f[6]!, f[2]!, f[4]!];
    const gaps = switchGaps(shuffled, FPS);
    expect(gaps).toHaveLength(1);
    expect(gaps[0]).toMatchObject({ fromClip: 7, toClip: 8, fromFrame: 3, toFrame: 0 });
    expect(gaps[0]!.gapMs).toBeCloseTo(0, 9);
  });

  it("finds every boundary, skips frames with no clip id and omits captureGap without capture times", () => {
    const f = frames(100, run(1, 3, 0, 2, 3));
    const tail = { rtpTimestamp: 100 + 6 * 3000, completeMs: 10_000 + 6 * INTERVAL + 50, clipId: 1, frameIndex: 0 };
    const noClip = { rtpTimestamp: 100 + 7 * 3000, completeMs: 0 };
    const gaps = switchGaps([...f, tail, noClip], FPS);
    expect(gaps.map((g) => [g.fromClip, g.toClip])).toEqual([
      [1, 2],
      [2, 1],
    ]);
    expect(gaps[1]!.captureGapMs).toBeUndefined();
    expect(gaps[1]!.gapMs).toBeCloseTo(0, 9);
  });

  it("a lost boundary frame widens the gap by one interval per missing frame", () => {
    const f = frames(0, run(1, 5, 0, 2, 5)).filter((x) => !(x.clipId === 2 && x.frameIndex === 0));
    const g = switchGaps(f, FPS)[0]!;
    expect(g.toFrame).toBe(1);
    expect(g.gapMs).toBeCloseTo(INTERVAL, 9);
  });
});
