import { describe, expect, it } from "vitest";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadLesson, LessonError, parseLesson, type LessonIssue } from "../../src/streamer/lesson-loader.js";

const DEMO = join(import.meta.dirname, "../../lessons/demo.yaml");

function lessonError(fn: () => unknown): LessonError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(LessonError);
    return e as LessonError;
  }
  throw new Error("expected a LessonError");
}

// A valid lesson; each malformed case below changes one thing in it.
const BASE = `name: base
clips:
  intro: gen:intro
  q1: { gen: question, duration: 9s }
  right: gen:correct
  wrong: gen:wrong
script:
  - play: intro
  - label: again
  - ask:
      id: q1
      clip: q1
      choices: [A, B, C]
      answer: B
      timeout: 8s
      on: { correct: right, wrong: again, timeout: wrong }
`;

describe("lesson loader: valid lessons", () => {
  it("loads lessons/demo.yaml: clip ids in declaration order, question, branches, outro", () => {
    const l = loadLesson(DEMO);
    expect(l.name).toBe("demo");
    expect(l.clips.map((c) => [c.name, c.clipId])).toEqual([
      ["intro", 1],
      ["q1", 2],
      ["right", 3],
      ["wrong", 4],
      ["outro", 5],
    ]);
    expect(l.clips.every((c) => c.source.kind === "generated")).toBe(true);
    expect(l.steps.map((s) => s.kind)).toEqual(["play", "ask", "play"]);
    const ask = l.steps[1];
    if (ask?.kind !== "ask") throw new Error("step 1 is not an ask");
    const q = ask.question;
    expect(q.choices).toEqual(["A", "B", "C"]);
    expect(q.answer).toBe("B");
    expect(q.timeoutMs).toBe(8000);
    expect(q.on.correct).toEqual({ clip: "right" });
    expect(q.on.wrong).toEqual({ clip: "wrong" });
    expect(q.on.timeout).toEqual({ clip: "wrong" });
    // The question clip outlasts the timeout, so a timeout interrupts it rather than idling.
    const q1 = l.clips.find((c) => c.name === "q1");
    expect(q1?.source.kind === "generated" && q1.source.durationMs).toBeGreaterThan(q.timeoutMs);
  });

  it("resolves clip sources, defaults, labels, gotos and score branches (sorted, highest first)", () => {
    const dir = mkdtempSync(join(tmpdir(), "lesson-"));
    mkdirSync(join(dir, "prepared", "mine"), { recursive: true });
    const file = join(dir, "full.yaml");
    writeFileSync(
      file,
      `clips:
  a: gen:intro
  b: { gen: custom }
  c: { gen: question, duration: 1500ms }
  mine: ./prepared/mine
script:
  - { label: top, play: a }
  - ask:
      id: v1
      clip: c
      hold: b
      timeout: 5s
      voice: { minSpeechMs: 200 }
      on: { score: [{ atLeast: 0.5, then: b }, { atLeast: 0.9, then: top }] }
      shared: { rule: majority }
  - goto: { to: top, times: 2 }
  - play: mine
  - end: true
`,
    );
    const l = loadLesson(file);
    expect(l.name).toBe("full");
    expect(l.clips.map((c) => c.source)).toEqual([
      { kind: "generated", preset: "intro", durationMs: 4000 },
      { kind: "generated", preset: "custom", durationMs: 4000 },
      { kind: "generated", preset: "question", durationMs: 1500 },
      { kind: "prepared", dir: join(dir, "prepared", "mine") },
    ]);
    expect(l.labels.get("top")).toBe(0);
    expect(l.steps[0]).toEqual({ label: "top", kind: "play", clip: "a" });
    expect(l.steps[2]).toEqual({ kind: "goto", to: "top", times: 2 });
    expect(l.steps[4]).toEqual({ kind: "end" });
    const ask = l.steps[1];
    if (ask?.kind !== "ask") throw new Error("not an ask");
    expect(ask.question.choices).toEqual([]);
    expect(ask.question.voice).toEqual({ minSpeechMs: 200, maxSpeechMs: 5000, passScore: 0.5 });
    expect(ask.question.on.score).toEqual([
      { atLeast: 0.9, then: { label: "top" } },
      { atLeast: 0.5, then: { clip: "b" } },
    ]);
    expect(ask.question.shared).toEqual({ rule: "majority", windowMs: 5000 });
    expect(l.maxIterations).toBe(10);
  });

  it("loadLesson reports a missing prepared clip folder with its position", () => {
    const dir = mkdtempSync(join(tmpdir(), "lesson-"));
    const file = join(dir, "nofolder.yaml");
    writeFileSync(file, "clips:\n  a: gen:intro\n  mine: ./nowhere\nscript:\n  - play: mine\n");
    const e = lessonError(() => loadLesson(file));
    expect(e.issues).toHaveLength(1);
    expect(e.message).toContain(`${file}:3:9: clips.mine: prepared clip folder not found`);
    expect(e.message).toContain(join(dir, "nowhere"));
  });
});

type Case = { name: string; edit: (base: string) => string; path: string; value?: unknown; message: RegExp; line: number };

