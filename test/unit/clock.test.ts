import { describe, expect, it } from "vitest";
import { ManualClock, NTP_UNIX_OFFSET_S, ntpMiddle32, ntpToUnixMs, systemClock, unixMsToNtp } from "../../src/clock.js";

const TWO_32 = 2 ** 32;

describe("unixMsToNtp / ntpToUnixMs (RFC 3550 §4)", () => {
  it("maps the Unix epoch to NTP seconds 2208988800, fraction 0", () => {
    const ntp = unixMsToNtp(0);
    expect(ntp >> 32n).toBe(2_208_988_800n);
    expect(ntp & 0xffffffffn).toBe(0n);
    expect(NTP_UNIX_OFFSET_S).toBe(2_208_988_800);
  });

  it("maps half a second to fraction 0x80000000 and a quarter to 0x40000000", () => {
    expect(unixMsToNtp(500)).toBe((2_208_988_800n << 32n) | 0x80000000n);
    expect(unixMsToNtp(250)).toBe((2_208_988_800n << 32n) | 0x40000000n);
    expect(unixMsToNtp(1_700_000_000_750)).toBe((3_908_988_800n << 32n) | 0xc0000000n);
  });

  it("maps one fraction unit (2^-32 s) of a real instant exactly", () => {
    // 1 ms = 2^32 / 1000 = 4294967.296 units → rounds to 4294967.
    expect(unixMsToNtp(1_700_000_000_001) & 0xffffffffn).toBe(4_294_967n);
  });

  it("round-trips within 1 µs for whole, fractional and pre-1970 instants", () => {
    const samples: number[] = [0, 1, 999, 999.999, 999.9999999, 1000, -0.5, -1000.25, 86_400_000.001];
    // A deterministic spread over 2001..2036 with sub-ms parts.
    let x = 12345;
    for (let i = 0; i < 5000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      samples.push(1_000_000_000_000 + (x / 2 ** 31) * 1_000_000_000_000 + (i % 1000) / 1000);
    }
    let worst = 0;
    for (const ms of samples) {
      const back = ntpToUnixMs(unixMsToNtp(ms));
      worst = Math.max(worst, Math.abs(back - ms));
    }
    expect(worst).toBeLessThan(0.001);
  });

  it("never lets the fraction overflow into the seconds field", () => {
    const ntp = unixMsToNtp(999.99999999999);
    expect(ntp >> 32n).toBe(2_208_988_800n);
    expect(ntp & 0xffffffffn).toBe(0xffffffffn);
  });

  it("decodes an NTP value to fractional ms", () => {
    const ntp = ((2_208_988_800n + 10n) << 32n) | BigInt(TWO_32 / 8); // 10.125 s after 1970
    expect(ntpToUnixMs(ntp)).toBe(10_125);
  });
});

describe("ntpMiddle32", () => {
  it("takes bits 16..47 (LSR/DLSR units of 1/65536 s)", () => {
    expect(ntpMiddle32(0x0123456789abcdefn)).toBe(0x456789ab);
    expect(ntpMiddle32(0xffffffffffffffffn)).toBe(0xffffffff);
    // 2208988800.5 s → middle = (seconds low 16 bits) << 16 | 0x8000
    expect(ntpMiddle32(unixMsToNtp(500))).toBe(((2_208_988_800 & 0xffff) * 65536 + 0x8000) >>> 0);
  });
});

describe("clocks", () => {
  it("ManualClock advances and maps to its Unix origin", () => {
    const c = new ManualClock(5, 1_000);
    c.advance(2.5);
    expect(c.nowMs()).toBe(7.5);
    expect(c.toUnixMs(c.nowMs())).toBe(1_007.5);
    c.set(100);
    expect(c.nowMs()).toBe(100);
  });

  it("systemClock is monotonic and maps onto Date.now()", () => {
    const a = systemClock.nowMs();
    const b = systemClock.nowMs();
    expect(b).toBeGreaterThanOrEqual(a);
    expect(Math.abs(systemClock.toUnixMs(systemClock.nowMs()) - Date.now())).toBeLessThan(1000);
  });
});
