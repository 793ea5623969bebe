// IVF container reader/writer: the simple frame-per-record format libvpx and ffmpeg write for VP8
// (the streamer packetizes these frames per RFC 7741). Layout, all little-endian:
//   file header, 32 bytes: "DKIF", u16 version (0), u16 header size (32), 4-byte fourcc
//     ("VP80"), u16 width, u16 height, u32 timebase denominator (frame rate), u32 timebase
//     numerator (time scale), u32 frame count, u32 unused;
//   then per frame, 12 bytes: u32 frame size, u64 pts (in timebase units) — then the frame.
// Keyframe flag for VP8: bit 0 of the first byte of the frame tag is 0 (RFC 6386 §9.1). For other
// fourccs `keyframe` is false (not interpreted).

export type IvfFrame = { data: Buffer; pts: number; keyframe: boolean };

export type IvfFile = {
  width: number;
  height: number;
  fourcc: string;
  timebaseDen: number;
  timebaseNum: number;
  frames: IvfFrame[];
};

export const IVF_FILE_HEADER_BYTES = 32;
export const IVF_FRAME_HEADER_BYTES = 12;

function isVp8Keyframe(fourcc: string, data: Buffer): boolean {
  if (fourcc !== "VP80" || data.length === 0) return false;
  return ((data[0] ?? 1) & 0x01) === 0;
}

/** Parse an IVF file held in memory. Throws a clear Error on a bad signature or truncation. */
export function parseIvf(buf: Buffer): IvfFile {
  if (buf.length < IVF_FILE_HEADER_BYTES) {
    throw new Error(`IVF: truncated file header (${buf.length} of ${IVF_FILE_HEADER_BYTES} bytes)`);
  }
  const signature = buf.toString("latin1", 0, 4);
  if (signature !== "DKIF") {
    throw new Error(`IVF: bad signature ${JSON.stringify(signature)} (expected "DKIF")`);
  }
  const headerSize = buf.readUInt16LE(6);
  if (headerSize < IVF_FILE_HEADER_BYTES || headerSize > buf.length) {
    throw new Error(`IVF: bad header size ${headerSize} (file is ${buf.length} bytes)`);
  }
  const fourcc = buf.toString("latin1", 8, 12);
  const width = buf.readUInt16LE(12);
  const height = buf.readUInt16LE(14);
  const timebaseDen = buf.readUInt32LE(16);
  const timebaseNum = buf.readUInt32LE(20);

  const frames: IvfFrame[] = [];
  let off = headerSize;
  while (off < buf.length) {
    const index = frames.length;
    if (off + IVF_FRAME_HEADER_BYTES > buf.length) {
      throw new Error(`IVF: truncated header of frame ${index} at byte ${off} (${buf.length - off} of ${IVF_FRAME_HEADER_BYTES} bytes)`);
    }
    const size = buf.readUInt32LE(off);
    const pts = Number(buf.readBigUInt64LE(off + 4));
    const start = off + IVF_FRAME_HEADER_BYTES;
    if (start + size > buf.length) {
      throw new Error(`IVF: truncated frame ${index} at byte ${start} (${buf.length - start} of ${size} bytes)`);
    }
    const data = buf.subarray(start, start + size);
    frames.push({ data, pts, keyframe: isVp8Keyframe(fourcc, data) });
    off = start + size;
  }
  return { width, height, fourcc, timebaseDen, timebaseNum, frames };
}

export type IvfWriteInput = {
  width: number;
  height: number;
  /** Four ASCII characters; default "VP80". */
  fourcc?: string;
  timebaseDen: number;
  timebaseNum: number;
  frames: ReadonlyArray<{ data: Buffer; pts: number }>;
};

/** Serialise frames as an IVF file (used by tests to build fixtures, and by tools). */
export function writeIvf(input: IvfWriteInput): Buffer {
  const fourcc = input.fourcc ?? "VP80";
  if (Buffer.byteLength(fourcc, "latin1") !== 4) throw new Error(`IVF: fourcc ${JSON.stringify(fourcc)} is not 4 characters`);
  let total = IVF_FILE_HEADER_BYTES;
  for (const f of input.frames) total += IVF_FRAME_HEADER_BYTES + f.data.length;
  const out = Buffer.alloc(total);
  out.write("DKIF", 0, "latin1");
  out.writeUInt16LE(0, 4);
  out.writeUInt16LE(IVF_FILE_HEADER_BYTES, 6);
  out.write(fourcc, 8, "latin1");
  out.writeUInt16LE(input.width, 12);
  out.writeUInt16LE(input.height, 14);
  out.writeUInt32LE(input.timebaseDen, 16);
  out.writeUInt32LE(input.timebaseNum, 20);
  out.writeUInt32LE(input.frames.length, 24);
  let off = IVF_FILE_HEADER_BYTES;
  for (const f of input.frames) {
    out.writeUInt32LE(f.data.length, off);
    out.writeBigUInt64LE(BigInt(f.pts), off + 4);
    f.data.copy(out, off + IVF_FRAME_HEADER_BYTES);
    off += IVF_FRAME_HEADER_BYTES + f.data.length;
  }
  return out;
}
