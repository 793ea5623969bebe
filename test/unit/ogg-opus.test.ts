import { describe, expect, it } from "vitest";
import { oggCrc32, opusPacketDurationSamples, parseOggOpus, setOggOpusPreSkip } from "../../src/media/ogg-opus.js";

type PageSpec = { headerType: number; granule: number; serial: number; seq: number; lacing: number[]; body: Buffer };

/** One Ogg page (RFC 3533 §6) with its CRC filled in. */
function page(p: PageSpec): Buffer {
  const head = Buffer.alloc(27 + p.lacing.length);
  head.write("OggS", 0, "latin1");
  head[4] = 0;
  head[5] = p.headerType;
  head.writeBigInt64LE(BigInt(p.granule), 6);
  head.writeUInt32LE(p.serial, 14);
  head.writeUInt32LE(p.seq, 18);
  head[26] = p.lacing.length;
  head.set(p.lacing, 27);
  const out = Buffer.concat([head, p.body]);
  out.writeUInt32LE(oggCrc32(out), 22); // CRC field is still zero here
  return out;
}

/** Lacing values for a whole packet (a multiple of 255 ends with a 0). */
function lace(len: number): number[] {
  const l: number[] = [];
  let n = len;
  while (n >= 255) {
    l.push(255);
    n -= 255;
  }
  l.push(n);
  return l;
}

function opusHead(channels: number, preSkip: number, rate: number): Buffer {
  const b = Buffer.alloc(19);
  b.write("OpusHead", 0, "latin1");
  b[8] = 1;
  b[9] = channels;
  b.writeUInt16LE(preSkip, 10);
  b.writeUInt32LE(rate, 12);
  b.writeInt16LE(0, 16);
  b[18] = 0;
  return b;
}

function opusTags(): Buffer {
  const vendor = Buffer.from("proctor-test", "ascii");
  const b = Buffer.alloc(8 + 4 + vendor.length + 4);
  b.write("OpusTags", 0, "latin1");
  b.writeUInt32LE(vendor.length, 8);
  vendor.copy(b, 12);
  b.writeUInt32LE(0, 12 + vendor.length);
  return b;
}

/** A packet whose first byte is a CELT FB 20 ms code-0 TOC (config 31), the rest a fill byte. */
function audioPacket(len: number, fill: number): Buffer {
  const b = Buffer.alloc(len, fill);
  b[0] = (31 << 3) | 0;
  return b;
}

const SERIAL = 0x1234abcd;
const A = audioPacket(40, 0xa1);
const B = audioPacket(300, 0xb2); // lacing 255, 45
const C = audioPacket(600, 0xc3); // 255, 255 | continued: 90
const D = audioPacket(255, 0xd4); // 255, 0 — exactly one full segment
const E = audioPacket(10, 0xe5);

/** OpusHead page, OpusTags page, then audio where C spans pages 2 → 3; plus a foreign stream. */
function stream(): Buffer {
  const head = opusHead(1, 312, 44100);
  const tags = opusTags();
  return Buffer.concat([
    page({ headerType: 0x02, granule: 0, serial: SERIAL, seq: 0, lacing: lace(head.length), body: head }),
    page({ headerType: 0x02, granule: 0, serial: 99, seq: 0, lacing: [3], body: Buffer.from("xyz") }), // other stream
    page({ headerType: 0x00, granule: 0, serial: SERIAL, seq: 1, lacing: lace(tags.length), body: tags }),
    page({
      headerType: 0x00,
      granule: 2 * 960,
      serial: SERIAL,
      seq: 2,
      lacing: [...lace(A.length), ...lace(B.length), 255, 255],
      body: Buffer.concat([A, B, C.subarray(0, 510)]),
    }),
    page({
      headerType: 0x01 | 0x04,
      granule: 5 * 960,
      serial: SERIAL,
      seq: 3,
      lacing: [90, ...lace(D.length), ...lace(E.length)],
      body: Buffer.concat([C.subarray(510), D, E]),
    }),
  ]);
}

describe("oggCrc32", () => {
  it("is CRC-32 poly 0x04C11DB7, init 0, unreflected, no xor-out", () => {
    // CRC-32/POSIX (same polynomial, init 0) checks to 0x765E7680 with a final xor of 0xFFFFFFFF.
    expect(oggCrc32(Buffer.from("123456789", "ascii"))).toBe((0x765e7680 ^ 0xffffffff) >>> 0);
    expect(oggCrc32(Buffer.alloc(0))).toBe(0);
  });
});

