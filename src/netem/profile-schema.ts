// Impairment profile YAML schema (zod 4). Strict objects: an unknown field is an error. The schema
// both validates and normalises: its output carries `LinkParams` (params.ts units) per direction,
// so backends never see YAML spellings. The loader adds file:line:column.
//
// Shape:
//   name: loss-30                 # letters, digits, '_' or '-'
//   description: …                # optional
//   steps:                        # at least one; `at` never decreases
//     - at: 0s                    # offset from the link's start (duration)
//       both: { … }               # or `down:` (teacher→student) and/or `up:` (student→teacher)
// A step that sets a direction REPLACES that direction's parameters entirely (what it leaves out
// is clean: no delay, no loss, limit 1000…); a direction a step does not name keeps its parameters.
// Before the first step both directions are clean. `both` cannot be combined with `down`/`up`.
//
// Parameters (tc-netem(8) names and meanings):
//   delay: 40ms  jitter: 10ms  delayCorrelation: 25%  distribution: uniform|normal|pareto|paretonormal
//   loss: 30%                                   | { random: 30%, correlation: 25% }
//       | { gemodel: { p: 10%, r: 25%, "1-h": 100%, "1-k": 0% } }  (defaults r = 100 % − p, 1-h 100 %, 1-k 0 %)
//       | { state: { p13: 5%, p31: 80%, p32: 0%, p23: 100%, p14: 0% } } (defaults p31 = 100 % − p13, p32 0, p23 100 %, p14 0)
//   duplicate: 1%  | { probability: 1%, correlation: 10% }       (corrupt: the same)
//   reorder: 25%   | { probability: 25%, correlation: 50%, gap: 5 }   (needs delay > 0; gap defaults to 1)
//   rate: 1mbit    | { bandwidth: 1mbit, packetOverhead: 28, cellSize: 53, cellOverhead: 5 }
//   limit: 1000                                 (queue limit in packets)
//   slot: { min: 10ms, max: 30ms, packets: 8, bytes: 12000 }
//       | { distribution: normal, delay: 20ms, jitter: 5ms, packets: 8 }
//
// Percent rule (as tc): a number is a percentage (30 = 30 %, 0.5 = 0.5 %); a string must end in
// "%" ("30%", "46.67%"). Valid range 0–100 %.
// Durations: "40ms", "2s", "1.5s", "2m", or a bare number of milliseconds; never negative.
// Rates (tc(8) units, case-insensitive): bit kbit mbit gbit tbit (SI, ×1000), kibit mibit gibit
// tibit (×1024), and BYTES per second: bps kbps mbps gbps (and kibps …). "1mbit" = 1 000 000 bit/s;
// "1mbps" = 8 000 000 bit/s (tc's trap, kept). A bare number is rejected: always give a unit.
import { z } from "zod";
import { parseDurationMs } from "../duration.js";
import {
  cleanParams,
  DEFAULT_LIMIT_PACKETS,
  DELAY_DISTRIBUTIONS,
  SLOT_UNLIMITED,
  type DelayDistribution,
  type LinkParams,
  type LossModel,
  type SlotParams,
} from "./params.js";

/** "30%" | 30 → 0.3 (fraction); null + message when invalid. */
export function parsePercent(input: string | number): number | { error: string } {
  let v: number;
  if (typeof input === "number") {
    v = input;
  } else {
    const m = /^\s*(-?\d+(?:\.\d+)?|-?\.\d+)\s*%\s*$/.exec(input);
    if (!m) return { error: `expected a percentage like "30%" or a number 0–100, got "${input}"` };
    v = Number(m[1]);
  }
  if (!Number.isFinite(v) || v < 0 || v > 100) return { error: `must be within 0–100 %, got ${typeof input === "number" ? input : `"${input}"`}` };
  return v / 100;
}

const RATE_UNITS: Record<string, number> = {
  bit: 1,
  kbit: 1e3,
  mbit: 1e6,
  gbit: 1e9,
  tbit: 1e12,
  kibit: 1024,
  mibit: 1024 ** 2,
  gibit: 1024 ** 3,
  tibit: 1024 ** 4,
  bps: 8,
  kbps: 8e3,
  mbps: 8e6,
  gbps: 8e9,
  tbps: 8e12,
  kibps: 8 * 1024,
  mibps: 8 * 1024 ** 2,
  gibps: 8 * 1024 ** 3,
  tibps: 8 * 1024 ** 4,
};

/** tc rate string → bits per second. */
export function parseRate(input: string): number | { error: string } {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]+)\s*$/.exec(input);
  const unit = m ? RATE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    return { error: `expected a rate like "1mbit", "500kbit" or "2gbit" (tc units; "kbps" means kilobytes/s), got "${input}"` };
  }
  const v = Number(m[1]) * unit;
  if (!(v >= 1)) return { error: `rate must be at least 1bit, got "${input}"` };
  return v;
}

const percent = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const r = parsePercent(v);
  if (typeof r === "number") return r;
  ctx.addIssue({ code: "custom", message: r.error });
  return z.NEVER;
});

