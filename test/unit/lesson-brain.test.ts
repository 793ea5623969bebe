import { describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ManualClock } from "../../src/clock.js";
import { LessonBrain, type BrainAction, type BrainMode } from "../../src/streamer/lesson-brain.js";
import { loadLesson, parseLesson, type Lesson } from "../../src/streamer/lesson-loader.js";

const DEMO_FILE = join(import.meta.dirname, "../../lessons/demo.yaml");
const DEMO = loadLesson(DEMO_FILE);
const DEMO_TEXT = readFileSync(DEMO_FILE, "utf8");

function brain(lesson: Lesson, mode: BrainMode, students: string[] = ["s1"]): { b: LessonBrain; clock: ManualClock } {
  const clock = new ManualClock(0);
  return { b: new LessonBrain(lesson, { mode, clock, students }), clock };
}

const kinds = (as: readonly BrainAction[]): string[] => as.map((a) => a.kind);
const clips = (as: readonly BrainAction[]): string[] => as.flatMap((a) => (a.kind === "play" || a.kind === "switch" ? [`${a.kind}:${a.clip}`] : []));
function only<K extends BrainAction["kind"]>(as: readonly BrainAction[], kind: K): Extract<BrainAction, { kind: K }> {
  const found = as.filter((a): a is Extract<BrainAction, { kind: K }> => a.kind === kind);
  expect(found, `exactly one ${kind} in ${JSON.stringify(as)}`).toHaveLength(1);
  return found[0]!;
}

/** Start the demo and let the intro end at 4 s: the question opens. */
function demoAtQuestion(mode: BrainMode = "per-student", students: string[] = ["s1"]): { b: LessonBrain; clock: ManualClock } {
  const r = brain(DEMO, mode, students);
  expect(clips(r.b.start(0))).toEqual(["play:intro", "play:q1"]);
  r.clock.set(4000);
  const opened = r.b.onClipEnded(4000, "intro");
  expect(only(opened, "ask")).toEqual({ kind: "ask", questionId: "q1", choices: ["A", "B", "C"], voice: true, openedAtMs: 4000, deadlineMs: 12000 });
  return r;
}