// The malformed-lesson corpus: each case must be rejected with file, line, path and value.
const CORPUS: Case[] = [
  { name: "unknown field", edit: (b) => b.replace("      answer: B\n", "      answer: B\n      anwser: B\n"), path: "script.2.ask.anwser", message: /unknown field "anwser"/, line: 15 },
  { name: "wrong type", edit: (b) => b.replace("choices: [A, B, C]", "choices: A"), path: "script.2.ask.choices", value: "A", message: /expected array/, line: 13 },
  { name: "unknown clip in on", edit: (b) => b.replace("timeout: wrong }", "timeout: wrnog }"), path: "script.2.ask.on.timeout", value: "wrnog", message: /unknown clip or label/, line: 16 },
  { name: "answer not among choices", edit: (b) => b.replace("answer: B", "answer: D"), path: "script.2.ask.answer", value: "D", message: /answer is not among the choices A, B, C/, line: 14 },
  { name: "negative timeout", edit: (b) => b.replace("timeout: 8s", "timeout: -3s"), path: "script.2.ask.timeout", value: "-3s", message: /must not be negative/, line: 15 },
  { name: "goto to unknown label", edit: (b) => `${b}  - goto: agian\n`, path: "script.3.goto", value: "agian", message: /unknown label \(labels: again\)/, line: 17 },
  { name: "unknown clip in play", edit: (b) => b.replace("play: intro", "play: intor"), path: "script.0.play", value: "intor", message: /unknown clip/, line: 8 },
  { name: "two actions in one step", edit: (b) => b.replace("  - label: again\n", "  - { label: again, play: intro, goto: again }\n"), path: "script.1", message: /does one thing; this one has play and goto/, line: 9 },
  { name: "bad clip source", edit: (b) => b.replace("right: gen:correct", "right: 42"), path: "clips.right", value: 42, message: /expected "gen:<preset>"/, line: 5 },
  { name: "label shares a clip's name", edit: (b) => b.replace("label: again", "label: intro").replace("wrong: again", "wrong: intro"), path: "script.1.label", value: "intro", message: /must not share its name with a clip/, line: 9 },
  { name: "zero timeout as number", edit: (b) => b.replace("timeout: 8s", "timeout: 0"), path: "script.2.ask.timeout", value: 0, message: /duration must be > 0/, line: 15 },
  { name: "score branch without voice", edit: (b) => b.replace("timeout: wrong }", "timeout: wrong, score: [{ atLeast: 0.5, then: right }] }"), path: "script.2.ask.on.score", message: /need a voice question/, line: 16 },
];

describe("lesson loader: malformed lessons", () => {
  it("the base of the corpus is valid", () => {
    expect(parseLesson(BASE, "lessons/base.yaml").steps).toHaveLength(3);
  });

  for (const c of CORPUS) {
    it(`rejects: ${c.name} (file, line, path, value in the message)`, () => {
      const e = lessonError(() => parseLesson(c.edit(BASE), "lessons/bad.yaml"));
      const issue = e.issues.find((i: LessonIssue) => i.path === c.path);
      expect(issue, `issues: ${e.message}`).toBeDefined();
      expect(issue!.file).toBe("lessons/bad.yaml");
      expect(issue!.line).toBe(c.line);
      expect(issue!.message).toMatch(c.message);
      if (c.value !== undefined) {
        expect(issue!.value).toEqual(c.value);
        expect(e.message).toContain(`(got ${JSON.stringify(c.value)})`);
      }
      expect(e.message).toContain(`lessons/bad.yaml:${c.line}:`);
      expect(e.message).toContain(c.path);
    });
  }

  it("reports every problem at once", () => {
    const text = BASE.replace("answer: B", "answer: D").replace("timeout: wrong }", "timeout: wrnog }").replace("play: intro", "play: intor");
    const e = lessonError(() => parseLesson(text, "x.yaml"));
    expect(e.issues.map((i) => i.path).sort()).toEqual(["script.0.play", "script.2.ask.answer", "script.2.ask.on.timeout"]);
    const shape = BASE.replace("      answer: B\n", "      answer: B\n      anwser: B\n").replace("timeout: 8s", "timeout: -1s");
    const e2 = lessonError(() => parseLesson(shape, "x.yaml"));
    expect(e2.issues.map((i) => i.path).sort()).toEqual(["script.2.ask.anwser", "script.2.ask.timeout"]);
  });

  it("YAML syntax errors carry a position", () => {
    const e = lessonError(() => parseLesson("clips: { a: gen:x\nscript: [", "broken.yaml"));
    expect(e.issues[0]?.line).toBeGreaterThan(0);
    expect(e.message).toMatch(/^broken\.yaml:\d+:\d+: \(root\): YAML: /);
  });

  it("a question without choices or voice, and choices without an answer, are rejected", () => {
    const noAnswer = BASE.replace("      answer: B\n", "");
    expect(lessonError(() => parseLesson(noAnswer, "a.yaml")).message).toContain("script.2.ask.answer: a question with choices needs an answer");
    const neither = BASE.replace("      choices: [A, B, C]\n      answer: B\n", "");
    expect(lessonError(() => parseLesson(neither, "a.yaml")).message).toMatch(/a\.yaml:11:\d+: script\.2\.ask: a question needs choices/);
  });
});
