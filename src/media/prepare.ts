// `proctor media prepare`: turn any input ffmpeg can read into the streamable form the streamer
// plays (DESIGN.md "Media"): VP8 in IVF + Opus in Ogg (48 kHz mono, 20 ms packets), keyframe at
// frame 0, with the harness's frame-code band and sync markers drawn onto the user's own content.
//
// Pipeline (the output dir gets video.ivf, audio.ogg and spec.json, like a generated clip):
//   1. probe: which streams the input has (`ffmpeg -i` stream list; cover art is not video).
//   2. audio: decode to 48 kHz mono float, resampled with first_pts=0 so it stays aligned with the
//      video; `afftdn` (FFT denoiser, tracking the noise floor) when `denoise` is set.
//   3. video: decode streaming (never the whole clip in memory) at the target fps (`fps` filter,
//      start_time 0) and size (scaled to fit, letterboxed, video range), then per frame, in raw
//      I420: the frame-code band over the top rows (clip id, frame index; frame-code.ts) and, with
//      markers on, the 64×64 sync square at the bottom right, white on frames k·fps..k·fps+2 and
//      black otherwise (the same square clip-pattern.ts draws). The clip lasts as long as the
//      longer of the two streams: the last picture is held, or the audio padded with silence.
//      An input without video gets a dark grey picture.
//   4. loudness (`loudnessLufs`, the CLI's --gain): TWO-PASS loudnorm — pass 1 measures
//      (integrated loudness, true peak, LRA, threshold: print_format=json), pass 2 applies with the
//      measured_* values and linear=true, which is a pure gain unless the true-peak ceiling
//      (−1 dBTP) forces loudnorm's dynamic mode. Then the markers are mixed in (they are part of
//      what the student hears) and a final trim of the content gain (a secant search, at most
//      TRIM_ROUNDS rounds of encode → measure) brings the integrated loudness of the ENCODED mix,
//      markers included, to the target within TRIM_TOLERANCE_LU (Opus alone moved a noisy input
//      by 1.6 LU). Loudness is BS.1770 as loudnorm's meter reports it; tested against ebur128.
//   5. markers on the audio: the harness sync chirp (clip-pattern.ts syncChirp, 300→3400 Hz,
//      40 ms, peak SYNC_BURST_AMPLITUDE) ADDED to the content with its first sample at k·1000 ms,
//      the presentation instant of flash frame k·fps. The chirp level is fixed, not scaled by the
//      loudness gain, so detectors see the same burst as in generated clips.
//   6. encode with the exact encoder settings of clip-generator.ts: libvpx CBR, keyframe every fps
//      frames (so at 0 and ≤ 1 s apart), no alt-ref, no lag, error resilient; libopus 48 kb/s,
//      20 ms frames, fed from sample OPUS_ENCODER_LOOKAHEAD on with the Ogg pre-skip rewritten to
//      0 (see clip-generator.ts "Audio alignment"), so the decoder output is sample-aligned with
//      the PCM above through Ogg and RTP alike. Both outputs are checked after encoding.

import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { endianness } from "node:os";
import { basename, dirname, extname, join } from "node:path";
import type { ClipFolder, ClipSpec } from "./clip-generator.js";
import { OPUS_ENCODER_LOOKAHEAD, OPUS_PACKET_SAMPLES, vp8EncodeArgs as clipVp8EncodeArgs, opusEncodeArgs as clipOpusEncodeArgs } from "./clip-generator.js";
import {
  AUDIO_SAMPLE_RATE,
  SYNC_BURST_AMPLITUDE,
  clipSampleCount,
  flashRect,
  i420FrameBytes,
  isFlashFrame,
  syncBurstStartSamples,
  syncChirp,
} from "./clip-pattern.js";
import { ffmpegPath, runFfmpeg } from "./ffmpeg.js";
import { FRAME_CODE_BLACK, FRAME_CODE_WHITE, drawFrameCodeI420, frameCodeBandHeight } from "./frame-code.js";
import { parseIvf } from "./ivf.js";
import { opusPacketDurationSamples, parseOggOpus, setOggOpusPreSkip } from "./ogg-opus.js";

