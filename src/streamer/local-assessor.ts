// The built-in assessor. It does NOT recognise speech: it scores what it can measure in the audio
// and says so in every result ("proctor-local (measures duration/energy/SNR; not speech
// recognition)"). A harness needs a scorer that reacts to the audio it was sent — silence, noise or
// a clipped utterance must score low — and a third party's delay, without a network dependency.
//
// Measures, on the request's speech window [startMs, endMs):
//   duration  = endMs − startMs
//   level     = 10·log10(mean square) of the window (dBFS, see vad.ts)
//   floor     = 10th percentile of 20 ms frame levels outside the window (the whole buffer if
//               fewer than 5 frames lie outside) — the VAD's noise-floor estimate
//   SNR       = level − floor
// Scores (each 0..1, linear between the stated points):
//   durationScore = 1 inside the expected range [min, max] (request's expectedSpeechMs, else the
//                   option, default 300–4000 ms); d/min below it; 1 − (d − max)/max above it
//   snrScore      = 0 at ≤ 3 dB … 1 at ≥ 20 dB
//   energyScore   = 0 at ≤ −50 dBFS … 1 at ≥ −30 dBFS
//   score         = snrScore · (0.6·durationScore + 0.4·energyScore)   (no SNR, no score)
// Latency: waits a delay drawn from `latency` (fixed, uniform or lognormal, seeded) before
// answering, to emulate a remote service; latencyMs is what the call really took on `clock`.
import { systemClock, type Clock } from "../clock.js";
import type { Random } from "../random.js";
import { AssessorError, type AssessRequest, type AssessResult, type Assessor } from "./assessor.js";
import { assessAudioPcm } from "./assessor-audio.js";
import { frameLevelsDb, levelDb } from "./vad.js";

export const LOCAL_ASSESSOR_NAME = "proctor-local (measures duration/energy/SNR; not speech recognition)";

export type LatencyModel =
  | { distribution: "fixed"; ms: number }
  | { distribution: "uniform"; minMs: number; maxMs: number }
  /** Log-normal with the given arithmetic mean and standard deviation (a service's measured figures). */
  | { distribution: "lognormal"; meanMs: number; stdMs: number };

export type LocalAssessorOptions = {
  latency?: LatencyModel;
  random: Random;
  expectedSpeechMs?: { min: number; max: number };
  clock?: Clock;
  /** How to wait (tests inject an instant one that advances a manual clock). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
};

export class LocalAssessor implements Assessor {
  private readonly latency: LatencyModel;
  private readonly clock: Clock;
  private readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;

  constructor(private readonly opts: LocalAssessorOptions) {
    this.latency = opts.latency ?? { distribution: "fixed", ms: 0 };
    this.clock = opts.clock ?? systemClock;
    this.sleep = opts.sleep ?? abortableSleep;
    checkLatency(this.latency);
  }

  /** One latency draw (ms) from the configured distribution. */
  drawLatencyMs(): number {
    return drawLatency(this.latency, this.opts.random);
  }

  async assess(req: AssessRequest, signal: AbortSignal): Promise<AssessResult> {
    const t0 = this.clock.nowMs();
    if (signal.aborted) throw new AssessorError("aborted", "local assessor: aborted by the caller");
    let audio: { sampleRate: number; pcm: Int16Array };
    try {
      audio = assessAudioPcm(req.audio);
    } catch (e) {
      throw new AssessorError("bad-request", `local assessor: audio: ${(e as Error).message}`);
    }
    const { score, measures } = scoreSpeech(audio.pcm, audio.sampleRate, req.speech, req.expectedSpeechMs ?? this.opts.expectedSpeechMs ?? { min: 300, max: 4000 });
    const delay = this.drawLatencyMs();
    try {
      await this.sleep(delay, signal);
    } catch {
      throw new AssessorError("aborted", "local assessor: aborted by the caller");
    }
    if (signal.aborted) throw new AssessorError("aborted", "local assessor: aborted by the caller");
    return { score, latencyMs: this.clock.nowMs() - t0, assessor: LOCAL_ASSESSOR_NAME, measures };
  }
}

