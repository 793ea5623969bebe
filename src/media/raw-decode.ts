// Decode helpers for tests and tools: an IVF (VP8) file → raw I420 frames, and an Ogg Opus file
// → 48 kHz mono PCM, both through ffmpeg's stdout. Not for hot paths: everything is in memory.

import { runFfmpeg } from "./ffmpeg.js";
import { i420FrameBytes } from "./clip-pattern.js";

/**
 * Decode every frame of `ivfPath` to yuv420p at width×height (scaled if the stream differs), one
 * Uint8Array per frame (views into one buffer). -vsync passthrough: no frame is duplicated or
 * dropped, so index i is the IVF's frame i.
 */
export async function decodeIvfToI420(ivfPath: string, width: number, height: number): Promise<Uint8Array[]> {
  const { stdout } = await runFfmpeg([
    "-i", ivfPath, "-vsync", "passthrough", "-s", `${width}x${height}`, "-pix_fmt", "yuv420p", "-f", "rawvideo", "pipe:1",
  ]);
  const size = i420FrameBytes(width, height);
  if (stdout.length % size !== 0) {
    throw new Error(`decode ${ivfPath}: ${stdout.length} bytes is not a whole number of ${width}×${height} I420 frames`);
  }
  const frames: Uint8Array[] = [];
  for (let off = 0; off < stdout.length; off += size) {
    frames.push(new Uint8Array(stdout.buffer, stdout.byteOffset + off, size));
  }
  return frames;
}

/**
 * Decode an Ogg Opus file to mono 48 kHz float samples (ffmpeg honours the file's pre-skip and
 * end trimming, RFC 7845 §4).
 */
export async function decodeOggToPcm(oggPath: string): Promise<Float32Array> {
  const { stdout } = await runFfmpeg(["-i", oggPath, "-ac", "1", "-ar", "48000", "-f", "f32le", "pipe:1"]);
  const out = new Float32Array(stdout.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = stdout.readFloatLE(i * 4);
  return out;
}
