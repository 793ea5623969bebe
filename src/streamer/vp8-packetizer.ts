// VP8 RTP packetizer (RFC 7741 §4): splits one encoded VP8 frame into RTP payloads, each a payload
// descriptor (src/media/rtp/vp8-descriptor.ts) followed by a fragment of the frame.
//
// Every payload carries a 4-byte descriptor: X=1, I=1, M=1 with the frame's 15-bit PictureID (so a
// receiver that lost the first packet still knows which picture a fragment belongs to), PID=0 (the
// frame is sent as one partition, as libwebrtc does), S=1 on the first payload only.
// Fragments are as equal as possible: n = ceil(frame / room) payloads, sizes differ by at most one
// byte, so there is never a tiny last fragment.
//
// The RTP marker bit is not part of the payload: the caller sets it on the packet carrying the LAST
// payload returned, and gives all payloads of one frame the same RTP timestamp.
//
// Call rate: once per video frame per room (the streamer fans the payloads out to every student).
// Each returned payload is its own Buffer (Buffer.allocUnsafe, which Node serves from its pool for
// payloads < 4 KiB), fully written, independent of the input and of later calls.

import { VP8_MAX_PICTURE_ID, writeVp8Descriptor } from "../media/rtp/vp8-descriptor.js";

/** Bytes of the descriptor written on every payload (X, I, M=1 15-bit PictureID). */
export const VP8_PACKETIZER_DESCRIPTOR_BYTES = 4;
export const VP8_DEFAULT_MAX_PAYLOAD_BYTES = 1100;

/** Next 15-bit PictureID, wrapping 0x7fff → 0. */
export function nextPictureId(id: number): number {
  return (id + 1) & VP8_MAX_PICTURE_ID;
}

export interface Vp8PacketizerOptions {
  /** Largest RTP payload (descriptor + data) in bytes; default 1100. */
  maxPayloadBytes?: number;
}

export class Vp8Packetizer {
  readonly maxPayloadBytes: number;

  constructor(opts: Vp8PacketizerOptions = {}) {
    const max = opts.maxPayloadBytes ?? VP8_DEFAULT_MAX_PAYLOAD_BYTES;
    if (!Number.isInteger(max) || max <= VP8_PACKETIZER_DESCRIPTOR_BYTES) {
      throw new RangeError(
        `Vp8Packetizer: maxPayloadBytes must be an integer > ${VP8_PACKETIZER_DESCRIPTOR_BYTES}, got ${max}`,
      );
    }
    this.maxPayloadBytes = max;
  }

  /** RTP payloads for one encoded frame, in send order. Throws on an empty frame or a bad pictureId. */
  packetize(frame: Buffer, pictureId: number): Buffer[] {
    if (frame.length === 0) throw new RangeError("Vp8Packetizer: empty VP8 frame");
    if (!Number.isInteger(pictureId) || pictureId < 0 || pictureId > VP8_MAX_PICTURE_ID) {
      throw new RangeError(`Vp8Packetizer: pictureId must be an integer in 0..32767, got ${pictureId}`);
    }
    const room = this.maxPayloadBytes - VP8_PACKETIZER_DESCRIPTOR_BYTES;
    const count = Math.ceil(frame.length / room);
    const base = Math.floor(frame.length / count);
    const bigger = frame.length - base * count; // the first `bigger` fragments get one extra byte
    const out = new Array<Buffer>(count);
    let src = 0;
    for (let i = 0; i < count; i++) {
      const size = base + (i < bigger ? 1 : 0);
      const p = Buffer.allocUnsafe(VP8_PACKETIZER_DESCRIPTOR_BYTES + size);
      writeVp8Descriptor(p, 0, { start: i === 0, partitionId: 0, pictureId });
      frame.copy(p, VP8_PACKETIZER_DESCRIPTOR_BYTES, src, src + size);
      src += size;
      out[i] = p;
    }
    return out;
  }
}
