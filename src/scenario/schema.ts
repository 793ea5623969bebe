// Scenario YAML schema (zod 4). Strict objects: an unknown field is an error, so typos surface.
// The loader adds file:line:column from the YAML parser; this file only says what is valid.
import { z } from "zod";
import { parseDurationMs } from "../duration.js";
import { parseBudget, BudgetParseError } from "../report/budget.js";
import { BaselineSettingsSchema } from "../report/baseline.js";

const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const r = parseDurationMs(v);
  if (typeof r === "number") return r;
  ctx.addIssue({ code: "custom", message: r.error });
  return z.NEVER;
});

const positiveDuration = duration.refine((v) => v > 0, { message: "duration must be > 0" });

const id = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "expected 1–64 letters, digits, '_' or '-'");

/** Array check: `field` must be unique across items (clip names, room ids, group names). */
function uniqueBy<T extends Record<K, string>, K extends string>(field: K, what: string) {
  return (items: readonly T[], ctx: z.RefinementCtx): void => {
    const first = new Map<string, number>();
    for (const [i, item] of items.entries()) {
      const prev = first.get(item[field]);
      if (prev === undefined) first.set(item[field], i);
      else ctx.addIssue({ code: "custom", path: [i, field], message: `duplicate ${what} (also item ${prev})` });
    }
  };
}

export const ClipDef = z.strictObject({
  name: id,
  duration: positiveDuration,
  /**
   * Calibration: each sync marker's audio burst plays this many ms after its flash (negative:
   * before); a list cycles per marker ([0, 60, 0, -60]). A shifted source is what a student would
   * see as a lip-sync error; default 0.
   */
  markerAudioOffsetMs: z.union([z.number().min(-400).max(400), z.array(z.number().min(-400).max(400)).min(1)]).optional(),
});

export const Lesson = z.strictObject({
  clips: z.array(ClipDef).min(1, "a lesson needs at least one clip").superRefine(uniqueBy("name", "clip name")),
});

/** A netem profile by library name / path, or inline (validated by src/netem at load). */
export const NetemRef = z.union([z.string().min(1), z.record(z.string(), z.unknown())]);

/** Scripted click answers: each question is answered by click after `after`, right with probability `correct`. */
export const ClickBehaviour = z.strictObject({
  answer: z.literal("click"),
  correct: z.number().min(0).max(1),
  after: duration,
});

/**
 * Scripted voice answers: `after` a question opens, the student speaks the prepared utterance on
 * the voice m-line; with probability 1 − `correct` it mumbles instead (the same utterance at
 * −45 dBFS over a −59 dBFS room tone, which the LocalAssessor scores ≈ 0.5).
 */
export const VoiceBehaviour = z.strictObject({
  answer: z.literal("voice"),
  correct: z.number().min(0).max(1).default(1),
  after: duration,
});

export const Behaviour = z.discriminatedUnion("answer", [ClickBehaviour, VoiceBehaviour], {
  error: (iss) => (iss.code === "invalid_union" ? 'expected answer: click or answer: voice' : undefined),
});

const LOOPBACK_HOSTS = new Set(["127.0.0.1", "[::1]", "localhost"]);

/**
 * Who scores spoken answers (docs/assessor.md): the built-in LocalAssessor, optionally emulating a
 * third party's latency, or an HTTP assessor — on loopback only (runs never leave this machine).
 */
export const AssessorConfig = z.discriminatedUnion(
  "kind",
  [
    z.strictObject({
      kind: z.literal("local"),
      latency: z
        .discriminatedUnion("distribution", [
          z.strictObject({ distribution: z.literal("fixed"), ms: z.number().min(0) }),
          z.strictObject({ distribution: z.literal("uniform"), minMs: z.number().min(0), maxMs: z.number().min(0) }),
          z.strictObject({ distribution: z.literal("lognormal"), meanMs: z.number().positive(), stdMs: z.number().min(0) }),
        ])
        .optional(),
    }),
    z.strictObject({
      kind: z.literal("http"),
      url: z
        .string()
        .url()
        .refine((u) => /^https?:$/.test(new URL(u).protocol) && LOOPBACK_HOSTS.has(new URL(u).hostname), "expected an http(s) URL on loopback (127.0.0.1, [::1] or localhost)"),
      timeout: positiveDuration.default(5000),
      retries: z.number().int().min(0).max(10).default(2),
      backoff: duration.default(100),
    }),
  ],
  { error: (iss) => (iss.code === "invalid_union" ? "expected kind: local or kind: http" : undefined) },
);