describe("parseOggOpus", () => {
  it("reads the ID header and reassembles packets across segments and pages", () => {
    const ogg = parseOggOpus(stream());
    expect(ogg.channels).toBe(1);
    expect(ogg.preSkip).toBe(312);
    expect(ogg.inputSampleRate).toBe(44100);
    expect(ogg.lastGranule).toBe(5 * 960);
    expect(ogg.packets.map((p) => p.length)).toEqual([40, 300, 600, 255, 10]);
    expect(ogg.packets).toEqual([A, B, C, D, E]);
  });

  it("rejects a page whose CRC does not match, unless told not to check", () => {
    const buf = stream();
    const last = buf.lastIndexOf(Buffer.from("OggS"));
    buf[last + 40] = (buf[last + 40] ?? 0) ^ 0xff; // flip a body byte of the last page
    expect(() => parseOggOpus(buf)).toThrow(/CRC mismatch on page 3/);
    expect(parseOggOpus(buf, { verifyCrc: false }).packets).toHaveLength(5);
  });

  it("rejects truncated input with a clear error", () => {
    const buf = stream();
    const last = buf.lastIndexOf(Buffer.from("OggS"));
    expect(() => parseOggOpus(buf.subarray(0, buf.length - 3))).toThrow(/truncated page 3/);
    expect(() => parseOggOpus(buf.subarray(0, last + 10))).toThrow(/truncated page header/);
    // Cut between pages in the middle of packet C: the stream ends with an unfinished packet.
    expect(() => parseOggOpus(buf.subarray(0, last))).toThrow(/last packet unfinished/);
  });

  it("rejects a bad capture pattern, a missing BOS, and a continuation without a start", () => {
    const buf = stream();
    const bad = Buffer.from(buf);
    bad.write("OggX", 0, "latin1");
    expect(() => parseOggOpus(bad)).toThrow(/bad capture pattern "OggX"/);

    const noBos = page({ headerType: 0, granule: 0, serial: 1, seq: 0, lacing: [19], body: opusHead(1, 0, 48000) });
    expect(() => parseOggOpus(noBos)).toThrow(/beginning-of-stream/);

    const head = opusHead(1, 0, 48000);
    const orphan = Buffer.concat([
      page({ headerType: 0x02, granule: 0, serial: 1, seq: 0, lacing: [19], body: head }),
      page({ headerType: 0x01, granule: 0, serial: 1, seq: 1, lacing: [4], body: Buffer.from("abcd") }),
    ]);
    expect(() => parseOggOpus(orphan)).toThrow(/continues a packet that never started/);
  });

  it("rejects a stream that is not Opus", () => {
    const vorbis = page({ headerType: 0x02, granule: 0, serial: 1, seq: 0, lacing: [7], body: Buffer.from("\x01vorbis", "latin1") });
    expect(() => parseOggOpus(vorbis)).toThrow(/OpusHead/);
  });
});

describe("setOggOpusPreSkip", () => {
  it("rewrites the pre-skip, keeps the CRC valid and the packets intact", () => {
    const original = stream();
    const out = setOggOpusPreSkip(original, 0);
    expect(out).not.toBe(original);
    const ogg = parseOggOpus(out); // verifies every CRC
    expect(ogg.preSkip).toBe(0);
    expect(ogg.packets).toEqual([A, B, C, D, E]);
    expect(parseOggOpus(original).preSkip).toBe(312); // input untouched
  });
});

describe("opusPacketDurationSamples (RFC 6716 §3.1)", () => {
  const toc = (config: number, code: number): number => (config << 3) | code;
  it.each([
    // [config, code, extra bytes, samples at 48 kHz]
    [31, 0, [], 960], // CELT FB 20 ms, one frame
    [31, 1, [], 1920], // two equal frames
    [31, 2, [], 1920], // two frames, different sizes
    [16, 3, [8], 960], // CELT NB 2.5 ms × 8
    [28, 3, [0x80 | 0x40 | 6], 720], // CELT FB 2.5 ms × 6, VBR + padding flags ignored
    [3, 0, [], 2880], // SILK NB 60 ms
    [9, 0, [], 960], // SILK WB 20 ms
    [13, 1, [], 1920], // Hybrid SWB 20 ms × 2
    [14, 0, [], 480], // Hybrid FB 10 ms
    [3, 1, [], 5760], // 2 × 60 ms = 120 ms, the maximum
  ])("config %i code %i → %i samples", (config, code, extra, samples) => {
    expect(opusPacketDurationSamples(Buffer.from([toc(config, code), ...extra, 0, 0]))).toBe(samples);
  });

  it("scales to other sample rates", () => {
    expect(opusPacketDurationSamples(Buffer.from([toc(31, 0)]), 16000)).toBe(320);
    expect(opusPacketDurationSamples(Buffer.from([toc(16, 0)]), 8000)).toBe(20);
  });

  it("rejects malformed packets", () => {
    expect(() => opusPacketDurationSamples(Buffer.alloc(0))).toThrow(/empty/);
    expect(() => opusPacketDurationSamples(Buffer.from([toc(31, 3)]))).toThrow(/frame-count byte/);
    expect(() => opusPacketDurationSamples(Buffer.from([toc(31, 3), 0]))).toThrow(/frame count of 0/);
    expect(() => opusPacketDurationSamples(Buffer.from([toc(3, 3), 3]))).toThrow(/exceeds 120 ms/);
  });
});
