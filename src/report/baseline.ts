// Baseline comparison: judge a run's report.json against an earlier run of the same scenario and
// flag each key figure that got worse beyond a stated threshold (`proctor suite|run --baseline`).
//
// Figures compared, per student (matched by room/student) and for the class ("aggregate"). The
// report keeps per-student summaries, not samples, so the aggregate of a percentile is the
// count-weighted mean of the students' percentiles (exact when students are alike); the other
// aggregates are exact for what they say:
//
//   id                 shown as                 unit    aggregate            default threshold
//   latency_p50        latency_ms p50           ms      count-weighted mean  +20 ms and +20 %
//   latency_p95        latency_ms p95           ms      count-weighted mean  +20 ms and +20 %
//   switch_gap_max     switch_gap_ms max        ms      max                  +20 ms (a held tick is ≥ 33 ms; machine noise moved it 10.6 ms)
//   loss               loss                     %       mean                 +1 point
//   residual_loss      residual_loss            %       mean                 +1 point
//   freeze_count       freeze_count             count   sum                  +1
//   freeze_ratio       freeze_ratio             %       mean                 +2 points
//   av_offset          lipsync_ms |offset|      ms      max                  +10 ms
//   audio_concealment  audio_concealment        %       mean                 +2 points
//   join_ms            join_ms                  ms      mean                 +1000 ms and +50 %
//   mos_audio          mos_audio                MOS     mean                 −0.2
//   mos_video          mos_video                MOS     mean                 −0.2
//
// A figure *regresses* when it worsens by more than the absolute allowance AND (when the threshold
// has one) by more than the relative allowance of the baseline value — both must hold, so tiny
// values do not trip a relative rule and large ones do not trip an absolute one. It *improves*
// when it gets better by the same margins; otherwise it is unchanged. "Worse" is up for every
// figure except MOS (down). A figure with no data on either side is skipped.
//
// Thresholds are overridden per metric (scenario field `baseline:` or CLI `--baseline-threshold`),
// each as a number (absolute) or a string in this grammar, or `false` to not compare that figure;
// the scenario field may also say `per_student: false` (compare the class figures only):
//
//   threshold := part ((","|"and"|" ") part)*     e.g. "+30ms +25%", "+2", "-0.3", "+1pt"
//   part      := ("+"|"-"|"−")? number unit?
//   unit      := "ms" | "%" | "pt" | "point" | "points"
//
// "%" is always relative to the baseline value; a bare number, "pt" or "ms" is absolute in the
// metric's unit (percentage points for loss, freeze ratio and concealment). The sign is optional:
// the direction comes from the metric.
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { parseReportJson, ReportSchemaError, type RunReportJsonValue } from "./report-schema.js";
import type { Verdict } from "./evaluate.js";

export const BASELINE_METRICS = [
  "latency_p50",
  "latency_p95",
  "switch_gap_max",
  "loss",
  "residual_loss",
  "freeze_count",
  "freeze_ratio",
  "av_offset",
  "audio_concealment",
  "join_ms",
  "mos_audio",
  "mos_video",
] as const;
export type BaselineMetric = (typeof BASELINE_METRICS)[number];

/** Allowed worsening: `abs` in the metric's display unit, `rel` a fraction of the baseline value. */
export type Threshold = { abs: number; rel?: number };
export type Thresholds = Record<BaselineMetric, Threshold | false>;
/** Raw overrides as written in YAML or on the command line: a number, a threshold string, or false. */
export type ThresholdOverrides = Partial<Record<BaselineMetric, number | string | false>>;

export const DEFAULT_THRESHOLDS: Readonly<Thresholds> = {
  latency_p50: { abs: 20, rel: 0.2 },
  latency_p95: { abs: 20, rel: 0.2 },
  switch_gap_max: { abs: 20 },
  loss: { abs: 1 },
  residual_loss: { abs: 1 },
  freeze_count: { abs: 1 },
  freeze_ratio: { abs: 2 },
  av_offset: { abs: 10 },
  audio_concealment: { abs: 2 },
  join_ms: { abs: 1000, rel: 0.5 },
  mos_audio: { abs: 0.2 },
  mos_video: { abs: 0.2 },
};

/** A report as read back from JSON (numbers may be null) — a live RunReport fits too. */
export type ReportLike = RunReportJsonValue;
type Wire = NonNullable<ReportLike["students"][number]["wire"]>;
type Num = number | null | undefined;

