// Harness clip content, synthesised as raw I420 video and 48 kHz mono PCM (pure, no I/O; the
// generator pipes these into ffmpeg). Each clip carries what the metrics need (DESIGN.md "Media"):
//   - the frame-code band (frame-code.ts) on top of every frame: clip id + frame index;
//   - a sync marker every whole second: video flashes a white 64×64 square (macroblock-aligned,
//     bottom-right) on frames where frameIndex % fps < FLASH_FRAMES (black square otherwise), and
//     audio plays a 40 ms Hann-windowed linear chirp 300→3400 Hz at ≈ −6 dBFS whose FIRST SAMPLE
//     is at k·1000 ms + markerAudioOffsetMs. The flash's first frame (frame k·fps) and the burst's
//     first sample are the same presentation instant when the offset is 0; a positive offset puts
//     the audio later (audio lags). A detector correlates with syncChirp() (matched filter).
//   - clip-specific, moving content so the encoder does real work: a background hue from clipId,
//     diagonal luma bars sliding 4 px/frame, and a large shape (disc, square, diamond or triangle
//     by clipId % 4, complementary colour) drifting sideways;
//   - a quiet tone bed (two low sine partials, peak ≤ −30 dBFS, pitch from clipId).
// Colour conversion: BT.601, video range (Y 16..235, Cb/Cr 16..240).

import { FRAME_CODE_BLACK, FRAME_CODE_WHITE, drawFrameCodeI420, frameCodeBandHeight } from "./frame-code.js";

/** What the pattern depends on (a normalised ClipSpec satisfies it). fps must be an integer. */
export type PatternSpec = {
  clipId: number;
  durationMs: number;
  width: number;
  height: number;
  fps: number;
  /** Burst time against its flash (ms, + = audio later); a list cycles per marker (calibration). */
  markerAudioOffsetMs: number | readonly number[];
};

export const AUDIO_SAMPLE_RATE = 48000;
/** Frames the flash square stays white at each marker (3 frames = 100 ms at 30 fps). */
export const FLASH_FRAMES = 3;
export const FLASH_SIZE_PX = 64;
export const SYNC_CHIRP_MS = 40;
export const SYNC_CHIRP_F0_HZ = 300;
export const SYNC_CHIRP_F1_HZ = 3400;
/** Peak amplitude of the burst, full scale = 1 (0.5 ≈ −6 dBFS). */
export const SYNC_BURST_AMPLITUDE = 0.5;
/** Peak amplitude of each of the two tone-bed partials (together ≤ 0.0316 ≈ −30 dBFS). */
const TONE_PARTIAL_AMPLITUDE = 0.0158;

const BAR_PERIOD_PX = 96;
const BAR_SPEED_PX_PER_FRAME = 4;
const BAR_DEPTH = 28;

/** Bytes of one I420 frame. */
export function i420FrameBytes(width: number, height: number): number {
  return width * height + 2 * ((width + 1) >> 1) * ((height + 1) >> 1);
}

/** Number of video frames in a clip: round(durationMs · fps / 1000). */
export function clipFrameCount(spec: Pick<PatternSpec, "durationMs" | "fps">): number {
  return Math.round((spec.durationMs * spec.fps) / 1000);
}

/** Number of audio samples in a clip: round(durationMs · 48). */
export function clipSampleCount(spec: Pick<PatternSpec, "durationMs">): number {
  return Math.round((spec.durationMs * AUDIO_SAMPLE_RATE) / 1000);
}

/** The flash square: top-left corner and side, px, on the 16-px grid at the bottom-right. */
export function flashRect(width: number, height: number): { x: number; y: number; size: number } {
  return {
    x: Math.floor(width / 16) * 16 - FLASH_SIZE_PX,
    y: Math.floor(height / 16) * 16 - FLASH_SIZE_PX,
    size: FLASH_SIZE_PX,
  };
}

/** True on frames where the flash square is white. */
export function isFlashFrame(frameIndex: number, fps: number): boolean {
  return frameIndex % fps < FLASH_FRAMES;
}

type Yuv = { y: number; u: number; v: number };

