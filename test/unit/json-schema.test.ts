// Published JSON Schemas (schemas/*.json): the committed files match their generators, and the
// schemas say what the loaders say — smoke.yaml and every library profile pass, unknown fields and
// wrong types fail, and no scenario the loader accepts is rejected by the schema. Validation uses a
// small draft-2020-12 subset checker written here, which refuses keywords it does not know (so a
// generator change cannot silently go unchecked).
// Regenerate: UPDATE_SCHEMAS=1 npx vitest run test/unit/json-schema.test.ts
import { describe, it, expect } from "vitest";
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { renderSchemas, writeSchemas } from "../../src/scenario/write-schemas.js";
import { BUDGET_PATTERN } from "../../src/scenario/json-schema.js";
import { parseScenario } from "../../src/scenario/loader.js";
import { parseBudget } from "../../src/report/budget.js";
import { parseReportJson } from "../../src/report/report-schema.js";
import { fakeReport, fakeStudent, fakeWire } from "../helpers/report-fixture.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SCHEMA_DIR = join(ROOT, "schemas");

type Schema = Record<string, unknown>;
const KNOWN = new Set([
  "$schema", "title", "description", "default", "type", "properties", "required", "additionalProperties", "propertyNames",
  "items", "anyOf", "enum", "const", "pattern", "minItems", "minimum", "maximum", "multipleOf", "minLength",
]);

function typeOk(t: string, v: unknown): boolean {
  switch (t) {
    case "object": return typeof v === "object" && v !== null && !Array.isArray(v);
    case "array": return Array.isArray(v);
    case "string": return typeof v === "string";
    case "number": return typeof v === "number";
    case "integer": return Number.isInteger(v);
    case "boolean": return typeof v === "boolean";
    case "null": return v === null;
    default: throw new Error(`unknown type ${t}`);
  }
}

/** Errors of `v` against `s` (a subset of draft 2020-12); [] when valid. */
function validate(s: Schema, v: unknown, path = "$"): string[] {
  for (const k of Object.keys(s)) if (!KNOWN.has(k)) throw new Error(`validator does not know keyword "${k}" at ${path}`);
  const errs: string[] = [];
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (!types.some((t) => typeOk(t, v))) return [`${path}: expected ${types.join("|")}, got ${JSON.stringify(v)}`];
  }
  if ("const" in s && v !== s.const) errs.push(`${path}: expected ${JSON.stringify(s.const)}`);
  if (Array.isArray(s.enum) && !s.enum.includes(v)) errs.push(`${path}: ${JSON.stringify(v)} not in enum`);
  if (s.anyOf) {
    const branches = (s.anyOf as Schema[]).map((b) => validate(b, v, path));
    if (!branches.some((b) => b.length === 0)) errs.push(`${path}: no anyOf branch matches (${branches.map((b) => b[0]).join("; ")})`);
  }
  if (typeof v === "string") {
    if (typeof s.pattern === "string" && !new RegExp(s.pattern, "u").test(v)) errs.push(`${path}: "${v}" does not match ${s.pattern}`);
    if (typeof s.minLength === "number" && [...v].length < s.minLength) errs.push(`${path}: shorter than ${s.minLength}`);
  }
  if (typeof v === "number") {
    if (typeof s.minimum === "number" && v < s.minimum) errs.push(`${path}: ${v} < ${s.minimum}`);
    if (typeof s.maximum === "number" && v > s.maximum) errs.push(`${path}: ${v} > ${s.maximum}`);
    if (typeof s.multipleOf === "number" && !Number.isInteger(v / s.multipleOf)) errs.push(`${path}: ${v} not a multiple of ${s.multipleOf}`);
  }
  if (Array.isArray(v)) {
    if (typeof s.minItems === "number" && v.length < s.minItems) errs.push(`${path}: fewer than ${s.minItems} items`);
    if (s.items) v.forEach((x, i) => errs.push(...validate(s.items as Schema, x, `${path}[${i}]`)));
  }
  if (typeof v === "object" && v !== null && !Array.isArray(v)) {
    const obj = v as Record<string, unknown>;
    const props = (s.properties ?? {}) as Record<string, Schema>;
    for (const r of (s.required ?? []) as string[]) if (!(r in obj)) errs.push(`${path}: missing "${r}"`);
    for (const [k, x] of Object.entries(obj)) {
      if (s.propertyNames) errs.push(...validate(s.propertyNames as Schema, k, `${path}{${k}}`));
      if (props[k]) errs.push(...validate(props[k], x, `${path}.${k}`));
      else if (s.additionalProperties === false) errs.push(`${path}: unknown field "${k}"`);
      else if (typeof s.additionalProperties === "object") errs.push(...validate(s.additionalProperties as Schema, x, `${path}.${k}`));
    }
  }
  return errs;
}

