// The sync-marker matched filter (src/web/page/marker-detector.ts) run in Node: V8 as in Chromium.
// Fed in the page's AudioData chunks (480 samples = 10 ms at 48 kHz) or any other block size, it
// must find every burst of a real clip soundtrack (clip-pattern.ts renderAudio, tone bed included)
// at its exact first sample, at 48 and 44.1 kHz, and nothing in noise or silence.
import { describe, expect, it } from "vitest";
import { AUDIO_SAMPLE_RATE, SYNC_BURST_AMPLITUDE, renderAudio, syncBurstStartSamples, syncChirp } from "../../src/media/clip-pattern.js";
import { MarkerDetector } from "../../src/web/page/marker-detector.js";

type Found = { frame: number; score: number };

/** Feed `signal` through a fresh detector in blocks of `block` samples (then silence to flush). */
function run(signal: Float32Array, sampleRate: number, opts: { threshold?: number; refractoryMs?: number; block?: number } = {}): Found[] {
  const found: Found[] = [];
  const d = new MarkerDetector({ template: syncChirp(sampleRate), threshold: opts.threshold ?? 0.5, refractoryFrames: Math.round(((opts.refractoryMs ?? 500) * sampleRate) / 1000) });
  const block = opts.block ?? 480;
  const on = (frame: number, score: number): void => void found.push({ frame, score });
  for (let b = 0; b < signal.length; b += block) d.push(signal.subarray(b, Math.min(signal.length, b + block)), on);
  d.push(new Float32Array(128 * 64), on); // enough after the last burst to report it
  expect(d.pushed).toBe(signal.length + 128 * 64);
  return found;
}

describe("marker detector (matched filter)", () => {
  it("finds every burst of a clip soundtrack at its first sample (48 kHz, bursts 37 ms after each second; 10 ms, 128 and 1000-sample blocks)", () => {
    const spec = { clipId: 5, durationMs: 6000, width: 640, height: 360, fps: 30, markerAudioOffsetMs: 37 };
    const pcm = renderAudio(spec);
    const x = Float32Array.from(pcm, (v) => v / 32768);
    for (const block of [480, 128, 1000]) {
      const found = run(x, AUDIO_SAMPLE_RATE, { block });
      expect(found.map((f) => f.frame)).toEqual(syncBurstStartSamples(spec));
      for (const f of found) expect(f.score).toBeGreaterThan(0.98);
    }
  });

  it("is sample-exact at 44.1 kHz too, with noise under the bursts", () => {
    const sr = 44100;
    const chirp = syncChirp(sr);
    const x = new Float32Array(5 * sr);
    let seed = 1;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5;
    for (let i = 0; i < x.length; i++) x[i] = 0.05 * rnd() + 0.02 * Math.sin((2 * Math.PI * 120 * i) / sr);
    const starts = [1234, 45_678, 90_001, 133_333, 177_777];
    for (const s of starts) for (let i = 0; i < chirp.length; i++) x[s + i]! += SYNC_BURST_AMPLITUDE * chirp[i]!;
    expect(run(x, sr).map((f) => f.frame)).toEqual(starts);
  });

  it("reports nothing for noise, a plain tone or silence", () => {
    const sr = 48000;
    const noise = new Float32Array(3 * sr);
    let seed = 7;
    for (let i = 0; i < noise.length; i++) noise[i] = 0.5 * (((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) - 0.5);
    expect(run(noise, sr)).toEqual([]);
    expect(run(Float32Array.from({ length: 3 * sr }, (_, i) => 0.5 * Math.sin((2 * Math.PI * 1000 * i) / sr)), sr)).toEqual([]);
    expect(run(new Float32Array(3 * sr), sr)).toEqual([]);
  });

  it("ignores a second burst inside the refractory period", () => {
    const sr = 48000;
    const chirp = syncChirp(sr);
    const x = new Float32Array(2 * sr);
    for (const s of [4800, 4800 + 0.3 * sr, 4800 + 0.9 * sr]) for (let i = 0; i < chirp.length; i++) x[s + i]! += 0.5 * chirp[i]!;
    expect(run(x, sr).map((f) => f.frame)).toEqual([4800, 4800 + 0.9 * sr]);
  });
});
