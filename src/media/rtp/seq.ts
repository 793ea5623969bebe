// Wrap-aware arithmetic for RTP's 16-bit sequence numbers and 32-bit timestamps.
//
// RTP counters wrap (seq 65535 → 0, timestamp 2^32−1 → 0), so they must never be compared with a raw
// `<`. The helpers here use serial-number arithmetic (RFC 1982, as in RFC 3550 §A.1): the signed
// distance between two values is taken modulo 2^16 (or 2^32) and folded into the half range, so a
// value up to half the range ahead counts as newer.
//
// The unwrappers turn a stream of wrapping values into monotonic ("extended") numbers, the way
// RFC 3550 §A.1 keeps a cycle count next to the 16-bit sequence number. They unwrap each value
// relative to the previous one (like libwebrtc's SeqNumUnwrapper), so reordered and duplicated
// input unwraps to the same extended value as in-order input. The first value unwraps to itself;
// a value that arrives reordered before the first one may unwrap below it (even below zero).

/** Signed distance `a − b` between two 16-bit sequence numbers, in [−32768, 32767]. */
export function seqDiff(a: number, b: number): number {
  return ((((a - b) & 0xffff) + 0x8000) & 0xffff) - 0x8000;
}

/** True when sequence number `a` comes after `b` (wrap-aware). Exactly half the range apart: false both ways. */
export function seqNewer(a: number, b: number): boolean {
  return seqDiff(a, b) > 0;
}

/** `seq + n` modulo 2^16 (n may be negative). */
export function seqAdd(seq: number, n: number): number {
  return (seq + n) & 0xffff;
}

/** Signed distance `a − b` between two 32-bit RTP timestamps, in [−2^31, 2^31 − 1]. */
export function timestampDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/** 16-bit sequence numbers → extended (monotonic, unbounded) sequence numbers. */
export class SeqUnwrapper {
  private last = 0;
  private started = false;

  /** Extended sequence number of `seq` (an integer in [0, 65535]). O(1), no allocation. */
  unwrap(seq: number): number {
    if (!this.started) {
      this.started = true;
      this.last = seq & 0xffff;
      return this.last;
    }
    this.last += seqDiff(seq, this.last & 0xffff);
    return this.last;
  }
}

/** 32-bit RTP timestamps → monotonic numbers (exact up to 2^53, i.e. ~6000 years at 48 kHz). */
export class TimestampUnwrapper {
  private last = 0;
  private started = false;

  /** Unwrapped value of `timestamp` (an integer in [0, 2^32 − 1]). O(1), no allocation. */
  unwrap(timestamp: number): number {
    if (!this.started) {
      this.started = true;
      this.last = timestamp >>> 0;
      return this.last;
    }
    // `last mod 2^32` computed without 32-bit truncation of `last` itself.
    const lastWrapped = this.last - Math.floor(this.last / 0x1_0000_0000) * 0x1_0000_0000;
    this.last += timestampDiff(timestamp >>> 0, lastWrapped);
    return this.last;
  }
}
