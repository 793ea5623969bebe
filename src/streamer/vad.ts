// Energy-based voice activity detection on mono PCM (48 kHz by default), for finding where a
// student's spoken answer starts and ends in decoded audio. Deliberately simple and explainable:
//
//   1. Frames of 20 ms; a frame's level is 10·log10(mean square) in dB relative to full scale
//      (a full-scale square wave is 0 dB, a full-scale sine −3 dB; digital silence is −120 dB).
//   2. Noise floor = the 10th percentile of frame levels over the last 5 s (every frame counts, so
//      a rise in background noise is absorbed after ~4.5 s, and a lost/zeroed frame or two cannot
//      drag the floor down). Until 200 ms of audio have been seen there is no floor and nothing
//      is classified — unless `initialFloorDb` is given, which pre-fills the window (detectSpeech
//      does this with the whole buffer's 10th percentile, so speech at t = 0 is found).
//   3. A frame is loud if its level > max(floor + 10 dB, −60 dBFS).
//   4. Speech starts after `onsetMs` (40 ms) of consecutive loud frames, dated to the first of
//      them; it ends once `hangoverMs` (200 ms) pass without a loud frame, dated to the end of the
//      last loud frame. Segments shorter than `minSpeechMs` are dropped.
//
// Not a speech/non-speech classifier: any sustained sound well above the background counts, which
// is what a test harness with synthetic utterances needs. Processing is per 20 ms frame, with
// fixed buffers (no allocation per frame).

export type Pcm = Float32Array | Int16Array;

export type VadOptions = {
  sampleRate?: number;
  frameMs?: number;
  /** How far above the noise floor a loud frame is (dB). */
  thresholdDb?: number;
  /** Never loud below this level (dBFS), whatever the floor. */
  absoluteMinDb?: number;
  onsetMs?: number;
  hangoverMs?: number;
  minSpeechMs?: number;
  floorWindowMs?: number;
  /** 0..1: which percentile of the window is the floor. */
  floorPercentile?: number;
  /** Audio needed before a floor exists (when no initialFloorDb). */
  warmupMs?: number;
  /** Known background level (dBFS): pre-fills the floor window, so classification starts at once. */
  initialFloorDb?: number;
};

export type SpeechSegment = {
  startMs: number;
  endMs: number;
  /** Mean power of the segment's loud frames (dBFS). */
  energyDb: number;
  /** Noise floor when the speech started (dBFS). */
  noiseFloorDb: number;
  /** energyDb − noiseFloorDb. */
  snrDb: number;
};

export const VAD_DEFAULTS = {
  sampleRate: 48_000,
  frameMs: 20,
  thresholdDb: 10,
  absoluteMinDb: -60,
  onsetMs: 40,
  hangoverMs: 200,
  minSpeechMs: 60,
  floorWindowMs: 5000,
  floorPercentile: 0.1,
  warmupMs: 200,
} as const;

const SILENCE_DB = -120;

/** Level of a mean square value in dBFS (−120 for digital silence). */
export function levelDb(meanSquare: number): number {
  return meanSquare > 1e-12 ? 10 * Math.log10(meanSquare) : SILENCE_DB;
}

export class VoiceActivityDetector {
  readonly frameMs: number;
  private readonly o: Required<Omit<VadOptions, "initialFloorDb">>;
  private readonly frameSamples: number;
  private readonly onsetFrames: number;
  private readonly hangoverFrames: number;
  private readonly warmupFrames: number;
  // Frame accumulation across push() calls.
  private acc = 0;
  private accN = 0;
  private frame = 0;
  // Floor window (ring) and a scratch copy for the percentile.
  private readonly ring: Float64Array;
  private readonly scratch: Float64Array;
  private ringLen = 0;
  private ringAt = 0;
  private floor = Number.NaN;
  // Speech state.
  private speaking = false;
  private runStart = -1;
  private runLen = 0;
  private runFloor = 0;
  private runPower = 0;
  private runLoud = 0;
  private lastLoud = -1;
  private quiet = 0;

  constructor(opts: VadOptions = {}) {
    this.o = { ...VAD_DEFAULTS, ...stripUndefined(opts) };
    const o = this.o;
    if (!(o.sampleRate > 0) || !(o.frameMs > 0)) throw new Error(`vad: sampleRate and frameMs must be > 0, got ${o.sampleRate}, ${o.frameMs}`);
    if (!(o.floorPercentile >= 0 && o.floorPercentile <= 1)) throw new Error(`vad: floorPercentile must be within 0..1, got ${o.floorPercentile}`);
    this.frameMs = o.frameMs;
    this.frameSamples = Math.round((o.sampleRate * o.frameMs) / 1000);
    this.onsetFrames = Math.max(1, Math.round(o.onsetMs / o.frameMs));
    this.hangoverFrames = Math.max(1, Math.round(o.hangoverMs / o.frameMs));
    this.warmupFrames = Math.max(1, Math.round(o.warmupMs / o.frameMs));
    const n = Math.max(1, Math.round(o.floorWindowMs / o.frameMs));
    this.ring = new Float64Array(n);
    this.scratch = new Float64Array(n);
    if (opts.initialFloorDb !== undefined) {
      this.ring.fill(opts.initialFloorDb);
      this.ringLen = n;
      this.floor = opts.initialFloorDb;
    }
  }

  /** Current noise floor (dBFS), NaN during warm-up. */
  get noiseFloorDb(): number {
    return this.floor;
  }

  /** Inside a speech segment (onset confirmed, not yet ended)? */
  get inSpeech(): boolean {
    return this.speaking;
  }

