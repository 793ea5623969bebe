import { describe, expect, it } from "vitest";
import {
  ABS_CAPTURE_TIME_URI,
  FRAME_FLAG_FIRST_OF_CLIP,
  FRAME_FLAG_LAST_OF_CLIP,
  FRAME_ID_URI,
  decodeAbsCaptureTime,
  decodeFrameId,
  encodeAbsCaptureTime,
  encodeFrameId,
} from "../../src/media/rtp/header-extensions.js";

const hex = (b: Buffer): string => b.toString("hex");

describe("URIs", () => {
  it("are the agreed strings", () => {
    expect(ABS_CAPTURE_TIME_URI).toBe("http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time");
    expect(FRAME_ID_URI).toBe("urn:proctor:rtp-hdrext:frame-id");
  });
});

describe("abs-capture-time", () => {
  it("encodes known NTP bytes (UQ32.32 seconds since 1900)", () => {
    // Unix epoch = NTP 2208988800 s = 0x83AA7E80
    expect(hex(encodeAbsCaptureTime(0))).toBe("83aa7e8000000000");
    // +1.5 s: seconds 0x83AA7E81, fraction 0.5 = 0x80000000
    expect(hex(encodeAbsCaptureTime(1500))).toBe("83aa7e8180000000");
    // 2023-11-14T22:13:20.250Z: 1_700_000_000 + 2_208_988_800 = 0xE8FE6F80, .25 s = 0x40000000
    expect(hex(encodeAbsCaptureTime(1_700_000_000_250))).toBe("e8fe6f8040000000");
  });

  it("encodes the estimated clock offset as signed Q32.32 seconds", () => {
    const b = encodeAbsCaptureTime(0, -1000);
    expect(b.length).toBe(16);
    expect(hex(b.subarray(8))).toBe("ffffffff00000000");
    expect(hex(encodeAbsCaptureTime(0, 250).subarray(8))).toBe("0000000040000000");
  });

  it("round-trips within 1 µs", () => {
    for (const t of [0, 1, 1_700_000_000_000, 1_700_000_000_123.456, 1_765_432_109_876.789, 2_000_000_000_000.5]) {
      const d = decodeAbsCaptureTime(encodeAbsCaptureTime(t));
      expect(Math.abs(d.captureUnixMs - t)).toBeLessThan(0.001);
      expect(d.clockOffsetMs).toBeUndefined();
    }
    for (const off of [0, 12.345678, -3.5, -86_400_000]) {
      const d = decodeAbsCaptureTime(encodeAbsCaptureTime(1_700_000_000_000, off));
      expect(Math.abs((d.clockOffsetMs ?? NaN) - off)).toBeLessThan(0.001);
    }
  });

  it("rejects bad lengths and out-of-era times", () => {
    expect(() => decodeAbsCaptureTime(Buffer.alloc(7))).toThrow(/expected 8 or 16 bytes, got 7/);
    expect(() => decodeAbsCaptureTime(Buffer.alloc(12))).toThrow(/got 12/);
    expect(() => encodeAbsCaptureTime(Number.NaN)).toThrow(/NTP era 0/);
    expect(() => encodeAbsCaptureTime(4_000_000_000_000)).toThrow(/NTP era 0/);
    expect(() => encodeAbsCaptureTime(0, Number.POSITIVE_INFINITY)).toThrow(/Q32.32/);
  });
});

describe("frame-id", () => {
  it("has a 7-byte big-endian layout", () => {
    expect(hex(encodeFrameId({ clipId: 0x0102, index: 0x03040506, flags: 0x01 }))).toBe("01020304050601");
    expect(hex(encodeFrameId({ clipId: 7, index: 0 }))).toBe("00070000000000");
  });

  it("round-trips ids, indexes and flags", () => {
    const cases = [
      { clipId: 0, index: 0, flags: 0 },
      { clipId: 65535, index: 0xffffffff, flags: 0xff },
      { clipId: 42, index: 1234, flags: FRAME_FLAG_LAST_OF_CLIP },
      { clipId: 43, index: 0, flags: FRAME_FLAG_FIRST_OF_CLIP },
      { clipId: 44, index: 1, flags: FRAME_FLAG_FIRST_OF_CLIP | FRAME_FLAG_LAST_OF_CLIP },
    ];
    for (const c of cases) {
      const d = decodeFrameId(encodeFrameId(c));
      expect(d).toEqual(c);
    }
    const last = decodeFrameId(encodeFrameId({ clipId: 1, index: 9, flags: FRAME_FLAG_LAST_OF_CLIP }));
    expect(last.flags & FRAME_FLAG_LAST_OF_CLIP).not.toBe(0);
    expect(last.flags & FRAME_FLAG_FIRST_OF_CLIP).toBe(0);
  });

  it("validates fields and lengths", () => {
    expect(() => encodeFrameId({ clipId: 65536, index: 0 })).toThrow(/clipId/);
    expect(() => encodeFrameId({ clipId: -1, index: 0 })).toThrow(/clipId/);
    expect(() => encodeFrameId({ clipId: 0, index: 2 ** 32 })).toThrow(/index/);
    expect(() => encodeFrameId({ clipId: 0, index: 1.5 })).toThrow(/index/);
    expect(() => encodeFrameId({ clipId: 0, index: 0, flags: 256 })).toThrow(/flags/);
    expect(() => decodeFrameId(Buffer.alloc(6))).toThrow(/expected 7 bytes, got 6/);
    expect(() => decodeFrameId(Buffer.alloc(8))).toThrow(/got 8/);
  });
});