type Unit = "ms" | "%" | "count" | "MOS";
type MetricDef = {
  label: string;
  unit: Unit;
  /** Display value = report value × scale (fractions → percent). */
  scale: number;
  worse: "higher" | "lower";
  digits: number;
  value: (w: Wire) => Num;
  /** Weight for a count-weighted aggregate. */
  weight?: (w: Wire) => Num;
  aggregate: "weighted-mean" | "mean" | "max" | "sum";
};

const maxOf = (xs: readonly Num[]): Num => {
  const v = xs.filter(isNum);
  return v.length === 0 ? null : Math.max(...v);
};

const METRICS: Record<BaselineMetric, MetricDef> = {
  latency_p50: { label: "latency_ms p50", unit: "ms", scale: 1, worse: "higher", digits: 1, value: (w) => w.latencyMs.p50, weight: (w) => w.latencyMs.count, aggregate: "weighted-mean" },
  latency_p95: { label: "latency_ms p95", unit: "ms", scale: 1, worse: "higher", digits: 1, value: (w) => w.latencyMs.p95, weight: (w) => w.latencyMs.count, aggregate: "weighted-mean" },
  switch_gap_max: { label: "switch_gap_ms max", unit: "ms", scale: 1, worse: "higher", digits: 1, value: (w) => maxOf(w.switchGaps.map((g) => g.gapMs)), aggregate: "max" },
  loss: { label: "loss", unit: "%", scale: 100, worse: "higher", digits: 2, value: (w) => w.video.lossBeforeRepair ?? w.video.lossFraction, aggregate: "mean" },
  residual_loss: { label: "residual_loss", unit: "%", scale: 100, worse: "higher", digits: 2, value: (w) => w.video.lossFraction, aggregate: "mean" },
  freeze_count: { label: "freeze_count", unit: "count", scale: 1, worse: "higher", digits: 0, value: (w) => w.freezes.count, aggregate: "sum" },
  freeze_ratio: { label: "freeze_ratio", unit: "%", scale: 100, worse: "higher", digits: 2, value: (w) => w.freezes.ratio, aggregate: "mean" },
  av_offset: { label: "lipsync_ms |offset|", unit: "ms", scale: 1, worse: "higher", digits: 1, value: (w) => (isNum(w.avSync?.offsetMs) ? Math.abs(w.avSync.offsetMs) : null), aggregate: "max" },
  audio_concealment: { label: "audio_concealment", unit: "%", scale: 100, worse: "higher", digits: 2, value: (w) => w.audioConcealment.concealmentRatio, aggregate: "mean" },
  join_ms: { label: "join_ms", unit: "ms", scale: 1, worse: "higher", digits: 0, value: (w) => w.joinMs, aggregate: "mean" },
  mos_audio: { label: "mos_audio", unit: "MOS", scale: 1, worse: "lower", digits: 2, value: (w) => w.mos.audio, aggregate: "mean" },
  mos_video: { label: "mos_video", unit: "MOS", scale: 1, worse: "lower", digits: 2, value: (w) => w.mos.video, aggregate: "mean" },
};

/** Pacer lateness (ms) above which a comparison notes that the machine stalled. */
const PACER_STALL_NOTE_MS = 100;

export class BaselineError extends Error {
  override name = "BaselineError";
}

// ---------------------------------------------------------------------------------------------
// Thresholds

/** Parse one threshold (number, string in the grammar above) for a metric; errors quote the input. */
export function parseThreshold(metric: BaselineMetric, spec: number | string): Threshold {
  const def = METRICS[metric];
  if (typeof spec === "number") {
    if (!Number.isFinite(spec)) throw new BaselineError(`baseline threshold ${metric}: expected a finite number, got ${spec}`);
    return { abs: Math.abs(spec) };
  }
  const parts = spec.trim().split(/\s*(?:,|\band\b|\s)\s*/).filter((p) => p !== "");
  if (parts.length === 0) throw new BaselineError(`baseline threshold ${metric}: empty threshold "${spec}"`);
  let abs: number | undefined;
  let rel: number | undefined;
  for (const p of parts) {
    const m = /^([+\-−]?)(\d+(?:\.\d+)?)(ms|%|pt|points?)?$/.exec(p);
    if (!m) throw new BaselineError(`baseline threshold ${metric}: cannot read "${p}" in "${spec}" (expected e.g. "+20ms +20%", "+1", "-0.2")`);
    const n = Number(m[2]);
    const unit = m[3];
    if (unit === "%") {
      if (rel !== undefined) throw new BaselineError(`baseline threshold ${metric}: two relative parts in "${spec}"`);
      rel = n / 100;
      continue;
    }
    if (unit === "ms" && def.unit !== "ms") throw new BaselineError(`baseline threshold ${metric}: "${p}" in "${spec}" is in ms, but ${def.label} is in ${def.unit === "%" ? "percentage points" : def.unit}`);
    if (unit !== undefined && unit !== "ms" && def.unit !== "%") throw new BaselineError(`baseline threshold ${metric}: "${p}" in "${spec}" is in points, but ${def.label} is in ${def.unit}`);
    if (abs !== undefined) throw new BaselineError(`baseline threshold ${metric}: two absolute parts in "${spec}"`);
    abs = n;
  }
  return rel === undefined ? { abs: abs ?? 0 } : { abs: abs ?? 0, rel };
}

