import { describe, expect, it } from "vitest";
import {
  SeqUnwrapper,
  TimestampUnwrapper,
  seqAdd,
  seqDiff,
  seqNewer,
  timestampDiff,
} from "../../src/media/rtp/seq.js";

describe("seqDiff / seqNewer", () => {
  it.each([
    [5, 3, 2],
    [3, 5, -2],
    [0, 65535, 1],
    [65535, 0, -1],
    [10, 65530, 16],
    [32767, 0, 32767],
    [32768, 0, -32768],
    [0, 32768, -32768],
    [100, 100, 0],
  ])("seqDiff(%i, %i) = %i", (a, b, d) => {
    expect(seqDiff(a, b)).toBe(d);
  });

  it("stays in [-32768, 32767] for every distance", () => {
    const bad: string[] = [];
    for (let a = 0; a < 65536; a += 257) {
      for (let b = 0; b < 65536; b += 263) {
        const d = seqDiff(a, b);
        if (d < -32768 || d > 32767 || (((b + d) % 65536) + 65536) % 65536 !== a) bad.push(`${a},${b}→${d}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it("seqNewer is wrap-aware", () => {
    expect(seqNewer(0, 65535)).toBe(true);
    expect(seqNewer(65535, 0)).toBe(false);
    expect(seqNewer(7, 7)).toBe(false);
    expect(seqNewer(1000, 999)).toBe(true);
  });

  it("seqAdd wraps both ways", () => {
    expect(seqAdd(65535, 1)).toBe(0);
    expect(seqAdd(0, -1)).toBe(65535);
    expect(seqAdd(65530, 10)).toBe(4);
  });

  it("timestampDiff is signed 32-bit", () => {
    expect(timestampDiff(10, 0xfffffff0)).toBe(26);
    expect(timestampDiff(0xfffffff0, 10)).toBe(-26);
    expect(timestampDiff(3000, 0)).toBe(3000);
  });
});

describe("SeqUnwrapper", () => {
  it("continues across 65535 → 0", () => {
    const u = new SeqUnwrapper();
    const got = [65533, 65534, 65535, 0, 1, 2].map((s) => u.unwrap(s));
    expect(got).toEqual([65533, 65534, 65535, 65536, 65537, 65538]);
  });

  it("gives reordered and duplicated packets the same extended number as in order", () => {
    const u = new SeqUnwrapper();
    const input = [65534, 0, 65535, 1, 65535, 3, 2, 0];
    expect(input.map((s) => u.unwrap(s))).toEqual([65534, 65536, 65535, 65537, 65535, 65539, 65538, 65536]);
  });

  it("handles several wraps over a long run", () => {
    const u = new SeqUnwrapper();
    let mismatches = 0;
    let last = -1;
    for (let i = 0; i < 300_000; i++) {
      last = u.unwrap((40_000 + i) & 0xffff);
      if (last !== 40_000 + i) mismatches++;
    }
    expect(mismatches).toBe(0);
    expect(last).toBe(339_999);
  });

  it("lets a packet reordered before the first one go below it", () => {
    const u = new SeqUnwrapper();
    expect(u.unwrap(2)).toBe(2);
    expect(u.unwrap(65534)).toBe(-2);
    expect(u.unwrap(3)).toBe(3);
  });
});

describe("TimestampUnwrapper", () => {
  it("continues across 2^32 − 1 → 0 and tolerates reordering", () => {
    const u = new TimestampUnwrapper();
    const base = 0xffffffff - 3000 + 1; // 2^32 - 3000
    expect(u.unwrap(base)).toBe(base);
    expect(u.unwrap(0)).toBe(2 ** 32);
    expect(u.unwrap(base + 1500)).toBe(base + 1500);
    expect(u.unwrap(3000)).toBe(2 ** 32 + 3000);
  });

  it("is monotonic over many wraps", () => {
    const u = new TimestampUnwrapper();
    const step = 0x3fffffff; // just under a quarter of the range
    let prev = -1;
    for (let i = 0; i < 40; i++) {
      const raw = (i * step) % 2 ** 32;
      const ext = u.unwrap(raw);
      expect(ext).toBe(i * step);
      expect(ext).toBeGreaterThan(prev);
      prev = ext;
    }
  });
});
