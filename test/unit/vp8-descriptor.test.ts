import { describe, expect, it } from "vitest";
import {
  isVp8Keyframe,
  newVp8DescriptorFields,
  parseVp8Descriptor,
  readVp8Descriptor,
  writeVp8Descriptor,
} from "../../src/media/rtp/vp8-descriptor.js";

function written(d: Parameters<typeof writeVp8Descriptor>[2]): number[] {
  const buf = Buffer.alloc(8, 0xee);
  const n = writeVp8Descriptor(buf, 2, d);
  expect(buf[0]).toBe(0xee); // nothing before the offset touched
  expect(buf[2 + n]).toBe(0xee); // nothing after the descriptor touched
  return [...buf.subarray(2, 2 + n)];
}

describe("writeVp8Descriptor (RFC 7741 §4.2)", () => {
  it("S=1 PID=0 with 15-bit picture id 0x1234 → 90 80 92 34", () => {
    expect(written({ start: true, partitionId: 0, pictureId: 0x1234 })).toEqual([0x90, 0x80, 0x92, 0x34]);
  });

  it("continuation packet: S=0 → 80 80 92 34", () => {
    expect(written({ start: false, partitionId: 0, pictureId: 0x1234 })).toEqual([0x80, 0x80, 0x92, 0x34]);
  });

  it("1-byte descriptor without picture id; N and PID bits", () => {
    expect(written({ start: true, partitionId: 0 })).toEqual([0x10]);
    expect(written({ start: false, partitionId: 5, nonReference: true })).toEqual([0x25]);
    expect(written({ start: true, partitionId: 7, nonReference: true })).toEqual([0x37]);
  });

  it("picture id extremes 0 and 0x7fff", () => {
    expect(written({ start: true, partitionId: 0, pictureId: 0 })).toEqual([0x90, 0x80, 0x80, 0x00]);
    expect(written({ start: true, partitionId: 0, pictureId: 0x7fff })).toEqual([0x90, 0x80, 0xff, 0xff]);
  });

  it("rejects out-of-range fields and a short buffer", () => {
    const buf = Buffer.alloc(4);
    expect(() => writeVp8Descriptor(buf, 0, { start: true, partitionId: 0, pictureId: 0x8000 })).toThrow(/pictureId/);
    expect(() => writeVp8Descriptor(buf, 0, { start: true, partitionId: 8 })).toThrow(/partitionId/);
    expect(() => writeVp8Descriptor(buf, 1, { start: true, partitionId: 0, pictureId: 1 })).toThrow(/needs 4 bytes/);
  });
});

describe("parseVp8Descriptor", () => {
  it("round-trips what the writer writes, over the whole 15-bit range including the wrap", () => {
    const buf = Buffer.alloc(4);
    for (const pid of [0, 1, 0x7f, 0x80, 0x1234, 0x7ffe, 0x7fff, (0x7fff + 1) & 0x7fff]) {
      writeVp8Descriptor(buf, 0, { start: pid % 2 === 0, partitionId: 0, pictureId: pid });
      const d = parseVp8Descriptor(buf);
      expect(d.pictureId).toBe(pid);
      expect(d.pictureIdBits).toBe(15);
      expect(d.start).toBe(pid % 2 === 0);
      expect(d.headerLength).toBe(4);
    }
  });

  it("parses the 1-byte form", () => {
    const d = parseVp8Descriptor(Buffer.from([0x35, 0x9d]));
    expect(d).toEqual({ start: true, partitionId: 5, nonReference: true, headerLength: 1 });
  });

  it("parses a 7-bit picture id (M=0)", () => {
    const d = parseVp8Descriptor(Buffer.from([0x90, 0x80, 0x5a, 0x9d]));
    expect(d.pictureId).toBe(0x5a);
    expect(d.pictureIdBits).toBe(7);
    expect(d.headerLength).toBe(3);
  });

  it("parses I, L, T and K together (RFC 7741 §4.2 full layout)", () => {
    // X=1 S=1 PID=1 | I L T K | M=1 pid 0x0abc | TL0PICIDX 0x42 | TID=2 Y=1 KEYIDX=0x13
    const payload = Buffer.from([0x91, 0xf0, 0x8a, 0xbc, 0x42, (2 << 6) | 0x20 | 0x13, 0xaa]);
    const d = parseVp8Descriptor(payload);
    expect(d).toEqual({
      start: true,
      partitionId: 1,
      nonReference: false,
      pictureId: 0x0abc,
      pictureIdBits: 15,
      tl0PicIdx: 0x42,
      tid: 2,
      layerSync: true,
      keyIdx: 0x13,
      headerLength: 6,
    });
  });

  it("T without K gives tid only, K without T gives keyIdx only", () => {
    const t = parseVp8Descriptor(Buffer.from([0x80, 0x20, 0xc5]));
    expect(t.tid).toBe(3);
    expect(t.layerSync).toBe(false);
    expect(t.keyIdx).toBeUndefined();
    expect(t.headerLength).toBe(3);
    const k = parseVp8Descriptor(Buffer.from([0x80, 0x10, 0xc5]));
    expect(k.keyIdx).toBe(5);
    expect(k.tid).toBeUndefined();
  });

  it("L only, with no picture id", () => {
    const d = parseVp8Descriptor(Buffer.from([0x80, 0x40, 0x07]));
    expect(d.tl0PicIdx).toBe(7);
    expect(d.pictureId).toBeUndefined();
    expect(d.headerLength).toBe(3);
  });

  it.each([
    [[], /required first byte/],
    [[0x80], /extension byte/],
    [[0x90, 0x80], /PictureID/],
    [[0x90, 0x80, 0x92], /15-bit PictureID low byte/],
    [[0x90, 0xc0, 0x12], /TL0PICIDX/],
    [[0x90, 0xe0, 0x92, 0x34, 0x01], /TID\/Y\/KEYIDX/],
  ])("throws a clear error on truncated %j", (bytes, msg) => {
    expect(() => parseVp8Descriptor(Buffer.from(bytes))).toThrow(RangeError);
    expect(() => parseVp8Descriptor(Buffer.from(bytes))).toThrow(msg);
  });

  it("readVp8Descriptor resets fields left from a previous packet", () => {
    const f = newVp8DescriptorFields();
    readVp8Descriptor(Buffer.from([0x91, 0xf0, 0x8a, 0xbc, 0x42, 0x53]), f);
    expect(f.keyIdx).toBe(0x13);
    readVp8Descriptor(Buffer.from([0x00]), f);
    expect(f).toMatchObject({ start: false, pictureId: -1, tl0PicIdx: -1, tid: -1, keyIdx: -1, headerLength: 1 });
  });
});

describe("isVp8Keyframe", () => {
  it("reads the P bit of the frame tag", () => {
    // RFC 6386 §9.1: key frame tag starts e.g. 0x50 (P=0); an interframe 0x31 (P=1)
    expect(isVp8Keyframe(Buffer.from([0x50, 0x42, 0x00, 0x9d, 0x01, 0x2a]))).toBe(true);
    expect(isVp8Keyframe(Buffer.from([0x31, 0x08, 0x00]))).toBe(false);
    expect(isVp8Keyframe(Buffer.alloc(0))).toBe(false);
  });
});
