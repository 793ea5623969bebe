// `proctor media transition`: n frames that lead from the last frame of clip A to the first frame
// of clip B, encoded as a clip of their own (VP8/IVF + Opus/Ogg, the encoder settings of
// clip-generator.ts via prepare.ts), so a lesson can play A → transition → B for a smooth switch
// (DESIGN.md "Media", what classroom vendors ship as "transition frames").
//
// Frame k (k = 0..n−1) sits at position t = (k + 1) / (n + 1) between A's last frame (t = 0) and
// B's first (t = 1): the endpoints themselves are not repeated, so frame 0 is closest to A and
// frame n−1 closest to B.
//   - "blend": a linear cross-dissolve, per I420 sample: round((1 − t)·A + t·B).
//   - "minterpolate": ffmpeg's motion-compensated interpolation (mi_mode=mci, overlapped block
//     MC, bidirectional ME, variable-size blocks) over the two frames fed at 1 fps and resampled
//     to n + 1 fps; output frames 1..n are the ones at t = k/(n+1). Scene-change detection is off
//     (scd=none): A and B are usually different scenes, and with it on ffmpeg just repeats frames.
// With `clipId`, every transition frame also gets the frame-code band (clipId, k) and a black sync
// square (a transition carries no sync marker), so the harness can tell its frames apart.
//
// Audio lasts the same n/fps seconds: "silence" (default), or "crossfade": A's last n/fps seconds
// fading out linearly under B's first n/fps seconds fading in. Note that crossfade REPEATS that
// audio (A already played its tail, B will play its head), chirps included; silence does not.
//
// A and B may each be a prepared/generated clip directory (video.ivf + audio.ogg) or any media
// file ffmpeg reads. Size and fps default to A's IVF header when A is an IVF, else 640×360@30.