const rendered = renderSchemas();
const schema = (name: string): Schema => JSON.parse(rendered[name]!) as Schema;
const scenarioSchema = schema("scenario.schema.json");
const profileSchema = schema("profile.schema.json");
const reportSchema = schema("report.schema.json");
const yamlFile = (p: string): unknown => parseYaml(readFileSync(join(ROOT, p), "utf8"));

describe("committed schemas/*.json", () => {
  it("match their generators (regenerate: UPDATE_SCHEMAS=1 npx vitest run test/unit/json-schema.test.ts)", async () => {
    if (process.env.UPDATE_SCHEMAS) await writeSchemas(SCHEMA_DIR);
    expect(Object.keys(rendered).sort()).toEqual(["profile.schema.json", "report.schema.json", "scenario.schema.json"]);
    for (const [name, text] of Object.entries(rendered)) {
      const path = join(SCHEMA_DIR, name);
      expect(existsSync(path), `${path} is missing: run UPDATE_SCHEMAS=1 npx vitest run test/unit/json-schema.test.ts`).toBe(true);
      expect(readFileSync(path, "utf8"), `${name} is stale: run UPDATE_SCHEMAS=1 npx vitest run test/unit/json-schema.test.ts`).toBe(text);
    }
  });

  it("declare draft 2020-12", () => {
    for (const s of [scenarioSchema, profileSchema, reportSchema]) expect(s.$schema).toBe("https://json-schema.org/draft/2020-12/schema");
  });
});

describe("scenario schema", () => {
  const SMOKE_LIKE = `name: t
duration: 5s
lesson: { clips: [{ name: a, duration: 2s }] }
rooms:
  - id: r
    students:
      - { group: g, count: 1, agent: werift, netem: loss-30 }
      - group: h
        count: 2
        agent: werift
        netem:
          steps:
            - { at: 0s, both: { delay: 40ms, loss: 30% } }
            - { at: 2s, down: { loss: { gemodel: { p: 5%, r: 50% } }, rate: 1mbit } }
budgets:
  latency_ms: ["p95 <= 400", "p99.9 < 800"]
  lipsync_ms: ["min >= -100", "max <= 25"]
`;

  it("accepts scenarios/smoke.yaml and a scenario with library and inline netem profiles", () => {
    expect(validate(scenarioSchema, yamlFile("scenarios/smoke.yaml"))).toEqual([]);
    expect(validate(scenarioSchema, parseYaml(SMOKE_LIKE))).toEqual([]);
  });

  it("rejects an unknown field, at the top and nested, naming it", () => {
    const doc = parseYaml(SMOKE_LIKE) as Record<string, unknown>;
    expect(validate(scenarioSchema, { ...doc, colour: "blue" })).toEqual(['$: unknown field "colour"']);
    const nested = parseYaml(SMOKE_LIKE.replace("count: 2", "count: 2\n        cuont: 3")) as unknown;
    expect(validate(scenarioSchema, nested).join("\n")).toContain('unknown field "cuont"');
    const inline = parseYaml(SMOKE_LIKE.replace("delay: 40ms", "dealy: 40ms")) as unknown;
    expect(validate(scenarioSchema, inline).join("\n")).toContain('unknown field "dealy"');
  });

  it("rejects wrong types, bad enums and bad budget expressions", () => {
    const bad = (from: string, to: string): string[] => validate(scenarioSchema, parseYaml(SMOKE_LIKE.replace(from, to)));
    expect(bad("count: 1", 'count: "one"').join()).toContain("expected integer");
    expect(bad("agent: werift, netem", "agent: chrome, netem").join()).toContain(`"chrome" not in enum`);
    expect(bad('"p95 <= 400"', '"p95 <= abc"').join()).toContain("does not match");
    expect(bad("latency_ms:", "latency:").join()).toContain('unknown field "latency"');
  });

  it("the budget pattern accepts exactly what parseBudget accepts on a corpus", () => {
    const corpus = ["p95 <= 400", "p99.9<800", " max >= -1.5 ", "mean == 0", "count > 3", "ratio < 0.05", "min>=0", "p95 <= abc", "p95 =< 400", "avg <= 4", "p95 <= 4e2", "p95 400", ""];
    const re = new RegExp(BUDGET_PATTERN);
    for (const s of corpus) {
      let parses = true;
      try {
        parseBudget(s);
      } catch {
        parses = false;
      }
      expect(re.test(s), s).toBe(parses);
    }
  });

  it("rejects the structurally malformed scenarios of the loader's corpus, and never rejects one the loader accepts", () => {
    const dir = join(ROOT, "test/fixtures/scenarios/bad");
    const structural = [
      "unknown-top-level-field", "unknown-nested-field", "wrong-type-count", "unknown-agent", "unknown-room-mode", "unknown-budget-metric",
      "bad-budget-expression", "fps-out-of-range", "width-not-multiple-of-32", "zero-count", "empty-clips", "missing-rooms",
      "rooms-not-a-list", "fractional-seed", "not-a-mapping", "bad-id-characters",
    ];
    const files = readdirSync(dir).filter((f) => f.endsWith(".yaml"));
    for (const name of structural) expect(files, name).toContain(`${name}.yaml`);
    for (const f of files) {
      const text = readFileSync(join(dir, f), "utf8");
      let doc: unknown;
      try {
        doc = parseYaml(text);
      } catch {
        continue; // YAML syntax errors never reach a schema
      }
      const errs = validate(scenarioSchema, doc);
      if (structural.includes(f.replace(/\.yaml$/, ""))) expect(errs.length, `${f} should fail the schema`).toBeGreaterThan(0);
    }
    // Soundness: whatever the loader accepts, the schema accepts.
    for (const text of [readFileSync(join(ROOT, "scenarios/smoke.yaml"), "utf8"), SMOKE_LIKE]) {
      expect(() => parseScenario(text, "<t>", { profileDir: join(ROOT, "netem-profiles") })).not.toThrow();
      expect(validate(scenarioSchema, parseYaml(text))).toEqual([]);
    }
  });
});

