// Frame code: a band of large black/white cells at the top of every harness frame that carries
// {clipId, frameIndex} so a receiver can tell exactly which source frame it is showing (DESIGN.md
// "Media"). It must survive low-bitrate VP8, so:
//   - cells are 32×32 px on the 16-px macroblock grid (each macroblock is one flat colour, which
//     the DCT keeps almost losslessly even at high quantisers);
//   - levels are video-range luma, 16 (black) and 235 (white); the band's chroma is neutral (128);
//   - a reader averages only each cell's central 16×16 (the "inner half"), away from ringing at
//     cell edges, and derives its black/white threshold per frame from two pilot cells.
//
// Layout (cell index i, row = floor(i / cellsPerRow), col = i % cellsPerRow, cellsPerRow =
// floor(width / 32)):
//   i = 0        pilot, always black
//   i = 1        pilot, always white
//   i = 2..33    32 data bits, MSB first, of [clipId:8][frameIndex:16 big-endian][crc8:8], where
//                crc8 (poly 0x07, init 0, see crc8.ts) is over the three bytes clipId, frameIndex
//                hi, frameIndex lo. Bit 1 = white.
//   i ≥ 34       unused cells and any columns right of the last whole cell: black.
// Rows = ceil(34 / cellsPerRow): 2 rows (a 64-px band, FRAME_CODE_BAND_HEIGHT) for any width
// ≥ 544 px (17 cells per row), which covers every width ≥ 576 the harness uses; narrower frames get
// 3 rows (≥ 384 px), 4 rows (≥ 288 px) and so on. frameCodeBandHeight(width) gives the exact figure.
//
// A read is rejected (null) when the pilots are not clearly apart (contrast < 64 levels), when any
// data cell sits within a quarter of the pilot contrast of the threshold (an undecided cell is a
// misread waiting to happen), or when the CRC does not match — so a damaged frame yields null,
// not a wrong code.

import { crc8 } from "./crc8.js";

export type FrameCode = { clipId: number; frameIndex: number };

/** Side of one cell, px. Multiple of the 16-px VP8 macroblock. */
export const FRAME_CODE_CELL_PX = 32;
/** Cells carried: 2 pilots + 32 data bits. */
export const FRAME_CODE_CELLS = 34;
/** Band height for widths ≥ 544 px (2 rows of cells); narrower widths: frameCodeBandHeight(). */
export const FRAME_CODE_BAND_HEIGHT = 64;
/** Video-range luma levels used for the cells. */
export const FRAME_CODE_BLACK = 16;
export const FRAME_CODE_WHITE = 235;

const CELL = FRAME_CODE_CELL_PX;
const INNER = CELL / 2;
const INNER_OFFSET = (CELL - INNER) / 2;
const MIN_PILOT_CONTRAST = 64;
const UNDECIDED_FRACTION = 0.25;

/** Whole cells that fit in one row of a frame `width` px wide. */
function cellsPerRow(width: number): number {
  return Math.floor(width / CELL);
}

/** Height in px of the band for a frame `width` px wide; throws when width holds < 2 cells a row. */
export function frameCodeBandHeight(width: number): number {
  const perRow = cellsPerRow(width);
  if (!Number.isInteger(width) || perRow < 2) {
    throw new RangeError(`frame code: width ${width} px is too narrow (need ≥ ${2 * CELL} px)`);
  }
  return Math.ceil(FRAME_CODE_CELLS / perRow) * CELL;
}

/** The 32-bit payload: clipId, frameIndex (big-endian), CRC-8 of those three bytes. */
function encodeWord(code: FrameCode): number {
  const { clipId, frameIndex } = code;
  if (!Number.isInteger(clipId) || clipId < 0 || clipId > 0xff) {
    throw new RangeError(`frame code: clipId ${clipId} is not an integer in 0..255`);
  }
  if (!Number.isInteger(frameIndex) || frameIndex < 0 || frameIndex > 0xffff) {
    throw new RangeError(`frame code: frameIndex ${frameIndex} is not an integer in 0..65535`);
  }
  const hi = frameIndex >>> 8;
  const lo = frameIndex & 0xff;
  const crc = crc8([clipId, hi, lo]);
  return ((clipId << 24) | (hi << 16) | (lo << 8) | crc) >>> 0;
}

function fillRect(y: Uint8Array, stride: number, x0: number, y0: number, w: number, h: number, v: number): void {
  for (let row = y0; row < y0 + h; row++) {
    const start = row * stride + x0;
    y.fill(v, start, start + w);
  }
}

