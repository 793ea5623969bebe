import { describe, expect, it } from "vitest";
import { parseVp8Descriptor } from "../../src/media/rtp/vp8-descriptor.js";
import { Vp8Packetizer, nextPictureId } from "../../src/streamer/vp8-packetizer.js";
import { opusRtpTimestampIncrement, packetizeOpus } from "../../src/streamer/opus-packetizer.js";

function frameOf(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n);
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

describe("Vp8Packetizer", () => {
  it.each([1, 10, 1095, 1096, 1097, 2192, 2193, 5000, 64_000])(
    "frame of %i bytes: sizes ≤ max, data concatenates to the frame, S on first only, picture id on all",
    (n) => {
      const frame = frameOf(n, n);
      const pz = new Vp8Packetizer();
      const payloads = pz.packetize(frame, 0x1234);
      expect(payloads.length).toBe(Math.ceil(n / 1096));
      const data: Buffer[] = [];
      payloads.forEach((p, i) => {
        expect(p.length).toBeLessThanOrEqual(1100);
        const d = parseVp8Descriptor(p);
        expect(d.start).toBe(i === 0);
        expect(d.partitionId).toBe(0);
        expect(d.pictureId).toBe(0x1234);
        expect(d.pictureIdBits).toBe(15);
        data.push(p.subarray(d.headerLength));
      });
      expect(Buffer.concat(data).equals(frame)).toBe(true);
      const sizes = data.map((d) => d.length);
      expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
    },
  );

  it("does not leave a tiny last fragment", () => {
    const payloads = new Vp8Packetizer({ maxPayloadBytes: 104 }).packetize(frameOf(201), 5);
    // 201 bytes, 100 per payload at most → 3 payloads of 67, not 100+100+1
    expect(payloads.map((p) => p.length - 4)).toEqual([67, 67, 67]);
  });

  it("returns independent buffers", () => {
    const frame = frameOf(3000);
    const pz = new Vp8Packetizer({ maxPayloadBytes: 500 });
    const a = pz.packetize(frame, 1);
    const copyA = a.map((p) => Buffer.from(p));
    frame.fill(0);
    const b = pz.packetize(frameOf(3000, 9), 2);
    b.forEach((p) => p.fill(0xff));
    a.forEach((p, i) => expect(p.equals(copyA[i] as Buffer)).toBe(true));
  });

  it("nextPictureId wraps 0x7fff → 0 and the packetizer writes it", () => {
    expect(nextPictureId(0x7ffe)).toBe(0x7fff);
    expect(nextPictureId(0x7fff)).toBe(0);
    const [p] = new Vp8Packetizer().packetize(frameOf(10), nextPictureId(0x7fff));
    expect(parseVp8Descriptor(p as Buffer).pictureId).toBe(0);
  });

  it("rejects empty frames, bad picture ids and a too-small max", () => {
    const pz = new Vp8Packetizer();
    expect(() => pz.packetize(Buffer.alloc(0), 1)).toThrow(/empty/);
    expect(() => pz.packetize(frameOf(5), 0x8000)).toThrow(/pictureId/);
    expect(() => new Vp8Packetizer({ maxPayloadBytes: 4 })).toThrow(/maxPayloadBytes/);
  });
});

describe("opusRtpTimestampIncrement (RFC 6716 §3.1)", () => {
  const toc = (config: number, stereo: number, code: number): number => (config << 3) | (stereo << 2) | code;

  it("TOC 0xFC (CELT FB 20 ms, stereo, code 0) → 960", () => {
    expect(opusRtpTimestampIncrement(Buffer.from([0xfc, 0x00]))).toBe(960);
  });

  it.each([
    [0, 480], [1, 960], [2, 1920], [3, 2880], // SILK NB 10/20/40/60 ms
    [9, 960], [11, 2880], // SILK WB
    [12, 480], [13, 960], [15, 960], // Hybrid
    [16, 120], [17, 240], [18, 480], [19, 960], // CELT NB 2.5/5/10/20 ms
    [28, 120], [31, 960], // CELT FB
  ])("config %i, one frame → %i samples at 48 kHz", (config, samples) => {
    expect(opusRtpTimestampIncrement(Buffer.from([toc(config, 0, 0)]))).toBe(samples);
  });

  it("codes 1 and 2 carry two frames", () => {
    expect(opusRtpTimestampIncrement(Buffer.from([toc(31, 0, 1), 0, 0]))).toBe(1920);
    expect(opusRtpTimestampIncrement(Buffer.from([toc(1, 1, 2), 1, 0]))).toBe(1920);
  });

  it("code 3 reads the frame count M", () => {
    // 3 frames of 20 ms CELT FB → 2880
    expect(opusRtpTimestampIncrement(Buffer.from([0xfb, 0x03, 0, 0, 0]))).toBe(2880);
    // VBR + padding bits set, 6 frames of 20 ms → 120 ms, the maximum
    expect(opusRtpTimestampIncrement(Buffer.from([0xfb, 0xc6]))).toBe(5760);
    // 48 frames of 2.5 ms → 120 ms
    expect(opusRtpTimestampIncrement(Buffer.from([toc(16, 0, 3), 48]))).toBe(5760);
  });

  it("rejects empty, truncated, zero-frame and over-120-ms packets", () => {
    expect(() => opusRtpTimestampIncrement(Buffer.alloc(0))).toThrow(/empty/);
    expect(() => opusRtpTimestampIncrement(Buffer.from([0xfb]))).toThrow(/truncated/);
    expect(() => opusRtpTimestampIncrement(Buffer.from([0xfb, 0x00]))).toThrow(/frame count of 0/);
    expect(() => opusRtpTimestampIncrement(Buffer.from([0xfb, 0x07]))).toThrow(/120 ms/);
  });

  it("packetizeOpus: the payload is the packet itself", () => {
    const pkt = Buffer.from([0xfc, 1, 2, 3]);
    const r = packetizeOpus(pkt);
    expect(r.payload).toBe(pkt);
    expect(r.timestampIncrement).toBe(960);
  });
});