describe("lesson brain, per-student", () => {
  it("queues clips back to back and opens the question when its clip starts", () => {
    const { b } = brain(DEMO, "per-student");
    const first = b.start(0);
    expect(first).toEqual([
      { kind: "play", clip: "intro" },
      { kind: "play", clip: "q1" },
    ]);
    expect(b.openQuestion).toBeNull();
    expect(b.onAnswer({ student: "s1", questionId: "q1", choice: "B", atMs: 1000 })).toEqual([
      { kind: "ignored", student: "s1", questionId: "q1", reason: "not-open", detail: "the question is not open yet" },
    ]);
    b.onClipEnded(4000, "intro");
    expect(b.openQuestion).toEqual({ questionId: "q1", openedAtMs: 4000, deadlineMs: 12000, answers: 0 });
    expect(b.nextDueMs).toBe(12000);
  });

  it("right answer → switch to the correct branch at the decision time, then the outro, then end", () => {
    const { b, clock } = demoAtQuestion();
    clock.set(6500);
    const acts = b.onAnswer({ student: "s1", questionId: "q1", choice: "B", atMs: 6400 });
    expect(kinds(acts)).toEqual(["result", "closed", "switch", "play"]);
    expect(only(acts, "result")).toEqual({ kind: "result", student: "s1", questionId: "q1", correct: true, outcome: "correct", choice: "B" });
    expect(only(acts, "switch")).toEqual({ kind: "switch", clip: "right", reason: "correct", questionId: "q1", decidedAtMs: 6500 });
    expect(clips(acts)).toEqual(["switch:right", "play:outro"]);
    expect(b.queuedClips).toEqual(["right", "outro"]);
    expect(b.onClipEnded(9500, "right")).toEqual([]);
    expect(b.onClipEnded(12500, "outro")).toEqual([{ kind: "end", reason: "script-end", atMs: 12500 }]);
    expect(b.ended).toBe(true);
  });

  it("wrong answer → the wrong branch; a second answer is a duplicate", () => {
    const { b, clock } = demoAtQuestion();
    clock.set(5000);
    const acts = b.onAnswer({ student: "s1", questionId: "q1", choice: "C", atMs: 5000 });
    expect(only(acts, "result").correct).toBe(false);
    expect(only(acts, "switch")).toMatchObject({ clip: "wrong", reason: "wrong" });
    expect(only(b.onAnswer({ student: "s1", questionId: "q1", choice: "B", atMs: 5100 }), "ignored").reason).toBe("duplicate");
  });

  it("no answer → timeout exactly at the deadline, the timeout branch, and late answers are ignored", () => {
    const { b, clock } = demoAtQuestion();
    expect(b.onTick(11_999)).toEqual([]);
    clock.set(12_000);
    const acts = b.onTick(12_000);
    expect(kinds(acts)).toEqual(["result", "closed", "switch", "play"]);
    expect(only(acts, "result")).toEqual({ kind: "result", student: "s1", questionId: "q1", correct: false, outcome: "timeout" });
    expect(only(acts, "switch")).toEqual({ kind: "switch", clip: "wrong", reason: "timeout", questionId: "q1", decidedAtMs: 12_000 });
    expect(only(b.onAnswer({ student: "s1", questionId: "q1", choice: "B", atMs: 12_050 }), "ignored").reason).toBe("late");
  });

  it("an answer received after the deadline times the question out first, then is late", () => {
    const { b, clock } = demoAtQuestion();
    clock.set(12_300);
    const acts = b.onAnswer({ student: "s1", questionId: "q1", choice: "B", atMs: 12_300 });
    expect(only(acts, "switch").reason).toBe("timeout");
    expect(only(acts, "ignored").reason).toBe("late");
  });

  it("ignores unknown questions, other students and invalid answers, with reasons", () => {
    const { b } = demoAtQuestion();
    const reason = (a: Parameters<LessonBrain["onAnswer"]>[0]): string => only(b.onAnswer(a), "ignored").reason;
    expect(reason({ student: "s1", questionId: "q9", choice: "B", atMs: 5000 })).toBe("unknown-question");
    expect(reason({ student: "s2", questionId: "q1", choice: "B", atMs: 5000 })).toBe("unknown-student");
    expect(reason({ student: "s1", questionId: "q1", choice: "D", atMs: 5000 })).toBe("invalid");
    expect(reason({ student: "s1", questionId: "q1", atMs: 5000 })).toBe("invalid");
    expect(reason({ student: "s1", questionId: "q1", score: 1.5, atMs: 5000 })).toBe("invalid");
    expect(reason({ student: "s1", questionId: "q1", score: 0.9, speechMs: 120, atMs: 5000 })).toBe("too-short");
    expect(b.openQuestion?.answers).toBe(0); // still open, nothing counted
  });

  it("a voice answer decides by passScore (demo: 0.6)", () => {
    const pass = demoAtQuestion();
    expect(only(pass.b.onAnswer({ student: "s1", questionId: "q1", score: 0.6, speechMs: 900, atMs: 5000 }), "switch").clip).toBe("right");
    const fail = demoAtQuestion();
    const acts = fail.b.onAnswer({ student: "s1", questionId: "q1", score: 0.59, speechMs: 900, atMs: 5000 });
    expect(only(acts, "result")).toMatchObject({ correct: false, score: 0.59 });
    expect(only(acts, "switch").clip).toBe("wrong");
  });

  it("stale clip-ended notifications are ignored", () => {
    const { b } = brain(DEMO, "per-student");
    b.start(0);
    expect(b.onClipEnded(4000, "q1")).toEqual([]);
    expect(b.openQuestion).toBeNull();
    expect(b.queuedClips).toEqual(["intro", "q1"]);
  });
});

const VOICE = parseLesson(
  `clips:
  q: gen:question
  great: gen:correct
  ok: gen:intro
  wrong: gen:wrong
  hold: gen:hold
script:
  - ask:
      id: say
      clip: q
      hold: hold
      timeout: 20s
      voice: { minSpeechMs: 300, passScore: 0.4 }
      on: { wrong: wrong, score: [{ atLeast: 0.5, then: ok }, { atLeast: 0.9, then: great }] }
`,
  "voice.yaml",
);

describe("lesson brain, score thresholds", () => {
  const decide = (score: number): BrainAction[] => {
    const { b } = brain(VOICE, "per-student");
    expect(only(b.start(0), "ask").voice).toBe(true);
    return b.onAnswer({ student: "s1", questionId: "say", score, speechMs: 800, atMs: 1000 });
  };
  it("the highest threshold a score reaches wins; below all thresholds, passScore decides", () => {
    expect(only(decide(0.95), "switch")).toMatchObject({ clip: "great", reason: "score", atLeast: 0.9 });
    expect(only(decide(0.9), "switch")).toMatchObject({ clip: "great", reason: "score", atLeast: 0.9 });
    expect(only(decide(0.7), "switch")).toMatchObject({ clip: "ok", reason: "score", atLeast: 0.5 });
    // 0.45 passes (≥ 0.4) but reaches no threshold and there is no `correct` branch: carry on → end.
    const pass = decide(0.45);
    expect(only(pass, "result").correct).toBe(true);
    expect(only(pass, "closed").reason).toBe("correct");
    expect(only(pass, "end").reason).toBe("script-end");
    expect(only(decide(0.2), "switch")).toMatchObject({ clip: "wrong", reason: "wrong" });
  });

  it("loops the hold clip while the question stays open after its clip ends", () => {
    const { b } = brain(VOICE, "per-student");
    b.start(0);
    expect(b.onClipEnded(9000, "q")).toEqual([{ kind: "play", clip: "hold" }]);
    expect(b.onClipEnded(13_000, "hold")).toEqual([{ kind: "play", clip: "hold" }]);
    expect(clips(b.onAnswer({ student: "s1", questionId: "say", score: 0.95, atMs: 14_000 }))).toEqual(["switch:great"]);
    expect(b.onClipEnded(17_000, "great")).toEqual([{ kind: "end", reason: "script-end", atMs: 17_000 }]);
  });
});

