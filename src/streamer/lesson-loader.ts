// Load and validate a lesson (lessons/*.yaml) into a resolved, immutable `Lesson` the lesson brain
// runs. Every problem is reported at once, each naming the file, line:column (from the YAML
// parser's source ranges, as src/scenario/loader.ts does), the field path and the offending value:
//   lessons/bad.yaml:9:22: script.1.ask.answer: answer "D" is not among the choices A, B, C (got "D")
// Two passes: the schema (lesson-schema.ts) checks shapes; if the shapes hold, a second pass checks
// references (clip and label names, answer among choices, unique ids) — also all at once.
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { isMap, isNode, isScalar, LineCounter, parseDocument, type Document } from "yaml";
import { DEFAULT_GEN_DURATION_MS, GEN_PRESET_DURATION_MS, LessonSchema, type AskParsed, type LessonParsed } from "./lesson-schema.js";
import { valueAt } from "../yaml-source.js";

/** The library folder: <repo>/lessons (the same from src/streamer and dist/streamer). */
export const DEFAULT_LESSON_DIR = fileURLToPath(new URL("../../lessons", import.meta.url));

/** Clip ids travel in an 8-bit frame-code field; 0 is left unused. */
export const MAX_LESSON_CLIPS = 255;

export type ClipSource =
  | { kind: "generated"; /** generator preset, e.g. "question" */ preset: string; durationMs: number }
  | { kind: "prepared"; /** absolute path of a prepared clip folder (`proctor media prepare`) */ dir: string };

export type LessonClip = {
  name: string;
  /** 1, 2, 3… in declaration order: the id carried in every frame code of this clip. */
  clipId: number;
  source: ClipSource;
};

/** Where a branch goes: play a clip (then carry on after the question), or jump to a label. */
export type BranchTarget = { clip: string } | { label: string };

export type Question = {
  id: string;
  clip: string;
  hold?: string;
  /** Empty for voice-only questions. */
  choices: readonly string[];
  answer?: string;
  timeoutMs: number;
  voice?: { minSpeechMs: number; maxSpeechMs: number; passScore: number };
  on: {
    correct?: BranchTarget;
    wrong?: BranchTarget;
    timeout?: BranchTarget;
    /** Sorted by `atLeast`, highest first: the first one a score reaches wins. */
    score: readonly { atLeast: number; then: BranchTarget }[];
  };
  shared: { rule: "first" | "majority"; windowMs: number };
};

export type LessonStep = { label?: string } & (
  | { kind: "play"; clip: string }
  | { kind: "ask"; question: Question }
  | { kind: "goto"; to: string; /** jump at most this many times, then fall through */ times?: number }
  | { kind: "mark" }
  | { kind: "end" }
);

export type Lesson = {
  name: string;
  file: string;
  /** How many times any one label may be jumped to (goto or branch) before the jump is refused. */
  maxIterations: number;
  clips: readonly LessonClip[];
  steps: readonly LessonStep[];
  /** label → step index */
  labels: ReadonlyMap<string, number>;
};

export type LessonIssue = { file: string; line?: number; column?: number; path: string; message: string; value?: unknown };

export class LessonError extends Error {
  readonly code = "PRX_ERR_LESSON";
  constructor(readonly issues: LessonIssue[]) {
    super(issues.map(formatLessonIssue).join("\n"));
    this.name = "LessonError";
  }
}

export function formatLessonIssue(i: LessonIssue): string {
  const where = i.line !== undefined ? `${i.file}:${i.line}:${i.column}` : i.file;
  const value = i.value === undefined || (typeof i.value === "object" && i.value !== null) ? "" : ` (got ${JSON.stringify(i.value)})`;
  return `${where}: ${i.path || "(root)"}: ${i.message}${value}`;
}

/** A reference is a path if it has a slash or a .yaml/.yml ending; otherwise a library name. */
export function resolveLessonPath(ref: string, dir = DEFAULT_LESSON_DIR): string {
  if (ref.includes("/") || ref.includes("\\") || /\.ya?ml$/.test(ref)) return resolve(ref);
  for (const ext of [".yaml", ".yml"]) {
    const p = join(dir, ref + ext);
    if (existsSync(p)) return p;
  }
  throw new LessonError([{ file: join(dir, `${ref}.yaml`), path: "", message: `no lesson named "${ref}" in ${dir}` }]);
}

/**
 * Load a lesson by library name ("demo" → lessons/demo.yaml) or by path. Besides parseLesson's
 * checks, prepared clip folders must exist.
 */
