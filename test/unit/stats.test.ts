import { describe, expect, it } from "vitest";
import { percentile, summarize } from "../../src/metrics/stats.js";

describe("percentile (R-7, linear between closest ranks)", () => {
  it.each([
    // sorted input, p, hand value: rank = p/100·(n−1), interpolate between floor and ceil
    [[1, 2, 3, 4], 50, 2.5], // rank 1.5
    [[15, 20, 35, 40, 50], 90, 46], // rank 3.6 → 40 + 0.6·10
    [[15, 20, 35, 40, 50], 40, 29], // rank 1.6 → 20 + 0.6·15
    [[10, 20, 30, 40, 50], 25, 20], // rank 1 exactly
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 95, 9.55], // rank 8.55
    [[1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99, 9.91], // rank 8.91
    [[7], 95, 7],
    [[3, 9], 0, 3],
    [[3, 9], 100, 9],
    [[3, 9], 10, 3.6], // rank 0.1
  ] as [number[], number, number][])("percentile(%j, %d) = %d", (sorted, p, want) => {
    expect(percentile(sorted, p)).toBeCloseTo(want, 10);
  });

  it("is NaN on empty input", () => {
    expect(percentile([], 50)).toBeNaN();
  });
});

describe("summarize", () => {
  it("sorts, ignores NaN and infinities, and computes all fields", () => {
    const s = summarize([5, NaN, 1, 4, Infinity, 2, 3, -Infinity]);
    expect(s.count).toBe(5);
    expect(s.min).toBe(1);
    expect(s.max).toBe(5);
    expect(s.mean).toBe(3);
    expect(s.p50).toBe(3);
    expect(s.p95).toBeCloseTo(4.8, 10); // rank 3.8
    expect(s.p99).toBeCloseTo(4.96, 10); // rank 3.96
  });

  it("gives count 0 and NaN elsewhere when nothing is finite", () => {
    const s = summarize([NaN, NaN]);
    expect(s.count).toBe(0);
    expect(s.mean).toBeNaN();
    expect(s.p95).toBeNaN();
  });
});