describe("lesson brain, loops terminate", () => {
  it("a wrong answer loops back to the question until maxIterations, then falls through", () => {
    const lesson = parseLesson(
      `maxIterations: 3
clips: { q: gen:question, right: gen:correct, again: gen:wrong, outro: gen:outro }
script:
  - label: top
  - ask: { id: q1, clip: q, choices: [A, B], answer: A, timeout: 5s, on: { correct: right, wrong: retry } }
  - play: outro
  - end: true
  - { label: retry, play: again }
  - goto: top
`,
      "loop.yaml",
    );
    const { b, clock } = brain(lesson, "per-student");
    let acts = b.start(0);
    let asks = 0;
    const seen: string[] = [];
    for (let t = 1000; !b.ended && t < 1_000_000; t += 1000) {
      asks += acts.filter((a) => a.kind === "ask").length;
      seen.push(...acts.flatMap((a) => (a.kind === "play" || a.kind === "switch" ? [`${a.kind}:${a.clip}`] : a.kind === "loop-limit" ? [`limit:${a.label}`] : [])));
      clock.set(t);
      acts = b.openQuestion ? b.onAnswer({ student: "s1", questionId: "q1", choice: "B", atMs: t }) : b.onClipEnded(t);
    }
    seen.push(...clips(acts));
    expect(b.ended).toBe(true);
    expect(asks).toBe(4); // the first pass + 3 loops back to `top`
    // The 4th wrong answer's jump to `retry` is refused: the script falls through to the outro.
    expect(seen).toEqual([
      "play:q",
      "switch:again", "play:q",
      "switch:again", "play:q",
      "switch:again", "play:q",
      "limit:retry", "switch:outro",
    ]);
  });

  it("goto with times repeats a block n times; a bare goto stops at maxIterations", () => {
    const lesson = parseLesson(
      `maxIterations: 5
clips: { a: gen:intro, b: gen:outro, c: gen:wrong }
script:
  - label: top
  - play: a
  - goto: { to: top, times: 2 }
  - label: spin
  - play: b
  - goto: spin
  - play: c
`,
      "goto.yaml",
    );
    const { b } = brain(lesson, "shared", []);
    const acts = b.start(0);
    expect(clips(acts)).toEqual(["play:a", "play:a", "play:a", ...Array(6).fill("play:b"), "play:c"]);
    expect(only(acts, "loop-limit")).toEqual({ kind: "loop-limit", label: "spin", iterations: 5 });
    let ends = 0;
    for (let i = 0; i < 10; i++) ends += b.onClipEnded(i * 1000).filter((a) => a.kind === "end").length;
    expect(ends).toBe(1);
    expect(b.ended).toBe(true);
  });

  it("a branch to a label that ends the lesson ends it at once (nothing left to play)", () => {
    const lesson = parseLesson(
      `clips: { q: gen:question, x: gen:outro }
script:
  - ask: { id: q1, clip: q, choices: [A, B], answer: A, timeout: 5s, on: { correct: fin } }
  - play: x
  - label: fin
  - end: true
`,
      "fin.yaml",
    );
    const { b, clock } = brain(lesson, "per-student");
    b.start(0);
    clock.set(800);
    const acts = b.onAnswer({ student: "s1", questionId: "q1", choice: "A", atMs: 800 });
    expect(kinds(acts)).toEqual(["result", "closed", "end"]);
    expect(only(acts, "end")).toEqual({ kind: "end", reason: "end-step", atMs: 800 });
  });

  it("a branch to a label leading to another question opens it when the switch starts", () => {
    const lesson = parseLesson(
      `clips: { q: gen:question, q2c: gen:question, done: gen:outro }
script:
  - ask: { id: q1, clip: q, choices: [A, B], answer: A, timeout: 5s, on: { wrong: second } }
  - play: done
  - label: second
  - ask: { id: q2, clip: q2c, choices: [X, Y], answer: Y, timeout: 3s }
  - play: done
`,
      "two.yaml",
    );
    const { b, clock } = brain(lesson, "per-student");
    b.start(0);
    clock.set(2000);
    const acts = b.onAnswer({ student: "s1", questionId: "q1", choice: "B", atMs: 2000 });
    expect(clips(acts)).toEqual(["switch:q2c"]);
    expect(only(acts, "ask")).toEqual({ kind: "ask", questionId: "q2", choices: ["X", "Y"], voice: false, openedAtMs: 2000, deadlineMs: 5000 });
    expect(only(b.onAnswer({ student: "s1", questionId: "q1", choice: "A", atMs: 2100 }), "ignored").reason).toBe("duplicate");
  });
});

