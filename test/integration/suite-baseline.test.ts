// Suites and baselines with real runs (tiny classes: 1 student, two 2-s clips, 4 s): a rerun with
// the same seed is not flagged against its baseline; 100 ms of added down-delay is flagged as a
// latency regression; a suite with an unreachable budget exits 1 and its combined JUnit holds both
// runs' cases with a failing case quoting the measured value.
import { describe, it, expect, beforeAll } from "vitest";
import { mkdtempSync, writeFileSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runSuite, type SuiteResult } from "../../src/cli/suite-command.js";
import { formatMeasured } from "../../src/report/junit.js";

const dir = mkdtempSync(join(tmpdir(), "proctor-suite-"));
const out = join(dir, "reports");
const lines: string[] = [];
const log = (l: string): void => {
  lines.push(l);
};

function tiny(file: string, opts: { name?: string; netem?: string; budgets?: string } = {}): string {
  const path = join(dir, file);
  writeFileSync(
    path,
    `name: ${opts.name ?? "tiny"}
seed: 3
duration: 4s
lesson:
  clips:
    - { name: t1, duration: 2s }
    - { name: t2, duration: 2s }
rooms:
  - id: room-1
    students:
      - { group: s, count: 1, agent: werift${opts.netem ? `, netem: ${opts.netem}` : ""} }
budgets:
  latency_ms: ["p95 <= 400"]
${opts.budgets ?? ""}
`,
  );
  return path;
}

const plain = tiny("tiny.yaml");
const delayed = tiny("tiny-delayed.yaml", { netem: "{ steps: [ { at: 0s, down: { delay: 100ms } } ] }" });
const unreachable = tiny("tiny-unreachable.yaml", { name: "tiny-unreachable", budgets: `  frames_received_ratio: ["min >= 2"]` });

let first: SuiteResult;

beforeAll(async () => {
  first = await runSuite({ paths: [plain], out, seed: 11, log });
});

describe("proctor suite + baseline (real runs)", () => {
  it("a first run passes and writes a suite folder with junit.xml and suite-summary.json", () => {
    expect(first.exitCode).toBe(0);
    expect(first.runs).toHaveLength(1);
    expect(first.runs[0]!.status).toBe("passed");
    expect(existsSync(first.junitPath)).toBe(true);
    const summary = JSON.parse(readFileSync(first.summaryPath, "utf8")) as { runs: { runId: string; exitCode: number }[]; seed: number };
    expect(summary.seed).toBe(11);
    expect(summary.runs[0]!.runId).toBe(first.runs[0]!.runId);
    const report = JSON.parse(readFileSync(join(first.runs[0]!.runDir!, "report.json"), "utf8")) as { run: { seed: number } };
    expect(report.run.seed).toBe(11); // --seed replaced the scenario's 3
  });

  it("rerun with the same seed: no regression against the first; the unreachable budget makes the suite exit 1", async () => {
    const second = await runSuite({ paths: [plain, unreachable], out, seed: 11, baseline: out, log });
    console.log(second.summary);
    const [rerun, bad] = second.runs;
    expect(rerun!.scenario).toBe("tiny");
    expect(rerun!.baseline).toMatchObject({ runId: first.runs[0]!.runId, regressions: 0 });
    expect(rerun!.exitCode).toBe(0);
    expect(bad!.exitCode).toBe(1);
    expect(bad!.baseline).toEqual({ note: `no earlier run of "tiny-unreachable" in ${out}` });
    expect(second.exitCode).toBe(1);

    const xml = readFileSync(second.junitPath, "utf8");
    expect(xml.match(/<testsuite /g)).toHaveLength(2);
    expect(xml).toContain(`id="${rerun!.runId}"`);
    expect(xml).toContain(`id="${bad!.runId}"`);
    // the rerun's baseline cases are there and pass
    expect(xml).toContain('name="baseline latency_ms p95 (aggregate): within +20 ms and +20 % of baseline"');
    // the unreachable budget fails, quoting the measured value
    const report = JSON.parse(readFileSync(join(bad!.runDir!, "report.json"), "utf8")) as { budgets: { metric: string; measured: number }[] };
    const measured = report.budgets.find((b) => b.metric === "frames_received_ratio")!.measured;
    expect(measured).toBeGreaterThan(0.9);
    const failure = /<failure message="([^"]*)"/.exec(xml)?.[1];
    expect(failure).toBe(`frames_received_ratio: min &gt;= 2 — measured ${formatMeasured(measured)}, allowed &gt;= 2`);
    expect((xml.match(/<failure /g) ?? []).length).toBe(1);
  });

  it("100 ms more down-delay is flagged as a latency regression (exit 1, failing JUnit case)", async () => {
    const third = await runSuite({ paths: [delayed], out, seed: 11, baseline: out, log, quiet: true });
    console.log(third.summary);
    const run = third.runs[0]!;
    expect(run.exitCode).toBe(1);
    expect(run.status).toBe("failed");
    expect(third.exitCode).toBe(1);
    const b = run.baseline;
    if (!b || "note" in b) throw new Error(`expected a comparison, got ${JSON.stringify(b)}`);
    expect(b.regressions).toBeGreaterThanOrEqual(2);
    const p95 = b.lines.find((l) => l.startsWith("  latency_ms p95 (aggregate): "));
    expect(p95).toMatch(/REGRESSION \(allowed \+20 ms and \+20 %\)$/);
    const [, before, after] = /: ([\d.]+) → ([\d.]+) ms/.exec(p95!)!;
    expect(Number(after) - Number(before)).toBeGreaterThan(80);
    const saved = JSON.parse(readFileSync(join(run.runDir!, "baseline.json"), "utf8")) as { regressions: { metric: string; scope: string }[] };
    expect(saved.regressions.map((r) => `${r.metric} ${r.scope}`)).toEqual(expect.arrayContaining(["latency_p95 aggregate", "latency_p95 room-1/s"]));
    const xml = readFileSync(third.junitPath, "utf8");
    expect(xml).toMatch(/<failure message="baseline latency_ms p95 \(aggregate\): within \+20 ms and \+20 % of baseline — measured [\d.]+, allowed &lt;= [\d.]+/);
    // quiet: the runner's lines came from the three earlier runs only; the suite's own lines still came
    expect(lines.filter((l) => l.startsWith("lesson started on ")).length).toBe(3);
    expect(lines.filter((l) => l.includes("tiny-delayed.yaml: tiny, seed 11, 4 s")).length).toBe(1);
  });
});
