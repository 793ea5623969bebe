// VP8 RTP payload descriptor (RFC 7741 §4.2), written by the streamer's packetizer and read by the
// students' frame assembler. Shared here because the two sides never import each other.
//
//        0 1 2 3 4 5 6 7
//       +-+-+-+-+-+-+-+-+
//       |X|R|N|S|R| PID | (REQUIRED)   X: extension byte follows; N: non-reference frame;
//       +-+-+-+-+-+-+-+-+                S: start of a VP8 partition; PID: partition index (0..7)
//  X:   |I|L|T|K| RSV   | (OPTIONAL)   I: PictureID, L: TL0PICIDX, T: TID(+Y), K: KEYIDX present
//       +-+-+-+-+-+-+-+-+
//  I:   |M| PictureID   | (OPTIONAL)   M=0: 7-bit PictureID in this byte;
//       +-+-+-+-+-+-+-+-+              M=1: 15-bit PictureID, high 7 bits here ...
//  M:   | PictureID     | (OPTIONAL)   ... low 8 bits in the next byte
//       +-+-+-+-+-+-+-+-+
//  L:   |   TL0PICIDX   | (OPTIONAL)
//       +-+-+-+-+-+-+-+-+
//  T/K: |TID|Y| KEYIDX  | (OPTIONAL)   one byte if T or K is set; TID only meaningful with T,
//       +-+-+-+-+-+-+-+-+              KEYIDX only with K
//
// The descriptor is followed by VP8 payload data. At the start of partition 0 (S=1, PID=0) that
// data begins with the VP8 payload header (RFC 7741 §4.3, RFC 6386 §9.1 frame tag), whose first
// byte is |Size0(3)|H|VER(3)|P|: P = 0 marks a key frame.
//
// Every read is length-checked first; a truncated descriptor throws a RangeError naming the field.

const X_BIT = 0x80;
const N_BIT = 0x20;
const S_BIT = 0x10;
const PID_MASK = 0x07;
const I_BIT = 0x80;
const L_BIT = 0x40;
const T_BIT = 0x20;
const K_BIT = 0x10;
const M_BIT = 0x80;

/** Largest 15-bit PictureID. */
export const VP8_MAX_PICTURE_ID = 0x7fff;

/** What the packetizer writes. */
export interface Vp8DescriptorInput {
  start: boolean;
  /** Partition index, 0..7. */
  partitionId: number;
  /** 15-bit PictureID (0..0x7fff); when given, the descriptor is 4 bytes (X=1, I=1, M=1). */
  pictureId?: number;
  nonReference?: boolean;
}

/** A parsed descriptor. Optional fields are present only when the descriptor carries them. */
export interface Vp8Descriptor {
  start: boolean;
  partitionId: number;
  pictureId?: number;
  /** Width of the PictureID field as sent: 7 or 15 bits. Present with `pictureId`. */
  pictureIdBits?: 7 | 15;
  nonReference: boolean;
  /** Bytes of descriptor; the VP8 payload starts at this offset. */
  headerLength: number;
  tl0PicIdx?: number;
  tid?: number;
  /** Layer sync bit Y; present with `tid`. */
  layerSync?: boolean;
  keyIdx?: number;
}

/**
 * Allocation-free form used on the per-packet path: absent numeric fields are −1.
 * Create one with `newVp8DescriptorFields()` and reuse it.
 */
export interface Vp8DescriptorFields {
  start: boolean;
  partitionId: number;
  pictureId: number;
  pictureIdBits: number;
  nonReference: boolean;
  headerLength: number;
  tl0PicIdx: number;
  tid: number;
  layerSync: boolean;
  keyIdx: number;
}

export function newVp8DescriptorFields(): Vp8DescriptorFields {
  return {
    start: false,
    partitionId: 0,
    pictureId: -1,
    pictureIdBits: 0,
    nonReference: false,
    headerLength: 0,
    tl0PicIdx: -1,
    tid: -1,
    layerSync: false,
    keyIdx: -1,
  };
}

/** Length in bytes of the descriptor `writeVp8Descriptor` would write for `d`. */
export function vp8DescriptorLength(d: Vp8DescriptorInput): number {
  return d.pictureId === undefined ? 1 : 4;
}

/**
 * Writes a descriptor at `out[offset]` and returns the bytes written: 1 without a PictureID,
 * 4 with one (X=1, I=1, M=1, 15-bit PictureID; L, T, K unset).
 */
