// How the lesson driver turns a heard utterance into an answer: attributed to the question open at
// the end of speech, too-short speech ignored unscored, scored by a real assessor (LocalAssessor,
// HttpAssessor to a closed loopback port for the error), branched on the score, and a score that
// comes after the question timed out is ignored as late. Time is a ManualClock.
import { describe, it, expect, afterEach } from "vitest";
import { ManualClock } from "../../src/clock.js";
import { seededRandom } from "../../src/random.js";
import { ClipLibrary, type LoadedClip } from "../../src/streamer/clip-library.js";
import { MediaProgram } from "../../src/streamer/media-program.js";
import { LessonDriver, type LessonNotice, type VoiceOutcome, type VoiceInput } from "../../src/streamer/lesson-driver.js";
import { parseLesson } from "../../src/streamer/lesson-loader.js";
import { LocalAssessor } from "../../src/streamer/local-assessor.js";
import { HttpAssessor } from "../../src/streamer/http-assessor.js";
import type { Assessor } from "../../src/streamer/assessor.js";

const LESSON = parseLesson(`
name: v
clips: { intro: gen:intro, q1: gen:question, right: gen:correct, wrong: gen:wrong }
script:
  - play: intro
  - ask: { id: q1, clip: q1, choices: [A, B], answer: A, timeout: 4s,
           voice: { minSpeechMs: 300, maxSpeechMs: 4s, passScore: 0.6 }, on: { correct: right, wrong: wrong, timeout: wrong } }
`);

function library(): ClipLibrary {
  const lib = new ClipLibrary();
  LESSON.clips.forEach((c) => {
    const clip: LoadedClip = { name: c.name, clipId: c.clipId, fps: 30, width: 640, height: 360, frames: [{ data: Buffer.alloc(10), keyframe: true }], audio: [], durationMs: 1000 / 30 };
    lib.add(clip);
  });
  return lib;
}

/** 300 ms of −70 dBFS noise, `speechMs` of a −20 dBFS 200 Hz tone, 200 ms of noise. */
function utterance(speechMs: number, atMs: number): VoiceInput {
  const n = (ms: number): number => (ms * 48000) / 1000;
  const pcm = new Int16Array(n(300 + speechMs + 200));
  const r = seededRandom(1);
  for (let i = 0; i < pcm.length; i++) {
    const inSpeech = i >= n(300) && i < n(300 + speechMs);
    pcm[i] = Math.round((inSpeech ? 0.1 * Math.sqrt(2) * Math.sin((2 * Math.PI * 200 * i) / 48000) : 0) * 32767 + (r() - 0.5) * 20);
  }
  return { pcm, sampleRate: 48000, speech: { startMs: 300, endMs: 300 + speechMs }, speechMs, receivedAtMs: atMs, detectedAtMs: atMs + 200 };
}

const drivers: LessonDriver[] = [];
afterEach(() => drivers.splice(0).forEach((d) => d.stop()));

function setup(assessor: Assessor, clock: ManualClock) {
  const notices: LessonNotice[] = [];
  const outcomes: VoiceOutcome[] = [];
  const program = new MediaProgram({ fps: 30, clock, random: seededRandom(2) });
  const d = new LessonDriver(LESSON, library(), program, { mode: "per-student", clock, students: ["s"], notify: (_s, n) => notices.push(n), assessor, onVoice: (o) => outcomes.push(o) });
  drivers.push(d);
  d.start();
  return { d, notices, outcomes };
}

const frameEnd = (clipId: number) => ({ tick: 0, captureMs: 0, clipId, frameIndex: 0, rtpTimestamp: 0, packets: 1, lastOfClip: true });
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 30));

describe("lesson driver: voice answers", () => {
  it("no open question → not-asked; too short → ignored unscored; assessor error → recorded, then the timeout branch", async () => {
    const clock = new ManualClock(1000);
    const { d, notices, outcomes } = setup(new HttpAssessor({ url: "http://127.0.0.1:9/assess", retries: 0, timeoutMs: 500 }), clock);
    d.onVoice("s", utterance(1200, 1000));
    expect(outcomes.at(-1)).toMatchObject({ outcome: "not-asked", detail: "no question is open" });
    clock.set(2000);
    d.onFrameSent(frameEnd(1)); // intro ended: q1 opens
    expect(notices[0]).toMatchObject({ type: "question", questionId: "q1", voice: true });
    d.onVoice("s", utterance(200, 2100));
    expect(outcomes.at(-1)).toMatchObject({ outcome: "too-short", questionId: "q1", detail: "200 ms < voice.minSpeechMs 300 ms" });
    expect(d.actions.at(-1)).toMatchObject({ kind: "ignored", reason: "too-short" });
    d.onVoice("s", utterance(1200, 2500));
    await new Promise((r) => setTimeout(r, 300));
    expect(outcomes.at(-1)).toMatchObject({ outcome: "assessor-error", questionId: "q1" });
    expect(outcomes.at(-1)!.detail).toMatch(/127\.0\.0\.1:9.*network error/);
    clock.set(6001);
    await settle();
    expect(notices.at(-1)).toMatchObject({ type: "assessment-result", questionId: "q1", reason: "timeout", clip: "wrong" });
  });

  it("a clear utterance is scored (LocalAssessor) and branches right; the result carries received/detected/assessed/decided", async () => {
    const clock = new ManualClock(1000);
    const { d, notices, outcomes } = setup(new LocalAssessor({ random: seededRandom(3), clock }), clock);
    d.onFrameSent(frameEnd(1));
    clock.set(3000);
    d.onVoice("s", utterance(1200, 2800));
    await settle();
    expect(outcomes.at(-1)).toMatchObject({ outcome: "assessed", questionId: "q1", speechMs: 1200 });
    expect(outcomes.at(-1)!.score).toBeGreaterThanOrEqual(0.9);
    const r = notices.at(-1)!;
    expect(r).toMatchObject({ type: "assessment-result", correct: true, reason: "correct", clip: "right", receivedAtUnixMs: clock.toUnixMs(2800), detectedAtUnixMs: clock.toUnixMs(3000), assessedAtUnixMs: clock.toUnixMs(3000), decidedAtUnixMs: clock.toUnixMs(3000) });
  });

  it("a score that arrives after the question timed out is ignored as late (the timeout branch stands)", async () => {
    const clock = new ManualClock(1000);
    let release: () => void = () => undefined;
    const slow = new LocalAssessor({ random: seededRandom(4), clock, sleep: () => new Promise<void>((r) => (release = r)) });
    const { d, notices, outcomes } = setup(slow, clock);
    d.onFrameSent(frameEnd(1)); // opens at 1000, deadline 5000
    d.onVoice("s", utterance(1200, 4500));
    clock.set(5001);
    await settle();
    expect(notices.at(-1)).toMatchObject({ type: "assessment-result", reason: "timeout" });
    release();
    await settle();
    expect(outcomes.at(-1)).toMatchObject({ outcome: "ignored", questionId: "q1" });
    expect(outcomes.at(-1)!.detail).toMatch(/^late/);
  });
});