function hsvToYuv(hueDeg: number, s: number, val: number): Yuv {
  const h = (((hueDeg % 360) + 360) % 360) / 60;
  const c = val * s;
  const x = c * (1 - Math.abs((h % 2) - 1));
  const m = val - c;
  const [r1, g1, b1] = h < 1 ? [c, x, 0] : h < 2 ? [x, c, 0] : h < 3 ? [0, c, x] : h < 4 ? [0, x, c] : h < 5 ? [x, 0, c] : [c, 0, x];
  const r = r1 + m;
  const g = g1 + m;
  const b = b1 + m;
  return {
    y: Math.round(16 + 65.481 * r + 128.553 * g + 24.966 * b),
    u: Math.round(128 - 37.797 * r - 74.203 * g + 112 * b),
    v: Math.round(128 + 112 * r - 93.786 * g - 18.214 * b),
  };
}

function clipHue(clipId: number): number {
  return (clipId * 137.508) % 360; // golden angle: neighbouring ids get far-apart hues
}

const BAR_TABLE: Int8Array = (() => {
  const t = new Int8Array(BAR_PERIOD_PX);
  for (let i = 0; i < BAR_PERIOD_PX; i++) t[i] = Math.round(BAR_DEPTH * Math.sin((2 * Math.PI * i) / BAR_PERIOD_PX));
  return t;
})();

function insideShape(kind: number, dx: number, dy: number, r: number): boolean {
  switch (kind) {
    case 0:
      return dx * dx + dy * dy <= r * r;
    case 1:
      return Math.abs(dx) <= r * 0.85 && Math.abs(dy) <= r * 0.85;
    case 2:
      return Math.abs(dx) + Math.abs(dy) <= r;
    default:
      return dy >= -r && dy <= 0.7 * r && Math.abs(dx) <= (dy + r) * 0.6;
  }
}

/**
 * Write frame `frameIndex` of the clip into `out` (I420: Y, then U and V at half size; length ≥
 * i420FrameBytes). Deterministic: the same spec and index give the same bytes.
 */
export function renderVideoFrame(spec: PatternSpec, frameIndex: number, out: Uint8Array): void {
  const { width: w, height: h, clipId, fps } = spec;
  const cw = (w + 1) >> 1;
  const ch = (h + 1) >> 1;
  const ySize = w * h;
  if (out.length < i420FrameBytes(w, h)) throw new RangeError(`clip pattern: buffer of ${out.length} bytes < one ${w}×${h} I420 frame`);
  const band = frameCodeBandHeight(w);
  const flash = flashRect(w, h);
  if (flash.y < band) throw new RangeError(`clip pattern: ${w}×${h} is too small for the frame-code band and the flash square`);

  const hue = clipHue(clipId);
  const bg = hsvToYuv(hue, 0.5, 0.55);
  const fg = hsvToYuv(hue + 180, 0.6, 0.9);

  // Background luma with sliding diagonal bars; flat background chroma.
  const shift = (frameIndex * BAR_SPEED_PX_PER_FRAME) % BAR_PERIOD_PX;
  for (let row = 0; row < h; row++) {
    const base = row * w;
    let phase = (row + BAR_PERIOD_PX - shift) % BAR_PERIOD_PX;
    for (let x = 0; x < w; x++) {
      out[base + x] = bg.y + (BAR_TABLE[phase] ?? 0);
      if (++phase === BAR_PERIOD_PX) phase = 0;
    }
  }
  out.fill(bg.u, ySize, ySize + cw * ch);
  out.fill(bg.v, ySize + cw * ch, ySize + 2 * cw * ch);

  // The clip's shape, drifting sideways over a 4 s cycle, between the band and the flash row.
  const kind = clipId % 4;
  const r = Math.floor(Math.min(w, flash.y - band) * 0.4);
  const cx = Math.round(w / 2 + (w / 5) * Math.sin((2 * Math.PI * frameIndex) / (4 * fps)));
  const cy = Math.round(band + (flash.y - band) / 2);
  const y0 = Math.max(0, cy - r);
  const y1 = Math.min(h - 1, cy + r);
  const x0 = Math.max(0, cx - r);
  const x1 = Math.min(w - 1, cx + r);
  for (let row = y0; row <= y1; row++) {
    for (let x = x0; x <= x1; x++) {
      if (insideShape(kind, x - cx, row - cy, r)) out[row * w + x] = fg.y;
    }
  }
  for (let crow = y0 >> 1; crow <= y1 >> 1; crow++) {
    for (let cx2 = x0 >> 1; cx2 <= x1 >> 1; cx2++) {
      if (insideShape(kind, 2 * cx2 + 1 - cx, 2 * crow + 1 - cy, r)) {
        out[ySize + crow * cw + cx2] = fg.u;
        out[ySize + cw * ch + crow * cw + cx2] = fg.v;
      }
    }
  }

  // Sync flash square: white on marker frames, black otherwise; neutral chroma.
  const level = isFlashFrame(frameIndex, fps) ? FRAME_CODE_WHITE : FRAME_CODE_BLACK;
  for (let row = flash.y; row < flash.y + flash.size; row++) out.fill(level, row * w + flash.x, row * w + flash.x + flash.size);
  for (let crow = flash.y >> 1; crow < (flash.y + flash.size) >> 1; crow++) {
    const c0 = crow * cw + (flash.x >> 1);
    out.fill(128, ySize + c0, ySize + c0 + flash.size / 2);
    out.fill(128, ySize + cw * ch + c0, ySize + cw * ch + c0 + flash.size / 2);
  }

  drawFrameCodeI420(out, w, h, { clipId, frameIndex });
}

