// JSON Schemas (draft 2020-12) for scenario YAML and netem profile YAML, generated from the zod
// schemas so they cannot disagree with the loader. Editors use them through the
// yaml-language-server header (`# yaml-language-server: $schema=../schemas/scenario.schema.json`).
//
// The schemas describe the *input* (what one writes in YAML), with three repairs where zod's
// conversion is lossy:
// - a `z.preprocess` shorthand (netem `loss: 30%` for `{ random: 30% }`) converts to its object
//   form only; it becomes `anyOf: [<the shorthand key's schema>, <the object>]`, the key found by
//   running the preprocess on a probe value;
// - budgets (`z.partialRecord(enum, …)`) become one named property per metric, so editors complete
//   metric names, each item a string matching the budget grammar (src/report/budget.ts);
// - an inline netem profile (`z.record(string, unknown)` in the scenario) becomes the profile
//   schema without `name` (the loader names it after the room and group).
// What JSON Schema cannot say (durations and percentages parse as strings, "at" in time order,
// cross-field rules) stays in the loader, which reports file:line:column.
import { z } from "zod";
import { Scenario, Budgets, NetemRef, BUDGET_METRICS, Lesson } from "./schema.js";
import { ProfileInput } from "../netem/profile-schema.js";

type JsonSchema = Record<string, unknown>;
type OverrideCtx = { zodSchema: unknown; jsonSchema: JsonSchema };

/** The budget grammar as a regular expression (the same shape parseBudget accepts). */
export const BUDGET_PATTERN = "^\\s*(p\\d+(\\.\\d+)?|max|min|mean|count|ratio)\\s*(<=|>=|==|<|>)\\s*-?\\d+(\\.\\d+)?\\s*$";

type ZodInternals = { _zod: { def: { type: string; in?: ZodInternals; out?: ZodInternals; transform?: (v: unknown, ctx: unknown) => unknown }; traits: Set<string> } };

function internals(s: unknown): ZodInternals | undefined {
  return typeof s === "object" && s !== null && "_zod" in s ? (s as ZodInternals) : undefined;
}

function replaceContents(target: JsonSchema, next: JsonSchema): void {
  for (const k of Object.keys(target)) delete target[k];
  Object.assign(target, next);
}

/** `z.preprocess(shorthand, object)` → anyOf [scalar form, object form]. */
function repairShorthand(ctx: OverrideCtx): void {
  const zi = internals(ctx.zodSchema);
  const def = zi?._zod.def;
  if (!def || def.type !== "pipe" || !def.in?._zod.traits.has("$ZodTransform")) return;
  const fn = def.in._zod.def.transform;
  const objectForm: JsonSchema = { ...ctx.jsonSchema };
  let scalar: JsonSchema | undefined;
  try {
    const probe = fn?.("\u0000probe", { addIssue: () => undefined, issues: [], value: "\u0000probe" });
    const keys = probe && typeof probe === "object" ? Object.keys(probe) : [];
    const props = objectForm.properties as Record<string, JsonSchema> | undefined;
    if (keys.length === 1 && props?.[keys[0]!]) scalar = { ...props[keys[0]!] };
  } catch {
    scalar = undefined;
  }
  // A preprocess we cannot read accepts more than its object form says: do not reject valid YAML.
  replaceContents(ctx.jsonSchema, scalar ? { anyOf: [scalar, objectForm] } : {});
}

/** The profile schema as it appears inline in a scenario: same fields, `name` optional. */
function inlineProfileSchema(): JsonSchema {
  const { $schema: _s, title: _t, ...profile } = profileJsonSchema();
  const required = Array.isArray(profile.required) ? profile.required.filter((r) => r !== "name") : [];
  return { ...profile, required, description: "an inline netem profile (steps as in netem-profiles/*.yaml; name optional)" };
}

export function profileJsonSchema(): JsonSchema {
  const schema = z.toJSONSchema(ProfileInput, { io: "input", target: "draft-2020-12", override: repairShorthand }) as JsonSchema;
  return {
    $schema: schema.$schema,
    title: "proctor netem profile",
    description: "Time-stepped impairment for one student link (tc-netem(8) parameters); see src/netem/profile-schema.ts.",
    ...schema,
  };
}

export function scenarioJsonSchema(): JsonSchema {
  const netemInline = internals(NetemRef)?._zod.def as { options?: unknown[] } | undefined;
  const inlineRecord = netemInline?.options?.[1];
  const schema = z.toJSONSchema(Scenario, {
    io: "input",
    target: "draft-2020-12",
    override: (ctx) => {
      const c = ctx as OverrideCtx;
      if (c.zodSchema === Budgets) {
        const item = { type: "string", pattern: BUDGET_PATTERN, description: 'statistic op number, e.g. "p95 <= 400"' };
        const properties = Object.fromEntries(BUDGET_METRICS.map((m) => [m, { type: "array", items: item }]));
        replaceContents(c.jsonSchema, {
          type: "object",
          description: "k6-style budgets: metric → list of expressions (statistics p<N>, max, min, mean, count, ratio)",
          properties,
          additionalProperties: false,
        });
      } else if (inlineRecord !== undefined && c.zodSchema === inlineRecord) {
        replaceContents(c.jsonSchema, inlineProfileSchema());
      } else {
        repairShorthand(c);
      }
    },
  }) as JsonSchema;
  // `lesson` is parsed by a transform (a name, or inline clips), which converts to `{}`: spell out both forms.
  const props = schema.properties as Record<string, JsonSchema> | undefined;
  if (props && "lesson" in props) {
    const { $schema: _s, ...inline } = z.toJSONSchema(Lesson, { io: "input" }) as JsonSchema;
    props.lesson = {
      description: "a lesson script by name (lessons/<name>.yaml) or path, or inline clips played back to back",
      anyOf: [{ type: "string", minLength: 1 }, inline],
    };
  }
  return {
    $schema: schema.$schema,
    title: "proctor scenario",
    description: "A class to run: rooms, students, lesson clips, netem profiles and budgets; see src/scenario/schema.ts.",
    ...schema,
  };
}
