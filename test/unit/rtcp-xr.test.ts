// RTCP XR (RFC 3611) for Chromium's RTT: an RRTR block parsed out of a compound packet, and the
// DLRR block answering it carries the middle 32 bits of the RRTR's NTP time and the delay in
// 1/65536 s — the two values the receiver turns into RTT = A − LRR − DLRR.
import { describe, expect, it } from "vitest";
import { dlrrPacket, parseXr, xrPacketsIn, XR_PACKET_TYPE } from "../../src/webrtc/rtcp-xr.js";

/** An XR packet from `ssrc` with one RRTR block (block type 4, length 2). */
function rrtr(ssrc: number, ntpSec: number, ntpFrac: number): Buffer {
  const b = Buffer.alloc(20);
  b[0] = 0x80;
  b[1] = XR_PACKET_TYPE;
  b.writeUInt16BE(20 / 4 - 1, 2);
  b.writeUInt32BE(ssrc, 4);
  b[8] = 4;
  b.writeUInt16BE(2, 10);
  b.writeUInt32BE(ntpSec, 12);
  b.writeUInt32BE(ntpFrac, 16);
  return b;
}

describe("RTCP XR", () => {
  it("finds the RRTR of an XR packet inside a compound packet (after a receiver report)", () => {
    const rr = Buffer.from([0x80, 201, 0, 1, 0, 0, 0, 7]); // empty RR from SSRC 7
    const xr = xrPacketsIn(Buffer.concat([rr, rrtr(0x1234abcd, 0xe1234567, 0x89abcdef)]));
    expect(xr).toHaveLength(1);
    expect(xr[0]).toMatchObject({ type: XR_PACKET_TYPE, ssrc: 0x1234abcd, rrtr: [{ ntpSec: 0xe1234567, ntpFrac: 0x89abcdef }], dlrr: [] });
  });

  it("answers with a DLRR whose LRR is the NTP time's middle 32 bits and whose delay is in 1/65536 s", () => {
    const reply = dlrrPacket(0xaaaa0001, 0x1234abcd, { ntpSec: 0xe1234567, ntpFrac: 0x89abcdef }, 250);
    const x = parseXr(reply)!;
    expect(x.ssrc).toBe(0xaaaa0001);
    expect(x.dlrr).toEqual([{ ssrc: 0x1234abcd, lastRr: 0x456789ab, delaySinceLastRr: Math.round(0.25 * 65536) }]);
  });

  it("refuses what is not a well-formed XR", () => {
    expect(parseXr(Buffer.from([0x80, 200, 0, 1, 0, 0, 0, 1]))).toBeNull(); // an SR
    const cut = rrtr(1, 2, 3).subarray(0, 16); // declared 20 bytes, 16 present
    expect(parseXr(cut)).toBeNull();
  });
});