const thresholdValue = z
  .union([z.literal(false), z.number().min(0), z.string()])
  .describe('allowed worsening: a number (absolute, in the metric\'s unit), a string such as "+30ms +25%" (both must be exceeded to flag), or false to not compare');

/**
 * The zod schema of a `baseline:` field in scenario YAML: per metric a threshold (see the grammar
 * above) or false, and `per_student: false` to compare only the class (aggregate) figures — for
 * heavily impaired scenarios, whose per-student figures differ between same-seed reruns.
 */
export const BaselineSettingsSchema = z
  .strictObject({
    per_student: z.boolean().optional().describe("compare each student's figures too (default true)"),
    ...(Object.fromEntries(BASELINE_METRICS.map((m) => [m, thresholdValue.optional()])) as Record<BaselineMetric, z.ZodOptional<typeof thresholdValue>>),
  })
  .superRefine((rec, ctx) => {
    for (const m of BASELINE_METRICS) {
      const v = rec[m];
      if (typeof v !== "string") continue;
      try {
        parseThreshold(m, v);
      } catch (e) {
        ctx.addIssue({ code: "custom", path: [m], message: (e as Error).message });
      }
    }
  })
  .describe("Baseline comparison (proctor run|suite --baseline): allowed worsening per metric, e.g. latency_p95: \"+30ms +25%\"");
export type BaselineSettings = z.output<typeof BaselineSettingsSchema>;

/** Parse CLI `--baseline-threshold metric=spec` values (repeatable; "metric=off" disables it). */
export function parseThresholdFlags(flags: readonly string[]): ThresholdOverrides {
  const out: ThresholdOverrides = {};
  for (const f of flags) {
    const m = /^([a-z0-9_]+)\s*=\s*(.+)$/.exec(f.trim());
    if (!m) throw new BaselineError(`--baseline-threshold "${f}": expected <metric>=<threshold>, e.g. latency_p95=+30ms,+25%`);
    const metric = m[1]!;
    if (!(BASELINE_METRICS as readonly string[]).includes(metric)) {
      throw new BaselineError(`--baseline-threshold "${f}": unknown metric "${metric}" (known: ${BASELINE_METRICS.join(", ")})`);
    }
    const spec = m[2]!.trim();
    const key = metric as BaselineMetric;
    if (spec === "off" || spec === "false") out[key] = false;
    else {
      parseThreshold(key, spec);
      out[key] = spec;
    }
  }
  return out;
}

