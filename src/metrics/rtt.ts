// Round-trip time from RTCP report blocks, RFC 3550 §6.4.1 (the LSR/DLSR fields and figure 2).
//
//   RTT = A − LSR − DLSR                     all three in compact NTP, reported in ms (≥ 0)
//
// A    = the time the receiver report arrived at the sender of the SR, as compact NTP;
// LSR  = "last SR timestamp": the middle 32 bits of the NTP timestamp of the last SR the reporter
//        received from us (0 = no SR received yet → no sample);
// DLSR = "delay since last SR": how long the reporter held that SR before sending this report.
// Compact NTP is the middle 32 bits of a 64-bit NTP timestamp: 16 bits of seconds, 16 bits of
// fraction (unit 1/65536 s). The subtraction is done modulo 2^32 so it survives the wrap of the
// 16-bit seconds field (every 18.2 h); a result that is negative as a signed 32-bit number (DLSR
// larger than the real round trip: a broken peer) is clamped to 0. Only our own clock appears in A
// and LSR, so no clock synchronisation is needed.

/** Seconds between the NTP epoch (1900-01-01) and the Unix epoch (1970-01-01). */
import { NTP_UNIX_OFFSET_S } from "../clock.js";

export { NTP_UNIX_OFFSET_S };

/** A 32-bit compact NTP value (RFC 3550 §4: middle 32 bits of an NTP timestamp) for a Unix time in ms. */
export function compactNtpFromUnixMs(unixMs: number): number {
  const ntpSeconds = unixMs / 1000 + NTP_UNIX_OFFSET_S;
  return Math.floor(ntpSeconds * 65536) % 2 ** 32 >>> 0;
}

/** Milliseconds for a compact NTP duration (e.g. DLSR, or a difference of compact NTP times). */
export function compactNtpToMs(compact: number): number {
  return ((compact >>> 0) / 65536) * 1000;
}

/**
 * RTT in ms from one report block: A (arrival, compact NTP), LSR and DLSR (compact NTP, as in the
 * block). Returns undefined when LSR is 0 (the reporter has not received an SR yet).
 */
export function rttFromCompactNtp(arrival: number, lsr: number, dlsr: number): number | undefined {
  if (lsr >>> 0 === 0) return undefined;
  const rtt = (arrival - lsr - dlsr) | 0; // modulo 2^32, as a signed 32-bit value
  return rtt <= 0 ? 0 : compactNtpToMs(rtt);
}

export type ReportBlockTiming = {
  /** When the receiver report carrying the block arrived (Unix ms, our clock). */
  arrivalUnixMs: number;
  /** LSR field of the report block (compact NTP). */
  lsr: number;
  /** DLSR field of the report block (compact NTP, 1/65536 s). */
  dlsr: number;
};

/** RTT samples (ms) for report blocks; blocks with LSR = 0 give no sample. */
export function rttSamplesMs(blocks: readonly ReportBlockTiming[]): number[] {
  const out: number[] = [];
  for (const b of blocks) {
    const rtt = rttFromCompactNtp(compactNtpFromUnixMs(b.arrivalUnixMs), b.lsr, b.dlsr);
    if (rtt !== undefined) out.push(rtt);
  }
  return out;
}