export function loadLesson(ref: string, opts: { dir?: string } = {}): Lesson {
  const file = resolveLessonPath(ref, opts.dir);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new LessonError([{ file, path: "", message: `cannot read lesson: ${(e as Error).message}` }]);
  }
  const lesson = parseLesson(text, file);
  const missing = lesson.clips.filter((c) => c.source.kind === "prepared" && !isDirectory(c.source.dir));
  if (missing.length > 0) {
    const { doc, lineCounter } = parseYaml(text);
    throw new LessonError(
      missing.map((c) => ({
        file,
        ...positionOf(doc, ["clips", c.name], lineCounter),
        path: `clips.${c.name}`,
        message: `prepared clip folder not found: ${c.source.kind === "prepared" ? c.source.dir : ""}`,
        value: c.source.kind === "prepared" ? c.source.dir : undefined,
      })),
    );
  }
  return lesson;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function parseYaml(text: string): { doc: Document; lineCounter: LineCounter } {
  const lineCounter = new LineCounter();
  return { doc: parseDocument(text, { lineCounter, prettyErrors: false }), lineCounter };
}

/** Parse and validate lesson YAML text; `file` names it in errors and anchors relative clip paths. */
export function parseLesson(text: string, file = "<lesson>"): Lesson {
  const { doc, lineCounter } = parseYaml(text);
  if (doc.errors.length > 0) {
    throw new LessonError(
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { file, line: pos.line, column: pos.col, path: "", message: `YAML: ${e.message.split("\n")[0]}` };
      }),
    );
  }
  const data: unknown = doc.toJS();
  const result = LessonSchema.safeParse(data);
  if (!result.success) {
    throw new LessonError(
      result.error.issues.map((issue) => {
        // For unknown keys zod reports the parent; point at the (first) key itself.
        const keys = issue.code === "unrecognized_keys" ? issue.keys : [];
        const first = keys[0];
        if (first !== undefined) {
          return {
            file,
            ...positionOf(doc, [...issue.path, first], lineCounter, true),
            path: [...issue.path.map(String), keys.join(", ")].join("."),
            message: `unknown field${keys.length > 1 ? "s" : ""} ${keys.map((k) => `"${k}"`).join(", ")}`,
          };
        }
        return { file, ...positionOf(doc, issue.path, lineCounter), path: issue.path.map(String).join("."), message: issue.message, value: valueAt(data, issue.path) };
      }),
    );
  }
  const issues: LessonIssue[] = [];
  const lesson = resolveLesson(result.data, file, (path, message, value) => {
    issues.push({ file, ...positionOf(doc, path, lineCounter), path: path.join("."), message, value });
  });
  if (issues.length > 0) throw new LessonError(issues);
  return lesson;
}

type Report = (path: readonly (string | number)[], message: string, value?: unknown) => void;

function resolveLesson(p: LessonParsed, file: string, report: Report): Lesson {
  const baseDir = file.startsWith("<") ? process.cwd() : dirname(resolve(file));
  const clipNames = Object.keys(p.clips);
  if (clipNames.length > MAX_LESSON_CLIPS) report(["clips"], `at most ${MAX_LESSON_CLIPS} clips (clip ids are 8-bit)`, clipNames.length);
  const clips: LessonClip[] = clipNames.map((n, i) => {
    const src = p.clips[n]!;
    const source: ClipSource =
      src.gen !== undefined
        ? { kind: "generated", preset: src.gen, durationMs: src.duration ?? GEN_PRESET_DURATION_MS[src.gen] ?? DEFAULT_GEN_DURATION_MS }
        : { kind: "prepared", dir: resolve(baseDir, src.path ?? "") };
    return { name: n, clipId: i + 1, source };
  });
  const clipSet = new Set(clipNames);

  // Labels first: branches and gotos may point forward.
  const labels = new Map<string, number>();
  p.script.forEach((s, i) => {
    if (s.label === undefined) return;
    if (labels.has(s.label)) report(["script", i, "label"], `duplicate label (first at step ${labels.get(s.label)})`, s.label);
    else labels.set(s.label, i);
    if (clipSet.has(s.label)) report(["script", i, "label"], "a label must not share its name with a clip (branch targets name either)", s.label);
  });
  const known = (): string => `clips: ${clipNames.join(", ")}; labels: ${[...labels.keys()].join(", ") || "none"}`;
  const clipRef = (path: (string | number)[], n: string): void => {
    if (!clipSet.has(n)) report(path, `unknown clip (clips: ${clipNames.join(", ")})`, n);
  };
  const target = (path: (string | number)[], n: string): BranchTarget => {
    if (clipSet.has(n)) return { clip: n };
    if (labels.has(n)) return { label: n };
    report(path, `unknown clip or label (${known()})`, n);
    return { clip: n };
  };

  const questionIds = new Map<string, number>();
  const steps: LessonStep[] = p.script.map((s, i): LessonStep => {
    const base = s.label !== undefined ? { label: s.label } : {};
    if (s.play !== undefined) {
      clipRef(["script", i, "play"], s.play);
      return { ...base, kind: "play", clip: s.play };
    }
    if (s.ask !== undefined) {
      const prev = questionIds.get(s.ask.id);
      if (prev !== undefined) report(["script", i, "ask", "id"], `duplicate question id (first at step ${prev})`, s.ask.id);
      else questionIds.set(s.ask.id, i);
      return { ...base, kind: "ask", question: resolveQuestion(s.ask, ["script", i, "ask"], clipRef, target, report) };
    }
    if (s.goto !== undefined) {
      const g = typeof s.goto === "string" ? { to: s.goto } : s.goto;
      const path = typeof s.goto === "string" ? ["script", i, "goto"] : ["script", i, "goto", "to"];
      if (!labels.has(g.to)) report(path, `unknown label (labels: ${[...labels.keys()].join(", ") || "none"})`, g.to);
      return { ...base, kind: "goto", to: g.to, ...(g.times !== undefined ? { times: g.times } : {}) };
    }
    if (s.end !== undefined) return { ...base, kind: "end" };
    return { ...base, kind: "mark" };
  });

  const name = p.name ?? (file.startsWith("<") ? "lesson" : basename(file).replace(/\.ya?ml$/, ""));
  return { name, file, maxIterations: p.maxIterations, clips, steps, labels };
}

