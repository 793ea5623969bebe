import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/random.js";
import { detectSpeech, levelDb, VoiceActivityDetector, type SpeechSegment } from "../../src/streamer/vad.js";

const SR = 48_000;
const at = (ms: number): number => Math.round((ms * SR) / 1000);

/** Background noise (uniform, amplitude `noise`) with bursts added at the given times. */
function signal(totalMs: number, noise: number, bursts: { fromMs: number; toMs: number; kind: "tone" | "noise"; amp: number }[], seed = 1): Float32Array {
  const rnd = seededRandom(seed);
  const pcm = new Float32Array(at(totalMs));
  for (let i = 0; i < pcm.length; i++) pcm[i] = (rnd() * 2 - 1) * noise;
  for (const b of bursts) {
    for (let i = at(b.fromMs); i < at(b.toMs); i++) {
      pcm[i]! += b.kind === "tone" ? b.amp * Math.sin((2 * Math.PI * 440 * i) / SR) : (rnd() * 2 - 1) * b.amp;
    }
  }
  return pcm;
}

function toInt16(f: Float32Array): Int16Array {
  const out = new Int16Array(f.length);
  for (let i = 0; i < f.length; i++) out[i] = Math.max(-32768, Math.min(32767, Math.round(f[i]! * 32767)));
  return out;
}

function streamed(pcm: Float32Array | Int16Array, chunk: number): SpeechSegment[] {
  const vad = new VoiceActivityDetector();
  const out: SpeechSegment[] = [];
  for (let i = 0; i < pcm.length; i += chunk) out.push(...vad.push(pcm.subarray(i, i + chunk)));
  return [...out, ...vad.flush()];
}

describe("vad", () => {
  it("levelDb: full-scale square 0 dB, full-scale sine −3 dB, silence −120 dB", () => {
    expect(levelDb(1)).toBe(0);
    expect(levelDb(0.5)).toBeCloseTo(-3.0103, 3);
    expect(levelDb(0)).toBe(-120);
  });

  it("finds a tone burst in low noise within ±30 ms (start and end off the 20 ms grid)", () => {
    const pcm = signal(4000, 0.002, [{ fromMs: 1013, toMs: 2347, kind: "tone", amp: 0.3 }]);
    const { segments } = detectSpeech(pcm);
    expect(segments).toHaveLength(1);
    const s = segments[0]!;
    expect(Math.abs(s.startMs - 1013)).toBeLessThanOrEqual(30);
    expect(Math.abs(s.endMs - 2347)).toBeLessThanOrEqual(30);
    // Tone 0.3 peak → −13.5 dBFS; uniform noise 0.002 → −59.5 dBFS.
    expect(s.energyDb).toBeGreaterThan(-16);
    expect(s.energyDb).toBeLessThan(-13);
    expect(s.noiseFloorDb).toBeLessThan(-58);
    expect(s.snrDb).toBeGreaterThan(40);
  });

  it("finds a noise burst (a fricative-like sound) in background noise, streamed in odd chunk sizes", () => {
    const pcm = signal(5000, 0.01, [{ fromMs: 2205, toMs: 3111, kind: "noise", amp: 0.2 }], 7);
    for (const chunk of [960, 1001, 4096, pcm.length]) {
      const segs = streamed(pcm, chunk);
      expect(segs, `chunk ${chunk}`).toHaveLength(1);
      expect(Math.abs(segs[0]!.startMs - 2205)).toBeLessThanOrEqual(30);
      expect(Math.abs(segs[0]!.endMs - 3111)).toBeLessThanOrEqual(30);
    }
  });

  it("Int16 input gives the same segments as Float32", () => {
    const pcm = signal(3000, 0.003, [{ fromMs: 700, toMs: 1900, kind: "tone", amp: 0.25 }]);
    const f = detectSpeech(pcm).segments;
    const i = detectSpeech(toInt16(pcm)).segments;
    expect(i.map((s) => [s.startMs, s.endMs])).toEqual(f.map((s) => [s.startMs, s.endMs]));
    expect(i[0]!.energyDb).toBeCloseTo(f[0]!.energyDb, 1);
  });

  it("pure noise (white, or digital silence) has no speech", () => {
    for (const seed of [1, 2, 3]) expect(detectSpeech(signal(6000, 0.1, [], seed)).segments, `seed ${seed}`).toEqual([]);
    expect(streamed(signal(6000, 0.05, [], 9), 960)).toEqual([]);
    expect(detectSpeech(new Float32Array(at(2000))).segments).toEqual([]);
  });

  it("hangover bridges short pauses but not long ones", () => {
    const short = signal(4000, 0.002, [
      { fromMs: 500, toMs: 1200, kind: "tone", amp: 0.3 },
      { fromMs: 1300, toMs: 2000, kind: "tone", amp: 0.3 },
    ]);
    const one = detectSpeech(short).segments;
    expect(one).toHaveLength(1);
    expect(Math.abs(one[0]!.endMs - 2000)).toBeLessThanOrEqual(30);
    const long = signal(4000, 0.002, [
      { fromMs: 500, toMs: 1200, kind: "tone", amp: 0.3 },
      { fromMs: 1600, toMs: 2000, kind: "tone", amp: 0.3 },
    ]);
    expect(detectSpeech(long).segments.map((s) => Math.round(s.startMs / 100))).toEqual([5, 16]);
  });

  it("a click shorter than the onset is not speech; speech at t = 0 is found by detectSpeech", () => {
    expect(detectSpeech(signal(3000, 0.002, [{ fromMs: 1000, toMs: 1015, kind: "noise", amp: 0.5 }])).segments).toEqual([]);
    const early = detectSpeech(signal(3000, 0.002, [{ fromMs: 0, toMs: 800, kind: "tone", amp: 0.3 }])).segments;
    expect(early).toHaveLength(1);
    expect(early[0]!.startMs).toBe(0);
    expect(Math.abs(early[0]!.endMs - 800)).toBeLessThanOrEqual(30);
  });

  it("live use: inSpeech and speechStartMs while a segment is open; warm-up has no floor", () => {
    const vad = new VoiceActivityDetector();
    const pcm = signal(3000, 0.002, [{ fromMs: 1000, toMs: 3000, kind: "tone", amp: 0.3 }]);
    vad.push(pcm.subarray(0, at(100)));
    expect(Number.isNaN(vad.noiseFloorDb)).toBe(true);
    expect(vad.push(pcm.subarray(at(100), at(1500)))).toEqual([]);
    expect(vad.inSpeech).toBe(true);
    expect(Math.abs(vad.speechStartMs! - 1000)).toBeLessThanOrEqual(30);
    expect(vad.noiseFloorDb).toBeLessThan(-58);
    const end = vad.flush();
    expect(end).toHaveLength(1);
    expect(end[0]!.endMs).toBe(1500);
  });
});