const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const r = parseDurationMs(v);
  if (typeof r === "number") return r;
  ctx.addIssue({ code: "custom", message: r.error });
  return z.NEVER;
});

const rateString = z.string().transform((v, ctx) => {
  const r = parseRate(v);
  if (typeof r === "number") return r;
  ctx.addIssue({ code: "custom", message: r.error });
  return z.NEVER;
});

const distribution = z.enum(DELAY_DISTRIBUTIONS as [DelayDistribution, ...DelayDistribution[]]);

/** A bare value is shorthand for `{ [key]: value }`. */
function shorthand<T extends z.ZodType>(key: string, object: T) {
  return z.preprocess((v) => (typeof v === "number" || typeof v === "string" ? { [key]: v } : v), object);
}

const GeModel = z.strictObject({
  p: percent,
  r: percent.optional(),
  "1-h": percent.optional(),
  "1-k": percent.optional(),
});

const StateModel = z.strictObject({
  p13: percent,
  p31: percent.optional(),
  p32: percent.optional(),
  p23: percent.optional(),
  p14: percent.optional(),
});

const Loss = shorthand(
  "random",
  z
    .strictObject({
      random: percent.optional(),
      correlation: percent.optional(),
      gemodel: GeModel.optional(),
      state: StateModel.optional(),
    })
    .superRefine((v, ctx) => {
      const set = (["random", "gemodel", "state"] as const).filter((k) => v[k] !== undefined);
      if (set.length !== 1) {
        ctx.addIssue({ code: "custom", message: `loss needs exactly one of "random", "gemodel", "state" (got ${set.length ? set.join(", ") : "none"})` });
      }
      if (v.correlation !== undefined && v.random === undefined) {
        ctx.addIssue({ code: "custom", path: ["correlation"], message: `"correlation" applies to random loss only (gemodel/state have their own transition probabilities)` });
      }
      if (v.state && v.state.p13 + (v.state.p14 ?? 0) > 1) {
        ctx.addIssue({ code: "custom", path: ["state", "p14"], message: "p13 + p14 must not exceed 100 %" });
      }
      if (v.state && (v.state.p31 ?? 1 - v.state.p13) + (v.state.p32 ?? 0) > 1) {
        ctx.addIssue({ code: "custom", path: ["state", "p32"], message: "p31 + p32 must not exceed 100 %" });
      }
    })
    .transform((v): LossModel => {
      if (v.gemodel) {
        const g = v.gemodel;
        return { kind: "gemodel", p: g.p, r: g.r ?? 1 - g.p, oneMinusH: g["1-h"] ?? 1, oneMinusK: g["1-k"] ?? 0 };
      }
      if (v.state) {
        const s = v.state;
        return { kind: "state", p13: s.p13, p31: s.p31 ?? 1 - s.p13, p32: s.p32 ?? 0, p23: s.p23 ?? 1, p14: s.p14 ?? 0 };
      }
      const p = v.random ?? 0;
      return p === 0 ? { kind: "none" } : { kind: "random", probability: p, correlation: v.correlation ?? 0 };
    }),
);

const Correlated = shorthand("probability", z.strictObject({ probability: percent, correlation: percent.optional() }));
const Reorder = shorthand(
  "probability",
  z.strictObject({ probability: percent, correlation: percent.optional(), gap: z.number().int().min(1).optional() }),
);

const Rate = shorthand(
  "bandwidth",
  z.strictObject({
    bandwidth: rateString,
    packetOverhead: z.number().int().min(-1500).max(65535).optional(),
    cellSize: z.number().int().min(0).max(65535).optional(),
    cellOverhead: z.number().int().min(-1500).max(65535).optional(),
  }),
);

const SlotCount = z.number().int().min(1).max(SLOT_UNLIMITED);

const Slot = z
  .strictObject({
    min: duration.optional(),
    max: duration.optional(),
    distribution: distribution.optional(),
    delay: duration.optional(),
    jitter: duration.optional(),
    packets: SlotCount.optional(),
    bytes: SlotCount.optional(),
  })
  .superRefine((v, ctx) => {
    const range = v.min !== undefined || v.max !== undefined;
    const dist = v.distribution !== undefined || v.delay !== undefined || v.jitter !== undefined;
    if (range === dist) {
      ctx.addIssue({ code: "custom", message: `slot needs either "min" (and optional "max") or "distribution" with "delay" and "jitter"` });
      return;
    }
    if (range && v.min === undefined) ctx.addIssue({ code: "custom", path: ["min"], message: `slot needs "min"` });
    if (range && v.min !== undefined && v.max !== undefined && v.max < v.min) {
      ctx.addIssue({ code: "custom", path: ["max"], message: `slot max must be ≥ min` });
    }
    if (dist && (v.distribution === undefined || v.delay === undefined || v.jitter === undefined)) {
      ctx.addIssue({ code: "custom", message: `slot with a distribution needs "distribution", "delay" and "jitter"` });
    }
  })
  .transform((v): SlotParams => {
    const packets = v.packets ?? SLOT_UNLIMITED;
    const bytes = v.bytes ?? SLOT_UNLIMITED;
    if (v.distribution !== undefined) {
      return { kind: "distribution", distribution: v.distribution, delayMs: v.delay ?? 0, jitterMs: v.jitter ?? 0, packets, bytes };
    }
    const minMs = v.min ?? 0;
    return { kind: "range", minMs, maxMs: v.max ?? minMs, packets, bytes };
  });