/** Bump when prepare changes what it writes for the same input and options. */
export const PREPARE_VERSION = 1;
/** Opus bitrate of prepared clips, as generated clips (clip-generator.ts default). */
export const PREPARED_AUDIO_KBPS = 48;
/** The frame code carries a 16-bit frame index. */
export const MAX_CLIP_FRAMES = 65536;
/** afftdn settings for `denoise`: 12 dB reduction, noise floor tracked from the input (tn=1). */
export const DENOISE_FILTER = "afftdn=nr=12:nf=-50:tn=1";
/** True-peak ceiling and loudness-range target handed to loudnorm, dBTP / LU. */
export const LOUDNORM_TRUE_PEAK_DB = -1;
export const LOUDNORM_LRA = 11;
/** The final trim stops within this many LU of the target, or after TRIM_ROUNDS measurements. */
export const TRIM_TOLERANCE_LU = 0.1;
export const TRIM_ROUNDS = 4;
/** Luma/chroma of the picture given to an input that has no video. */
const NO_VIDEO_Y = 40;

export type PrepareOptions = {
  /** Output directory (created). Default: "<input without extension>.prepared" beside the input. */
  out?: string;
  /** 0..255, carried in every frame code. */
  clipId: number;
  /** Clip name in the returned GeneratedClip and spec.json. Default: the input's base name. */
  name?: string;
  /** Integer frame rate, default 30. */
  fps?: number;
  /** Default 640; multiple of 16. */
  width?: number;
  /** Default 360; even, tall enough for the band and the flash square. */
  height?: number;
  /** VP8 CBR bitrate, default 500. */
  videoKbps?: number;
  /** Apply DENOISE_FILTER to the audio. Default false. */
  denoise?: boolean;
  /** Integrated loudness target, LUFS (−70..−5), e.g. −16. Omitted: the level is left alone. */
  loudnessLufs?: number;
  /** Flash square and chirp every second. Default true. The frame-code band is always drawn. */
  markers?: boolean;
  onProgress?: (msg: string) => void;
};

/** An option value prepareMedia / makeTransition cannot use; `option` is the field name. */
export class MediaOptionError extends Error {
  constructor(
    readonly option: string,
    readonly value: unknown,
    readonly want: string,
  ) {
    super(`${option} = ${JSON.stringify(value)} is invalid (${want})`);
    this.name = "MediaOptionError";
  }
}

export type LoudnessStats = {
  /** Integrated loudness, LUFS (−Infinity for silence). */
  integratedLufs: number;
  truePeakDb: number;
  lraLu: number;
  thresholdLufs: number;
};

export type LoudnessReport = {
  targetLufs: number;
  /** Content loudness before any gain, LUFS. */
  inputLufs: number;
  /** loudnorm pass 2 mode: "linear" (pure gain) or "dynamic" (limiter/compressor engaged). */
  loudnormMode: "linear" | "dynamic";
  /** Extra gain on the content after loudnorm, dB (brings the mix with markers to the target). */
  trimDb: number;
  /** Measured loudness of the encoded audio.ogg (markers included), LUFS. */
  outputLufs: number;
  /** Samples clipped to full scale when converting to 16-bit. */
  clippedSamples: number;
};

export type PreparedMedia = ClipFolder & {
  source: { path: string; hasVideo: boolean; hasAudio: boolean; decodedFrames: number; decodedSamples: number };
  markers: boolean;
  denoise: boolean;
  /** Present when loudnessLufs was given and the input had audible content. */
  loudness?: LoudnessReport;
  /** Things the user should know (e.g. a silent input that could not be normalised). */
  warnings: string[];
};

export type EncodeGeometry = { width: number; height: number; fps: number; videoKbps: number };

type Normalised = Required<Omit<PrepareOptions, "out" | "name" | "loudnessLufs" | "onProgress">> & {
  loudnessLufs: number | undefined;
};

/** Check the geometry every prepared/transition clip needs; throws MediaOptionError. */
export function checkGeometry(g: EncodeGeometry): void {
  const { width, height, fps, videoKbps } = g;
  if (!Number.isInteger(fps) || fps < 1 || fps > 120) throw new MediaOptionError("fps", fps, "an integer 1..120");
  if (!Number.isInteger(width) || width % 16 !== 0 || width < 64 || width > 4096) {
    throw new MediaOptionError("width", width, "a multiple of 16 in 64..4096");
  }
  if (!Number.isInteger(height) || height % 2 !== 0 || height < 2 || height > 4096) {
    throw new MediaOptionError("height", height, "an even integer ≤ 4096");
  }
  if (flashRect(width, height).y < frameCodeBandHeight(width)) {
    throw new MediaOptionError("height", height, `tall enough for the ${frameCodeBandHeight(width)}-px frame-code band and the 64-px flash square`);
  }
  if (!Number.isFinite(videoKbps) || videoKbps < 20 || videoKbps > 20000) throw new MediaOptionError("videoKbps", videoKbps, "20..20000");
}

