// Ogg Opus reader: Ogg pages (RFC 3533 §6) → packets, then the Opus mapping (RFC 7845 §5):
// packet 0 is the ID header "OpusHead" (channels, pre-skip, input rate), packet 1 the comment
// header "OpusTags", the rest are audio packets the streamer sends one per RTP packet (RFC 7587).
// Also: the duration of an Opus packet from its TOC byte (RFC 6716 §3.1), and a pre-skip rewrite
// used by the clip generator (see clip-generator.ts, "Audio alignment").
//
// Page layout (little-endian): "OggS", u8 version (0), u8 header type (0x01 continued packet,
// 0x02 first page, 0x04 last page), i64 granule position, u32 serial, u32 page sequence, u32 CRC,
// u8 segment count, segment table (lacing values), then the segments. A packet is a run of
// segments ending with one < 255; a run ending a page with 255 continues on the next page.
// CRC: CRC-32, poly 0x04C11DB7, init 0, not reflected, no final xor, over the page with its CRC
// field zeroed (RFC 3533 §6, "CRC_checksum").

export type OggOpusStream = {
  channels: number;
  preSkip: number;
  inputSampleRate: number;
  /** Audio packets, in order (headers removed). Views into the input where a packet fits one page. */
  packets: Buffer[];
  /** Granule position of the stream's last page (48 kHz samples incl. pre-skip), or -1 if none. */
  lastGranule: number;
};

export type OggParseOptions = {
  /** Verify every page's CRC (default true). */
  verifyCrc?: boolean;
};

const PAGE_HEADER_BYTES = 27;
const FLAG_CONTINUED = 0x01;
const FLAG_BOS = 0x02;

const CRC_TABLE: Uint32Array = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let b = 0; b < 8; b++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    t[i] = r >>> 0;
  }
  return t;
})();

/** Ogg's CRC-32 (poly 0x04C11DB7, init 0, unreflected, no final xor). "123456789" → 0x89A1897F. */
export function oggCrc32(bytes: Uint8Array, crc = 0): number {
  let c = crc >>> 0;
  for (let i = 0; i < bytes.length; i++) {
    c = ((c << 8) ^ (CRC_TABLE[((c >>> 24) ^ (bytes[i] ?? 0)) & 0xff] ?? 0)) >>> 0;
  }
  return c;
}

/** CRC of one page: the header with its CRC field taken as zero, then the rest. */
function pageCrc(page: Buffer): number {
  let c = oggCrc32(page.subarray(0, 22));
  c = oggCrc32(new Uint8Array(4), c);
  return oggCrc32(page.subarray(26), c);
}

type Page = { start: number; headerType: number; granule: number; serial: number; seq: number; lacing: Buffer; body: Buffer; end: number };

function readPage(buf: Buffer, off: number, verifyCrc: boolean): Page {
  if (off + PAGE_HEADER_BYTES > buf.length) {
    throw new Error(`Ogg: truncated page header at byte ${off} (${buf.length - off} of ${PAGE_HEADER_BYTES} bytes)`);
  }
  const capture = buf.toString("latin1", off, off + 4);
  if (capture !== "OggS") throw new Error(`Ogg: bad capture pattern ${JSON.stringify(capture)} at byte ${off} (expected "OggS")`);
  const version = buf[off + 4] ?? 0;
  if (version !== 0) throw new Error(`Ogg: unsupported stream structure version ${version} at byte ${off}`);
  const headerType = buf[off + 5] ?? 0;
  const granule = Number(buf.readBigInt64LE(off + 6));
  const serial = buf.readUInt32LE(off + 14);
  const seq = buf.readUInt32LE(off + 18);
  const crc = buf.readUInt32LE(off + 22);
  const nSegs = buf[off + 26] ?? 0;
  const lacingStart = off + PAGE_HEADER_BYTES;
  if (lacingStart + nSegs > buf.length) {
    throw new Error(`Ogg: truncated segment table of page ${seq} at byte ${lacingStart}`);
  }
  const lacing = buf.subarray(lacingStart, lacingStart + nSegs);
  let bodyLen = 0;
  for (const l of lacing) bodyLen += l;
  const bodyStart = lacingStart + nSegs;
  if (bodyStart + bodyLen > buf.length) {
    throw new Error(`Ogg: truncated page ${seq} at byte ${bodyStart} (${buf.length - bodyStart} of ${bodyLen} body bytes)`);
  }
  const end = bodyStart + bodyLen;
  if (verifyCrc) {
    const actual = pageCrc(buf.subarray(off, end));
    if (actual !== crc) {
      throw new Error(`Ogg: CRC mismatch on page ${seq} at byte ${off} (stored 0x${crc.toString(16)}, computed 0x${actual.toString(16)})`);
    }
  }
  return { start: off, headerType, granule, serial, seq, lacing, body: buf.subarray(bodyStart, end), end };
}

