import { describe, expect, it } from "vitest";
import { crc8 } from "../../src/media/crc8.js";
import {
  FRAME_CODE_BAND_HEIGHT,
  FRAME_CODE_BLACK,
  FRAME_CODE_WHITE,
  drawFrameCode,
  drawFrameCodeI420,
  frameCodeBandHeight,
  readFrameCode,
  type FrameCode,
} from "../../src/media/frame-code.js";

const W = 640;
const H = 360;

/** Deterministic PRNG (mulberry32) so noise tests replay exactly. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function plane(width = W, height = H, fill = 100): Uint8Array {
  return new Uint8Array(width * height).fill(fill);
}

function cellOrigin(i: number, width = W): { x: number; y: number } {
  const perRow = Math.floor(width / 32);
  return { x: (i % perRow) * 32, y: Math.floor(i / perRow) * 32 };
}

function fillCell(y: Uint8Array, i: number, v: number, width = W): void {
  const { x, y: y0 } = cellOrigin(i, width);
  for (let r = y0; r < y0 + 32; r++) y.fill(v, r * width + x, r * width + x + 32);
}

const CODES: FrameCode[] = [];
for (const clipId of [0, 1, 2, 127, 128, 200, 254, 255]) {
  for (const frameIndex of [0, 1, 2, 255, 256, 1000, 4095, 32767, 32768, 65534, 65535]) CODES.push({ clipId, frameIndex });
}

describe("crc8", () => {
  it("matches the CRC-8 (poly 0x07, init 0) check value", () => {
    expect(crc8(Buffer.from("123456789", "ascii"))).toBe(0xf4);
  });
  it("is 0 for no bytes and chains across calls", () => {
    expect(crc8([])).toBe(0);
    const a = [0x12, 0x34];
    const b = [0x56, 0x78, 0x9a];
    expect(crc8(b, crc8(a))).toBe(crc8([...a, ...b]));
  });
  it("detects every single-bit error in a 3-byte message", () => {
    const msg = [0xa5, 0x01, 0xff];
    const good = crc8(msg);
    for (let bit = 0; bit < 24; bit++) {
      const m = [...msg];
      const idx = bit >> 3;
      m[idx] = (m[idx] ?? 0) ^ (1 << (bit & 7));
      expect(crc8(m)).not.toBe(good);
    }
  });
});

describe("frame code geometry", () => {
  it("uses 2 rows of 32-px cells for 544 px and wider, more rows when narrower", () => {
    expect(FRAME_CODE_BAND_HEIGHT).toBe(64);
    expect(frameCodeBandHeight(640)).toBe(64);
    expect(frameCodeBandHeight(576)).toBe(64);
    expect(frameCodeBandHeight(544)).toBe(64); // 17 cells × 2 rows = 34
    expect(frameCodeBandHeight(512)).toBe(96); // 16 cells: 3 rows
    expect(frameCodeBandHeight(384)).toBe(96); // 12 cells: 3 rows
    expect(frameCodeBandHeight(352)).toBe(128); // 11 cells: 4 rows
    expect(() => frameCodeBandHeight(32)).toThrow(/too narrow/);
  });

  it("paints pilots black then white and data MSB first", () => {
    const y = plane();
    // clipId 0x80 → first data bit (cell 2) white; frameIndex 0 → cells 10..25 black.
    drawFrameCode(y, W, { clipId: 0x80, frameIndex: 0 });
    const at = (i: number): number => {
      const { x, y: y0 } = cellOrigin(i);
      return y[(y0 + 16) * W + x + 16] ?? -1;
    };
    expect(at(0)).toBe(FRAME_CODE_BLACK);
    expect(at(1)).toBe(FRAME_CODE_WHITE);
    expect(at(2)).toBe(FRAME_CODE_WHITE);
    for (let i = 3; i < 10; i++) expect(at(i)).toBe(FRAME_CODE_BLACK);
    for (let i = 10; i < 26; i++) expect(at(i)).toBe(FRAME_CODE_BLACK);
    const crc = crc8([0x80, 0, 0]);
    for (let b = 0; b < 8; b++) expect(at(26 + b)).toBe((crc >> (7 - b)) & 1 ? FRAME_CODE_WHITE : FRAME_CODE_BLACK);
    // Below the band is untouched.
    expect(y[64 * W]).toBe(100);
  });
});

describe("frame code round trip", () => {
  it("reads back every code it drew, including the extremes", () => {
    const y = plane();
    for (const code of CODES) {
      drawFrameCode(y, W, code);
      expect(readFrameCode(y, W, H)).toEqual(code);
    }
  });

  it("works for other widths (2, 3 and 4 rows)", () => {
    for (const width of [1280, 608, 576, 544, 512, 384, 352]) {
      const height = 240;
      const y = plane(width, height);
      for (const code of [{ clipId: 255, frameIndex: 65535 }, { clipId: 3, frameIndex: 12345 }]) {
        drawFrameCode(y, width, code);
        expect(readFrameCode(y, width, height)).toEqual(code);
      }
    }
  });

  it("still decodes under ±40 luma Gaussian-ish noise", () => {
    const rand = rng(42);
    const band = 64;
    const y = plane(W, band);
    for (const code of CODES) {
      drawFrameCode(y, W, code);
      const noisy = Uint8Array.from(y, (v) => {
        const g = (rand() + rand() + rand() + rand() - 2) * 40; // ≈ N(0, 23), bounded by ±80
        return Math.max(0, Math.min(255, Math.round(v + Math.max(-40, Math.min(40, g)))));
      });
      expect(readFrameCode(noisy, W, band)).toEqual(code);
    }
  });

  it("decodes with shifted and squeezed levels (pilots set the threshold)", () => {
    const y = plane();
    const code = { clipId: 77, frameIndex: 4321 };
    drawFrameCode(y, W, code);
    const dim = Uint8Array.from(y, (v) => Math.round(60 + (v - 16) * 0.5)); // black 60, white ≈ 170
    expect(readFrameCode(dim, W, H)).toEqual(code);
  });
});

describe("frame code rejects what it cannot trust", () => {
  it("returns null, not a wrong code, when any one data cell is flipped", () => {
    const y = plane();
    const code = { clipId: 0xa5, frameIndex: 0x1234 };
    drawFrameCode(y, W, code);
    for (let i = 2; i < 34; i++) {
      const damaged = Uint8Array.from(y);
      const { x, y: y0 } = cellOrigin(i);
      const wasWhite = (damaged[(y0 + 16) * W + x + 16] ?? 0) > 128;
      fillCell(damaged, i, wasWhite ? FRAME_CODE_BLACK : FRAME_CODE_WHITE);
      expect(readFrameCode(damaged, W, H)).toBeNull();
    }
  });

  it("returns null when the pilots are swapped or equal", () => {
    const y = plane();
    drawFrameCode(y, W, { clipId: 1, frameIndex: 2 });
    const swapped = Uint8Array.from(y);
    fillCell(swapped, 0, FRAME_CODE_WHITE);
    fillCell(swapped, 1, FRAME_CODE_BLACK);
    expect(readFrameCode(swapped, W, H)).toBeNull();
    expect(readFrameCode(plane(W, H, 16), W, H)).toBeNull();
    expect(readFrameCode(plane(W, H, 128), W, H)).toBeNull();
  });

  it("returns null when a cell is undecided (mid grey), even on the right side of the threshold", () => {
    const y = plane();
    const code = { clipId: 9, frameIndex: 99 };
    drawFrameCode(y, W, code);
    const white = [...Array(34).keys()].filter((i) => {
      const { x, y: y0 } = cellOrigin(i);
      return i >= 2 && (y[(y0 + 16) * W + x + 16] ?? 0) === FRAME_CODE_WHITE;
    });
    const i = white[0] ?? -1;
    expect(i).toBeGreaterThanOrEqual(2);
    fillCell(y, i, 135); // still above the (16 + 235) / 2 threshold, but barely
    expect(readFrameCode(y, W, H)).toBeNull();
    fillCell(y, i, 200); // decisively white again
    expect(readFrameCode(y, W, H)).toEqual(code);
  });

  it("never returns a code from random noise frames", () => {
    const rand = rng(7);
    for (let n = 0; n < 50; n++) {
      const y = Uint8Array.from({ length: W * 64 }, () => Math.floor(rand() * 256));
      expect(readFrameCode(y, W, 64)).toBeNull();
    }
  });

  it("returns null when the frame is too small for the band", () => {
    expect(readFrameCode(plane(640, 48), 640, 48)).toBeNull();
    expect(readFrameCode(plane(32, 64), 32, 64)).toBeNull();
  });

  it("refuses codes out of range", () => {
    const y = plane();
    expect(() => drawFrameCode(y, W, { clipId: 256, frameIndex: 0 })).toThrow(RangeError);
    expect(() => drawFrameCode(y, W, { clipId: 0, frameIndex: 65536 })).toThrow(RangeError);
    expect(() => drawFrameCode(y, W, { clipId: -1, frameIndex: 0 })).toThrow(RangeError);
    expect(() => drawFrameCode(y, W, { clipId: 1.5, frameIndex: 0 })).toThrow(RangeError);
  });
});

describe("drawFrameCodeI420", () => {
  it("draws the luma band and neutralises U and V under it only", () => {
    const ySize = W * H;
    const cSize = (W / 2) * (H / 2);
    const frame = new Uint8Array(ySize + 2 * cSize);
    frame.fill(90, 0, ySize);
    frame.fill(60, ySize, ySize + cSize);
    frame.fill(200, ySize + cSize);
    const code = { clipId: 33, frameIndex: 777 };
    drawFrameCodeI420(frame, W, H, code);
    expect(readFrameCode(frame.subarray(0, ySize), W, H)).toEqual(code);
    const u = frame.subarray(ySize, ySize + cSize);
    const v = frame.subarray(ySize + cSize);
    const bandChromaRows = FRAME_CODE_BAND_HEIGHT / 2;
    expect(u.subarray(0, bandChromaRows * (W / 2)).every((b) => b === 128)).toBe(true);
    expect(v.subarray(0, bandChromaRows * (W / 2)).every((b) => b === 128)).toBe(true);
    expect(u.subarray(bandChromaRows * (W / 2)).every((b) => b === 60)).toBe(true);
    expect(v.subarray(bandChromaRows * (W / 2)).every((b) => b === 200)).toBe(true);
    expect(frame[FRAME_CODE_BAND_HEIGHT * W]).toBe(90);
  });

  it("refuses a buffer smaller than one frame", () => {
    expect(() => drawFrameCodeI420(new Uint8Array(W * H), W, H, { clipId: 0, frameIndex: 0 })).toThrow(/too small/);
  });
});
