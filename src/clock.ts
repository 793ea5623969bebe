// One clock for the whole harness. Measurement code reads time only through a `Clock`, so tests can
// inject a fake one and everything in one process shares the same monotonic origin.
//
// `nowMs()` is monotonic (performance.now()). Wall-clock (Unix/NTP) values are derived from it by
// adding `performance.timeOrigin`, so they never jump with NTP slews during a run: the streamer's
// capture times, its RTCP sender reports and the students' arrival stamps all map to one time line.

export interface Clock {
  /** Monotonic milliseconds (fractional). */
  nowMs(): number;
  /** Unix-epoch milliseconds corresponding to a monotonic reading. */
  toUnixMs(monoMs: number): number;
}

export const systemClock: Clock = {
  nowMs: () => performance.now(),
  toUnixMs: (monoMs) => performance.timeOrigin + monoMs,
};

/** A manually driven clock for tests. */
export class ManualClock implements Clock {
  constructor(private t = 0, private readonly originUnixMs = 1_700_000_000_000) {}
  nowMs(): number {
    return this.t;
  }
  toUnixMs(monoMs: number): number {
    return this.originUnixMs + monoMs;
  }
  advance(ms: number): void {
    this.t += ms;
  }
  set(ms: number): void {
    this.t = ms;
  }
}

/** Seconds between the NTP epoch (1900) and the Unix epoch (1970). */
export const NTP_UNIX_OFFSET_S = 2_208_988_800;

/** Unix ms → 64-bit NTP timestamp (UQ32.32 seconds since 1900), RFC 3550 §4. */
export function unixMsToNtp(unixMs: number): bigint {
  const seconds = Math.floor(unixMs / 1000);
  const fracMs = unixMs - seconds * 1000;
  const frac = Math.min(0xffffffff, Math.round((fracMs / 1000) * 2 ** 32));
  return (BigInt(seconds + NTP_UNIX_OFFSET_S) << 32n) | BigInt(frac);
}

/** 64-bit NTP timestamp → Unix ms. */
export function ntpToUnixMs(ntp: bigint): number {
  const seconds = Number(ntp >> 32n) - NTP_UNIX_OFFSET_S;
  const frac = Number(ntp & 0xffffffffn);
  return seconds * 1000 + (frac / 2 ** 32) * 1000;
}

/** The middle 32 bits of an NTP timestamp (RFC 3550 LSR / DLSR arithmetic, units of 1/65536 s). */
export function ntpMiddle32(ntp: bigint): number {
  return Number((ntp >> 16n) & 0xffffffffn);
}
