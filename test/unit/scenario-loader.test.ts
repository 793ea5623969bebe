import { describe, expect, it } from "vitest";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { formatIssue, loadScenario, parseScenario, ScenarioError } from "../../src/scenario/loader.js";
import { parseDurationMs } from "../../src/duration.js";

const BAD_DIR = join(import.meta.dirname, "../fixtures/scenarios/bad");
const SMOKE = join(import.meta.dirname, "../../scenarios/smoke.yaml");

const GOOD = `# a comment
name: good_one
description: every kind of field
seed: 9
duration: 1.5m
media: { width: 1280, height: 720, fps: 25 }
lesson:
  clips:
    - { name: intro, duration: 6s }
    - { name: body, duration: 1500ms }
    - { name: outro, duration: 2500 }
rooms:
  - id: class-a
    mode: per-student
    students:
      - { group: light, count: 3, agent: werift }
      - { group: solo, count: 1, agent: werift }
  - id: class-b
    students: [{ group: light, count: 1000, agent: werift }]
budgets:
  latency_ms: ["p95 <= 400", "max < 1000"]
  frames_received_ratio: ["min >= 0.99"]
`;

async function scenarioError(p: Promise<unknown>): Promise<ScenarioError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    return e as ScenarioError;
  }
  throw new Error("expected a ScenarioError, got a valid scenario");
}

describe("parseDurationMs", () => {
  it.each([
    ["20s", 20_000],
    ["500ms", 500],
    ["1.5s", 1_500],
    ["2m", 120_000],
    ["1h", 3_600_000],
    [" 3 s ", 3_000],
    [250, 250],
    [0, 0],
  ] as const)("%j → %d ms", (input, want) => {
    expect(parseDurationMs(input)).toBe(want);
  });

  it.each(["20 parsecs", "20", "s", "-1s", "1e3ms", "", "2 m s"])("%j is an error quoting the input", (input) => {
    const r = parseDurationMs(input);
    expect(typeof r).toBe("object");
    expect((r as { error: string }).error).toContain(`"${input}"`);
  });

  it.each([-1, NaN, Infinity])("%d ms is an error", (input) => {
    expect(typeof parseDurationMs(input)).toBe("object");
  });
});

describe("parseScenario (valid)", () => {
  it("parses every field, with durations in ms and budgets parsed", () => {
    const s = parseScenario(GOOD, "good.yaml");
    expect(s.name).toBe("good_one");
    expect(s.seed).toBe(9);
    expect(s.duration).toBe(90_000);
    expect(s.media).toEqual({ width: 1280, height: 720, fps: 25, videoKbps: 500 });
    expect(s.lesson.clips).toEqual([
      { name: "intro", duration: 6_000 },
      { name: "body", duration: 1_500 },
      { name: "outro", duration: 2_500 },
    ]);
    expect(s.rooms.map((r) => [r.id, r.mode, r.students.map((g) => `${g.group}×${g.count}`)])).toEqual([
      ["class-a", "per-student", ["light×3", "solo×1"]],
      ["class-b", "shared", ["light×1000"]],
    ]);
    expect(s.budgets.latency_ms?.map((b) => [b.statistic, b.op, b.value])).toEqual([
      [{ kind: "percentile", p: 95 }, "<=", 400],
      [{ kind: "max" }, "<", 1000],
    ]);
    expect(s.budgets.frames_received_ratio?.[0]?.source).toBe("min >= 0.99");
  });

  it("fills defaults", () => {
    const s = parseScenario(`name: d\nduration: 5s\nlesson: { clips: [{ name: a, duration: 1s }] }\nrooms: [{ id: r, students: [{ group: g, count: 1, agent: werift }] }]\n`);
    expect(s.seed).toBe(1);
    expect(s.media).toEqual({ width: 640, height: 360, fps: 30, videoKbps: 500 });
    expect(s.rooms[0]!.mode).toBe("shared");
    expect(s.budgets).toEqual({});
  });

  it("loads the shipped smoke scenario", async () => {
    const s = await loadScenario(SMOKE);
    expect(s.name).toBe("smoke");
    expect(s.duration).toBe(20_000);
    expect(s.lesson.clips.map((c) => c.duration)).toEqual([6_000, 6_000, 6_000]);
    expect(Object.keys(s.budgets).sort()).toEqual(["frames_received_ratio", "latency_ms", "loss", "switch_gap_ms"]);
  });
});