/** Defaults, then each override layer in order (e.g. scenario, then command line). */
export function resolveThresholds(...layers: (ThresholdOverrides | BaselineSettings | undefined)[]): Thresholds {
  const out: Thresholds = { ...DEFAULT_THRESHOLDS };
  for (const layer of layers) {
    for (const [k, v] of Object.entries(layer ?? {})) {
      const key = k as BaselineMetric;
      if (!(key in METRICS) || v === undefined || typeof v === "boolean" && v) continue;
      out[key] = v === false ? false : parseThreshold(key, v as number | string);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Comparison

export type Outcome = "regression" | "improvement" | "unchanged";

export type MetricComparison = {
  metric: BaselineMetric;
  /** e.g. "latency_ms p95". */
  label: string;
  /** "aggregate" or "room/student". */
  scope: string;
  unit: Unit;
  /** Display units (percent for fractions). */
  baseline: number;
  current: number;
  delta: number;
  /** delta / |baseline|; undefined when the baseline is 0. */
  relative?: number;
  outcome: Outcome;
  threshold: Threshold;
  /** "latency_ms p95 (aggregate): 12.1 → 118.4 ms (+106.3 ms, +878 %) REGRESSION (allowed +20 ms and +20 %)" */
  text: string;
};

export type BaselineComparison = {
  baseline: { runId: string; scenario: string; seed: number | null; startedAt: string; path?: string };
  current: { runId: string; scenario: string; seed: number | null };
  regressions: MetricComparison[];
  improvements: MetricComparison[];
  unchanged: number;
  /** Every class-level figure compared, whatever its outcome (for stable JUnit cases). */
  aggregates: MetricComparison[];
  /** Figures not compared: no data on one side. */
  skipped: number;
  /** Things worth knowing: different seeds or scenarios, students on one side only. */
  notes: string[];
  thresholds: Thresholds;
};

function isNum(v: Num): v is number {
  return typeof v === "number" && Number.isFinite(v);
}

function aggregateOf(def: MetricDef, wires: readonly Wire[]): number | null {
  const pairs = wires.map((w) => ({ v: def.value(w), w: def.weight?.(w) }));
  const vals = pairs.filter((p) => isNum(p.v)) as { v: number; w: Num }[];
  if (vals.length === 0) return null;
  switch (def.aggregate) {
    case "max":
      return Math.max(...vals.map((p) => p.v));
    case "sum":
      return vals.reduce((n, p) => n + p.v, 0);
    case "mean":
      return vals.reduce((n, p) => n + p.v, 0) / vals.length;
    case "weighted-mean": {
      const total = vals.reduce((n, p) => n + (isNum(p.w) && p.w > 0 ? p.w : 0), 0);
      if (total === 0) return vals.reduce((n, p) => n + p.v, 0) / vals.length;
      return vals.reduce((n, p) => n + p.v * (isNum(p.w) && p.w > 0 ? p.w : 0), 0) / total;
    }
  }
}

const MINUS = "−";
function signed(v: number, digits: number): string {
  const s = Math.abs(v).toFixed(digits);
  return `${v < 0 && Number(s) !== 0 ? MINUS : "+"}${s}`;
}

function unitSuffix(unit: Unit): string {
  return unit === "ms" ? " ms" : unit === "%" ? " %" : "";
}

function deltaUnit(unit: Unit, n: number): string {
  return unit === "ms" ? " ms" : unit === "%" ? (Math.abs(n) === 1 ? " point" : " points") : "";
}

/** "allowed +20 ms and +20 %", "allowed +1 point", "allowed −0.2" */
export function describeThreshold(metric: BaselineMetric, t: Threshold): string {
  const def = METRICS[metric];
  const sign = def.worse === "higher" ? "+" : MINUS;
  const abs = `${sign}${fmtNum(t.abs)}${deltaUnit(def.unit, t.abs)}`;
  return t.rel === undefined ? abs : `${abs} and ${sign}${fmtNum(t.rel * 100)} %`;
}

function fmtNum(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(6)));
}

function judge(def: MetricDef, t: Threshold, base: number, cur: number): Outcome {
  const worsening = def.worse === "higher" ? cur - base : base - cur;
  const beyond = (amount: number): boolean => amount > t.abs + 1e-9 && (t.rel === undefined || amount > t.rel * Math.abs(base) + 1e-9);
  if (beyond(worsening)) return "regression";
  if (beyond(-worsening)) return "improvement";
  return "unchanged";
}

function compareOne(metric: BaselineMetric, t: Threshold, scope: string, baseRaw: number, curRaw: number): MetricComparison {
  const def = METRICS[metric];
  const base = baseRaw * def.scale;
  const cur = curRaw * def.scale;
  const delta = cur - base;
  const relative = base === 0 ? undefined : delta / Math.abs(base);
  const outcome = judge(def, t, base, cur);
  const d = def.digits;
  const rel = t.rel !== undefined || def.unit === "ms" ? (relative === undefined ? "" : `, ${signed(relative * 100, 0)} %`) : "";
  const text =
    `${def.label} (${scope}): ${base.toFixed(d)} → ${cur.toFixed(d)}${unitSuffix(def.unit)} ` +
    `(${signed(delta, d)}${deltaUnit(def.unit, delta)}${rel})` +
    (outcome === "unchanged" ? "" : ` ${outcome.toUpperCase()} (allowed ${describeThreshold(metric, t).replace(/^allowed /, "")})`);
  return { metric, label: def.label, scope, unit: def.unit, baseline: base, current: cur, delta, relative, outcome, threshold: t, text };
}

/**
 * Compare a run with a baseline run. Pure: no files. `thresholds` default to DEFAULT_THRESHOLDS;
 * pass resolveThresholds(scenarioOverrides, cliOverrides) to override.
 */
export function compareReports(current: ReportLike, baseline: ReportLike, opts: { thresholds?: Thresholds; baselinePath?: string; perStudent?: boolean } = {}): BaselineComparison {
  const thresholds = opts.thresholds ?? { ...DEFAULT_THRESHOLDS };
  const out: BaselineComparison = {
    baseline: { runId: baseline.run.id, scenario: baseline.run.scenario, seed: baseline.run.seed, startedAt: baseline.run.startedAt, ...(opts.baselinePath ? { path: opts.baselinePath } : {}) },
    current: { runId: current.run.id, scenario: current.run.scenario, seed: current.run.seed },
    regressions: [],
    improvements: [],
    unchanged: 0,
    aggregates: [],
    skipped: 0,
    notes: [],
    thresholds,
  };
  if (baseline.run.scenario !== current.run.scenario) out.notes.push(`baseline is scenario "${baseline.run.scenario}", this run is "${current.run.scenario}"`);
  if (baseline.run.seed !== current.run.seed) out.notes.push(`different seeds (baseline ${baseline.run.seed}, this run ${current.run.seed}): impairment is not replayed exactly`);
  // A late pacer means the process (the machine) stalled: latency tails and gaps carry that stall.
  for (const [who, r] of [["this run", current], ["the baseline", baseline]] as const) {
    const late = r.streamer.maxPacingLatenessMs;
    if (isNum(late) && late > PACER_STALL_NOTE_MS) out.notes.push(`${who}'s teacher pacer was up to ${late.toFixed(0)} ms late (machine overloaded?): its latency tail and switch gaps include that stall`);
  }
  if (baseline.status === "broken") out.notes.push(`the baseline run was broken (${baseline.errors[0] ?? "no error recorded"})`);

  const key = (s: { room: string; student: string }): string => `${s.room}/${s.student}`;
  const baseStudents = new Map(baseline.students.map((s) => [key(s), s]));
  const curStudents = new Map(current.students.map((s) => [key(s), s]));
  const onlyCur = [...curStudents.keys()].filter((k) => !baseStudents.has(k));
  const onlyBase = [...baseStudents.keys()].filter((k) => !curStudents.has(k));
  if (opts.perStudent === false) out.notes.push("class (aggregate) figures only: the scenario sets per_student: false");
  if (onlyCur.length) out.notes.push(`not in the baseline: ${onlyCur.join(", ")}`);
  if (onlyBase.length) out.notes.push(`only in the baseline: ${onlyBase.join(", ")}`);

  const record = (c: MetricComparison): void => {
    if (c.outcome === "regression") out.regressions.push(c);
    else if (c.outcome === "improvement") out.improvements.push(c);
    else out.unchanged++;
  };
  for (const metric of BASELINE_METRICS) {
    const t = thresholds[metric];
    if (t === false) continue;
    const def = METRICS[metric];
    // Wire tier only: browser students' figures are another tier (compared once they have a baseline of their own).
    const b = aggregateOf(def, baseline.students.flatMap((s) => (s.wire ? [s.wire] : [])));
    const c = aggregateOf(def, current.students.flatMap((s) => (s.wire ? [s.wire] : [])));
    if (isNum(b) && isNum(c)) {
      const cmp = compareOne(metric, t, "aggregate", b, c);
      out.aggregates.push(cmp);
      record(cmp);
    } else out.skipped++;
    if (opts.perStudent === false) continue;
    for (const [k, s] of curStudents) {
      const bs = baseStudents.get(k);
      if (!bs?.wire || !s.wire) continue;
      const bv = def.value(bs.wire);
      const cv = def.value(s.wire);
      if (isNum(bv) && isNum(cv)) record(compareOne(metric, t, k, bv, cv));
      else out.skipped++;
    }
  }
  return out;
}

/** Human lines: a header, each regression and improvement, and the count left unchanged. */
export function formatComparison(c: BaselineComparison): string[] {
  const lines = [
    `baseline: run ${c.baseline.runId} (seed ${c.baseline.seed ?? "?"}, ${c.baseline.startedAt})${c.baseline.path ? ` from ${c.baseline.path}` : ""}`,
    ...c.notes.map((n) => `  note: ${n}`),
    ...c.regressions.map((r) => `  ${r.text}`),
    ...c.improvements.map((r) => `  ${r.text}`),
    `  ${c.regressions.length} regression(s), ${c.improvements.length} improvement(s), ${c.unchanged} unchanged${c.skipped ? `, ${c.skipped} without data` : ""}`,
  ];
  return lines;
}

/**
 * Budget-like verdicts for JUnit and report.budgets: one per aggregate figure compared (pass or
 * fail, so CI sees stable test names), plus a failing one per student regression. Measured and
 * limit are in display units (ms, %, count, MOS); the limit is the worst value still allowed.
 */
export function baselineVerdicts(c: BaselineComparison): Verdict[] {
  const verdicts: Verdict[] = [];
  const toVerdict = (m: MetricComparison): Verdict => {
    const def = METRICS[m.metric];
    const allowance = Math.max(m.threshold.abs, m.threshold.rel === undefined ? 0 : m.threshold.rel * Math.abs(m.baseline));
    const higher = def.worse === "higher";
    return {
      metric: `baseline ${m.label} (${m.scope})`,
      expression: `within ${describeThreshold(m.metric, m.threshold)} of baseline`,
      measured: m.current,
      limit: higher ? m.baseline + allowance : m.baseline - allowance,
      op: higher ? "<=" : ">=",
      pass: m.outcome !== "regression",
      note: `${m.text.slice(m.text.indexOf(": ") + 2)}; baseline run ${c.baseline.runId}`,
    };
  };
  for (const m of c.aggregates) verdicts.push(toVerdict(m));
  for (const r of c.regressions) if (r.scope !== "aggregate") verdicts.push(toVerdict(r));
  return verdicts;
}

// ---------------------------------------------------------------------------------------------
// Finding and reading baselines

export type LoadedBaseline = { path: string; report: ReportLike };

export async function readReportFile(path: string): Promise<ReportLike> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    throw new BaselineError(`cannot read baseline ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new BaselineError(`baseline ${path} is not JSON: ${(e as Error).message}`);
  }
  try {
    return parseReportJson(json, path);
  } catch (e) {
    if (e instanceof ReportSchemaError) throw new BaselineError(e.message);
    throw e;
  }
}

/**
 * The baseline for a run of `scenario`: `pathOrDir` is a report.json (or a run folder holding
 * one), or a folder of runs — then the newest (by run.startedAt) report.json up to two levels down
 * (`<dir>/<run>/` and `<dir>/suite-…/<run>/`) with the same scenario name that did not break, other
 * than the run `excludeRunId` and none started at or after `before`. Null when the folder holds
 * none; BaselineError when the path does not exist or an explicit report cannot be read.
 */
export async function findBaseline(pathOrDir: string, scenario: string, opts: { excludeRunId?: string; before?: string } = {}): Promise<LoadedBaseline | null> {
  let st;
  try {
    st = await stat(pathOrDir);
  } catch {
    throw new BaselineError(`baseline ${pathOrDir} does not exist`);
  }
  if (st.isFile()) return { path: pathOrDir, report: await readReportFile(pathOrDir) };
  const direct = join(pathOrDir, "report.json");
  if (await isFile(direct)) return { path: direct, report: await readReportFile(direct) };
  const candidates: string[] = [];
  for (const a of await subdirs(pathOrDir)) {
    const p = join(pathOrDir, a, "report.json");
    if (await isFile(p)) candidates.push(p);
    else for (const b of await subdirs(join(pathOrDir, a))) candidates.push(join(pathOrDir, a, b, "report.json"));
  }
  const beforeMs = opts.before === undefined ? Infinity : Date.parse(opts.before);
  let best: (LoadedBaseline & { at: number }) | null = null;
  for (const p of candidates) {
    let report: ReportLike;
    try {
      report = await readReportFile(p);
    } catch {
      continue; // missing, partial or foreign report.json: not a candidate
    }
    if (report.run.scenario !== scenario || report.status === "broken" || report.run.id === opts.excludeRunId) continue;
    const at = Date.parse(report.run.startedAt);
    if (!Number.isFinite(at) || at >= beforeMs) continue;
    if (!best || at > best.at) best = { path: p, report, at };
  }
  return best ? { path: best.path, report: best.report } : null;
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

async function subdirs(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return [];
  }
}

/** Write the comparison next to the run's report (baseline.json), for CI and later reading. */
export async function writeComparison(path: string, c: BaselineComparison): Promise<void> {
  await writeFile(path, JSON.stringify({ ...c, lines: formatComparison(c) }, null, 2) + "\n");
}
