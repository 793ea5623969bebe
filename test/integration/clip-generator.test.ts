import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clipHash, generateClip, normaliseClipSpec, type GeneratedClip } from "../../src/media/clip-generator.js";
import { AUDIO_SAMPLE_RATE, flashRect, isFlashFrame, syncBurstStartSamples, syncChirp } from "../../src/media/clip-pattern.js";
import { ffmpegPath, runFfmpeg } from "../../src/media/ffmpeg.js";
import { readFrameCode } from "../../src/media/frame-code.js";
import { parseIvf } from "../../src/media/ivf.js";
import { opusPacketDurationSamples, parseOggOpus } from "../../src/media/ogg-opus.js";
import { decodeIvfToI420, decodeOggToPcm } from "../../src/media/raw-decode.js";

let cacheDir = "";
let first: GeneratedClip;
let firstMs = 0;
const SPEC = { name: "intro", clipId: 11, durationMs: 3000 };

beforeAll(async () => {
  cacheDir = await mkdtemp(join(tmpdir(), "proctor-clipgen-"));
  const t0 = performance.now();
  first = await generateClip(SPEC, { cacheDir });
  firstMs = performance.now() - t0;
}, 60_000);

afterAll(async () => {
  if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
});

/** Lag (in samples, within ±range of `expected`) where `signal` best matches `template`. */
function bestLag(signal: Float32Array, template: Float32Array, expected: number, range: number): number {
  let best = -Infinity;
  let bestAt = -1;
  for (let lag = Math.max(0, expected - range); lag <= expected + range && lag + template.length <= signal.length; lag++) {
    let acc = 0;
    for (let i = 0; i < template.length; i++) acc += (signal[lag + i] ?? 0) * (template[i] ?? 0);
    if (acc > best) {
      best = acc;
      bestAt = lag;
    }
  }
  return bestAt;
}

describe("generateClip", () => {
  it("encodes 3 s into a 90-frame VP8 IVF with keyframes ≤ 1 s apart, starting with one", async () => {
    expect(first.cached).toBe(false);
    expect(first.spec).toEqual({ ...SPEC, width: 640, height: 360, fps: 30, videoKbps: 500, audioKbps: 48, markerAudioOffsetMs: 0 });
    expect(first.videoPath).toBe(join(cacheDir, first.hash, "video.ivf"));
    const ivf = parseIvf(await readFile(first.videoPath));
    expect(ivf.fourcc).toBe("VP80");
    expect([ivf.width, ivf.height]).toEqual([640, 360]);
    expect(ivf.frames).toHaveLength(90);
    expect(ivf.frames[0]?.keyframe).toBe(true);
    const keys = ivf.frames.flatMap((f, i) => (f.keyframe ? [i] : []));
    const gaps = keys.slice(1).map((k, i) => k - (keys[i] ?? 0));
    expect(Math.max(...gaps, 90 - (keys[keys.length - 1] ?? 0))).toBeLessThanOrEqual(30);
    // Every frame is shown (no alt-ref): show_frame bit set in the VP8 frame tag.
    expect(ivf.frames.every((f) => ((f.data[0] ?? 0) & 0x10) !== 0)).toBe(true);
  });

  it("encodes the audio as 150 Opus packets of 960 samples, mono, pre-skip 0", async () => {
    const ogg = parseOggOpus(await readFile(first.audioPath));
    expect(ogg.channels).toBe(1);
    expect(ogg.preSkip).toBe(0);
    expect(ogg.lastGranule).toBe(3 * 48000);
    expect(ogg.packets).toHaveLength(150);
    expect(ogg.packets.map((p) => opusPacketDurationSamples(p))).toEqual(new Array(150).fill(960));
  });

  it("returns the cached files on a second call without encoding", async () => {
    const t0 = performance.now();
    const again = await generateClip({ ...SPEC, name: "intro-again" }, { cacheDir });
    const againMs = performance.now() - t0;
    console.log(`clip generation: first ${firstMs.toFixed(0)} ms, cached ${againMs.toFixed(1)} ms`);
    expect(again.cached).toBe(true);
    expect(again.hash).toBe(first.hash);
    expect(again.spec.name).toBe("intro-again");
    expect(again.videoPath).toBe(first.videoPath);
    expect(againMs).toBeLessThan(firstMs / 5);
    // Only the final directory is left: no temp dirs, no stray files.
    expect(await readdir(cacheDir)).toEqual([first.hash]);
    expect((await readdir(join(cacheDir, first.hash))).sort()).toEqual(["audio.ogg", "spec.json", "video.ivf"]);
  });

  it("hashes by content: distinct clip ids or settings differ, the name does not count", () => {
    expect(first.hash).toBe(clipHash(SPEC));
    const hashes = new Set([0, 1, 2, 11, 255].map((clipId) => clipHash({ ...SPEC, clipId })));
    expect(hashes.size).toBe(5);
    expect(clipHash({ ...SPEC, videoKbps: 150 })).not.toBe(first.hash);
    expect(clipHash({ ...SPEC, markerAudioOffsetMs: 40 })).not.toBe(first.hash);
    expect(clipHash({ ...SPEC, name: "other" })).toBe(first.hash);
    expect(clipHash({ ...SPEC, width: 640, fps: 30 })).toBe(first.hash); // explicit defaults
  });

  it("carries a readable frame code and the flash square in every decoded frame", async () => {
    const frames = await decodeIvfToI420(first.videoPath, 640, 360);
    expect(frames).toHaveLength(90);
    const sq = flashRect(640, 360);
    for (const [i, f] of frames.entries()) {
      expect(readFrameCode(f, 640, 360)).toEqual({ clipId: 11, frameIndex: i });
      let sum = 0;
      for (let r = sq.y + 16; r < sq.y + sq.size - 16; r++) for (let x = sq.x + 16; x < sq.x + sq.size - 16; x++) sum += f[r * 640 + x] ?? 0;
      const mean = sum / ((sq.size - 32) * (sq.size - 32));
      if (isFlashFrame(i, 30)) expect(mean, `frame ${i}`).toBeGreaterThan(200);
      else expect(mean, `frame ${i}`).toBeLessThan(50);
    }
  });

  it("puts each sync burst at its sample in the decoded audio (Opus delay compensated)", async () => {
    const pcm = await decodeOggToPcm(first.audioPath);
    expect(pcm.length).toBe(3 * AUDIO_SAMPLE_RATE);
    const chirp = syncChirp(AUDIO_SAMPLE_RATE);
    const starts = syncBurstStartSamples(first.spec);
    expect(starts).toEqual([0, 48000, 96000]);
    // Burst 0 overlaps the codec's 6.5 ms priming; check the others to within 2 samples.
    for (const s of starts.slice(1)) expect(Math.abs(bestLag(pcm, chirp, s, 960) - s)).toBeLessThanOrEqual(2);
  });

  it("shifts the bursts by markerAudioOffsetMs (positive = audio later)", async () => {
    const clip = await generateClip({ name: "late", clipId: 12, durationMs: 2000, markerAudioOffsetMs: 37 }, { cacheDir });
    const pcm = await decodeOggToPcm(clip.audioPath);
    const chirp = syncChirp(AUDIO_SAMPLE_RATE);
    const starts = syncBurstStartSamples(clip.spec);
    expect(starts).toEqual([37 * 48, 48000 + 37 * 48]);
    for (const s of starts) expect(Math.abs(bestLag(pcm, chirp, s, 960) - s)).toBeLessThanOrEqual(2);
  }, 60_000);

  it("shares one encode between concurrent calls and leaves no temp dirs", async () => {
    const spec = { name: "short", clipId: 200, durationMs: 1000, videoKbps: 300 };
    const encodes: string[] = [];
    const onProgress = (msg: string): void => {
      if (msg.includes("encoding")) encodes.push(msg);
    };
    const [a, b] = await Promise.all([generateClip(spec, { cacheDir, onProgress }), generateClip(spec, { cacheDir, onProgress })]);
    expect(encodes).toHaveLength(1);
    expect(a.hash).toBe(b.hash);
    expect(a.videoPath).toBe(b.videoPath);
    expect(parseIvf(await readFile(a.videoPath)).frames).toHaveLength(30);
    expect((await readdir(cacheDir)).filter((n) => n.startsWith("."))).toEqual([]);
  }, 60_000);

  it("rejects a bad spec naming the field and value", () => {
    expect(() => normaliseClipSpec({ name: "x", clipId: 256, durationMs: 1000 })).toThrow(/clip spec "x": clipId = 256/);
    expect(() => normaliseClipSpec({ name: "x", clipId: 1, durationMs: 1000, width: 650 })).toThrow(/width = 650/);
    expect(() => normaliseClipSpec({ name: "x", clipId: 1, durationMs: 1000, fps: 29.97 })).toThrow(/fps = 29.97/);
    expect(() => normaliseClipSpec({ name: "x", clipId: 1, durationMs: 1000, height: 96 })).toThrow(/height = 96/);
    expect(() => normaliseClipSpec({ name: "x", clipId: 1, durationMs: 3_000_000 })).toThrow(/65536 frames/);
  });
});

