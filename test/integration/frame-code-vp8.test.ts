// The frame code must survive low-bitrate VP8: encode a 10 s clip at 150 kbps, decode it with
// ffmpeg, and read every frame's band.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { generateClip } from "../../src/media/clip-generator.js";
import { readFrameCode } from "../../src/media/frame-code.js";
import { decodeIvfToI420 } from "../../src/media/raw-decode.js";

let cacheDir = "";
afterAll(async () => {
  if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
});

describe("frame code through VP8 at 150 kbps", () => {
  it("reads ≥ 99.9 % of frames correctly and never a wrong code", async () => {
    cacheDir = await mkdtemp(join(tmpdir(), "proctor-framecode-"));
    const clip = await generateClip({ name: "fc-150k", clipId: 173, durationMs: 10_000, videoKbps: 150 }, { cacheDir });
    const frames = await decodeIvfToI420(clip.videoPath, 640, 360);
    expect(frames).toHaveLength(300);
    let correct = 0;
    let unreadable = 0;
    const wrong: string[] = [];
    for (const [i, f] of frames.entries()) {
      const code = readFrameCode(f, 640, 360);
      if (code === null) unreadable++;
      else if (code.clipId === 173 && code.frameIndex === i) correct++;
      else wrong.push(`frame ${i} read as ${code.clipId}/${code.frameIndex}`);
    }
    const ratio = correct / frames.length;
    console.log(
      `frame code @150 kbps: ${correct}/${frames.length} correct (${(100 * ratio).toFixed(2)} %), ${unreadable} unreadable, ${wrong.length} wrong`,
    );
    expect(wrong).toEqual([]);
    expect(ratio).toBeGreaterThanOrEqual(0.999);
  }, 120_000);
});
