// Harness clip generator: synthesises a clip (clip-pattern.ts), encodes it ONCE with ffmpeg into
// the streamable form (VP8 in IVF, Opus in Ogg, 48 kHz, 20 ms packets, keyframe at frame 0) and
// caches it by content hash (DESIGN.md "Media": the streamer never encodes per student).
//
// Cache: <cacheDir>/<hash>/{video.ivf, audio.ogg, spec.json}, hash = sha256 over
// GENERATOR_VERSION, the normalised spec minus its name (the name does not change a byte of the
// content) and the exact ffmpeg arguments. Files are written into a temp dir next to it and the
// dir is renamed into place, so a concurrent generator (or process) sees all files or none.
// Bump GENERATOR_VERSION whenever clip-pattern.ts changes what it draws or plays.
//
// Video: libvpx VP8, CBR at videoKbps (minrate = maxrate = bitrate, 1 s buffer), keyframes every
// fps frames (so ≤ 1 s apart, and at frame 0), no alt-ref and no lag: every IVF frame is a shown
// frame, so one IVF frame = one frame tick of the streamer. Checked after encoding.
//
// Audio alignment: libopus delays its output by its lookahead (312 samples = 6.5 ms at 48 kHz for
// -application audio) and Ogg signals that as pre-skip (RFC 7845 §4.2), but an RTP receiver
// (RFC 7587) never sees pre-skip and plays the decoder output from its first sample, which would
// put every sync burst 6.5 ms late. So the encoder is fed the PCM from sample 312 on, and the
// Ogg file's pre-skip is rewritten to 0: the decoder output from the first packet — through Ogg or
// RTP alike — is then sample-aligned with the rendered PCM (its first 6.5 ms are codec priming
// instead of the tone bed), and ceil(samples / 960) packets cover the clip exactly (150 for 3 s).

import { createHash } from "node:crypto";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runFfmpeg } from "./ffmpeg.js";
import { buildCacheDir, exists, pcmBytes } from "./media-cache.js";
import { parseIvf } from "./ivf.js";
import { opusPacketDurationSamples, parseOggOpus, setOggOpusPreSkip } from "./ogg-opus.js";
import {
  AUDIO_SAMPLE_RATE,
  clipFrameCount,
  clipSampleCount,
  flashRect,
  i420FrameBytes,
  renderAudio,
  renderVideoFrame,
} from "./clip-pattern.js";
import { frameCodeBandHeight } from "./frame-code.js";

export type ClipSpec = {
  name: string;
  /** 0..255, carried in every frame code. */
  clipId: number;
  durationMs: number;
  /** Default 640; multiple of 16. */
  width?: number;
  /** Default 360; even. */
  height?: number;
  /** Default 30; integer. */
  fps?: number;
  /** Default 500. */
  videoKbps?: number;
  /** Default 48. */
  audioKbps?: number;
  /** Shift of every sync burst against its flash, ms; positive = audio later. Default 0. */
  markerAudioOffsetMs?: number | readonly number[];
};

export type GeneratedClip = {
  spec: Required<ClipSpec>;
  hash: string;
  videoPath: string;
  audioPath: string;
  /** True when the files came from the cache (no ffmpeg run). */
  cached: boolean;
};

/** A clip written to a folder by `media prepare` or `media transition` (video.ivf, audio.ogg, spec.json). */
export type ClipFolder = {
  dir: string;
  videoPath: string;
  audioPath: string;
  specPath: string;
  /** Ready for streamer/clip-library.ts loadClip. */
  clip: GeneratedClip;
  frameCount: number;
  durationMs: number;
};

export type GenerateOptions = {
  cacheDir: string;
  onProgress?: (msg: string) => void;
};

export const GENERATOR_VERSION = 1;
/** libopus lookahead at 48 kHz for -application audio (2.5 ms + 4 ms delay compensation). */
export const OPUS_ENCODER_LOOKAHEAD = 312;
export const OPUS_PACKET_SAMPLES = 960;

