import { describe, expect, it } from "vitest";
import { IVF_FILE_HEADER_BYTES, IVF_FRAME_HEADER_BYTES, parseIvf, writeIvf } from "../../src/media/ivf.js";

// VP8 frame tag first byte: bit 0 = 0 keyframe / 1 interframe, bit 4 = show_frame (RFC 6386 §9.1).
const KEY = Buffer.from([0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01]);
const INTER_A = Buffer.from([0x11, 0x22, 0x33]);
const INTER_B = Buffer.from([0x31, 0x00, 0x00, 0x44, 0x55]);

function fixture(): Buffer {
  return writeIvf({
    width: 640,
    height: 360,
    timebaseDen: 30,
    timebaseNum: 1,
    frames: [
      { data: KEY, pts: 0 },
      { data: INTER_A, pts: 1 },
      { data: INTER_B, pts: 2 },
      { data: KEY, pts: 2 ** 40 }, // exercises the u64 pts
    ],
  });
}

describe("writeIvf", () => {
  it("lays out the 32-byte file header and 12-byte frame headers little-endian", () => {
    const buf = fixture();
    expect(buf.length).toBe(32 + 4 * 12 + KEY.length * 2 + INTER_A.length + INTER_B.length);
    expect(buf.toString("latin1", 0, 4)).toBe("DKIF");
    expect(buf.readUInt16LE(4)).toBe(0);
    expect(buf.readUInt16LE(6)).toBe(32);
    expect(buf.toString("latin1", 8, 12)).toBe("VP80");
    expect([...buf.subarray(12, 16)]).toEqual([0x80, 0x02, 0x68, 0x01]); // 640, 360
    expect(buf.readUInt32LE(16)).toBe(30);
    expect(buf.readUInt32LE(20)).toBe(1);
    expect(buf.readUInt32LE(24)).toBe(4);
    expect(buf.readUInt32LE(32)).toBe(KEY.length);
    expect(buf.readBigUInt64LE(36)).toBe(0n);
    expect(buf.subarray(44, 44 + KEY.length)).toEqual(KEY);
  });
});

describe("parseIvf", () => {
  it("reads back header fields, frames, pts and VP8 keyframe flags", () => {
    const ivf = parseIvf(fixture());
    expect(ivf).toMatchObject({ width: 640, height: 360, fourcc: "VP80", timebaseDen: 30, timebaseNum: 1 });
    expect(ivf.frames.map((f) => f.pts)).toEqual([0, 1, 2, 2 ** 40]);
    expect(ivf.frames.map((f) => f.keyframe)).toEqual([true, false, false, true]);
    expect(ivf.frames[1]?.data).toEqual(INTER_A);
    expect(ivf.frames[2]?.data).toEqual(INTER_B);
  });

  it("handles a file with no frames and zero-length frames", () => {
    const empty = parseIvf(writeIvf({ width: 16, height: 16, timebaseDen: 1000, timebaseNum: 1, frames: [] }));
    expect(empty.frames).toEqual([]);
    const zero = parseIvf(writeIvf({ width: 16, height: 16, timebaseDen: 30, timebaseNum: 1, frames: [{ data: Buffer.alloc(0), pts: 5 }] }));
    expect(zero.frames).toHaveLength(1);
    expect(zero.frames[0]?.keyframe).toBe(false);
  });

  it("does not interpret keyframe bits for other fourccs", () => {
    const ivf = parseIvf(writeIvf({ width: 16, height: 16, fourcc: "VP90", timebaseDen: 30, timebaseNum: 1, frames: [{ data: KEY, pts: 0 }] }));
    expect(ivf.fourcc).toBe("VP90");
    expect(ivf.frames[0]?.keyframe).toBe(false);
  });

  it("rejects a bad signature", () => {
    const buf = fixture();
    buf.write("RIFF", 0, "latin1");
    expect(() => parseIvf(buf)).toThrow(/bad signature "RIFF"/);
  });

  it("rejects truncated input at every boundary with a clear error", () => {
    const buf = fixture();
    expect(() => parseIvf(buf.subarray(0, 20))).toThrow(/truncated file header/);
    // Cut inside the second frame's 12-byte header.
    const secondHeader = IVF_FILE_HEADER_BYTES + IVF_FRAME_HEADER_BYTES + KEY.length;
    expect(() => parseIvf(buf.subarray(0, secondHeader + 5))).toThrow(/truncated header of frame 1/);
    // Cut inside the last frame's data.
    expect(() => parseIvf(buf.subarray(0, buf.length - 1))).toThrow(/truncated frame 3 .*9 of 10 bytes/);
    // A cut exactly between frames is a valid, shorter file.
    expect(parseIvf(buf.subarray(0, secondHeader)).frames).toHaveLength(1);
  });

  it("rejects a header size smaller than 32", () => {
    const buf = fixture();
    buf.writeUInt16LE(8, 6);
    expect(() => parseIvf(buf)).toThrow(/bad header size 8/);
  });
});