export const StudentGroup = z.strictObject({
  group: id,
  count: z.number().int().min(1).max(1000),
  /** werift: light student (wire tier); chromium: real headless Chromium (pixel tier). */
  agent: z.enum(["werift", "chromium"]),
  netem: NetemRef.optional(),
  /** Repair video loss with RTCP NACK (default true). */
  nack: z.boolean().default(true),
  behaviour: Behaviour.optional(),
});

export const Room = z.strictObject({
  id,
  mode: z.enum(["shared", "per-student"]).default("shared"),
  students: z.array(StudentGroup).min(1, "a room needs at least one student group").superRefine(uniqueBy("group", "group name")),
});

export const Media = z.strictObject({
  width: z.number().int().multipleOf(32).min(576).max(1920).default(640),
  height: z.number().int().multipleOf(2).min(128).max(1080).default(360),
  fps: z.number().int().min(5).max(60).default(30),
  videoKbps: z.number().int().min(50).max(8000).default(500),
});

const budgetList = z.array(
  z.string().transform((s, ctx) => {
    try {
      return parseBudget(s);
    } catch (e) {
      ctx.addIssue({ code: "custom", message: e instanceof BudgetParseError ? e.message : String(e) });
      return z.NEVER;
    }
  }),
);

export const BUDGET_METRICS = [
  "latency_ms",
  "audio_latency_ms",
  "switch_gap_ms",
  "loss",
  "residual_loss",
  "frames_received_ratio",
  "join_ms",
  "rtt_ms",
  "assessment_rtt_ms",
  "lipsync_ms",
  "freeze_count",
  "freeze_ratio",
  "audio_concealment",
  "mos_audio",
  "mos_video",
] as const;
export type BudgetMetric = (typeof BUDGET_METRICS)[number];

export const Budgets = z.partialRecord(z.enum(BUDGET_METRICS), budgetList);

export const Scenario = z.strictObject({
  name: id,
  description: z.string().optional(),
  seed: z.number().int().min(0).default(1),
  duration: positiveDuration,
  media: Media.default({ width: 640, height: 360, fps: 30, videoKbps: 500 }),
  /** Inline clips played back to back, or a lesson script by name (lessons/<name>.yaml) or path. */
  lesson: z.unknown().transform((v, ctx): z.output<typeof Lesson> | string => {
    // A name, or inline clips. Not z.union: a union would hide the inline form's precise errors
    // (field path and value) behind "invalid input".
    if (typeof v === "string" && v.length > 0) return v;
    const r = Lesson.safeParse(v);
    if (r.success) return r.data;
    for (const issue of r.error.issues) ctx.addIssue({ ...issue, path: issue.path } as Parameters<typeof ctx.addIssue>[0]);
    return z.NEVER;
  }),
  rooms: z.array(Room).min(1, "a scenario needs at least one room").superRefine(uniqueBy("id", "room id")),
  budgets: Budgets.default({}),
  /** Scores voice answers; default: the LocalAssessor with no added latency. */
  assessor: AssessorConfig.optional(),
  /**
   * Where browser students go: proctor's own student page (default), or a third-party classroom
   * app at `url` driven by a registered page adapter (src/agents/browser/page-adapter.ts).
   */
  target: z
    .strictObject({
      url: z.string().url().optional(),
      adapter: z.string().min(1).default("proctor"),
    })
    .optional(),
  /** Regression thresholds for `--baseline` comparisons (defaults in src/report/baseline.ts). */
  baseline: BaselineSettingsSchema.optional(),
});

export type Scenario = z.output<typeof Scenario>;
export type Room = z.output<typeof Room>;
export type StudentGroup = z.output<typeof StudentGroup>;
export type NetemRef = z.output<typeof NetemRef>;