/** Split an Ogg stream into the packets of its first logical stream, plus the last granule. */
function readPackets(buf: Buffer, verifyCrc: boolean): { packets: Buffer[]; lastGranule: number } {
  const packets: Buffer[] = [];
  let serial: number | undefined;
  let partial: Buffer[] = [];
  let lastGranule = -1;
  let off = 0;
  while (off < buf.length) {
    const page = readPage(buf, off, verifyCrc);
    off = page.end;
    if (serial === undefined) {
      if ((page.headerType & FLAG_BOS) === 0) throw new Error(`Ogg: first page (byte ${page.start}) lacks the beginning-of-stream flag`);
      serial = page.serial;
    }
    if (page.serial !== serial) continue; // another multiplexed logical stream
    const continued = (page.headerType & FLAG_CONTINUED) !== 0;
    if (continued && partial.length === 0) {
      throw new Error(`Ogg: page ${page.seq} continues a packet that never started`);
    }
    if (!continued && partial.length > 0) {
      throw new Error(`Ogg: page ${page.seq} drops an unfinished packet from the page before`);
    }
    let segStart = 0;
    let runStart = 0;
    for (const l of page.lacing) {
      segStart += l;
      if (l < 255) {
        const piece = page.body.subarray(runStart, segStart);
        if (partial.length > 0) {
          partial.push(piece);
          packets.push(Buffer.concat(partial));
          partial = [];
        } else {
          packets.push(piece);
        }
        runStart = segStart;
      }
    }
    if (runStart < segStart) {
      // The page ended on a 255 lacing value: the packet goes on in the next page.
      partial.push(page.body.subarray(runStart, segStart));
    }
    if (page.granule !== -1) lastGranule = page.granule;
  }
  if (partial.length > 0) throw new Error("Ogg: truncated stream (last packet unfinished)");
  return { packets, lastGranule };
}

/** Parse an Ogg Opus file held in memory (RFC 7845). Throws a clear Error on malformed input. */
export function parseOggOpus(buf: Buffer, opts: OggParseOptions = {}): OggOpusStream {
  const { packets, lastGranule } = readPackets(buf, opts.verifyCrc ?? true);
  const head = packets[0];
  if (head === undefined || head.length < 19 || head.toString("latin1", 0, 8) !== "OpusHead") {
    throw new Error("Ogg Opus: first packet is not an OpusHead ID header (RFC 7845 §5.1)");
  }
  const version = head[8] ?? 0;
  if (version >> 4 !== 0) throw new Error(`Ogg Opus: unsupported OpusHead version ${version}`);
  const tags = packets[1];
  if (tags === undefined || tags.length < 8 || tags.toString("latin1", 0, 8) !== "OpusTags") {
    throw new Error("Ogg Opus: second packet is not an OpusTags comment header (RFC 7845 §5.2)");
  }
  return {
    channels: head[9] ?? 0,
    preSkip: head.readUInt16LE(10),
    inputSampleRate: head.readUInt32LE(12),
    packets: packets.slice(2),
    lastGranule,
  };
}

/**
 * Return a copy of an Ogg Opus file whose OpusHead pre-skip is `preSkip` (first page rewritten,
 * its CRC recomputed). RFC 7845 §4.2 requires the ID header alone on the first page, so nothing
 * else moves.
 */
export function setOggOpusPreSkip(buf: Buffer, preSkip: number): Buffer {
  if (!Number.isInteger(preSkip) || preSkip < 0 || preSkip > 0xffff) throw new RangeError(`Ogg Opus: pre-skip ${preSkip} out of range`);
  const page = readPage(buf, 0, true);
  const head = page.body;
  if (page.lacing.length !== 1 || head.length < 19 || head.toString("latin1", 0, 8) !== "OpusHead") {
    throw new Error("Ogg Opus: first page does not hold exactly the OpusHead packet");
  }
  const out = Buffer.from(buf);
  const headOff = page.end - head.length;
  out.writeUInt16LE(preSkip, headOff + 10);
  out.writeUInt32LE(pageCrc(out.subarray(0, page.end)), 22);
  return out;
}

// Frame duration per TOC config (RFC 6716 §3.1, Table 2), in 48 kHz samples:
// 0..11 SILK NB/MB/WB 10/20/40/60 ms; 12..15 Hybrid SWB/FB 10/20 ms; 16..31 CELT NB/WB/SWB/FB
// 2.5/5/10/20 ms.
const FRAME_SAMPLES_48K: readonly number[] = (() => {
  const t: number[] = [];
  for (let c = 0; c < 12; c++) t.push([480, 960, 1920, 2880][c % 4] ?? 0);
  for (let c = 12; c < 16; c++) t.push([480, 960][c % 2] ?? 0);
  for (let c = 16; c < 32; c++) t.push([120, 240, 480, 960][c % 4] ?? 0);
  return t;
})();

/**
 * Samples (per channel) one Opus packet decodes to, at `sampleRate`, from its TOC byte and, for
 * code 3, its frame-count byte (RFC 6716 §3.1–3.2.5). Throws on an empty packet, a code-3 packet
 * without a count byte, a zero frame count, or a total above 120 ms (§3.2.5 "R5").
 */
export function opusPacketDurationSamples(packet: Buffer, sampleRate = 48000): number {
  const toc = packet[0];
  if (toc === undefined) throw new Error("Opus: empty packet has no TOC byte");
  const perFrame = FRAME_SAMPLES_48K[toc >> 3] ?? 0;
  let frames: number;
  switch (toc & 0x03) {
    case 0:
      frames = 1;
      break;
    case 1:
    case 2:
      frames = 2;
      break;
    default: {
      const count = packet[1];
      if (count === undefined) throw new Error("Opus: code-3 packet lacks its frame-count byte");
      frames = count & 0x3f;
      if (frames === 0) throw new Error("Opus: code-3 packet with a frame count of 0");
    }
  }
  const samples48k = frames * perFrame;
  if (samples48k > 5760) throw new Error(`Opus: packet of ${samples48k / 48} ms exceeds 120 ms`);
  return (samples48k * sampleRate) / 48000;
}
