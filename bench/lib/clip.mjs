// The bench's lesson media: one generated harness clip (640×360, 30 fps, VP8 ~500 kbps CBR, Opus
// 20 ms), encoded once and cached by content hash in .cache/media (the same cache the runner uses),
// then looped by the streamer for as long as a bench run lasts.
import { resolve } from "node:path";
import { generateClip } from "../../dist/media/clip-generator.js";
import { loadClip } from "../../dist/streamer/clip-library.js";

export const BENCH_FPS = 30;
export const BENCH_VIDEO_KBPS = 500;
const BENCH_CLIP = { name: "bench", clipId: 1, durationMs: 6000, width: 640, height: 360, fps: BENCH_FPS, videoKbps: BENCH_VIDEO_KBPS };

/** Generate (or find in the cache) the bench clip; returns the GeneratedClip (plain data, IPC-safe). */
export async function prepareBenchClip(cacheDir = process.env.PROCTOR_CACHE_DIR ?? ".cache/media", log = () => undefined) {
  return generateClip(BENCH_CLIP, { cacheDir: resolve(cacheDir), onProgress: log });
}

/** What the clip really carries on the wire (payload bitrates, frame sizes), for the report. */
export async function describeClip(generated) {
  const clip = await loadClip(generated);
  const videoBytes = clip.frames.reduce((s, f) => s + f.data.length, 0);
  const audioBytes = clip.audio.reduce((s, p) => s + p.length, 0);
  const seconds = clip.durationMs / 1000;
  return {
    hash: generated.hash,
    width: clip.width,
    height: clip.height,
    fps: clip.fps,
    durationMs: clip.durationMs,
    frames: clip.frames.length,
    keyframes: clip.frames.filter((f) => f.keyframe).length,
    videoKbps: (videoBytes * 8) / seconds / 1000,
    audioKbps: (audioBytes * 8) / seconds / 1000,
    largestFrameBytes: Math.max(...clip.frames.map((f) => f.data.length)),
  };
}