/** Check a clip id (0..255, the frame code's range); throws MediaOptionError. */
export function checkClipId(clipId: number): void {
  if (!Number.isInteger(clipId) || clipId < 0 || clipId > 255) throw new MediaOptionError("clipId", clipId, "an integer 0..255");
}

function normalise(opts: PrepareOptions): Normalised {
  const n: Normalised = {
    clipId: opts.clipId,
    fps: opts.fps ?? 30,
    width: opts.width ?? 640,
    height: opts.height ?? 360,
    videoKbps: opts.videoKbps ?? 500,
    denoise: opts.denoise ?? false,
    markers: opts.markers ?? true,
    loudnessLufs: opts.loudnessLufs,
  };
  checkClipId(n.clipId);
  checkGeometry(n);
  if (n.loudnessLufs !== undefined && (!Number.isFinite(n.loudnessLufs) || n.loudnessLufs < -70 || n.loudnessLufs > -5)) {
    throw new MediaOptionError("loudnessLufs", n.loudnessLufs, "a loudness target in −70..−5 LUFS, e.g. −16");
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// ffmpeg plumbing shared with transition.ts

/** The encoder settings of every proctor clip, owned by clip-generator.ts. */
export function vp8EncodeArgs(g: EncodeGeometry, out: string): string[] {
  return clipVp8EncodeArgs(g, out);
}

export function opusEncodeArgs(out: string): string[] {
  return clipOpusEncodeArgs(PREPARED_AUDIO_KBPS, out);
}

const STDERR_TAIL_BYTES = 8192;

/**
 * Run ffmpeg with `args` (its output must be raw data on pipe:1) and yield its stdout in records
 * of exactly `recordBytes` (a trailing partial record is an error). Streams with backpressure:
 * only a few records are in memory. Stopping early kills ffmpeg. `what` names the job in errors.
 */
export async function* ffmpegRecords(args: string[], recordBytes: number, what: string): AsyncGenerator<Buffer> {
  const bin = ffmpegPath();
  const child = spawn(bin, ["-hide_banner", "-nostdin", "-loglevel", "error", ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (c: string) => {
    stderr = (stderr + c).slice(-STDERR_TAIL_BYTES);
  });
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.on("error", (err) => reject(new Error(`${what}: cannot run ${bin}: ${err.message}`)));
    child.on("close", (code, signal) => resolve({ code, signal }));
  });
  closed.catch(() => undefined); // awaited below; keeps an early stop from leaving it unhandled
  let done = false;
  try {
    let rest: Buffer = Buffer.alloc(0);
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      const buf = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
      let off = 0;
      while (buf.length - off >= recordBytes) {
        yield Buffer.from(buf.subarray(off, off + recordBytes));
        off += recordBytes;
      }
      rest = buf.subarray(off);
    }
    const { code, signal } = await closed;
    done = true;
    if (code !== 0) {
      const how = signal !== null ? `was killed by ${signal}` : `exited with code ${String(code)}`;
      throw new Error(`${what}: ffmpeg ${how}${stderr.trim() ? `\n${stderr.trimEnd()}` : ""}`);
    }
    if (rest.length !== 0) throw new Error(`${what}: ffmpeg output ends with a partial record (${rest.length} of ${recordBytes} bytes)`);
  } finally {
    if (!done) child.kill("SIGKILL");
  }
}

/** Float PCM [-1, 1] → s16le bytes, clamped; also counts clipped samples. */
export function pcmToS16le(pcm: Float32Array): { bytes: Buffer; clipped: number } {
  const out = Buffer.alloc(pcm.length * 2);
  let clipped = 0;
  const le = endianness() === "LE";
  const view = new Int16Array(out.buffer, out.byteOffset, pcm.length);
  for (let i = 0; i < pcm.length; i++) {
    let v = Math.round((pcm[i] ?? 0) * 32767);
    if (v > 32767) {
      v = 32767;
      clipped++;
    } else if (v < -32768) {
      v = -32768;
      clipped++;
    }
    view[i] = v;
  }
  if (!le) out.swap16();
  return { bytes: out, clipped };
}

function f32leToArray(buf: Buffer): Float32Array {
  const out = new Float32Array(buf.length >> 2);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
  return out;
}

function f32leBytes(pcm: Float32Array): Buffer {
  const buf = Buffer.alloc(pcm.length * 4);
  for (let i = 0; i < pcm.length; i++) buf.writeFloatLE(pcm[i] ?? 0, i * 4);
  return buf;
}