describe("runFfmpeg", () => {
  it("uses FFMPEG_PATH when set, and says so when it cannot run it", async () => {
    const saved = process.env["FFMPEG_PATH"];
    process.env["FFMPEG_PATH"] = join(cacheDir, "no-such-ffmpeg");
    try {
      expect(ffmpegPath()).toBe(join(cacheDir, "no-such-ffmpeg"));
      await expect(runFfmpeg(["-version"])).rejects.toThrow(/cannot run .*no-such-ffmpeg/);
    } finally {
      if (saved === undefined) delete process.env["FFMPEG_PATH"];
      else process.env["FFMPEG_PATH"] = saved;
    }
    expect(ffmpegPath()).toMatch(/ffmpeg$/);
  });

  it("rejects with the exit code and the tail of stderr", async () => {
    const err = await runFfmpeg(["-i", join(cacheDir, "missing.ivf"), "-f", "null", "-"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/exited with code 1/);
    expect((err as Error).message).toMatch(/missing\.ivf: No such file or directory/);
  });

  it("streams a large stdin with backpressure and returns stdout", async () => {
    async function* chunks(): AsyncGenerator<Buffer> {
      for (let i = 0; i < 64; i++) yield Buffer.alloc(256 * 1024, i);
    }
    // 16 MiB through ffmpeg's null copy: rawvideo gray 1024×256 frames, passed through as-is.
    const { stdout } = await runFfmpeg(["-f", "rawvideo", "-pix_fmt", "gray", "-s", "1024x256", "-i", "pipe:0", "-f", "rawvideo", "pipe:1"], {
      stdin: chunks(),
    });
    expect(stdout.length).toBe(64 * 256 * 1024);
    expect(stdout[0]).toBe(0);
    expect(stdout[stdout.length - 1]).toBe(63);
  });

  it("kills ffmpeg and rejects with the source's error when the stdin source fails", async () => {
    async function* failing(): AsyncGenerator<Buffer> {
      yield Buffer.alloc(1024);
      throw new Error("source broke");
    }
    await expect(runFfmpeg(["-f", "rawvideo", "-pix_fmt", "gray", "-s", "32x32", "-i", "pipe:0", "-f", "null", "-"], { stdin: failing() })).rejects.toThrow(
      "source broke",
    );
  });
});