describe("profile schema", () => {
  it("accepts every library profile in netem-profiles/", () => {
    const files = readdirSync(join(ROOT, "netem-profiles")).filter((f) => f.endsWith(".yaml"));
    expect(files.length).toBeGreaterThan(5);
    for (const f of files) expect(validate(profileSchema, yamlFile(`netem-profiles/${f}`)), f).toEqual([]);
  });

  it("takes the shorthand and the object forms of loss/duplicate/reorder/rate, and rejects what neither allows", () => {
    const step = (both: unknown) => ({ name: "p", steps: [{ at: "0s", both }] });
    expect(validate(profileSchema, step({ delay: "40ms", loss: "30%", duplicate: 1, reorder: "25%", rate: "1mbit" }))).toEqual([]);
    expect(validate(profileSchema, step({ delay: 40, loss: { random: 30, correlation: "25%" }, reorder: { probability: 25, gap: 5 }, rate: { bandwidth: "1mbit", packetOverhead: 28 } }))).toEqual([]);
    expect(validate(profileSchema, step({ rate: 1000 })).join()).toContain("no anyOf branch");
    expect(validate(profileSchema, step({ loss: { random: 30, burst: 2 } })).join()).toContain("no anyOf branch");
    expect(validate(profileSchema, { steps: [] }).join()).toContain('missing "name"');
  });
});

describe("report schema", () => {
  const report = fakeReport({
    students: [fakeStudent("a", fakeWire({ latencies: [], avSyncMs: 3 })), fakeStudent("b", fakeWire({ gaps: [] }))],
  });
  // What report.json holds: NaN (a summary over no samples) became null.
  const onDisk = JSON.parse(JSON.stringify(report)) as Record<string, unknown>;

  it("validates a report as written to disk, with the JSON Schema and with parseReportJson", () => {
    expect((onDisk.students as { wire: { latencyMs: { p95: unknown } } }[])[0]!.wire.latencyMs.p95).toBeNull();
    expect(validate(reportSchema, onDisk)).toEqual([]);
    expect(parseReportJson(onDisk).students).toHaveLength(2);
  });

  it("rejects an unknown field, a wrong status and a wrong schema version", () => {
    expect(validate(reportSchema, { ...onDisk, extra: 1 })).toEqual(['$: unknown field "extra"']);
    expect(validate(reportSchema, { ...onDisk, status: "ok" }).join()).toContain("not in enum");
    expect(validate(reportSchema, { ...onDisk, schemaVersion: 2 }).join()).toContain("expected 1");
    expect(() => parseReportJson({ ...onDisk, status: "ok" }, "base/report.json")).toThrow(/base\/report\.json.*\n\s+status:/);
  });
});
