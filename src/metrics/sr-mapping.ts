// Sender-report mapping (RFC 3550 §6.4.1): an SR pairs an NTP wall-clock instant with the RTP
// timestamp of that same instant, so any RTP timestamp t of the stream maps to
//   unixMs(t) = ntpUnixMs + (t − rtpTimestamp) / clockRate · 1000     (wrap-aware difference)
// Receivers use this for capture time (latency) and for A/V alignment (lip-sync).

export type SrPair = { ntpUnixMs: number; rtpTimestamp: number };

export function rtpToUnixMs(sr: SrPair, rtpTimestamp: number, clockRate: number): number {
  let d = (rtpTimestamp - sr.rtpTimestamp) | 0; // signed 32-bit difference
  return sr.ntpUnixMs + (d / clockRate) * 1000;
}
