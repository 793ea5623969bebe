// Finds the sync-marker bursts (clip-pattern.ts syncChirp) in a stream of audio samples with a
// normalised matched filter, and reports each burst's first sample:
//
//   score(s) = Σ x[s+i]·t[i] / sqrt(Σ t[i]² · Σ x[s+i]²)     i = 0..N−1, N = template length
//
// s counts samples since the first one pushed; the caller maps it to a time (probe.ts: the
// AudioData chunk that held it). Cost: the search runs on the signal and template averaged over 4
// samples (a box filter: −1.3 dB at 3.4 kHz, so the chirp survives; 11–12 kHz is plenty for a
// 300–3400 Hz burst), i.e. 1/16 of a full-rate filter, and is refined at every full-rate sample
// (±8) around the coarse peak. A peak is reported once the coarse score stayed below the best for
// half a template after it (so the true maximum was seen), if the refined score still reaches the
// threshold; later peaks within `refractoryFrames` of a reported one are ignored. Sample-exact on
// clip soundtracks (test/unit/marker-detector.test.ts). Pure: runs in the page and in Node.

export type MarkerDetectorOptions = {
  /** syncChirp(sampleRate): the matched-filter template. */
  template: Float32Array;
  /** Minimum normalised score (0..1) to report. */
  threshold: number;
  /** Ignore peaks within this many samples of a reported one. */
  refractoryFrames: number;
};

const DECIMATE = 4;
const RING = 1 << 14; // full rate: ≥ template (≤ 1920 at 48 kHz) · 1.5 + a block
const DRING = RING / DECIMATE;

/** A ring of samples with prefix sums of their squares, for normalised correlation. */
class SampleRing {
  readonly x: Float32Array;
  private readonly sq: Float64Array; // sq[f & mask] = Σx² of samples < f
  private readonly mask: number;
  pushed = 0;
  private total = 0;

  constructor(size: number) {
    this.x = new Float32Array(size);
    this.sq = new Float64Array(size);
    this.mask = size - 1;
  }

  push(v: number): void {
    const k = this.pushed & this.mask;
    this.sq[k] = this.total;
    this.x[k] = v;
    this.total += v * v;
    this.pushed++;
    // The running sum grows without bound: rebase it now and then to keep precision.
    if (this.total > 1e9) {
      const base = this.sq[(this.pushed + 1) & this.mask]!;
      for (let i = 0; i < this.sq.length; i++) this.sq[i] = this.sq[i]! - base;
      this.total -= base;
    }
  }

  private prefix(f: number): number {
    return f === this.pushed ? this.total : this.sq[f & this.mask]!;
  }

  /** Normalised correlation of template t placed at sample s (s..s+N−1 pushed and still held). */
  score(s: number, t: Float32Array, tEnergy: number): number {
    const n = t.length;
    let dot = 0;
    for (let i = 0; i < n; i++) dot += this.x[(s + i) & this.mask]! * t[i]!;
    const e = this.prefix(s + n) - this.prefix(s);
    if (e <= 1e-12) return 0;
    return dot / Math.sqrt(tEnergy * e);
  }
}

function energy(t: Float32Array): number {
  let e = 0;
  for (let i = 0; i < t.length; i++) e += t[i]! * t[i]!;
  return e;
}

export class MarkerDetector {
  private readonly t: Float32Array;
  private readonly tEnergy: number;
  private readonly td: Float32Array; // the template decimated the same way as the signal
  private readonly tdEnergy: number;
  private readonly threshold: number;
  private readonly refractoryFrames: number;
  private readonly full = new SampleRing(RING);
  private readonly dec = new SampleRing(DRING);
  private acc = 0;
  private bestScore = 0;
  private bestLag = -1; // decimated index
  private lastReported = -Infinity;

  constructor(o: MarkerDetectorOptions) {
    this.t = o.template;
    this.tEnergy = energy(this.t);
    this.td = new Float32Array(Math.floor(this.t.length / DECIMATE));
    for (let m = 0; m < this.td.length; m++) {
      let a = 0;
      for (let k = 0; k < DECIMATE; k++) a += this.t[m * DECIMATE + k]!;
      this.td[m] = a / DECIMATE;
    }
    this.tdEnergy = energy(this.td);
    this.threshold = o.threshold;
    this.refractoryFrames = o.refractoryFrames;
  }

  /** Samples pushed so far: the index the next pushed sample gets. */
  get pushed(): number {
    return this.full.pushed;
  }

  /** Feed samples (any block size); `onMarker` gets each burst's first-sample index and score. */
  push(samples: Float32Array, onMarker: (frame: number, score: number) => void): void {
    const nd = this.td.length;
    for (let i = 0; i < samples.length; i++) {
      const x = samples[i]!;
      this.full.push(x);
      this.acc += x;
      if (this.full.pushed % DECIMATE !== 0) continue;
      this.dec.push(this.acc / DECIMATE);
      this.acc = 0;
      // The decimated template placed at m = latest − Nd + 1 is now complete.
      const m = this.dec.pushed - nd;
      if (m < 0) continue;
      const sc = this.dec.score(m, this.td, this.tdEnergy);
      if (sc >= this.threshold && sc > this.bestScore) {
        this.bestScore = sc;
        this.bestLag = m;
      }
      if (this.bestLag >= 0 && m - this.bestLag > nd / 2) this.finish(onMarker);
    }
  }

  /** Refine at full rate around the coarse peak (those samples are still in the ring) and report. */
  private finish(onMarker: (frame: number, score: number) => void): void {
    const centre = this.bestLag * DECIMATE;
    let best = centre;
    let bestScore = -1;
    for (let s = Math.max(0, centre - 2 * DECIMATE); s <= centre + 2 * DECIMATE; s++) {
      const sc = this.full.score(s, this.t, this.tEnergy);
      if (sc > bestScore) {
        bestScore = sc;
        best = s;
      }
    }
    if (bestScore >= this.threshold && best - this.lastReported >= this.refractoryFrames) {
      this.lastReported = best;
      onMarker(best, bestScore);
    }
    this.bestLag = -1;
    this.bestScore = 0;
  }
}
