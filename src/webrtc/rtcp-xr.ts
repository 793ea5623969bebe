// RTCP Extended Reports (RFC 3611) for the teacher: receive a browser's Receiver Reference Time
// Report (RRTR, block type 4) and answer it with a DLRR block (type 5), so the browser has an RTT
// for the streams it receives. Chromium only fills requestVideoFrameCallback's `captureTime` (and
// remote-outbound-rtp roundTripTime) once it has that RTT (../shared/CHROMIUM.md); the offer must
// also list `a=rtcp-fb:<pt> rrtr`.
//
// werift 0.24 parses no XR: RtcpPacketConverter.deSerialize drops packet type 207. installXrParsing
// wraps it once so XR packets come out as `XrPacket` objects beside the ones werift knows; werift's
// router ignores a type it does not know, so only our own onRtcp subscribers see them.
import { werift } from "./werift.js";

export const XR_PACKET_TYPE = 207;
const BT_RRTR = 4;
const BT_DLRR = 5;

export type XrPacket = {
  type: typeof XR_PACKET_TYPE;
  /** SSRC of the packet's sender (the browser's receiving SSRC). */
  ssrc: number;
  /** RRTR blocks: the sender's NTP timestamp (64-bit, as two 32-bit halves). */
  rrtr: { ntpSec: number; ntpFrac: number }[];
  dlrr: { ssrc: number; lastRr: number; delaySinceLastRr: number }[];
};

/** Parse one XR packet (header included); null when it is not a well-formed XR. */
export function parseXr(buf: Buffer): XrPacket | null {
  if (buf.length < 8 || buf[1] !== XR_PACKET_TYPE || buf[0]! >> 6 !== 2) return null;
  const len = (buf.readUInt16BE(2) + 1) * 4;
  if (len > buf.length) return null;
  const out: XrPacket = { type: XR_PACKET_TYPE, ssrc: buf.readUInt32BE(4), rrtr: [], dlrr: [] };
  let pos = 8;
  while (pos + 4 <= len) {
    const bt = buf[pos]!;
    const blockLen = (buf.readUInt16BE(pos + 2) + 1) * 4; // words after the header, RFC 3611 §3
    const body = pos + 4;
    const end = body + blockLen - 4;
    if (end > len) return null;
    if (bt === BT_RRTR && end - body >= 8) out.rrtr.push({ ntpSec: buf.readUInt32BE(body), ntpFrac: buf.readUInt32BE(body + 4) });
    if (bt === BT_DLRR) {
      for (let p = body; p + 12 <= end; p += 12) out.dlrr.push({ ssrc: buf.readUInt32BE(p), lastRr: buf.readUInt32BE(p + 4), delaySinceLastRr: buf.readUInt32BE(p + 8) });
    }
    pos = end;
  }
  return out;
}

/** An XR packet with one DLRR block answering `rrtr` received `delayMs` ago (RFC 3611 §4.5). */
export function dlrrPacket(senderSsrc: number, receiverSsrc: number, rrtr: { ntpSec: number; ntpFrac: number }, delayMs: number): Buffer {
  const b = Buffer.alloc(24);
  b[0] = 0x80;
  b[1] = XR_PACKET_TYPE;
  b.writeUInt16BE(24 / 4 - 1, 2);
  b.writeUInt32BE(senderSsrc >>> 0, 4);
  b[8] = BT_DLRR;
  b.writeUInt16BE(3, 10);
  b.writeUInt32BE(receiverSsrc >>> 0, 12);
  // LRR: the middle 32 bits of the RRTR's NTP timestamp.
  b.writeUInt32BE((((rrtr.ntpSec & 0xffff) << 16) | (rrtr.ntpFrac >>> 16)) >>> 0, 16);
  b.writeUInt32BE(Math.max(0, Math.min(0xffffffff, Math.round((delayMs * 65536) / 1000))) >>> 0, 20);
  return b;
}

/** Split a compound RTCP buffer and parse its XR parts. */
export function xrPacketsIn(data: Buffer): XrPacket[] {
  const out: XrPacket[] = [];
  let pos = 0;
  while (pos + 4 <= data.length) {
    const len = (data.readUInt16BE(pos + 2) + 1) * 4;
    if (data[pos + 1] === XR_PACKET_TYPE) {
      const x = parseXr(data.subarray(pos, pos + len));
      if (x) out.push(x);
    }
    pos += len;
  }
  return out;
}

let installed = false;

/** Make werift's RTCP parser also return XR packets (idempotent). */
export function installXrParsing(): void {
  if (installed) return;
  installed = true;
  const conv = werift.RtcpPacketConverter as unknown as { deSerialize(data: Buffer): unknown[] };
  const original = conv.deSerialize.bind(conv);
  conv.deSerialize = (data: Buffer): unknown[] => {
    const packets = original(data);
    // Cheap test first: most compounds (SR/RR + SDES, NACK) hold no XR.
    if (data.includes(XR_PACKET_TYPE)) {
      try {
        packets.push(...xrPacketsIn(data));
      } catch {
        // a malformed XR is dropped like any malformed RTCP
      }
    }
    return packets;
  };
}

export function isXrPacket(p: unknown): p is XrPacket {
  return typeof p === "object" && p !== null && (p as { type?: unknown }).type === XR_PACKET_TYPE && Array.isArray((p as XrPacket).rrtr);
}