describe("lesson brain, shared mode", () => {
  const sharedLesson = (rule: "first" | "majority"): Lesson =>
    parseLesson(DEMO_TEXT.replace("rule: first", `rule: ${rule}`), "shared.yaml");
  const STUDENTS = ["s1", "s2", "s3"];

  function run(rule: "first" | "majority", answers: { student: string; choice: string; atMs: number }[], untilMs?: number): BrainAction[] {
    const clock = new ManualClock(0);
    const b = new LessonBrain(sharedLesson(rule), { mode: "shared", clock, students: STUDENTS });
    b.start(0);
    clock.set(4000);
    b.onClipEnded(4000, "intro");
    const out: BrainAction[] = [];
    for (const a of answers) {
      clock.set(a.atMs);
      out.push(...b.onTick(a.atMs), ...b.onAnswer({ ...a, questionId: "q1" }));
    }
    if (untilMs !== undefined) {
      for (let t = answers.at(-1)?.atMs ?? 4000; t <= untilMs; t += 100) {
        clock.set(t);
        out.push(...b.onTick(t));
      }
    }
    return out;
  }

  // s1 is wrong first; s2 and s3 are right after.
  const ANSWERS = [
    { student: "s1", choice: "A", atMs: 5000 },
    { student: "s2", choice: "B", atMs: 5500 },
    { student: "s3", choice: "B", atMs: 6000 },
  ];

  it("first: the first answer decides (wrong), later answers are late", () => {
    const out = run("first", ANSWERS);
    expect(only(out, "switch")).toEqual({ kind: "switch", clip: "wrong", reason: "wrong", questionId: "q1", decidedAtMs: 5000 });
    expect(out.filter((a) => a.kind === "ignored").map((a) => a.kind === "ignored" && `${a.student}:${a.reason}`)).toEqual(["s2:late", "s3:late"]);
  });

  it("majority: waits for everyone on the roster, then the majority (right) decides", () => {
    const out = run("majority", ANSWERS);
    expect(out.filter((a) => a.kind === "result")).toHaveLength(3);
    expect(only(out, "switch")).toEqual({ kind: "switch", clip: "right", reason: "correct", questionId: "q1", decidedAtMs: 6000 });
    expect(only(out, "closed").answers).toBe(3);
  });

  it("majority: the window (from the first answer) closes the vote; a tie goes to wrong", () => {
    const out = run("majority", ANSWERS.slice(0, 2), 12_000);
    const sw = only(out, "switch");
    expect(sw).toMatchObject({ clip: "wrong", reason: "wrong" });
    expect(sw.decidedAtMs).toBe(10_000); // first answer 5000 + window 5 s, before the 12 s deadline
  });

  it("majority: one right answer and a closed window → right; no answer → timeout for everyone", () => {
    const one = run("majority", [{ student: "s2", choice: "B", atMs: 9000 }], 12_000);
    // The window would end at 14 s, but the deadline (12 s) comes first and decides on what arrived.
    expect(only(one, "switch")).toMatchObject({ clip: "right", reason: "correct", decidedAtMs: 12_000 });
    const none = run("majority", [], 12_000);
    expect(only(none, "switch")).toMatchObject({ clip: "wrong", reason: "timeout" });
    expect(none.filter((a) => a.kind === "result" && a.outcome === "timeout").map((a) => a.kind === "result" && a.student)).toEqual(STUDENTS);
  });

  it("per-student brains branch independently on the same lesson", () => {
    const s = STUDENTS.map((id) => demoAtQuestion("per-student", [id]));
    const choices = ["B", "A", "C"];
    const branch = s.map(({ b }, i) => only(b.onAnswer({ student: STUDENTS[i]!, questionId: "q1", choice: choices[i]!, atMs: 6000 }), "switch").clip);
    expect(branch).toEqual(["right", "wrong", "wrong"]);
  });
});
