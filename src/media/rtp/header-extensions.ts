// RTP header-extension payloads the streamer stamps and the students read (RFC 8285 carries them;
// this file only encodes/decodes the extension *data*). Shared because the two sides never import
// each other.
//
// abs-capture-time (libwebrtc, docs/native-code/rtp-hdrext/abs-capture-time):
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  absolute capture timestamp, NTP UQ32.32 (seconds since 1900)  |
//   |                                                                |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  (optional) estimated capture clock offset, signed Q32.32 s    |
//   |                                                                |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   8 bytes, or 16 with the offset. The NTP conversion is clock.ts's (RFC 3550 §4), so NTP era 0
//   only (1900 ≤ t < 2036-02-07).
//
// frame-id (proctor's own, "urn:proctor:rtp-hdrext:frame-id"), 7 bytes, big-endian:
//    0                   1                   2                   3
//    0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |            clip id (16)       |          index (32) ...       |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |     ... index              |   flags (8)   |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   index: video — frame index within the clip; audio — packet index within the clip.
//   flags: bit 0 (0x01) last frame/packet of the clip, bit 1 (0x02) first of the clip; others 0.
//   7 bytes fit a one-byte-header extension element (RFC 8285 §4.2, ≤ 16 bytes).

import { ntpToUnixMs, unixMsToNtp } from "../../clock.js";

export const ABS_CAPTURE_TIME_URI = "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time";
export const FRAME_ID_URI = "urn:proctor:rtp-hdrext:frame-id";

/** frame-id flag: this is the last video frame / audio packet of its clip (switch-gap measurement). */
export const FRAME_FLAG_LAST_OF_CLIP = 0x01;
/** frame-id flag: this is the first video frame / audio packet of its clip. */
export const FRAME_FLAG_FIRST_OF_CLIP = 0x02;

export const ABS_CAPTURE_TIME_BYTES = 8;
export const ABS_CAPTURE_TIME_WITH_OFFSET_BYTES = 16;
export const FRAME_ID_BYTES = 7;

const TWO_32 = 2 ** 32;
/** Unix ms range that fits NTP era 0 (the 32-bit seconds field). */
const NTP_ERA0_MIN_UNIX_MS = -2_208_988_800_000;
const NTP_ERA0_END_UNIX_MS = (TWO_32 - 2_208_988_800) * 1000;

export interface AbsCaptureTime {
  captureUnixMs: number;
  clockOffsetMs?: number;
}

export interface FrameId {
  /** 0..65535 */
  clipId: number;
  /** 0..2^32−1: frame index (video) or packet index (audio) within the clip. */
  index: number;
  /** 0..255, FRAME_FLAG_* bits. */
  flags: number;
}

/** abs-capture-time data: 8 bytes (capture time), or 16 with the estimated clock offset. */
export function encodeAbsCaptureTime(unixMs: number, offsetMs?: number): Buffer {
  if (!Number.isFinite(unixMs) || unixMs < NTP_ERA0_MIN_UNIX_MS || unixMs >= NTP_ERA0_END_UNIX_MS) {
    throw new RangeError(`abs-capture-time: capture time ${unixMs} ms is outside NTP era 0 (1900..2036)`);
  }
  const buf = Buffer.alloc(offsetMs === undefined ? ABS_CAPTURE_TIME_BYTES : ABS_CAPTURE_TIME_WITH_OFFSET_BYTES);
  // unixMsToNtp clamps the fraction, so the value stays below 2^64 inside era 0.
  buf.writeBigUInt64BE(unixMsToNtp(unixMs), 0);
  if (offsetMs !== undefined) {
    const q = Math.round((offsetMs / 1000) * TWO_32);
    if (!Number.isFinite(offsetMs) || Math.abs(q) >= 2 ** 63) {
      throw new RangeError(`abs-capture-time: clock offset ${offsetMs} ms does not fit signed Q32.32 seconds`);
    }
    buf.writeBigInt64BE(BigInt(q), 8);
  }
  return buf;
}

/** Decodes abs-capture-time data (8 or 16 bytes). */
export function decodeAbsCaptureTime(buf: Buffer): AbsCaptureTime {
  if (buf.length !== ABS_CAPTURE_TIME_BYTES && buf.length !== ABS_CAPTURE_TIME_WITH_OFFSET_BYTES) {
    throw new RangeError(`abs-capture-time: expected 8 or 16 bytes, got ${buf.length}`);
  }
  const out: AbsCaptureTime = { captureUnixMs: ntpToUnixMs(buf.readBigUInt64BE(0)) };
  if (buf.length === ABS_CAPTURE_TIME_WITH_OFFSET_BYTES) {
    out.clockOffsetMs = (Number(buf.readBigInt64BE(8)) / TWO_32) * 1000;
  }
  return out;
}

function checkUint(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) {
    throw new RangeError(`frame-id: ${name} must be an integer in 0..${max}, got ${v}`);
  }
}

/** frame-id data, 7 bytes (layout above). */
export function encodeFrameId(id: { clipId: number; index: number; flags?: number }): Buffer {
  const flags = id.flags ?? 0;
  checkUint("clipId", id.clipId, 0xffff);
  checkUint("index", id.index, 0xffffffff);
  checkUint("flags", flags, 0xff);
  const buf = Buffer.alloc(FRAME_ID_BYTES);
  buf.writeUInt16BE(id.clipId, 0);
  buf.writeUInt32BE(id.index, 2);
  buf.writeUInt8(flags, 6);
  return buf;
}

/** Decodes frame-id data (exactly 7 bytes). */
export function decodeFrameId(buf: Buffer): FrameId {
  if (buf.length !== FRAME_ID_BYTES) {
    throw new RangeError(`frame-id: expected ${FRAME_ID_BYTES} bytes, got ${buf.length}`);
  }
  return { clipId: buf.readUInt16BE(0), index: buf.readUInt32BE(2), flags: buf.readUInt8(6) };
}