export function writeVp8Descriptor(out: Buffer, offset: number, d: Vp8DescriptorInput): number {
  if (!Number.isInteger(d.partitionId) || d.partitionId < 0 || d.partitionId > PID_MASK) {
    throw new RangeError(`VP8 descriptor: partitionId must be an integer in 0..7, got ${d.partitionId}`);
  }
  const pid = d.pictureId;
  if (pid !== undefined && (!Number.isInteger(pid) || pid < 0 || pid > VP8_MAX_PICTURE_ID)) {
    throw new RangeError(`VP8 descriptor: pictureId must be an integer in 0..32767, got ${pid}`);
  }
  const length = pid === undefined ? 1 : 4;
  if (!Number.isInteger(offset) || offset < 0 || offset + length > out.length) {
    throw new RangeError(
      `VP8 descriptor: needs ${length} bytes at offset ${offset}, buffer has ${out.length}`,
    );
  }
  let b0 = d.partitionId;
  if (d.start) b0 |= S_BIT;
  if (d.nonReference === true) b0 |= N_BIT;
  if (pid === undefined) {
    out[offset] = b0;
    return 1;
  }
  out[offset] = b0 | X_BIT;
  out[offset + 1] = I_BIT;
  out[offset + 2] = M_BIT | (pid >> 8);
  out[offset + 3] = pid & 0xff;
  return 4;
}

function need(payload: Buffer, index: number, field: string): number {
  const v = payload[index];
  if (v === undefined) {
    throw new RangeError(
      `VP8 descriptor truncated: ${field} needs byte ${index}, payload has ${payload.length} byte(s)`,
    );
  }
  return v;
}

/** Parses a descriptor into `out` (no allocation) and returns `out`. Throws RangeError if truncated. */
export function readVp8Descriptor(payload: Buffer, out: Vp8DescriptorFields): Vp8DescriptorFields {
  const b0 = need(payload, 0, "required first byte");
  out.start = (b0 & S_BIT) !== 0;
  out.partitionId = b0 & PID_MASK;
  out.nonReference = (b0 & N_BIT) !== 0;
  out.pictureId = -1;
  out.pictureIdBits = 0;
  out.tl0PicIdx = -1;
  out.tid = -1;
  out.layerSync = false;
  out.keyIdx = -1;
  let i = 1;
  if ((b0 & X_BIT) !== 0) {
    const x = need(payload, i++, "extension byte (X=1)");
    if ((x & I_BIT) !== 0) {
      const p = need(payload, i++, "PictureID (I=1)");
      if ((p & M_BIT) !== 0) {
        const lo = need(payload, i++, "15-bit PictureID low byte (M=1)");
        out.pictureId = ((p & 0x7f) << 8) | lo;
        out.pictureIdBits = 15;
      } else {
        out.pictureId = p & 0x7f;
        out.pictureIdBits = 7;
      }
    }
    if ((x & L_BIT) !== 0) {
      out.tl0PicIdx = need(payload, i++, "TL0PICIDX (L=1)");
    }
    if ((x & (T_BIT | K_BIT)) !== 0) {
      const tk = need(payload, i++, "TID/Y/KEYIDX (T=1 or K=1)");
      if ((x & T_BIT) !== 0) {
        out.tid = tk >> 6;
        out.layerSync = (tk & 0x20) !== 0;
      }
      if ((x & K_BIT) !== 0) out.keyIdx = tk & 0x1f;
    }
  }
  out.headerLength = i;
  return out;
}

/** Parses a descriptor. Throws RangeError naming the missing field on a truncated descriptor. */
export function parseVp8Descriptor(payload: Buffer): Vp8Descriptor {
  const f = readVp8Descriptor(payload, newVp8DescriptorFields());
  const d: Vp8Descriptor = {
    start: f.start,
    partitionId: f.partitionId,
    nonReference: f.nonReference,
    headerLength: f.headerLength,
  };
  if (f.pictureId >= 0) {
    d.pictureId = f.pictureId;
    d.pictureIdBits = f.pictureIdBits === 15 ? 15 : 7;
  }
  if (f.tl0PicIdx >= 0) d.tl0PicIdx = f.tl0PicIdx;
  if (f.tid >= 0) {
    d.tid = f.tid;
    d.layerSync = f.layerSync;
  }
  if (f.keyIdx >= 0) d.keyIdx = f.keyIdx;
  return d;
}

/**
 * True when VP8 payload data (the bytes after the descriptor) starts a key frame: frame-tag bit 0
 * (P, "inverse key frame") is 0. Only meaningful on the packet with S=1, PID=0. Empty data: false.
 */
export function isVp8Keyframe(payloadAfterDescriptor: Buffer): boolean {
  const b = payloadAfterDescriptor[0];
  return b !== undefined && (b & 0x01) === 0;
}

/** Same as `isVp8Keyframe`, reading `payload[offset]` without slicing. */
export function isVp8KeyframeAt(payload: Buffer, offset: number): boolean {
  const b = payload[offset];
  return b !== undefined && (b & 0x01) === 0;
}
