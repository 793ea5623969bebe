// The prepared utterance: deterministic, cached by content hash, its Opus packets decode (real
// libopus) back to speech where the spec puts it — found by the teacher's VAD at the 20 ms packet
// boundaries — and its WAV is the 48 kHz mono PCM a browser's fake capture can play.
import { describe, it, expect, beforeAll } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_UTTERANCE, normaliseUtteranceSpec, prepareUtterance, readUtterancePackets, synthesiseUtterance, type PreparedUtterance } from "../../src/media/utterance.js";
import { OpusDecoder } from "../../src/media/opus-decoder.js";
import { detectSpeech } from "../../src/streamer/vad.js";
import { decodeWav } from "../../src/streamer/assessor-audio.js";
import { scoreSpeech } from "../../src/streamer/local-assessor.js";

const cacheDir = mkdtempSync(join(tmpdir(), "proctor-utt-"));
let u: PreparedUtterance;

beforeAll(async () => {
  u = await prepareUtterance(cacheDir);
});

describe("prepared utterance", () => {
  it("is cached by content hash: a second call encodes nothing and returns the same files", async () => {
    expect(u.cached).toBe(false);
    const again = await prepareUtterance(cacheDir);
    expect(again.cached).toBe(true);
    expect(again.oggPath).toBe(u.oggPath);
    expect(again.hash).toBe(u.hash);
    expect(synthesiseUtterance()).toEqual(synthesiseUtterance());
    const other = await prepareUtterance(cacheDir, { speechMs: 800 });
    expect(other.hash).not.toBe(u.hash);
  });

  it("WAV: 48 kHz mono 16-bit, the synthesised PCM sample for sample", () => {
    const wav = decodeWav(readFileSync(u.wavPath));
    expect(wav.sampleRate).toBe(48000);
    expect(Array.from(wav.pcm)).toEqual(Array.from(synthesiseUtterance()));
    expect(u.durationMs).toBe(2200);
  });

  it("Opus → libopus decode → VAD finds the speech at [lead, lead + speech] within one 20 ms frame; LocalAssessor scores it ≥ 0.9", async () => {
    const { packets, lastSpeechPacket } = await readUtterancePackets(u);
    expect(packets).toHaveLength(110);
    expect(lastSpeechPacket).toBe(79);
    const dec = new OpusDecoder();
    const parts = packets.map((p) => dec.decode(p));
    dec.close();
    expect(parts.every((p) => p.length === 960)).toBe(true);
    const pcm = new Int16Array(parts.length * 960);
    parts.forEach((p, i) => pcm.set(p, i * 960));
    const { segments } = detectSpeech(pcm);
    console.log(`utterance VAD: ${JSON.stringify(segments.map((s) => ({ ...s, energyDb: +s.energyDb.toFixed(1), snrDb: +s.snrDb.toFixed(1) })))}`);
    expect(segments).toHaveLength(1);
    const seg = segments[0]!;
    expect(Math.abs(seg.startMs - u.leadMs)).toBeLessThanOrEqual(20);
    expect(Math.abs(seg.endMs - (u.leadMs + u.speechMs))).toBeLessThanOrEqual(20);
    expect(seg.snrDb).toBeGreaterThan(30);
    const { score, measures } = scoreSpeech(pcm, 48000, seg, { min: 300, max: 4000 });
    console.log(`LocalAssessor on decoded utterance: score ${score}, ${JSON.stringify(measures)}`);
    expect(score).toBeGreaterThanOrEqual(0.9);
  });

  it("the mumbled variant (speech at −45 dBFS over −59 dBFS room tone) is still found by the VAD but scores below 0.6", async () => {
    const m = await prepareUtterance(cacheDir, { speechDb: -45, roomToneDb: -59 });
    const { packets } = await readUtterancePackets(m);
    const dec = new OpusDecoder();
    const pcm = new Int16Array(packets.length * 960);
    packets.forEach((p, i) => pcm.set(dec.decode(p), i * 960));
    dec.close();
    const { segments } = detectSpeech(pcm);
    expect(segments).toHaveLength(1);
    const { score, measures } = scoreSpeech(pcm, 48000, segments[0]!, { min: 300, max: 4000 });
    console.log(`mumble: score ${score}, ${JSON.stringify(measures)}`);
    expect(score).toBeLessThan(0.6);
    expect(score).toBeGreaterThan(0);
  });

  it("a bad spec names the field and value", () => {
    expect(() => normaliseUtteranceSpec({ ...DEFAULT_UTTERANCE, speechMs: 1210 })).toThrow(/speechMs = 1210 is invalid \(a multiple of 20 ms/);
    expect(() => normaliseUtteranceSpec({ ...DEFAULT_UTTERANCE, roomToneDb: -25 })).toThrow(/roomToneDb = -25 is invalid \(at least 10 dB below speechDb\)/);
  });
});
