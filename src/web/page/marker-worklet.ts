// AudioWorklet: finds the sync-marker bursts (clip-pattern.ts syncChirp) in the audio the page
// really plays, with a normalised matched filter, and posts each burst's first sample frame.
//
//   score(s) = Σ x[s+i]·t[i] / sqrt(Σ t[i]² · Σ x[s+i]²)     i = 0..N−1, N = template length
//
// s is a context sample frame (currentFrame + index in the block), so s / sampleRate is the burst's
// start on the AudioContext clock; the main thread maps that to performance time (probe.ts).
// Cost: the score is evaluated every COARSE_STRIDE frames (the chirp's main lobe, ≈ 1/3.1 kHz ≈
// 14 samples wide, is still sampled well) and refined at every frame around the best coarse lag.
// A peak is reported once the score stayed below the best for half a template after it (so the
// true maximum was seen); later peaks within `refractoryMs` of a reported one are ignored.
// Message posted: { frame: number; score: number }.

// AudioWorkletGlobalScope is not in lib DOM: the few names used here.
declare const sampleRate: number;
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
  constructor(options?: unknown);
}
declare function registerProcessor(name: string, ctor: new (options: { processorOptions?: unknown }) => AudioWorkletProcessor): void;
declare const currentFrame: number;

export type MarkerWorkletOptions = {
  /** syncChirp(sampleRate): the matched-filter template. */
  template: Float32Array;
  /** Minimum normalised score (0..1) to report. */
  threshold: number;
  /** Ignore peaks within this time of a reported one (ms). */
  refractoryMs: number;
};

const COARSE_STRIDE = 4;
const RING = 1 << 14; // ≥ template (≤ 1920 at 48 kHz) + half a template of look-ahead + a block

class MarkerProcessor extends AudioWorkletProcessor {
  private readonly t: Float32Array;
  private readonly tEnergy: number;
  private readonly threshold: number;
  private readonly refractoryFrames: number;
  private readonly ring = new Float32Array(RING);
  private readonly sq = new Float64Array(RING); // running Σx² up to each frame (prefix, mod ring)
  private total = 0; // Σx² of all frames pushed (prefix at the next frame)
  private pushed = 0; // frames pushed; frame f lives at ring[f & (RING − 1)]
  private firstFrame = -1;
  private bestScore = 0;
  private bestLag = -1;
  private lastReported = -Infinity;

  constructor(options: { processorOptions?: unknown }) {
    super(options);
    const o = options.processorOptions as MarkerWorkletOptions;
    this.t = o.template;
    let e = 0;
    for (let i = 0; i < this.t.length; i++) e += this.t[i]! * this.t[i]!;
    this.tEnergy = e;
    this.threshold = o.threshold;
    this.refractoryFrames = Math.round((o.refractoryMs * sampleRate) / 1000);
  }

  /** Score of the template placed at context frame s (all of s..s+N−1 already pushed). */
  private score(s: number): number {
    const n = this.t.length;
    let dot = 0;
    for (let i = 0; i < n; i++) dot += this.ring[(s + i) & (RING - 1)]! * this.t[i]!;
    // Σx² over [s, s+N) from the prefix sums.
    const e = this.prefix(s + n) - this.prefix(s);
    if (e <= 1e-12) return 0;
    return dot / Math.sqrt(this.tEnergy * e);
  }

  private prefix(f: number): number {
    // prefix(f) = Σx² of frames < f; sq holds it at index f & mask for the last RING frames.
    return f === this.firstFrame + this.pushed ? this.total : this.sq[f & (RING - 1)]!;
  }

  process(inputs: Float32Array[][]): boolean {
    const ch = inputs[0]?.[0];
    const n = this.t.length;
    const blockLen = ch?.length ?? 128;
    if (this.firstFrame < 0) this.firstFrame = currentFrame;
    for (let i = 0; i < blockLen; i++) {
      const f = this.firstFrame + this.pushed;
      const x = ch ? ch[i]! : 0;
      this.sq[f & (RING - 1)] = this.total;
      this.ring[f & (RING - 1)] = x;
      this.total += x * x;
      this.pushed++;
      // Template placed at s = f − N + 1 is now complete.
      const s = f - n + 1;
      if (s < this.firstFrame || s % COARSE_STRIDE !== 0) continue;
      const sc = this.score(s);
      if (sc >= this.threshold && sc > this.bestScore) {
        this.bestScore = sc;
        this.bestLag = s;
      }
      if (this.bestLag >= 0 && s - this.bestLag > n / 2) this.finish();
    }
    // The running energy sum grows without bound; rebase it now and then to keep precision.
    if (this.total > 1e9) this.rebase();
    return true;
  }

  private finish(): void {
    // Refine at every frame around the coarse best (its neighbours are still in the ring).
    let best = this.bestLag;
    let bestScore = this.bestScore;
    for (let s = this.bestLag - COARSE_STRIDE + 1; s < this.bestLag + COARSE_STRIDE; s++) {
      if (s === this.bestLag || s < this.firstFrame) continue;
      const sc = this.score(s);
      if (sc > bestScore) {
        bestScore = sc;
        best = s;
      }
    }
    if (best - this.lastReported >= this.refractoryFrames) {
      this.lastReported = best;
      this.port.postMessage({ frame: best, score: bestScore });
    }
    this.bestLag = -1;
    this.bestScore = 0;
  }

  private rebase(): void {
    const base = this.sq[(this.firstFrame + this.pushed - RING + 1) & (RING - 1)]!;
    for (let i = 0; i < RING; i++) this.sq[i] = this.sq[i]! - base;
    this.total -= base;
  }
}

registerProcessor("proctor-marker", MarkerProcessor);
