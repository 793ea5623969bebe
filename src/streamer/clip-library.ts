// Encoded lesson clips held in memory, shared by every student: the streamer packetizes these
// frames and never re-encodes per student.
import { readFile } from "node:fs/promises";
import { parseIvf } from "../media/ivf.js";
import { parseOggOpus, opusPacketDurationSamples } from "../media/ogg-opus.js";
import type { GeneratedClip } from "../media/clip-generator.js";

export type EncodedFrame = { data: Buffer; keyframe: boolean };

export type LoadedClip = {
  name: string;
  clipId: number;
  fps: number;
  width: number;
  height: number;
  frames: EncodedFrame[];
  /** Opus packets, 20 ms each (checked at load). */
  audio: Buffer[];
  durationMs: number;
};

export const AUDIO_PACKET_MS = 20;

export async function loadClip(clip: GeneratedClip): Promise<LoadedClip> {
  const [ivfBuf, oggBuf] = await Promise.all([readFile(clip.videoPath), readFile(clip.audioPath)]);
  const ivf = parseIvf(ivfBuf);
  const ogg = parseOggOpus(oggBuf);
  if (ivf.fourcc !== "VP80") throw new Error(`clip ${clip.spec.name}: expected VP8 in ${clip.videoPath}, got ${ivf.fourcc}`);
  if (!ivf.frames[0]?.keyframe) throw new Error(`clip ${clip.spec.name}: first frame is not a keyframe`);
  for (const [i, p] of ogg.packets.entries()) {
    const samples = opusPacketDurationSamples(p);
    if (samples !== 960) throw new Error(`clip ${clip.spec.name}: Opus packet ${i} lasts ${samples} samples, expected 960 (20 ms)`);
  }
  return {
    name: clip.spec.name,
    clipId: clip.spec.clipId,
    fps: clip.spec.fps,
    width: ivf.width,
    height: ivf.height,
    frames: ivf.frames.map((f) => ({ data: f.data, keyframe: f.keyframe })),
    audio: ogg.packets,
    durationMs: (ivf.frames.length * 1000) / clip.spec.fps,
  };
}

export class ClipLibrary {
  private readonly byName = new Map<string, LoadedClip>();

  add(clip: LoadedClip): void {
    if (this.byName.has(clip.name)) throw new Error(`clip library: duplicate clip name "${clip.name}"`);
    for (const c of this.byName.values()) {
      if (c.clipId === clip.clipId) throw new Error(`clip library: clip id ${clip.clipId} used by "${c.name}" and "${clip.name}"`);
    }
    this.byName.set(clip.name, clip);
  }

  get(name: string): LoadedClip {
    const c = this.byName.get(name);
    if (!c) throw new Error(`clip library: unknown clip "${name}" (known: ${[...this.byName.keys()].join(", ") || "none"})`);
    return c;
  }

  list(): LoadedClip[] {
    return [...this.byName.values()];
  }
}