/**
 * Paint the band into a luma plane (stride = width). Overwrites rows 0..frameCodeBandHeight(width).
 */
export function drawFrameCode(y: Uint8Array, width: number, code: FrameCode): void {
  const band = frameCodeBandHeight(width);
  if (y.length < band * width) {
    throw new RangeError(`frame code: luma plane of ${y.length} bytes is smaller than the ${width}×${band} band`);
  }
  const word = encodeWord(code);
  const perRow = cellsPerRow(width);
  fillRect(y, width, 0, 0, width, band, FRAME_CODE_BLACK);
  for (let i = 1; i < FRAME_CODE_CELLS; i++) {
    const white = i === 1 || (i >= 2 && ((word >>> (31 - (i - 2))) & 1) === 1);
    if (!white) continue;
    const x0 = (i % perRow) * CELL;
    const y0 = Math.floor(i / perRow) * CELL;
    fillRect(y, width, x0, y0, CELL, CELL, FRAME_CODE_WHITE);
  }
}

/**
 * Paint the band into a whole I420 frame (Y plane, then U and V at half resolution): the luma
 * cells as drawFrameCode, and the chroma under the band set to neutral 128 so the cells are grey
 * levels whatever the picture around them.
 */
export function drawFrameCodeI420(frame: Uint8Array, width: number, height: number, code: FrameCode): void {
  const band = frameCodeBandHeight(width);
  const cw = (width + 1) >> 1;
  const ch = (height + 1) >> 1;
  const ySize = width * height;
  if (frame.length < ySize + 2 * cw * ch) {
    throw new RangeError(`frame code: I420 buffer of ${frame.length} bytes is too small for ${width}×${height}`);
  }
  if (band > height) {
    throw new RangeError(`frame code: ${band}-px band does not fit a ${width}×${height} frame`);
  }
  drawFrameCode(frame.subarray(0, ySize), width, code);
  const chromaRows = Math.min(ch, (band + 1) >> 1);
  frame.fill(128, ySize, ySize + chromaRows * cw);
  frame.fill(128, ySize + cw * ch, ySize + cw * ch + chromaRows * cw);
}

function innerMean(y: Uint8Array, stride: number, x0: number, y0: number): number {
  let sum = 0;
  for (let row = y0 + INNER_OFFSET; row < y0 + INNER_OFFSET + INNER; row++) {
    const start = row * stride + x0 + INNER_OFFSET;
    for (let x = start; x < start + INNER; x++) sum += y[x] ?? 0;
  }
  return sum / (INNER * INNER);
}

/**
 * Read the band from a luma plane (stride = width). Returns null when the band cannot be read
 * with confidence (pilots not apart, an undecided cell, CRC mismatch) or the frame is too small
 * to hold one. Allocates nothing but the result.
 */
export function readFrameCode(y: Uint8Array, width: number, height: number): FrameCode | null {
  if (y.length < width * height) {
    throw new RangeError(`frame code: luma plane of ${y.length} bytes is smaller than ${width}×${height}`);
  }
  const perRow = cellsPerRow(width);
  if (perRow < 2) return null;
  const band = Math.ceil(FRAME_CODE_CELLS / perRow) * CELL;
  if (band > height) return null;

  const black = innerMean(y, width, 0, 0);
  const white = innerMean(y, width, (1 % perRow) * CELL, Math.floor(1 / perRow) * CELL);
  const contrast = white - black;
  if (contrast < MIN_PILOT_CONTRAST) return null;
  const threshold = (black + white) / 2;
  const margin = contrast * UNDECIDED_FRACTION;

  let word = 0;
  for (let i = 2; i < FRAME_CODE_CELLS; i++) {
    const mean = innerMean(y, width, (i % perRow) * CELL, Math.floor(i / perRow) * CELL);
    if (Math.abs(mean - threshold) < margin) return null;
    word = ((word << 1) | (mean > threshold ? 1 : 0)) >>> 0;
  }
  const clipId = word >>> 24;
  const hi = (word >>> 16) & 0xff;
  const lo = (word >>> 8) & 0xff;
  // Fold the CRC byte by byte (no per-frame array).
  const crc = crc8Byte(crc8Byte(crc8Byte(0, clipId), hi), lo);
  if (crc !== (word & 0xff)) return null;
  return { clipId, frameIndex: (hi << 8) | lo };
}

const ONE = new Uint8Array(1);
function crc8Byte(crc: number, byte: number): number {
  ONE[0] = byte;
  return crc8(ONE, crc);
}
