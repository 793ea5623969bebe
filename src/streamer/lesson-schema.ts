// Lesson YAML schema (zod 4): what a lessons/*.yaml file may say, field by field. Strict objects,
// so a typo is an error. Cross-references (clip and label names, answer among choices) are checked
// by lesson-loader.ts once the structure is valid; it also adds file:line:column to every issue.
//
//   name: demo                          # optional; defaults to the file name
//   maxIterations: 10                   # optional; how often any label may be jumped to
//   clips:                              # name → source; clip ids are 1, 2, 3… in this order
//     intro: gen:intro                  # generated clip, preset "intro", preset duration
//     q1: { gen: question, duration: 9s }
//     mine: ./clips/mine                # a prepared clip folder (relative to the lesson file)
//   script:
//     - play: intro
//     - label: again                    # a label alone marks a place; it may also sit on any step
//     - ask: { id: q1, clip: q1, choices: [A, B, C], answer: B, timeout: 8s, hold: waiting,
//              voice: { minSpeechMs: 300, passScore: 0.6 },
//              on: { correct: right, wrong: again, timeout: wrong, score: [{ atLeast: 0.9, then: great }] },
//              shared: { rule: majority, window: 5s } }
//     - goto: { to: again, times: 2 }   # or `goto: again` (bounded by maxIterations)
//     - end: true
import { z } from "zod";
import { parseDurationMs } from "../duration.js";

const duration = z.union([z.string(), z.number()], { error: 'expected a duration like "500ms", "8s" or a number of ms' }).transform((v, ctx) => {
  const r = parseDurationMs(v);
  if (typeof r === "number") return r;
  // The loader appends the value itself; drop parseDurationMs's own "got …".
  ctx.addIssue({ code: "custom", message: r.error.replace(/,? got .*$/, "") });
  return z.NEVER;
});

const positiveDuration = duration.refine((v) => v > 0, { message: "duration must be > 0" });

/** Clip names, labels and question ids: a letter first (so YAML map order is declaration order). */
export const NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const name = z.string({ error: "expected a name (a string)" }).regex(NAME_PATTERN, "expected a letter, then up to 63 letters, digits, '_' or '-'");

/** Default durations of generated presets (ms); any other preset lasts DEFAULT_GEN_DURATION_MS. */
export const GEN_PRESET_DURATION_MS: Readonly<Record<string, number>> = {
  intro: 4000,
  question: 9000,
  correct: 3000,
  wrong: 3000,
  outro: 3000,
};
export const DEFAULT_GEN_DURATION_MS = 4000;

/** `"gen:<preset>"` → `{ gen }`, any other string → `{ path }`; objects pass through. */
function clipRefToObject(v: unknown): unknown {
  if (typeof v !== "string") return v;
  return v.startsWith("gen:") ? { gen: v.slice(4) } : { path: v };
}

export const ClipSourceSchema = z.preprocess(
  clipRefToObject,
  z
    .strictObject(
      {
        gen: name.optional(),
        duration: positiveDuration.optional(),
        path: z.string().min(1, "a clip folder path must not be empty").optional(),
      },
      { error: 'expected "gen:<preset>", a clip folder path, { gen, duration } or { path }' },
    )
    .superRefine((v, ctx) => {
      if ((v.gen === undefined) === (v.path === undefined)) ctx.addIssue({ code: "custom", message: "a clip needs exactly one of gen or path" });
      if (v.path !== undefined && v.duration !== undefined) ctx.addIssue({ code: "custom", path: ["duration"], message: "duration applies to generated clips only (a prepared clip lasts what it lasts)" });
    }),
);

export const VoiceSchema = z.strictObject({
  /** Shorter detected speech is not an answer (a cough, a click). */
  minSpeechMs: duration.default(300),
  /** Upper end of the expected utterance length (assessors may score beyond it lower). */
  maxSpeechMs: positiveDuration.default(5000),
  /** A score at or above this counts as correct. */
  passScore: z.number().min(0).max(1).default(0.5),
});

export const ScoreBranchSchema = z.strictObject({
  atLeast: z.number().min(0).max(1),
  then: name,
});

export const BranchesSchema = z.strictObject({
  correct: name.optional(),
  wrong: name.optional(),
  timeout: name.optional(),
  score: z.array(ScoreBranchSchema).optional(),
});

export const SharedSchema = z.strictObject({
  /** first: the first answer decides; majority: more right than wrong answers decides (a tie is wrong). */
  rule: z.enum(["first", "majority"]).default("first"),
  /** majority: how long after the first answer to wait for the others (bounded by the timeout). */
  window: positiveDuration.default(5000),
});

export const AskSchema = z.strictObject({
  id: name,
  clip: name,
  /** Looped while the question is still open after its clip has ended (else the stream idles). */
  hold: name.optional(),
  choices: z.array(z.string().min(1, "a choice must not be empty")).min(2, "a question needs at least 2 choices").optional(),
  answer: z.string().optional(),
  timeout: positiveDuration,
  voice: VoiceSchema.optional(),
  on: BranchesSchema.default({}),
  shared: SharedSchema.default({ rule: "first", window: 5000 }),
});

export const GotoSchema = z.union([name, z.strictObject({ to: name, times: z.number().int().min(1).max(1000).optional() })], {
  error: "expected a label, or { to: <label>, times: <n> }",
});

export const StepSchema = z
  .strictObject(
    {
      label: name.optional(),
      play: name.optional(),
      ask: AskSchema.optional(),
      goto: GotoSchema.optional(),
      end: z.literal(true, { error: "expected end: true" }).optional(),
    },
    { error: "expected a step: { play }, { ask }, { goto }, { label } or { end: true }" },
  )
  .superRefine((s, ctx) => {
    const kinds = (["play", "ask", "goto", "end"] as const).filter((k) => s[k] !== undefined);
    if (kinds.length > 1) ctx.addIssue({ code: "custom", message: `a step does one thing; this one has ${kinds.join(" and ")}` });
    if (kinds.length === 0 && s.label === undefined) ctx.addIssue({ code: "custom", message: "empty step: expected play, ask, goto, label or end" });
  });

export const LessonSchema = z.strictObject({
  name: name.optional(),
  maxIterations: z.number().int().min(1).max(1000).default(10),
  clips: z.record(name, ClipSourceSchema, { error: "expected a map of clip name → source" }).refine((m) => Object.keys(m).length > 0, "a lesson needs at least one clip"),
  script: z.array(StepSchema, { error: "expected a list of steps" }).min(1, "a lesson needs at least one step"),
});

export type LessonInput = z.input<typeof LessonSchema>;
export type LessonParsed = z.output<typeof LessonSchema>;
export type StepParsed = z.output<typeof StepSchema>;
export type AskParsed = z.output<typeof AskSchema>;
