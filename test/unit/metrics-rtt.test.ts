import { describe, expect, it } from "vitest";
import { compactNtpFromUnixMs, compactNtpToMs, rttFromCompactNtp, rttSamplesMs } from "../../src/metrics/rtt.js";

describe("rttFromCompactNtp (RFC 3550 §6.4.1)", () => {
  it.each([
    // RFC 3550 figure 2: A = 0xb710:8000 (46864.500 s), LSR = 0xb705:2000 (46853.125 s),
    // DLSR = 0x0005:4000 (5.250 s) → A − LSR − DLSR = 0x0006:2000 = 6.125 s.
    ["RFC 3550 worked example", 0xb7108000, 0xb7052000, 0x00054000, 6125],
    // Across the 16-bit seconds wrap: A = 1.0 s after it, LSR = 0.5 s before it, DLSR 0.25 s → 1.25 s.
    ["wrap of the seconds field", 0x00010000, 0xffff8000, 0x00004000, 1250],
    // No holding time: RTT is A − LSR = 0x0000:0080 = 128/65536 s.
    ["sub-ms resolution", 0x12340080, 0x12340000, 0, (128 / 65536) * 1000],
    // DLSR larger than A − LSR (a broken peer): clamped to 0.
    ["negative clamps to 0", 0x00020000, 0x00010000, 0x00020000, 0],
  ])("%s", (_name, a, lsr, dlsr, expected) => {
    expect(rttFromCompactNtp(a, lsr, dlsr)).toBeCloseTo(expected, 9);
  });

  it("gives no sample when LSR is 0 (no SR received yet)", () => {
    expect(rttFromCompactNtp(0xb7108000, 0, 0x00054000)).toBeUndefined();
  });
});

describe("compact NTP", () => {
  it("converts Unix ms: 1970-01-01 is NTP second 2208988800 = 0x83aa7e80, low 16 bits 0x7e80", () => {
    expect(compactNtpFromUnixMs(0)).toBe(0x7e800000);
    // + 1.5 s → seconds 0x7e81, fraction 0x8000.
    expect(compactNtpFromUnixMs(1500)).toBe(0x7e818000);
    expect(compactNtpToMs(0x00054000)).toBe(5250);
  });

  it("recovers a known round trip from Unix times (our SR at T, report back at T + 180 ms, held 100 ms)", () => {
    const t = 1_700_000_000_123;
    const lsr = compactNtpFromUnixMs(t);
    const dlsr = Math.round(0.1 * 65536);
    const [rtt] = rttSamplesMs([
      { arrivalUnixMs: t + 180, lsr, dlsr },
      { arrivalUnixMs: t + 300, lsr: 0, dlsr: 0 },
    ]);
    // One compact NTP unit is 1/65.536 ms; floor on each side → within 2 units.
    expect(rtt).toBeGreaterThan(80 - 2 / 65.536);
    expect(rtt).toBeLessThan(80 + 2 / 65.536);
    expect(rttSamplesMs([{ arrivalUnixMs: t + 300, lsr: 0, dlsr: 0 }])).toEqual([]);
  });
});