/**
 * The sync burst's exact shape at `sampleRate`, unit peak window: a linear chirp 300→3400 Hz
 * over 40 ms, phase 2π(f0·t + (f1−f0)·t²/(2T)), under a Hann window 0.5(1 − cos(2πn/(N−1))).
 * renderAudio adds SYNC_BURST_AMPLITUDE × this template; use it as the matched filter.
 */
export function syncChirp(sampleRate: number): Float32Array {
  const n = Math.round((SYNC_CHIRP_MS * sampleRate) / 1000);
  const T = SYNC_CHIRP_MS / 1000;
  const k = (SYNC_CHIRP_F1_HZ - SYNC_CHIRP_F0_HZ) / T;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const t = i / sampleRate;
    const window = 0.5 * (1 - Math.cos((2 * Math.PI * i) / (n - 1)));
    out[i] = window * Math.sin(2 * Math.PI * (SYNC_CHIRP_F0_HZ * t + (k * t * t) / 2));
  }
  return out;
}

/** Marker k's audio offset against its flash (ms). */
export function markerOffsetAt(spec: Pick<PatternSpec, "markerAudioOffsetMs">, k: number): number {
  const o = spec.markerAudioOffsetMs;
  return typeof o === "number" ? o : (o[k % o.length] ?? 0);
}

/**
 * First sample (48 kHz) of every sync burst in the clip: k·1000 ms + markerAudioOffsetMs for every
 * whole second k whose burst lies wholly inside the clip (bursts outside are skipped).
 */
export function syncBurstStartSamples(spec: Pick<PatternSpec, "durationMs" | "markerAudioOffsetMs">): number[] {
  const total = clipSampleCount(spec);
  const len = Math.round((SYNC_CHIRP_MS * AUDIO_SAMPLE_RATE) / 1000);
  const starts: number[] = [];
  for (let k = 0; k * 1000 + markerOffsetAt(spec, k) < spec.durationMs; k++) {
    const start = Math.round(((k * 1000 + markerOffsetAt(spec, k)) * AUDIO_SAMPLE_RATE) / 1000);
    if (start >= 0 && start + len <= total) starts.push(start);
  }
  return starts;
}

/** The clip's whole soundtrack: mono, 48 kHz, signed 16-bit. */
export function renderAudio(spec: PatternSpec): Int16Array {
  const total = clipSampleCount(spec);
  const mix = new Float32Array(total);
  const f1 = 90 + 10 * (spec.clipId % 12);
  const f2 = f1 * 1.5;
  for (let i = 0; i < total; i++) {
    const t = i / AUDIO_SAMPLE_RATE;
    mix[i] = TONE_PARTIAL_AMPLITUDE * (Math.sin(2 * Math.PI * f1 * t) + Math.sin(2 * Math.PI * f2 * t));
  }
  const chirp = syncChirp(AUDIO_SAMPLE_RATE);
  for (const start of syncBurstStartSamples(spec)) {
    for (let i = 0; i < chirp.length; i++) mix[start + i] = (mix[start + i] ?? 0) + SYNC_BURST_AMPLITUDE * (chirp[i] ?? 0);
  }
  const pcm = new Int16Array(total);
  for (let i = 0; i < total; i++) {
    pcm[i] = Math.max(-32768, Math.min(32767, Math.round((mix[i] ?? 0) * 32767)));
  }
  return pcm;
}