const DEFAULTS = { width: 640, height: 360, fps: 30, videoKbps: 500, audioKbps: 48, markerAudioOffsetMs: 0 } as const;

/** Fill defaults and check every field; throws an Error naming the clip, field and value. */
export function normaliseClipSpec(spec: ClipSpec): Required<ClipSpec> {
  const s: Required<ClipSpec> = {
    name: spec.name,
    clipId: spec.clipId,
    durationMs: spec.durationMs,
    width: spec.width ?? DEFAULTS.width,
    height: spec.height ?? DEFAULTS.height,
    fps: spec.fps ?? DEFAULTS.fps,
    videoKbps: spec.videoKbps ?? DEFAULTS.videoKbps,
    audioKbps: spec.audioKbps ?? DEFAULTS.audioKbps,
    markerAudioOffsetMs: spec.markerAudioOffsetMs ?? DEFAULTS.markerAudioOffsetMs,
  };
  const bad = (field: string, value: unknown, want: string): never => {
    throw new Error(`clip spec "${String(s.name)}": ${field} = ${JSON.stringify(value)} is invalid (${want})`);
  };
  if (typeof s.name !== "string" || s.name === "") bad("name", s.name, "a non-empty string");
  if (!Number.isInteger(s.clipId) || s.clipId < 0 || s.clipId > 255) bad("clipId", s.clipId, "an integer 0..255");
  if (!Number.isInteger(s.fps) || s.fps < 1 || s.fps > 120) bad("fps", s.fps, "an integer 1..120");
  if (!Number.isFinite(s.durationMs) || s.durationMs < 1000 / s.fps) bad("durationMs", s.durationMs, "at least one frame long");
  if (clipFrameCount(s) > 65536) bad("durationMs", s.durationMs, "at most 65536 frames, the frame code's range");
  if (!Number.isInteger(s.width) || s.width % 16 !== 0 || s.width < 64 || s.width > 4096) bad("width", s.width, "a multiple of 16 in 64..4096");
  if (!Number.isInteger(s.height) || s.height % 2 !== 0 || s.height > 4096) bad("height", s.height, "an even integer ≤ 4096");
  if (flashRect(s.width, s.height).y < frameCodeBandHeight(s.width)) {
    bad("height", s.height, `tall enough for the ${frameCodeBandHeight(s.width)}-px frame-code band and the 64-px flash square`);
  }
  if (!Number.isFinite(s.videoKbps) || s.videoKbps < 20 || s.videoKbps > 20000) bad("videoKbps", s.videoKbps, "20..20000");
  if (!Number.isFinite(s.audioKbps) || s.audioKbps < 6 || s.audioKbps > 510) bad("audioKbps", s.audioKbps, "6..510 (Opus)");
  const offsets = typeof s.markerAudioOffsetMs === "number" ? [s.markerAudioOffsetMs] : s.markerAudioOffsetMs;
  if (offsets.length === 0 || !offsets.every(Number.isFinite)) bad("markerAudioOffsetMs", s.markerAudioOffsetMs, "a finite number or a non-empty list of them");
  return s;
}

/**
 * The one VP8 encoder setting of every proctor clip (generated, prepared, transition): CBR,
 * keyframe every `fps` frames (frame 0 included), no alt-ref and no lag so each IVF frame is a shown
 * frame, error resilient, bit-exact. Part of the content hash: change it only with GENERATOR_VERSION.
 */
export function vp8EncodeArgs(g: { width: number; height: number; fps: number; videoKbps: number }, out: string): string[] {
  const rate = `${g.videoKbps}k`;
  return [
    "-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", `${g.width}x${g.height}`, "-framerate", String(g.fps), "-i", "pipe:0",
    "-c:v", "libvpx", "-b:v", rate, "-minrate", rate, "-maxrate", rate, "-bufsize", rate,
    "-g", String(g.fps), "-keyint_min", String(g.fps),
    "-auto-alt-ref", "0", "-lag-in-frames", "0", "-deadline", "good", "-cpu-used", "4", "-error-resilient", "1",
    "-fflags", "+bitexact", "-f", "ivf", "-y", out,
  ];
}