  /** Start of the current speech segment (ms from the first sample), or null. */
  get speechStartMs(): number | null {
    return this.speaking ? this.runStart * this.frameMs : null;
  }

  /** Audio consumed so far (ms), whole frames only. */
  get processedMs(): number {
    return this.frame * this.frameMs;
  }

  /** Feed samples (any chunk size); returns the segments that ended within them. */
  push(pcm: Pcm): SpeechSegment[] {
    const out: SpeechSegment[] = [];
    const scale = pcm instanceof Int16Array ? 1 / 32768 : 1;
    const fs = this.frameSamples;
    for (let i = 0; i < pcm.length; i++) {
      const x = (pcm[i] as number) * scale;
      this.acc += x * x;
      if (++this.accN === fs) {
        this.onFrame(this.acc / fs, out);
        this.acc = 0;
        this.accN = 0;
      }
    }
    return out;
  }

  /** End of input: closes an open segment at its last loud frame (a partial frame is dropped). */
  flush(): SpeechSegment[] {
    const out: SpeechSegment[] = [];
    if (this.speaking) this.close(out);
    this.resetRun();
    return out;
  }

  private onFrame(meanSquare: number, out: SpeechSegment[]): void {
    const k = this.frame++;
    const e = levelDb(meanSquare);
    const floor = this.floor;
    this.addToWindow(e);
    if (Number.isNaN(floor)) return; // warm-up: no floor yet
    const loud = e > Math.max(floor + this.o.thresholdDb, this.o.absoluteMinDb);
    if (!this.speaking) {
      if (!loud) return this.resetRun();
      if (this.runLen === 0) {
        this.runStart = k;
        this.runFloor = floor;
      }
      this.runLen++;
      this.runPower += meanSquare;
      this.runLoud++;
      this.lastLoud = k;
      if (this.runLen >= this.onsetFrames) this.speaking = true;
      return;
    }
    if (loud) {
      this.runPower += meanSquare;
      this.runLoud++;
      this.lastLoud = k;
      this.quiet = 0;
    } else if (++this.quiet >= this.hangoverFrames) {
      this.close(out);
      this.resetRun();
    }
  }

  private close(out: SpeechSegment[]): void {
    const startMs = this.runStart * this.frameMs;
    const endMs = (this.lastLoud + 1) * this.frameMs;
    if (endMs - startMs >= this.o.minSpeechMs) {
      const energyDb = levelDb(this.runPower / Math.max(1, this.runLoud));
      out.push({ startMs, endMs, energyDb, noiseFloorDb: this.runFloor, snrDb: energyDb - this.runFloor });
    }
  }

  private resetRun(): void {
    this.speaking = false;
    this.runLen = 0;
    this.runStart = -1;
    this.runPower = 0;
    this.runLoud = 0;
    this.quiet = 0;
  }

  private addToWindow(e: number): void {
    const n = this.ring.length;
    this.ring[this.ringAt] = e;
    this.ringAt = (this.ringAt + 1) % n;
    if (this.ringLen < n) this.ringLen++;
    if (this.ringLen < this.warmupFrames) return;
    this.floor = percentile(this.ring, this.ringLen, this.scratch, this.o.floorPercentile);
  }
}

/** p-th percentile (nearest rank) of the first `len` values, sorted in `scratch`. */
function percentile(values: Float64Array, len: number, scratch: Float64Array, p: number): number {
  const s = scratch.subarray(0, len);
  s.set(values.subarray(0, len));
  s.sort();
  return s[Math.min(len - 1, Math.max(0, Math.ceil(p * len) - 1))] as number;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Whole-buffer detection: the floor window is pre-filled with the buffer's own 10th-percentile
 * level (unless `initialFloorDb` is given), so speech at the very start is found too.
 */
export function detectSpeech(pcm: Pcm, opts: VadOptions = {}): { segments: SpeechSegment[]; noiseFloorDb: number } {
  const initialFloorDb = opts.initialFloorDb ?? bufferFloorDb(pcm, opts);
  const vad = new VoiceActivityDetector({ ...opts, initialFloorDb });
  const segments = [...vad.push(pcm), ...vad.flush()];
  return { segments, noiseFloorDb: initialFloorDb };
}

/** The floorPercentile (default 10th) of a buffer's frame levels (dBFS); −120 for an empty buffer. */
export function bufferFloorDb(pcm: Pcm, opts: Pick<VadOptions, "sampleRate" | "frameMs" | "floorPercentile"> = {}): number {
  const levels = frameLevelsDb(pcm, opts);
  if (levels.length === 0) return SILENCE_DB;
  return percentile(levels, levels.length, new Float64Array(levels.length), opts.floorPercentile ?? VAD_DEFAULTS.floorPercentile);
}

/** Level (dBFS) of each whole frame of a buffer. */
export function frameLevelsDb(pcm: Pcm, opts: Pick<VadOptions, "sampleRate" | "frameMs"> = {}): Float64Array {
  const fs = Math.round(((opts.sampleRate ?? VAD_DEFAULTS.sampleRate) * (opts.frameMs ?? VAD_DEFAULTS.frameMs)) / 1000);
  const scale = pcm instanceof Int16Array ? 1 / 32768 : 1;
  const n = Math.floor(pcm.length / fs);
  const out = new Float64Array(n);
  for (let f = 0; f < n; f++) {
    let acc = 0;
    for (let i = f * fs; i < (f + 1) * fs; i++) {
      const x = (pcm[i] as number) * scale;
      acc += x * x;
    }
    out[f] = levelDb(acc / fs);
  }
  return out;
}
