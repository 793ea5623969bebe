// A lesson may name a prepared clip folder (proctor media prepare): a run plays it as it is, with
// the clip id it was prepared with — which must be the id the lesson gives it, else the run is
// refused naming the folder, both ids and the fix.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runFfmpeg } from "../../src/media/ffmpeg.js";
import { prepareMedia, type PreparedMedia } from "../../src/media/prepare.js";
import { runYaml } from "../helpers/class-run.js";

let dir = "";
let talk: PreparedMedia;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "proctor-prepared-lesson-"));
  const input = join(dir, "talk.mkv");
  await runFfmpeg(["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25", "-f", "lavfi", "-i", "sine=f=330:sample_rate=48000,volume=0.1", "-t", "2",
    "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "pcm_s16le", "-y", input]);
  talk = await prepareMedia(input, { out: join(dir, "talk"), clipId: 2 });
  await writeFile(join(dir, "good.yaml"), "clips:\n  intro: { gen: intro, duration: 1s }\n  talk: ./talk\n  outro: { gen: outro, duration: 1s }\nscript:\n  - play: intro\n  - play: talk\n  - play: outro\n");
  await writeFile(join(dir, "bad.yaml"), "clips:\n  talk: ./talk\n  outro: { gen: outro, duration: 1s }\nscript:\n  - play: talk\n  - play: outro\n");
}, 60_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("prepared clips in a lesson", () => {
  it("plays intro (generated) → talk (prepared, 2 s) → outro; every frame of the prepared clip arrives under its id", async () => {
    const r = await runYaml(`
name: prepared-lesson
seed: 3
duration: 5s
lesson: ${join(dir, "good.yaml")}
rooms:
  - id: r
    students:
      - { group: s, count: 1, agent: werift }
`);
    expect(r.report.errors).toEqual([]);
    const frames = r.students[0]!.agent.frames;
    const talkFrames = frames.filter((f) => f.clipId === 2);
    const order = [...new Set(frames.map((f) => f.clipId))];
    console.log(`prepared clip: ${talkFrames.length}/${talk.frameCount} frames received; clip order ${order.join(" → ")}`);
    expect(order).toEqual([1, 2, 3]);
    expect(talkFrames.length).toBeGreaterThanOrEqual(talk.frameCount - 2);
    expect(new Set(talkFrames.map((f) => f.frameIndex)).size).toBe(talkFrames.length);
    expect(r.report.media.clips.find((c) => c.name === "talk")).toMatchObject({ clipId: 2, durationMs: 2000, hash: talk.clip.hash });
  });

  it("a prepared clip whose id is not its place in the lesson is refused, naming the folder, both ids and the fix", async () => {
    await expect(
      runYaml(`
name: prepared-bad
duration: 2s
lesson: ${join(dir, "bad.yaml")}
rooms:
  - id: r
    students:
      - { group: s, count: 1, agent: werift }
`),
    ).rejects.toThrow(`lesson clip "talk": ${join(dir, "talk")} was prepared with clipId 2, but it is clip 1 of this lesson (ids follow the order of clips:); re-run proctor media prepare <input> --clip-id 1`);
  });
});