/** The one Opus encoder setting: mono s16le 48 kHz in, 20 ms frames, constrained VBR, bit-exact Ogg. */
export function opusEncodeArgs(audioKbps: number, out: string): string[] {
  return [
    "-f", "s16le", "-ar", String(AUDIO_SAMPLE_RATE), "-ac", "1", "-i", "pipe:0",
    "-c:a", "libopus", "-b:a", `${audioKbps}k`, "-frame_duration", "20", "-application", "audio", "-vbr", "constrained",
    "-fflags", "+bitexact", "-f", "ogg", "-y", out,
  ];
}

/** Content hash of a clip: what the files depend on, and nothing else. */
export function clipHash(spec: ClipSpec): string {
  const s = normaliseClipSpec(spec);
  const content = {
    generator: GENERATOR_VERSION,
    clipId: s.clipId,
    durationMs: s.durationMs,
    width: s.width,
    height: s.height,
    fps: s.fps,
    videoKbps: s.videoKbps,
    audioKbps: s.audioKbps,
    markerAudioOffsetMs: s.markerAudioOffsetMs,
    video: vp8EncodeArgs(s, "video.ivf"),
    audio: opusEncodeArgs(s.audioKbps, "audio.ogg"),
  };
  return createHash("sha256").update(JSON.stringify(content)).digest("hex");
}

async function* videoFrames(s: Required<ClipSpec>, onProgress?: (msg: string) => void): AsyncGenerator<Buffer> {
  const count = clipFrameCount(s);
  const bytes = i420FrameBytes(s.width, s.height);
  for (let i = 0; i < count; i++) {
    // A fresh buffer per frame: the pipe may still hold the previous one.
    const frame = Buffer.alloc(bytes);
    renderVideoFrame(s, i, frame);
    yield frame;
    if (onProgress && (i + 1) % (s.fps * 10) === 0) onProgress(`clip ${s.name}: video frame ${i + 1}/${count}`);
  }
}

function verifyVideo(s: Required<ClipSpec>, ivfBuf: Buffer): void {
  const ivf = parseIvf(ivfBuf);
  const expected = clipFrameCount(s);
  const fail = (why: string): never => {
    throw new Error(`clip ${s.name}: encoded video is unusable: ${why}`);
  };
  if (ivf.fourcc !== "VP80") fail(`fourcc ${ivf.fourcc}, expected VP80`);
  if (ivf.width !== s.width || ivf.height !== s.height) fail(`size ${ivf.width}×${ivf.height}, expected ${s.width}×${s.height}`);
  if (ivf.frames.length !== expected) fail(`${ivf.frames.length} frames, expected round(${s.durationMs} ms × ${s.fps} fps) = ${expected}`);
  if (!ivf.frames[0]?.keyframe) fail("frame 0 is not a keyframe");
  let lastKey = 0;
  for (const [i, f] of ivf.frames.entries()) {
    // VP8 frame tag (RFC 6386 §9.1): bit 4 of the first byte is show_frame.
    if (f.data.length < 3 || ((f.data[0] ?? 0) & 0x10) === 0) fail(`frame ${i} is not a shown frame`);
    if (f.keyframe) lastKey = i;
    else if (i - lastKey >= s.fps) fail(`no keyframe within ${s.fps} frames before frame ${i}`);
  }
}