/** Parse the JSON block loudnorm prints with print_format=json at the end of its stderr. */
function parseLoudnormJson(stderr: string): Record<string, string> {
  const start = stderr.lastIndexOf("{");
  const end = stderr.lastIndexOf("}");
  if (start < 0 || end < start) throw new Error(`loudnorm printed no measurement:\n${stderr.slice(-1000)}`);
  const parsed: unknown = JSON.parse(stderr.slice(start, end + 1));
  if (typeof parsed !== "object" || parsed === null) throw new Error("loudnorm printed a malformed measurement");
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parsed)) if (typeof v === "string") out[k] = v;
  return out;
}

function num(v: string | undefined): number {
  if (v === undefined) return Number.NaN;
  if (v === "-inf") return -Infinity;
  if (v === "inf") return Infinity;
  return Number(v);
}

const PCM_IN = ["-f", "f32le", "-ar", String(AUDIO_SAMPLE_RATE), "-ac", "1", "-i", "pipe:0"];

/** BS.1770 integrated loudness, true peak, LRA and gate threshold of 48 kHz mono PCM (loudnorm's meter). */
export async function measureLoudness(pcm: Float32Array): Promise<LoudnessStats> {
  return meter(PCM_IN, f32leBytes(pcm));
}

/** The same measurement on any file ffmpeg reads (e.g. an encoded audio.ogg, as a student hears it). */
export async function measureLoudnessFile(path: string): Promise<LoudnessStats> {
  return meter(["-i", path], undefined);
}

async function meter(input: string[], stdin: Buffer | undefined): Promise<LoudnessStats> {
  const { stderr } = await runFfmpeg(
    ["-loglevel", "info", "-nostats", ...input, "-af", `loudnorm=I=-16:TP=${LOUDNORM_TRUE_PEAK_DB}:LRA=${LOUDNORM_LRA}:print_format=json`, "-f", "null", "-"],
    stdin ? { stdin } : {},
  );
  const j = parseLoudnormJson(stderr);
  return {
    integratedLufs: num(j["input_i"]),
    truePeakDb: num(j["input_tp"]),
    lraLu: num(j["input_lra"]),
    thresholdLufs: num(j["input_thresh"]),
  };
}

/**
 * loudnorm pass 2 with the pass-1 measurement (linear=true); output resampled back to 48 kHz.
 * measured_LRA is passed as at least 0.01: ffmpeg 4.1 takes 0 (its option default) for "not
 * measured" and silently falls back to dynamic mode, which a steady tone (LRA 0) would hit.
 */
async function applyLoudnorm(pcm: Float32Array, targetLufs: number, m: LoudnessStats): Promise<{ pcm: Float32Array; mode: "linear" | "dynamic" }> {
  const filter =
    `loudnorm=I=${targetLufs}:TP=${LOUDNORM_TRUE_PEAK_DB}:LRA=${LOUDNORM_LRA}` +
    `:measured_I=${m.integratedLufs.toFixed(2)}:measured_TP=${m.truePeakDb.toFixed(2)}` +
    `:measured_LRA=${Math.max(0.01, m.lraLu).toFixed(2)}:measured_thresh=${Math.max(-99, m.thresholdLufs).toFixed(2)}` +
    `:linear=true:print_format=json,aresample=${AUDIO_SAMPLE_RATE}`;
  const { stdout, stderr } = await runFfmpeg(
    ["-loglevel", "info", "-nostats", ...PCM_IN, "-af", filter, "-ac", "1", "-ar", String(AUDIO_SAMPLE_RATE), "-f", "f32le", "pipe:1"],
    { stdin: f32leBytes(pcm) },
  );
  const j = parseLoudnormJson(stderr);
  const out = new Float32Array(pcm.length); // same length as the input (loudnorm's resampling may differ by a few samples)
  const got = f32leToArray(stdout);
  out.set(got.subarray(0, Math.min(got.length, out.length)));
  return { pcm: out, mode: j["normalization_type"] === "linear" ? "linear" : "dynamic" };
}

// ---------------------------------------------------------------------------------------------
// probe and decode

export type ProbeResult = { hasVideo: boolean; hasAudio: boolean; durationMs: number | undefined };

/**
 * Which streams `input` has (cover art / attached pictures do not count as video). A file ffmpeg
 * cannot open is a MediaOptionError on `option` (the field or argument that named the file).
 */