import { open, readFile, stat, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { basename, extname, join } from "node:path";
import type { ClipFolder, ClipSpec } from "./clip-generator.js";
import { AUDIO_SAMPLE_RATE, clipSampleCount, i420FrameBytes } from "./clip-pattern.js";
import { runFfmpeg } from "./ffmpeg.js";
import { drawFrameCodeI420 } from "./frame-code.js";
import { IVF_FILE_HEADER_BYTES } from "./ivf.js";
import {
  MediaOptionError,
  PREPARED_AUDIO_KBPS,
  checkClipId,
  checkGeometry,
  commitFiles,
  decodeAudio,
  drawFlashSquareI420,
  encodeOpusAligned,
  ffmpegRecords,
  filesHash,
  probeMedia,
  verifyIvf,
  videoDecodeArgs,
  vp8EncodeArgs,
  type EncodeGeometry,
} from "./prepare.js";

export type TransitionMode = "blend" | "minterpolate";
export const TRANSITION_MODES: readonly TransitionMode[] = ["blend", "minterpolate"];
export type TransitionAudio = "silence" | "crossfade";
export const TRANSITION_AUDIO: readonly TransitionAudio[] = ["silence", "crossfade"];
/** Upper bound on n: a transition longer than this is a clip, not a transition. */
export const MAX_TRANSITION_FRAMES = 600;

export type TransitionOptions = {
  /** Number of transition frames n, 1..MAX_TRANSITION_FRAMES. */
  frames: number;
  /** Default "blend". */
  mode?: TransitionMode;
  /** Output directory (created): video.ivf, audio.ogg, spec.json. */
  out: string;
  /** When set, frames carry the frame-code band (clipId, k) and a black sync square. */
  clipId?: number;
  /** Default "silence". */
  audio?: TransitionAudio;
  /** Default "<a>-to-<b>". */
  name?: string;
  /** Defaults: A's IVF header, else 640×360@30; videoKbps 500. */
  width?: number;
  height?: number;
  fps?: number;
  videoKbps?: number;
  onProgress?: (msg: string) => void;
};

/** The clip's spec.clipId is 0 when no clipId was given. */
export type Transition = ClipFolder & {
  mode: TransitionMode;
  audio: TransitionAudio;
  geometry: EncodeGeometry;
};

type Source = { path: string; video: string; audio: string | undefined };

async function resolveSource(path: string, option: string): Promise<Source> {
  let st;
  try {
    st = await stat(path);
  } catch {
    throw new MediaOptionError(option, path, "an existing clip directory (video.ivf, audio.ogg) or media file");
  }
  if (st.isDirectory()) {
    const video = join(path, "video.ivf");
    const audio = join(path, "audio.ogg");
    const has = async (p: string): Promise<boolean> => (await stat(p).catch(() => undefined))?.isFile() ?? false;
    if (!(await has(video))) throw new MediaOptionError(option, path, "a clip directory holding video.ivf");
    return { path, video, audio: (await has(audio)) ? audio : undefined };
  }
  const probe = await probeMedia(path, option);
  if (!probe.hasVideo) throw new Error(`${path}: no video stream to take a transition frame from`);
  return { path, video: path, audio: probe.hasAudio ? path : undefined };
}

/** Width, height and fps from an IVF file header, or undefined when `path` is not an IVF. */
async function ivfGeometry(path: string): Promise<{ width: number; height: number; fps: number } | undefined> {
  const fh = await open(path, "r");
  try {
    const buf = Buffer.alloc(IVF_FILE_HEADER_BYTES);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    if (bytesRead < IVF_FILE_HEADER_BYTES || buf.toString("latin1", 0, 4) !== "DKIF") return undefined;
    const den = buf.readUInt32LE(16);
    const numr = buf.readUInt32LE(20);
    const fps = numr > 0 ? den / numr : Number.NaN;
    return { width: buf.readUInt16LE(12), height: buf.readUInt16LE(14), fps: Number.isInteger(fps) ? fps : 30 };
  } finally {
    await fh.close();
  }
}

/**
 * The n blended frames between `a` and `b` (same-size I420): frame k = round((1 − t)·a + t·b),
 * t = (k + 1)/(n + 1). Pure.
 */
export function blendFrames(a: Uint8Array, b: Uint8Array, n: number): Uint8Array[] {
  if (a.length !== b.length) throw new RangeError(`blend: frames of ${a.length} and ${b.length} bytes`);
  const out: Uint8Array[] = [];
  for (let k = 0; k < n; k++) {
    const t = (k + 1) / (n + 1);
    const f = new Uint8Array(a.length);
    for (let i = 0; i < a.length; i++) f[i] = Math.round((1 - t) * (a[i] ?? 0) + t * (b[i] ?? 0));
    out.push(f);
  }
  return out;
}

/** The n motion-interpolated frames between `a` and `b` (ffmpeg minterpolate, see header). */
export async function interpolateFrames(a: Uint8Array, b: Uint8Array, n: number, width: number, height: number): Promise<Uint8Array[]> {
  const bytes = i420FrameBytes(width, height);
  // B repeated so minterpolate has the look-ahead it needs to emit the frames up to t = 1.
  const input = Buffer.concat([a, b, b, b]);
  const vf = `minterpolate=fps=${n + 1}:mi_mode=mci:mc_mode=aobmc:me_mode=bidir:vsbmc=1:scd=none`;
  const { stdout } = await runFfmpeg(
    ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-s", `${width}x${height}`, "-framerate", "1", "-i", "pipe:0", "-vf", vf, "-vsync", "passthrough", "-pix_fmt", "yuv420p", "-f", "rawvideo", "pipe:1"],
    { stdin: input },
  );
  const count = Math.floor(stdout.length / bytes);
  if (count < n + 1) throw new Error(`minterpolate produced ${count} frames, expected at least ${n + 1}`);
  const out: Uint8Array[] = [];
  for (let k = 1; k <= n; k++) out.push(new Uint8Array(stdout.buffer, stdout.byteOffset + k * bytes, bytes));
  return out;
}

async function lastFrame(src: Source, g: EncodeGeometry): Promise<Buffer> {
  let last: Buffer | undefined;
  for await (const f of ffmpegRecords(videoDecodeArgs(src.video, g), i420FrameBytes(g.width, g.height), `decode ${src.video}`)) last = f;
  if (!last) throw new Error(`${src.video}: decoded to no video frames`);
  return last;
}

async function firstFrame(src: Source, g: EncodeGeometry): Promise<Buffer> {
  for await (const f of ffmpegRecords(videoDecodeArgs(src.video, g, ["-frames:v", "1"]), i420FrameBytes(g.width, g.height), `decode ${src.video}`)) {
    return f;
  }
  throw new Error(`${src.video}: decoded to no video frames`);
}

async function transitionAudio(mode: TransitionAudio, a: Source, b: Source, total: number): Promise<Float32Array> {
  const out = new Float32Array(total);
  if (mode === "silence") return out;
  const [pa, pb] = await Promise.all([
    a.audio ? decodeAudio(a.audio, false) : Promise.resolve(new Float32Array(0)),
    b.audio ? decodeAudio(b.audio, false) : Promise.resolve(new Float32Array(0)),
  ]);
  const tail = pa.subarray(Math.max(0, pa.length - total));
  const tailStart = total - tail.length; // a short A is right-aligned: its last sample stays last
  for (let i = 0; i < total; i++) {
    const t = (i + 0.5) / total;
    const av = i >= tailStart ? (tail[i - tailStart] ?? 0) : 0;
    out[i] = (1 - t) * av + t * (pb[i] ?? 0);
  }
  return out;
}

/** Build the transition clip from `a` to `b` into `opts.out`. */
export async function makeTransition(a: string, b: string, opts: TransitionOptions): Promise<Transition> {
  const n = opts.frames;
  if (!Number.isInteger(n) || n < 1 || n > MAX_TRANSITION_FRAMES) throw new MediaOptionError("frames", n, `an integer 1..${MAX_TRANSITION_FRAMES}`);
  const mode = opts.mode ?? "blend";
  if (!TRANSITION_MODES.includes(mode)) throw new MediaOptionError("mode", mode, TRANSITION_MODES.join(" or "));
  const audioMode = opts.audio ?? "silence";
  if (!TRANSITION_AUDIO.includes(audioMode)) throw new MediaOptionError("audio", audioMode, TRANSITION_AUDIO.join(" or "));
  if (opts.clipId !== undefined) checkClipId(opts.clipId);
  const progress = opts.onProgress ?? ((): void => undefined);

  const [sa, sb] = await Promise.all([resolveSource(a, "a"), resolveSource(b, "b")]);
  const fromIvf = await ivfGeometry(sa.video);
  const g: EncodeGeometry = {
    width: opts.width ?? fromIvf?.width ?? 640,
    height: opts.height ?? fromIvf?.height ?? 360,
    fps: opts.fps ?? fromIvf?.fps ?? 30,
    videoKbps: opts.videoKbps ?? 500,
  };
  checkGeometry(g);
  const stem = (p: string): string => basename(p, extname(p)) || basename(p);
  const name = opts.name ?? `${stem(a)}-to-${stem(b)}`;

  progress(`${name}: reading A's last and B's first frame`);
  const [fa, fb] = await Promise.all([lastFrame(sa, g), firstFrame(sb, g)]);
  progress(`${name}: ${n} ${mode} frames`);
  const frames = mode === "blend" ? blendFrames(fa, fb, n) : await interpolateFrames(fa, fb, n, g.width, g.height);
  if (opts.clipId !== undefined) {
    for (const [k, f] of frames.entries()) {
      drawFlashSquareI420(f, g.width, g.height, false);
      drawFrameCodeI420(f, g.width, g.height, { clipId: opts.clipId, frameIndex: k });
    }
  }

  const durationMs = (n * 1000) / g.fps;
  await mkdir(opts.out, { recursive: true });
  const tmp = await mkdtemp(join(opts.out, ".transition-"));
  try {
    const videoTmp = join(tmp, "video.ivf");
    await runFfmpeg(vp8EncodeArgs(g, videoTmp), { stdin: Buffer.concat(frames) });
    verifyIvf(await readFile(videoTmp), g, n, name);
    const pcm = await transitionAudio(audioMode, sa, sb, clipSampleCount({ durationMs }));
    await encodeOpusAligned(pcm, join(tmp, "audio.ogg"), name);
    const spec: Required<ClipSpec> = {
      name,
      clipId: opts.clipId ?? 0,
      durationMs,
      width: g.width,
      height: g.height,
      fps: g.fps,
      videoKbps: g.videoKbps,
      audioKbps: PREPARED_AUDIO_KBPS,
      markerAudioOffsetMs: 0,
    };
    const specJson = {
      preparedBy: "proctor media transition",
      ...spec,
      frameCodes: opts.clipId !== undefined,
      frameCount: n,
      mode,
      audio: audioMode,
      from: sa.path,
      to: sb.path,
      sampleRate: AUDIO_SAMPLE_RATE,
    };
    await writeFile(join(tmp, "spec.json"), `${JSON.stringify(specJson, null, 2)}\n`);
    await commitFiles(tmp, opts.out, ["video.ivf", "audio.ogg", "spec.json"]);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true });
    throw err;
  }
  const videoPath = join(opts.out, "video.ivf");
  const audioPath = join(opts.out, "audio.ogg");
  const hash = await filesHash(videoPath, audioPath);
  progress(`${name}: done (${n} frames, ${durationMs.toFixed(0)} ms)`);
  return {
    dir: opts.out,
    videoPath,
    audioPath,
    specPath: join(opts.out, "spec.json"),
    clip: {
      spec: { name, clipId: opts.clipId ?? 0, durationMs, width: g.width, height: g.height, fps: g.fps, videoKbps: g.videoKbps, audioKbps: PREPARED_AUDIO_KBPS, markerAudioOffsetMs: 0 },
      hash,
      videoPath,
      audioPath,
      cached: false,
    },
    frameCount: n,
    durationMs,
    mode,
    audio: audioMode,
    geometry: g,
  };
}