/** One direction's parameters as written in YAML → normalised `LinkParams`. */
export const LinkParamsInput = z
  .strictObject({
    delay: duration.optional(),
    jitter: duration.optional(),
    delayCorrelation: percent.optional(),
    distribution: distribution.optional(),
    loss: Loss.optional(),
    duplicate: Correlated.optional(),
    reorder: Reorder.optional(),
    corrupt: Correlated.optional(),
    rate: Rate.optional(),
    limit: z.number().int().min(1).max(2 ** 31 - 1).optional(),
    slot: Slot.optional(),
  })
  .superRefine((v, ctx) => {
    if (v.reorder && v.reorder.probability > 0 && !(v.delay && v.delay > 0)) {
      ctx.addIssue({ code: "custom", path: ["reorder"], message: "reordering needs some delay (tc: \"reordering not possible without specifying some delay\")" });
    }
    if (v.reorder?.gap !== undefined && v.reorder.probability === 0) {
      ctx.addIssue({ code: "custom", path: ["reorder", "gap"], message: "gap given without a reorder probability" });
    }
    if (v.distribution !== undefined && v.distribution !== "uniform" && !(v.jitter && v.jitter > 0)) {
      ctx.addIssue({ code: "custom", path: ["distribution"], message: "a delay distribution needs jitter > 0" });
    }
    if (v.delayCorrelation !== undefined && !(v.jitter && v.jitter > 0)) {
      ctx.addIssue({ code: "custom", path: ["delayCorrelation"], message: "delayCorrelation needs jitter > 0" });
    }
  })
  .transform((v): LinkParams => {
    const p = cleanParams();
    p.delayMs = v.delay ?? 0;
    p.jitterMs = v.jitter ?? 0;
    p.delayCorrelation = v.delayCorrelation ?? 0;
    p.distribution = v.distribution ?? "uniform";
    if (v.loss) p.loss = v.loss;
    if (v.duplicate) p.duplicate = { probability: v.duplicate.probability, correlation: v.duplicate.correlation ?? 0 };
    if (v.corrupt) p.corrupt = { probability: v.corrupt.probability, correlation: v.corrupt.correlation ?? 0 };
    if (v.reorder && v.reorder.probability > 0) {
      p.reorder = { probability: v.reorder.probability, correlation: v.reorder.correlation ?? 0, gap: v.reorder.gap ?? 1 };
    }
    if (v.rate) {
      p.rate = {
        bitsPerSecond: v.rate.bandwidth,
        packetOverheadBytes: v.rate.packetOverhead ?? 0,
        cellSizeBytes: v.rate.cellSize ?? 0,
        cellOverheadBytes: v.rate.cellOverhead ?? 0,
      };
    }
    p.limitPackets = v.limit ?? DEFAULT_LIMIT_PACKETS;
    if (v.slot) p.slot = v.slot;
    return p;
  });

export const ProfileStepInput = z
  .strictObject({
    at: duration,
    down: LinkParamsInput.optional(),
    up: LinkParamsInput.optional(),
    both: LinkParamsInput.optional(),
  })
  .superRefine((v, ctx) => {
    if (!v.down && !v.up && !v.both) ctx.addIssue({ code: "custom", message: `a step must set "down", "up" or "both"` });
    if (v.both && (v.down || v.up)) ctx.addIssue({ code: "custom", path: ["both"], message: `"both" cannot be combined with "down" or "up" in one step` });
  })
  .transform((v): { atMs: number; down: LinkParams | null; up: LinkParams | null } => ({
    atMs: v.at,
    // `both` gives each direction its own copy so a backend may keep them apart.
    down: v.both ? structuredClone(v.both) : (v.down ?? null),
    up: v.both ? structuredClone(v.both) : (v.up ?? null),
  }));

const profileName = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, "expected 1–64 letters, digits, '.', '_' or '-'");

export const ProfileInput = z
  .strictObject({
    name: profileName,
    description: z.string().optional(),
    steps: z.array(ProfileStepInput).min(1, "a profile needs at least one step"),
  })
  .superRefine((v, ctx) => {
    for (let i = 1; i < v.steps.length; i++) {
      if (v.steps[i]!.atMs < v.steps[i - 1]!.atMs) {
        ctx.addIssue({ code: "custom", path: ["steps", i, "at"], message: `steps must be in time order: this step's "at" is before step ${i - 1}'s` });
      }
    }
  });

export type ProfileInput = z.input<typeof ProfileInput>;
