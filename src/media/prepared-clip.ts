// Open a prepared clip folder (`proctor media prepare`: video.ivf, audio.ogg, spec.json) for a run.
// The clip's frame codes carry the clip id it was prepared with, so that id must be the one the
// lesson gives the clip (its position among the lesson's clips); its geometry must be the run's,
// because the streamer paces every clip at the scenario's frame rate. Mismatches are refused with
// the folder, the field, both values, and the command that fixes it.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { ClipSpec, GeneratedClip } from "./clip-generator.js";
import { filesHash } from "./prepare.js";

export type PreparedClipExpectation = { name: string; clipId: number; width: number; height: number; fps: number };

export async function openPreparedClip(dir: string, want: PreparedClipExpectation): Promise<GeneratedClip> {
  const specPath = join(dir, "spec.json");
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(specPath, "utf8"));
  } catch (e) {
    throw new Error(`lesson clip "${want.name}": ${specPath} is not readable JSON (${(e as Error).message}); make the folder with proctor media prepare`);
  }
  const spec = raw as Partial<Record<keyof ClipSpec, unknown>> & { preparedBy?: unknown };
  const num = (field: keyof ClipSpec): number => {
    const v = spec[field];
    if (typeof v !== "number" || !Number.isFinite(v)) throw new Error(`lesson clip "${want.name}": ${specPath}: ${field} = ${JSON.stringify(v)} is not a number`);
    return v;
  };
  const clipId = num("clipId");
  if (clipId !== want.clipId) {
    throw new Error(
      `lesson clip "${want.name}": ${dir} was prepared with clipId ${clipId}, but it is clip ${want.clipId} of this lesson (ids follow the order of clips:); re-run proctor media prepare <input> --clip-id ${want.clipId}`,
    );
  }
  for (const field of ["width", "height", "fps"] as const) {
    const v = num(field);
    if (v !== want[field]) throw new Error(`lesson clip "${want.name}": ${dir} was prepared with ${field} ${v}, the scenario's media has ${want[field]}; re-run proctor media prepare with ${field === "fps" ? `--fps ${want.fps}` : `--size ${want.width}x${want.height}`}`);
  }
  const videoPath = join(dir, "video.ivf");
  const audioPath = join(dir, "audio.ogg");
  const full: Required<ClipSpec> = {
    name: want.name,
    clipId,
    durationMs: num("durationMs"),
    width: want.width,
    height: want.height,
    fps: want.fps,
    videoKbps: num("videoKbps"),
    audioKbps: num("audioKbps"),
    markerAudioOffsetMs: typeof spec.markerAudioOffsetMs === "number" ? spec.markerAudioOffsetMs : 0,
  };
  return { spec: full, hash: await filesHash(videoPath, audioPath), videoPath, audioPath, cached: true };
}
