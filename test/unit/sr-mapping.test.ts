import { describe, expect, it } from "vitest";
import { rtpToUnixMs } from "../../src/metrics/sr-mapping.js";

describe("rtpToUnixMs (RFC 3550 §6.4.1 SR mapping)", () => {
  const sr = { ntpUnixMs: 1_700_000_000_000, rtpTimestamp: 1_000_000 };

  it("maps forward and backward differences", () => {
    expect(rtpToUnixMs(sr, 1_000_000, 90_000)).toBe(1_700_000_000_000);
    expect(rtpToUnixMs(sr, 1_003_000, 90_000)).toBeCloseTo(1_700_000_000_033.333, 3);
    expect(rtpToUnixMs(sr, 1_000_000 + 90_000, 90_000)).toBe(1_700_000_001_000);
    expect(rtpToUnixMs(sr, 1_000_000 - 960, 48_000)).toBe(1_699_999_999_980);
    expect(rtpToUnixMs(sr, 1_000_000 - 9_000, 90_000)).toBe(1_699_999_999_900);
  });

  it("follows the timestamp across the 2^32 wrap (forward)", () => {
    const nearTop = { ntpUnixMs: 5_000, rtpTimestamp: 2 ** 32 - 1_500 };
    // 1500 units to the wrap, 1500 after it: +3000 units = +33.33 ms at 90 kHz.
    expect(rtpToUnixMs(nearTop, 1_500, 90_000)).toBeCloseTo(5_000 + 3_000 / 90, 9);
    expect(rtpToUnixMs(nearTop, 0, 48_000)).toBeCloseTo(5_000 + 1_500 / 48, 9);
  });

  it("follows the timestamp back across the wrap (a packet from before the SR)", () => {
    const justWrapped = { ntpUnixMs: 5_000, rtpTimestamp: 480 };
    expect(rtpToUnixMs(justWrapped, 2 ** 32 - 480, 48_000)).toBe(5_000 - 20);
  });

  it("takes the shorter way round for any pair within half the range", () => {
    for (const base of [0, 1, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1]) {
      for (const delta of [-(2 ** 31) + 1, -90_000, -1, 1, 90_000, 2 ** 31 - 1]) {
        const t = (base + delta) >>> 0;
        expect(rtpToUnixMs({ ntpUnixMs: 0, rtpTimestamp: base }, t, 90_000)).toBeCloseTo((delta / 90_000) * 1000, 6);
      }
    }
  });
});