export async function probeMedia(input: string, option = "input"): Promise<ProbeResult> {
  let stderr: string;
  try {
    ({ stderr } = await runFfmpeg(["-loglevel", "info", "-nostats", "-i", input, "-map", "0:V?", "-map", "0:a?", "-c", "copy", "-t", "0", "-f", "null", "-"]));
  } catch (err) {
    const lines = (err instanceof Error ? err.message : String(err)).split("\n");
    const why = lines.slice(1).join(" ").trim() || (lines[0] ?? "");
    throw new MediaOptionError(option, input, `a media file ffmpeg can read; ffmpeg says: ${why}`);
  }
  const inputPart = stderr.split(/^Output #0/m)[0] ?? stderr;
  const streams = inputPart.split("\n").filter((l) => /^\s*Stream #0:\d+/.test(l));
  const hasVideo = streams.some((l) => /: Video: /.test(l) && !/\(attached pic\)/.test(l));
  const hasAudio = streams.some((l) => /: Audio: /.test(l));
  const d = /Duration: (\d+):(\d+):(\d+(?:\.\d+)?)/.exec(inputPart);
  const durationMs = d ? (Number(d[1]) * 3600 + Number(d[2]) * 60 + Number(d[3])) * 1000 : undefined;
  return { hasVideo, hasAudio, durationMs };
}

/** Decode the first audio stream to 48 kHz mono float, aligned to the file's start; optional afftdn. */
export async function decodeAudio(input: string, denoise: boolean): Promise<Float32Array> {
  const filters = [`aresample=${AUDIO_SAMPLE_RATE}:async=1:first_pts=0`, "aformat=sample_fmts=flt:channel_layouts=mono"];
  if (denoise) filters.push(DENOISE_FILTER);
  const { stdout } = await runFfmpeg(["-i", input, "-map", "0:a:0", "-vn", "-sn", "-dn", "-af", filters.join(","), "-ar", String(AUDIO_SAMPLE_RATE), "-ac", "1", "-f", "f32le", "pipe:1"]);
  return f32leToArray(stdout);
}

/** ffmpeg arguments decoding the first (non-cover-art) video stream to I420 at w×h@fps, letterboxed. */
export function videoDecodeArgs(input: string, g: Pick<EncodeGeometry, "width" | "height" | "fps">, extra: string[] = []): string[] {
  const { width: w, height: h, fps } = g;
  const vf = [
    `fps=fps=${fps}:start_time=0`,
    `scale=w=${w}:h=${h}:force_original_aspect_ratio=decrease:out_range=tv`,
    `pad=w=${w}:h=${h}:x=(ow-iw)/2:y=(oh-ih)/2`,
    "setsar=1",
    "format=yuv420p",
  ].join(",");
  return ["-i", input, "-map", "0:V:0", "-an", "-sn", "-dn", "-vf", vf, ...extra, "-vsync", "passthrough", "-f", "rawvideo", "pipe:1"];
}

// ---------------------------------------------------------------------------------------------
// overlay and encode

/** The sync square of clip-pattern.ts: white on flash frames, black otherwise, neutral chroma. */
export function drawFlashSquareI420(frame: Uint8Array, width: number, height: number, white: boolean): void {
  const f = flashRect(width, height);
  const cw = (width + 1) >> 1;
  const ch = (height + 1) >> 1;
  const ySize = width * height;
  const level = white ? FRAME_CODE_WHITE : FRAME_CODE_BLACK;
  for (let row = f.y; row < f.y + f.size; row++) frame.fill(level, row * width + f.x, row * width + f.x + f.size);
  for (let crow = f.y >> 1; crow < (f.y + f.size) >> 1; crow++) {
    const c0 = crow * cw + (f.x >> 1);
    frame.fill(128, ySize + c0, ySize + c0 + f.size / 2);
    frame.fill(128, ySize + cw * ch + c0, ySize + cw * ch + c0 + f.size / 2);
  }
}

/** Check an encoded IVF: VP8, size, frame count, keyframe at 0 and ≤ fps frames apart, all shown. */
export function verifyIvf(buf: Buffer, g: EncodeGeometry, expectedFrames: number, what: string): void {
  const ivf = parseIvf(buf);
  const fail = (why: string): never => {
    throw new Error(`${what}: encoded video is unusable: ${why}`);
  };
  if (ivf.fourcc !== "VP80") fail(`fourcc ${ivf.fourcc}, expected VP80`);
  if (ivf.width !== g.width || ivf.height !== g.height) fail(`size ${ivf.width}×${ivf.height}, expected ${g.width}×${g.height}`);
  if (ivf.frames.length !== expectedFrames) fail(`${ivf.frames.length} frames, expected ${expectedFrames}`);
  if (!ivf.frames[0]?.keyframe) fail("frame 0 is not a keyframe");
  let lastKey = 0;
  for (const [i, fr] of ivf.frames.entries()) {
    if (fr.data.length < 3 || ((fr.data[0] ?? 0) & 0x10) === 0) fail(`frame ${i} is not a shown frame`); // RFC 6386 §9.1
    if (fr.keyframe) lastKey = i;
    else if (i - lastKey >= g.fps) fail(`no keyframe within ${g.fps} frames before frame ${i}`);
  }
}

/**
 * Encode `pcm` (48 kHz mono, the clip's whole soundtrack) to `out` as Ogg Opus with the lookahead
 * handling of clip-generator.ts: fed from sample OPUS_ENCODER_LOOKAHEAD, pre-skip rewritten to 0,
 * ceil(length / 960) packets of 20 ms each (checked). Returns the number of clipped samples.
 */
export async function encodeOpusAligned(pcm: Float32Array, out: string, what: string): Promise<number> {
  const tmp = `${out}.encoder.ogg`;
  const { bytes, clipped } = pcmToS16le(pcm.subarray(Math.min(OPUS_ENCODER_LOOKAHEAD, pcm.length)));
  await runFfmpeg(opusEncodeArgs(tmp), { stdin: bytes });
  const encoded = await readFile(tmp);
  const ogg = parseOggOpus(encoded);
  const fail = (why: string): never => {
    throw new Error(`${what}: encoded audio is unusable: ${why}`);
  };
  const expected = Math.ceil(pcm.length / OPUS_PACKET_SAMPLES);
  if (ogg.channels !== 1) fail(`${ogg.channels} channels, expected 1`);
  if (ogg.preSkip !== OPUS_ENCODER_LOOKAHEAD) fail(`encoder pre-skip ${ogg.preSkip}, expected ${OPUS_ENCODER_LOOKAHEAD}`);
  if (ogg.packets.length !== expected) fail(`${ogg.packets.length} Opus packets, expected ${expected}`);
  for (const [i, p] of ogg.packets.entries()) {
    const n = opusPacketDurationSamples(p);
    if (n !== OPUS_PACKET_SAMPLES) fail(`Opus packet ${i} lasts ${n} samples, expected ${OPUS_PACKET_SAMPLES}`);
  }
  await writeFile(out, setOggOpusPreSkip(encoded, 0));
  await rm(tmp, { force: true });
  return clipped;
}

/** sha256 over the encoded files: the content hash of a prepared clip. */
export async function filesHash(...paths: string[]): Promise<string> {
  const h = createHash("sha256");
  for (const p of paths) h.update(await readFile(p));
  return h.digest("hex");
}

/** Move every file of `tmp` named in `names` into `dir` (same file system), then remove `tmp`. */
export async function commitFiles(tmp: string, dir: string, names: string[]): Promise<void> {
  for (const n of names) await rename(join(tmp, n), join(dir, n));
  await rm(tmp, { recursive: true, force: true });
}

function defaultOutDir(input: string): string {
  const base = basename(input, extname(input)) || basename(input);
  return join(dirname(input), `${base}.prepared`);
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Mix the sync chirp into `pcm` at every whole second (first sample at k·48000). */
function addMarkers(pcm: Float32Array, durationMs: number): Float32Array {
  const out = Float32Array.from(pcm);
  const chirp = syncChirp(AUDIO_SAMPLE_RATE);
  for (const start of syncBurstStartSamples({ durationMs, markerAudioOffsetMs: 0 })) {
    for (let i = 0; i < chirp.length; i++) out[start + i] = (out[start + i] ?? 0) + SYNC_BURST_AMPLITUDE * (chirp[i] ?? 0);
  }
  return out;
}

function scaled(pcm: Float32Array, gainDb: number): Float32Array {
  const g = 10 ** (gainDb / 20);
  const out = new Float32Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) out[i] = (pcm[i] ?? 0) * g;
  return out;
}

/**
 * Loudness stage (header, step 4): two-pass loudnorm on the content, then markers, then a trim of
 * the content gain until the mix AS ENCODED (Opus, decoded again) is within TRIM_TOLERANCE_LU of
 * the target. Measuring after the codec matters: at 48 kb/s Opus drops the band above 20 kHz and
 * smooths noise-like content, which moved a noisy test input by −1.6 LU.
 */
async function normaliseLoudness(
  content: Float32Array,
  targetLufs: number,
  withMarkers: (pcm: Float32Array) => Float32Array,
  encodedLoudness: (pcm: Float32Array) => Promise<number>,
  warnings: string[],
): Promise<{ pcm: Float32Array; report: Omit<LoudnessReport, "clippedSamples"> } | null> {
  const m1 = await measureLoudness(content);
  if (!Number.isFinite(m1.integratedLufs) || m1.integratedLufs <= -70) {
    warnings.push(`the audio is silent (integrated loudness ${m1.integratedLufs} LUFS): loudness target ${targetLufs} LUFS not applied`);
    return null;
  }
  const pass2 = await applyLoudnorm(content, targetLufs, m1);
  // Secant search on the trim gain x (dB): f(x) = loudness(encode(mix(content·x))) − target.
  // Without markers the slope is about 1 LU/dB and one step lands; with them it is a little less.
  let x = 0;
  let mix = withMarkers(pass2.pcm);
  let l = await encodedLoudness(mix);
  let slope = 1;
  for (let round = 1; round < TRIM_ROUNDS && Number.isFinite(l) && Math.abs(l - targetLufs) > TRIM_TOLERANCE_LU; round++) {
    const next = Math.max(-30, Math.min(30, x + (targetLufs - l) / slope));
    if (next === x) break;
    const nextMix = withMarkers(scaled(pass2.pcm, next));
    const nextL = await encodedLoudness(nextMix);
    if (!Number.isFinite(nextL)) break;
    const s = (nextL - l) / (next - x);
    x = next;
    l = nextL;
    mix = nextMix;
    if (!(s > 0.05)) break; // the markers alone set the loudness: no content gain reaches the target
    slope = s;
  }
  if (Math.abs(l - targetLufs) > 0.5) {
    warnings.push(`integrated loudness ${l.toFixed(1)} LUFS after trimming, target ${targetLufs} LUFS (the sync chirps alone may be louder than the target)`);
  }
  return {
    pcm: mix,
    report: { targetLufs, inputLufs: m1.integratedLufs, loudnormMode: pass2.mode, trimDb: x, outputLufs: l },
  };
}

/**
 * Convert `input` into a prepared clip in `opts.out` (video.ivf, audio.ogg, spec.json). Files
 * appear only when complete (encoded in a temp dir inside `out`, then renamed). Throws
 * MediaOptionError for a bad option, Error for an unreadable input or a failed encode.
 */
export async function prepareMedia(input: string, opts: PrepareOptions): Promise<PreparedMedia> {
  const o = normalise(opts);
  if (!(await isFile(input))) throw new MediaOptionError("input", input, "an existing file");
  const name = opts.name ?? (basename(input, extname(input)) || basename(input));
  const dir = opts.out ?? defaultOutDir(input);
  const progress = opts.onProgress ?? ((): void => undefined);
  const warnings: string[] = [];
  const g: EncodeGeometry = { width: o.width, height: o.height, fps: o.fps, videoKbps: o.videoKbps };

  const probe = await probeMedia(input);
  if (!probe.hasVideo && !probe.hasAudio) throw new Error(`${input}: no video or audio stream ffmpeg can decode`);
  if (probe.durationMs !== undefined && (probe.durationMs * o.fps) / 1000 > MAX_CLIP_FRAMES + o.fps) {
    throw new Error(`${input}: ${(probe.durationMs / 1000).toFixed(1)} s is too long: the frame code counts at most ${MAX_CLIP_FRAMES} frames (${(MAX_CLIP_FRAMES / o.fps / 60).toFixed(1)} min at ${o.fps} fps)`);
  }

  progress(`${name}: decoding audio${o.denoise ? " (afftdn)" : ""}`);
  const content = probe.hasAudio ? await decodeAudio(input, o.denoise) : new Float32Array(0);
  if (o.denoise && !probe.hasAudio) warnings.push("--denoise: the input has no audio");
  const samplesPerFrame = AUDIO_SAMPLE_RATE / o.fps;
  const audioFrames = Math.round(content.length / samplesPerFrame);

  await mkdir(dir, { recursive: true });
  const tmp = await mkdtemp(join(dir, ".prepare-"));
  try {
    // Video: decode → overlay → encode, streaming; the last picture is held while audio remains.
    const frameBytes = i420FrameBytes(o.width, o.height);
    let decodedFrames = 0;
    let emitted = 0;
    const overlay = (frame: Buffer): Buffer => {
      if (emitted >= MAX_CLIP_FRAMES) {
        throw new Error(`${input}: more than ${MAX_CLIP_FRAMES} frames at ${o.fps} fps, the frame code's range`);
      }
      if (o.markers) drawFlashSquareI420(frame, o.width, o.height, isFlashFrame(emitted, o.fps));
      drawFrameCodeI420(frame, o.width, o.height, { clipId: o.clipId, frameIndex: emitted });
      emitted++;
      if (emitted % (o.fps * 10) === 0) progress(`${name}: video frame ${emitted}`);
      return frame;
    };
    const frames = async function* (): AsyncGenerator<Buffer> {
      let last: Buffer | undefined;
      if (probe.hasVideo) {
        for await (const raw of ffmpegRecords(videoDecodeArgs(input, g), frameBytes, `decode video of ${input}`)) {
          decodedFrames++;
          last = Buffer.from(raw); // the clean picture, before the overlay
          yield overlay(raw);
        }
      }
      if (last === undefined) {
        last = Buffer.alloc(frameBytes, 128);
        last.fill(NO_VIDEO_Y, 0, o.width * o.height);
      }
      while (emitted < Math.max(1, audioFrames)) yield overlay(Buffer.from(last));
    };
    progress(`${name}: encoding video ${o.width}×${o.height}@${o.fps}`);
    await runFfmpeg(vp8EncodeArgs(g, join(tmp, "video.ivf")), { stdin: frames() });
    const frameCount = emitted;
    if (probe.hasVideo && decodedFrames === 0) throw new Error(`${input}: the video stream decoded to no frames`);
    verifyIvf(await readFile(join(tmp, "video.ivf")), g, frameCount, name);

    // Audio: fit to the clip, loudness, markers, encode.
    const durationMs = (frameCount * 1000) / o.fps;
    const total = clipSampleCount({ durationMs });
    const fitted = new Float32Array(total);
    fitted.set(content.subarray(0, Math.min(content.length, total)));
    const withMarkers = (pcm: Float32Array): Float32Array => (o.markers ? addMarkers(pcm, durationMs) : pcm);
    let pcm: Float32Array;
    let loudness: Omit<LoudnessReport, "clippedSamples"> | undefined;
    if (o.loudnessLufs !== undefined && probe.hasAudio) {
      progress(`${name}: loudness to ${o.loudnessLufs} LUFS (two-pass loudnorm)`);
      const trial = join(tmp, "loudness-trial.ogg");
      const encodedLoudness = async (mixPcm: Float32Array): Promise<number> => {
        await encodeOpusAligned(mixPcm, trial, name);
        return (await measureLoudnessFile(trial)).integratedLufs;
      };
      const r = await normaliseLoudness(fitted, o.loudnessLufs, withMarkers, encodedLoudness, warnings);
      await rm(trial, { force: true });
      pcm = r ? r.pcm : withMarkers(fitted);
      loudness = r?.report;
    } else {
      if (o.loudnessLufs !== undefined) warnings.push(`--gain ${o.loudnessLufs}: the input has no audio, nothing to normalise`);
      pcm = withMarkers(fitted);
    }
    progress(`${name}: encoding audio`);
    const clipped = await encodeOpusAligned(pcm, join(tmp, "audio.ogg"), name);
    if (clipped > 0) warnings.push(`${clipped} audio samples clipped at full scale`);

    const spec: Required<ClipSpec> = {
      name,
      clipId: o.clipId,
      durationMs,
      width: o.width,
      height: o.height,
      fps: o.fps,
      videoKbps: o.videoKbps,
      audioKbps: PREPARED_AUDIO_KBPS,
      markerAudioOffsetMs: 0,
    };
    const source = { path: input, hasVideo: probe.hasVideo, hasAudio: probe.hasAudio, decodedFrames, decodedSamples: content.length };
    const loudnessReport = loudness ? { ...loudness, clippedSamples: clipped } : undefined;
    const specJson = { preparedBy: "proctor media prepare", prepareVersion: PREPARE_VERSION, ...spec, frameCount, markers: o.markers, denoise: o.denoise, loudness: loudnessReport ?? null, source };
    await writeFile(join(tmp, "spec.json"), `${JSON.stringify(specJson, null, 2)}\n`);
    await commitFiles(tmp, dir, ["video.ivf", "audio.ogg", "spec.json"]);
    const videoPath = join(dir, "video.ivf");
    const audioPath = join(dir, "audio.ogg");
    const hash = await filesHash(videoPath, audioPath);
    progress(`${name}: done (${frameCount} frames, ${(durationMs / 1000).toFixed(2)} s)`);
    return {
      dir,
      videoPath,
      audioPath,
      specPath: join(dir, "spec.json"),
      clip: { spec, hash, videoPath, audioPath, cached: false },
      frameCount,
      durationMs,
      source,
      markers: o.markers,
      denoise: o.denoise,
      ...(loudnessReport ? { loudness: loudnessReport } : {}),
      warnings,
    };
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
}