/** Score an utterance from what can be measured (see the header for the formulas). */
export function scoreSpeech(
  pcm: Int16Array,
  sampleRate: number,
  speech: { startMs: number; endMs: number },
  expected: { min: number; max: number },
): { score: number; measures: NonNullable<AssessResult["measures"]> } {
  const toSample = (ms: number): number => Math.max(0, Math.min(pcm.length, Math.round((ms * sampleRate) / 1000)));
  const a = toSample(speech.startMs);
  const b = toSample(Math.max(speech.startMs, speech.endMs));
  const durationMs = ((b - a) * 1000) / sampleRate;
  let acc = 0;
  for (let i = a; i < b; i++) {
    const x = (pcm[i] as number) / 32768;
    acc += x * x;
  }
  const level = b > a ? levelDb(acc / (b - a)) : -120;
  const floor = noiseFloorOutside(pcm, sampleRate, a, b);
  const snrDb = level - floor;
  const durationScore =
    durationMs < expected.min ? durationMs / Math.max(1, expected.min) : durationMs > expected.max ? Math.max(0, 1 - (durationMs - expected.max) / Math.max(1, expected.max)) : 1;
  const snrScore = ramp(snrDb, 3, 20);
  const energyScore = ramp(level, -50, -30);
  const score = Math.round(snrScore * (0.6 * durationScore + 0.4 * energyScore) * 1000) / 1000;
  return { score, measures: { durationMs, levelDb: level, noiseFloorDb: floor, snrDb } };
}

function noiseFloorOutside(pcm: Int16Array, sampleRate: number, a: number, b: number): number {
  const outside = new Int16Array(pcm.length - (b - a));
  outside.set(pcm.subarray(0, a), 0);
  outside.set(pcm.subarray(b), a);
  const levels = frameLevelsDb(outside.length >= (5 * sampleRate) / 50 ? outside : pcm, { sampleRate });
  if (levels.length === 0) return -120;
  levels.sort();
  return levels[Math.max(0, Math.ceil(0.1 * levels.length) - 1)] as number;
}

function ramp(x: number, lo: number, hi: number): number {
  return x <= lo ? 0 : x >= hi ? 1 : (x - lo) / (hi - lo);
}

function checkLatency(m: LatencyModel): void {
  const bad = (field: string, v: unknown): never => {
    throw new AssessorError("bad-request", `local assessor: latency.${field} = ${JSON.stringify(v)} is invalid for a ${m.distribution} distribution`);
  };
  if (m.distribution === "fixed" && !(m.ms >= 0)) bad("ms", m.ms);
  if (m.distribution === "uniform") {
    if (!(m.minMs >= 0)) bad("minMs", m.minMs);
    if (!(m.maxMs >= m.minMs)) bad("maxMs", m.maxMs);
  }
  if (m.distribution === "lognormal") {
    if (!(m.meanMs > 0)) bad("meanMs", m.meanMs);
    if (!(m.stdMs >= 0)) bad("stdMs", m.stdMs);
  }
}

/** One draw. Log-normal: σ² = ln(1 + s²/m²), μ = ln m − σ²/2, so the draws' mean is m and sd s. */
export function drawLatency(m: LatencyModel, random: Random): number {
  switch (m.distribution) {
    case "fixed":
      return m.ms;
    case "uniform":
      return m.minMs + random() * (m.maxMs - m.minMs);
    case "lognormal": {
      const s2 = Math.log(1 + (m.stdMs * m.stdMs) / (m.meanMs * m.meanMs));
      const mu = Math.log(m.meanMs) - s2 / 2;
      // Box–Muller: z ~ N(0, 1) from two uniforms (1 − u avoids log 0).
      const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
      return Math.exp(mu + Math.sqrt(s2) * z);
    }
  }
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Error("aborted"));
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(new Error("aborted"));
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