describe("scenario errors", () => {
  it("a missing file names the file", async () => {
    const e = await scenarioError(loadScenario(join(BAD_DIR, "no-such-file.yaml")));
    expect(e.message).toContain("no-such-file.yaml");
    expect(e.message).toMatch(/cannot read scenario/);
  });

  it("formatIssue: file:line:col: path: message (got value)", () => {
    expect(formatIssue({ file: "a.yaml", line: 3, column: 7, path: "rooms.0.id", message: "bad", value: "x y" })).toBe('a.yaml:3:7: rooms.0.id: bad (got "x y")');
    expect(formatIssue({ file: "a.yaml", path: "", message: "cannot read" })).toBe("a.yaml: (root): cannot read");
  });

  it("reports every issue at once, in document order", () => {
    const text = `name: bad name
duration: 20 parsecs
extra: true
lesson:
  clips:
    - { name: intro, duration: 6s }
rooms:
  - id: class-a
    students:
      - { group: light, count: 0, agent: chrome, size: 3 }
budgets:
  latency_ms: ["avg <= 3"]
`;
    let err: unknown;
    try {
      parseScenario(text, "many.yaml");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ScenarioError);
    const issues = (err as ScenarioError).issues;
    const got = issues.map((i) => [i.path, i.line, i.column]).sort((a, b) => (a[1] as number) - (b[1] as number) || (a[2] as number) - (b[2] as number));
    expect(got).toEqual([
      ["name", 1, 7],
      ["duration", 2, 11],
      ["extra", 3, 1],
      ["rooms.0.students.0.count", 10, 32],
      ["rooms.0.students.0.agent", 10, 42],
      ["rooms.0.students.0.size", 10, 50], // the unknown key itself,
      ["budgets.latency_ms.0", 12, 16],
    ]);
    expect((err as ScenarioError).message.split("\n")).toHaveLength(7);
    expect((err as ScenarioError).message).toContain('many.yaml:12:16: budgets.latency_ms.0: bad budget "avg <= 3": unknown statistic "avg"');
  });

  it("a value on the line after an unknown key still points at the key", () => {
    const text = `name: x\nduration: 5s\nlesson: { clips: [{ name: a, duration: 1s }] }\nrooms: [{ id: r, students: [{ group: g, count: 1, agent: werift }] }]\nmedai:\n  width: 640\n`;
    const e = (() => {
      try {
        parseScenario(text, "typo.yaml");
      } catch (err) {
        return err as ScenarioError;
      }
      throw new Error("no error");
    })();
    expect(e.issues).toHaveLength(1);
    expect(e.message).toBe('typo.yaml:5:1: medai: unknown field "medai"');
  });
});

type Expectation = { file: string; path?: string; line?: number; column?: number; value?: string; issues: number; yaml: boolean };

function expectationsOf(file: string): Expectation {
  const text = readFileSync(join(BAD_DIR, file), "utf8");
  const tag = (name: string) => new RegExp(`^# expect-${name}: (.*)$`, "m").exec(text)?.[1]?.trim();
  const at = tag("at")?.split(":").map(Number);
  return {
    file,
    path: tag("path"),
    line: at?.[0],
    column: at?.[1],
    value: tag("value"),
    issues: Number(tag("issues") ?? 1),
    yaml: tag("yaml") === "true",
  };
}

describe("bad scenario corpus (test/fixtures/scenarios/bad)", () => {
  const files = readdirSync(BAD_DIR).filter((f) => f.endsWith(".yaml")).sort();

  it("has at least 15 files, each saying what it expects", () => {
    expect(files.length).toBeGreaterThanOrEqual(15);
    for (const f of files) {
      const e = expectationsOf(f);
      expect(e.yaml || e.path !== undefined, f).toBe(true);
    }
  });

  it.each(files)("%s is rejected with file, line:column, field path and value", async (file) => {
    const want = expectationsOf(file);
    const full = join(BAD_DIR, file);
    const err = await scenarioError(loadScenario(full));
    expect(err.issues).toHaveLength(want.issues);
    const first = err.issues[0]!;
    const firstLine = err.message.split("\n")[0]!;
    expect(first.file).toBe(full);
    expect(firstLine.startsWith(`${full}:`)).toBe(true);
    expect(first.line).toBeGreaterThan(0);
    expect(first.column).toBeGreaterThan(0);
    expect(firstLine).toContain(`${full}:${first.line}:${first.column}: `);
    if (want.line !== undefined) expect(first.line).toBe(want.line);
    if (want.column !== undefined) expect(first.column).toBe(want.column);
    if (want.yaml) {
      expect(first.message).toMatch(/^YAML: /);
    } else {
      expect(first.path || "(root)").toBe(want.path);
      expect(firstLine).toContain(`: ${want.path}: `);
    }
    if (want.value !== undefined) {
      expect(first.value).toEqual(JSON.parse(want.value));
      expect(firstLine).toContain(`(got ${want.value})`);
    }
  });

  it("three-errors.yaml reports its three issues at once", async () => {
    const err = await scenarioError(loadScenario(join(BAD_DIR, "three-errors.yaml")));
    expect(err.issues.map((i) => [i.path, i.line, i.value])).toEqual([
      ["lesson.clips.0.duration", 10, "-6s"],
      ["rooms.0.id", 12, "class a"],
      ["rooms.0.students.0.count", 14, 0],
    ]);
  });
});