function resolveQuestion(
  a: AskParsed,
  at: (string | number)[],
  clipRef: (path: (string | number)[], n: string) => void,
  target: (path: (string | number)[], n: string) => BranchTarget,
  report: Report,
): Question {
  clipRef([...at, "clip"], a.clip);
  if (a.hold !== undefined) clipRef([...at, "hold"], a.hold);
  const choices = a.choices ?? [];
  const seen = new Set<string>();
  choices.forEach((c, j) => {
    if (seen.has(c)) report([...at, "choices", j], "duplicate choice", c);
    seen.add(c);
  });
  if (choices.length > 0 && a.answer === undefined) report([...at, "answer"], "a question with choices needs an answer (one of the choices)");
  if (a.answer !== undefined && choices.length === 0) report([...at, "answer"], "an answer needs choices to be among", a.answer);
  if (a.answer !== undefined && choices.length > 0 && !seen.has(a.answer)) report([...at, "answer"], `answer is not among the choices ${choices.join(", ")}`, a.answer);
  if (choices.length === 0 && a.voice === undefined) report(at, "a question needs choices (click answers) or voice (spoken answers), or both");
  if (a.on.score !== undefined && a.voice === undefined) report([...at, "on", "score"], "score branches need a voice question (only spoken answers are scored)");
  if (a.voice && a.voice.minSpeechMs > a.voice.maxSpeechMs) report([...at, "voice", "minSpeechMs"], `must not exceed maxSpeechMs (${a.voice.maxSpeechMs} ms)`, a.voice.minSpeechMs);
  const on: Question["on"] = {
    ...(a.on.correct !== undefined ? { correct: target([...at, "on", "correct"], a.on.correct) } : {}),
    ...(a.on.wrong !== undefined ? { wrong: target([...at, "on", "wrong"], a.on.wrong) } : {}),
    ...(a.on.timeout !== undefined ? { timeout: target([...at, "on", "timeout"], a.on.timeout) } : {}),
    score: (a.on.score ?? [])
      .map((b, j) => ({ atLeast: b.atLeast, then: target([...at, "on", "score", j, "then"], b.then) }))
      .sort((x, y) => y.atLeast - x.atLeast),
  };
  return {
    id: a.id,
    clip: a.clip,
    ...(a.hold !== undefined ? { hold: a.hold } : {}),
    choices,
    ...(a.answer !== undefined ? { answer: a.answer } : {}),
    timeoutMs: a.timeout,
    ...(a.voice !== undefined ? { voice: { ...a.voice } } : {}),
    on,
    shared: { rule: a.shared.rule, windowMs: a.shared.window },
  };
}

/** Position of a field: an unknown key points at the key; otherwise the deepest existing node. */
function positionOf(doc: Document, path: readonly PropertyKey[], lc: LineCounter, atKey = false): { line?: number; column?: number } {
  const last = path[path.length - 1];
  if (path.length > 0) {
    const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
    const pair = isMap(parent) ? parent.items.find((it) => isScalar(it.key) && it.key.value === last) : undefined;
    if (!atKey && pair && isNode(pair.value) && pair.value.range) {
      const p = lc.linePos(pair.value.range[0]);
      return { line: p.line, column: p.col };
    }
    if (pair && isNode(pair.key) && pair.key.range) {
      const p = lc.linePos(pair.key.range[0]);
      return { line: p.line, column: p.col };
    }
  }
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) {
      const p = lc.linePos(node.range[0]);
      return { line: p.line, column: p.col };
    }
  }
  return {};
}