function verifyAudio(s: Required<ClipSpec>, oggBuf: Buffer): void {
  const ogg = parseOggOpus(oggBuf);
  const fail = (why: string): never => {
    throw new Error(`clip ${s.name}: encoded audio is unusable: ${why}`);
  };
  const expected = Math.ceil(clipSampleCount(s) / OPUS_PACKET_SAMPLES);
  if (ogg.channels !== 1) fail(`${ogg.channels} channels, expected 1`);
  if (ogg.preSkip !== OPUS_ENCODER_LOOKAHEAD) fail(`encoder pre-skip ${ogg.preSkip}, expected ${OPUS_ENCODER_LOOKAHEAD} (see "Audio alignment")`);
  if (ogg.packets.length !== expected) fail(`${ogg.packets.length} Opus packets, expected ${expected}`);
  for (const [i, p] of ogg.packets.entries()) {
    const n = opusPacketDurationSamples(p);
    if (n !== OPUS_PACKET_SAMPLES) fail(`Opus packet ${i} lasts ${n} samples, expected ${OPUS_PACKET_SAMPLES}`);
  }
}

async function encodeInto(dir: string, s: Required<ClipSpec>, onProgress?: (msg: string) => void): Promise<void> {
  const videoPath = join(dir, "video.ivf");
  const rawAudioPath = join(dir, "audio.encoder.ogg");
  const pcm = renderAudio(s);
  const results = await Promise.allSettled([
    runFfmpeg(vp8EncodeArgs(s, videoPath), { stdin: videoFrames(s, onProgress) }),
    runFfmpeg(opusEncodeArgs(s.audioKbps, rawAudioPath), { stdin: pcmBytes(pcm.subarray(Math.min(OPUS_ENCODER_LOOKAHEAD, pcm.length))) }),
  ]);
  for (const [i, r] of results.entries()) {
    if (r.status === "rejected") {
      const what = i === 0 ? "video" : "audio";
      const why = r.reason instanceof Error ? r.reason.message : String(r.reason);
      throw new Error(`clip ${s.name}: ${what} encode failed: ${why}`);
    }
  }
  verifyVideo(s, await readFile(videoPath));
  const encoded = await readFile(rawAudioPath);
  verifyAudio(s, encoded);
  await writeFile(join(dir, "audio.ogg"), setOggOpusPreSkip(encoded, 0));
  await rm(rawAudioPath);
}

const inFlight = new Map<string, Promise<GeneratedClip>>();

/**
 * Return the encoded clip for `spec`, generating it on a cache miss. Concurrent calls for the same
 * content in this process share one encode; across processes the atomic rename decides.
 */
export async function generateClip(spec: ClipSpec, opts: GenerateOptions): Promise<GeneratedClip> {
  const s = normaliseClipSpec(spec);
  const hash = clipHash(s);
  const dir = join(opts.cacheDir, hash);
  const result = (cached: boolean): GeneratedClip => ({
    spec: s,
    hash,
    videoPath: join(dir, "video.ivf"),
    audioPath: join(dir, "audio.ogg"),
    cached,
  });

  if ((await exists(join(dir, "video.ivf"))) && (await exists(join(dir, "audio.ogg")))) {
    opts.onProgress?.(`clip ${s.name}: cached (${hash.slice(0, 12)})`);
    return result(true);
  }
  const key = join(opts.cacheDir, hash);
  const pending = inFlight.get(key);
  if (pending) return { ...(await pending), spec: s };

  const work = (async (): Promise<GeneratedClip> => {
    opts.onProgress?.(`clip ${s.name}: encoding ${clipFrameCount(s)} frames ${s.width}×${s.height}@${s.fps} (${hash.slice(0, 12)})`);
    await buildCacheDir(dir, async (tmp) => {
      await encodeInto(tmp, s, opts.onProgress);
      const { name: _name, ...content } = s;
      await writeFile(join(tmp, "spec.json"), `${JSON.stringify({ generator: GENERATOR_VERSION, ...content }, null, 2)}\n`);
    });
    opts.onProgress?.(`clip ${s.name}: done`);
    return result(false);
  })();
  inFlight.set(key, work);
  try {
    return await work;
  } finally {
    inFlight.delete(key);
  }
}
