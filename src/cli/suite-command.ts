// `proctor suite <dir|files…>`: run many scenarios one after another and gate on all of them.
//
// Paths may be scenario files or folders (every *.yaml / *.yml inside, sorted by name; not
// recursive). Each scenario runs with runScenario into `<out>/suite-<utc time>-<rand>/<run-id>/`;
// the suite folder also gets one combined junit.xml (a <testsuite> per run) and suite-summary.json.
// A scenario that does not load becomes a broken run (exit 2) in the JUnit and the summary; the
// suite goes on with the others. Exit code = the worst run's (2 > 1 > 0).
//
// --seed replaces every scenario's seed (replay a run: same seed → same impairment decisions).
// --baseline <report.json | run folder | folder of runs> compares each run with the newest earlier
// run of the same scenario (src/report/baseline.ts); a regression adds failing JUnit cases and
// makes that run's exit code at least 1. Thresholds: defaults, then the scenario's `baseline:`
// field (when the schema has it), then `thresholds` (CLI --baseline-threshold).
import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { basename, extname, join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { loadScenario, ScenarioError, type LoadedScenario } from "../scenario/loader.js";
import { runScenario, type RunOptions } from "../scenario/runner.js";
import { writeJUnit, verdictMessage } from "../report/junit.js";
import { REPORT_SCHEMA_VERSION, type RunReport } from "../report/run-report.js";
import {
  compareReports,
  findBaseline,
  formatComparison,
  baselineVerdicts,
  resolveThresholds,
  writeComparison,
  BaselineError,
  BaselineSettingsSchema,
  type ThresholdOverrides,
  type BaselineSettings,
  type BaselineComparison,
} from "../report/baseline.js";

export type SuiteArgs = {
  paths: string[];
  /** Reports folder (default ./reports); the suite writes into `<out>/suite-<timestamp>/`. */
  out?: string;
  /** Baseline report.json, run folder, or folder of runs (e.g. the previous CI run's reports/). */
  baseline?: string;
  /** Override every scenario's seed. */
  seed?: number;
  /** No runner progress lines (the suite still says which scenario starts and how it ended). */
  quiet?: boolean;
  log: (line: string) => void;
  /** Baseline threshold overrides from the command line (parseThresholdFlags). */
  thresholds?: ThresholdOverrides;
  /** Passed to every runScenario call (influx, signal, cacheDir, onProgress, …). */
  run?: Omit<RunOptions, "scenarioFile" | "reportsDir" | "runId" | "log">;
  /** Called before each scenario runs (e.g. to reset a live progress display). */
  onScenarioStart?: (info: { index: number; total: number; file: string; scenario: string }) => void;
};

export type SuiteRun = {
  file: string;
  scenario: string;
  runId: string;
  runDir?: string;
  exitCode: 0 | 1 | 2;
  status: RunReport["status"];
  durationMs: number;
  budgets: { total: number; failed: number };
  failedBudgets: string[];
  errors: string[];
  baseline?: { report: string; runId: string; regressions: number; improvements: number; unchanged: number; lines: string[] } | { note: string };
};

export type SuiteResult = { exitCode: 0 | 1 | 2; summary: string; junitPath: string; summaryPath: string; suiteDir: string; runs: SuiteRun[] };

/** Scenario files named by `paths`: folders expand to their *.yaml/*.yml, sorted; files stay in order. */
export async function expandScenarioPaths(paths: readonly string[]): Promise<{ files: string[]; missing: string[] }> {
  const files: string[] = [];
  const missing: string[] = [];
  for (const p of paths) {
    let st;
    try {
      st = await stat(p);
    } catch {
      missing.push(p);
      continue;
    }
    if (st.isDirectory()) {
      const names = (await readdir(p, { withFileTypes: true }))
        .filter((d) => d.isFile() && /\.ya?ml$/i.test(d.name))
        .map((d) => d.name)
        .sort();
      if (names.length === 0) missing.push(`${p} (no *.yaml inside)`);
      files.push(...names.map((n) => join(p, n)));
    } else files.push(p);
  }
  return { files, missing };
}

export async function runSuite(args: SuiteArgs): Promise<SuiteResult> {
  const log = args.log;
  const t0 = Date.now();
  const startedAt = new Date(t0).toISOString();
  const suiteId = `suite-${stamp(new Date(t0))}-${randomBytes(2).toString("hex")}`;
  const suiteDir = resolve(args.out ?? "reports", suiteId);
  await mkdir(suiteDir, { recursive: true });
  const version = await toolVersion();

  const { files, missing } = await expandScenarioPaths(args.paths);
  const reports: RunReport[] = [];
  const runs: SuiteRun[] = [];
  const broken = (file: string, message: string, scenario = scenarioNameFromFile(file)): void => {
    const report = brokenReport(file, scenario, message, version, args.seed);
    reports.push(report);
    runs.push({ file, scenario, runId: report.run.id, exitCode: 2, status: "broken", durationMs: 0, budgets: { total: 0, failed: 0 }, failedBudgets: [], errors: [message] });
  };
  for (const m of missing) {
    log(`suite: ${m}: no such scenario file or folder`);
    broken(m, `no such scenario file or folder: ${m}`);
  }

  let baselineProblem: string | undefined;
  if (args.baseline !== undefined) {
    try {
      await stat(args.baseline);
    } catch {
      baselineProblem = `baseline ${args.baseline} does not exist`;
      log(`suite: ${baselineProblem}`);
    }
  }

  for (const [i, file] of files.entries()) {
    if (args.run?.signal?.aborted) {
      broken(file, "not run: the suite was interrupted");
      continue;
    }
    let scenario: LoadedScenario;
    try {
      scenario = await loadScenario(file);
    } catch (e) {
      if (!(e instanceof ScenarioError)) throw e;
      log(`suite [${i + 1}/${files.length}] ${file}: invalid scenario`);
      for (const l of e.message.split("\n")) log(`  ${l}`);
      broken(file, `invalid scenario\n${e.message}`);
      continue;
    }
    if (args.seed !== undefined) scenario.seed = args.seed;
    args.onScenarioStart?.({ index: i, total: files.length, file, scenario: scenario.name });
    log(`suite [${i + 1}/${files.length}] ${file}: ${scenario.name}, seed ${scenario.seed}, ${scenario.duration / 1000} s`);
    const result = await runScenario(scenario, { ...args.run, scenarioFile: file, reportsDir: suiteDir, log: args.quiet ? undefined : log });
    let report = result.report;
    let exitCode = result.exitCode;
    const run: SuiteRun = {
      file,
      scenario: scenario.name,
      runId: report.run.id,
      runDir: result.runDir,
      exitCode,
      status: report.status,
      durationMs: report.run.durationMs,
      budgets: { total: report.budgets.length, failed: report.budgets.filter((v) => !v.pass).length },
      failedBudgets: report.budgets.filter((v) => !v.pass).map(verdictMessage),
      errors: report.errors,
    };

    if (args.baseline !== undefined) {
      const b = baselineProblem
        ? { report, exitCode, note: baselineProblem }
        : await applyBaseline({ report, runDir: result.runDir, exitCode, baseline: args.baseline, scenarioThresholds: scenarioThresholds(scenario), thresholds: args.thresholds });
      report = b.report;
      exitCode = b.exitCode;
      run.exitCode = exitCode;
      run.status = report.status;
      if (b.comparison) {
        const cmp = b.comparison;
        run.baseline = {
          report: cmp.baseline.path ?? args.baseline,
          runId: cmp.baseline.runId,
          regressions: cmp.regressions.length,
          improvements: cmp.improvements.length,
          unchanged: cmp.unchanged,
          lines: formatComparison(cmp),
        };
      } else {
        run.baseline = { note: b.note ?? "not compared" };
        log(`suite: baseline for ${scenario.name}: ${run.baseline.note}`);
      }
    }
    reports.push(report);
    runs.push(run);
    log(`suite [${i + 1}/${files.length}] ${scenario.name}: ${run.status} (exit ${run.exitCode}) in ${(run.durationMs / 1000).toFixed(1)} s`);
  }

  const exitCode = runs.reduce<0 | 1 | 2>((w, r) => (r.exitCode > w ? r.exitCode : w), 0);
  const junitPath = join(suiteDir, "junit.xml");
  await writeJUnit(junitPath, reports);
  const summaryPath = join(suiteDir, "suite-summary.json");
  const durationMs = Date.now() - t0;
  await writeFile(
    summaryPath,
    JSON.stringify(
      {
        schemaVersion: 1,
        suite: suiteId,
        startedAt,
        durationMs,
        exitCode,
        status: exitCode === 0 ? "passed" : exitCode === 1 ? "failed" : "broken",
        paths: args.paths,
        ...(args.seed !== undefined ? { seed: args.seed } : {}),
        ...(args.baseline !== undefined ? { baseline: args.baseline } : {}),
        junit: junitPath,
        runs,
      },
      null,
      2,
    ) + "\n",
  );
  return { exitCode, summary: formatSuiteSummary(runs, { exitCode, durationMs, junitPath, summaryPath }), junitPath, summaryPath, suiteDir, runs };
}

/** The scenario's own `baseline:` thresholds, once the scenario schema carries that field. */
export function scenarioThresholds(scenario: object): unknown {
  return (scenario as { baseline?: unknown }).baseline;
}

export type BaselineApplied = { report: RunReport; exitCode: 0 | 1 | 2; comparison?: BaselineComparison; note?: string };

/**
 * Compare one finished run with its baseline (`proctor run|suite --baseline`): find it, compare,
 * write `<runDir>/baseline.json`, rewrite `<runDir>/junit.xml` with the baseline cases, and return
 * the report with those verdicts appended (status "failed" and exit code ≥ 1 on a regression).
 * No baseline found, or one that cannot be read, is a note, not a failure (a first CI run has none).
 * report.json stays the run's own record.
 */
export async function applyBaseline(a: {
  report: RunReport;
  runDir: string;
  exitCode: 0 | 1 | 2;
  /** --baseline: a report.json, a run folder, or a folder of runs. */
  baseline: string;
  /** The scenario's `baseline:` field (raw; validated here). */
  scenarioThresholds?: unknown;
  /** Command-line overrides (parseThresholdFlags); they win over the scenario's. */
  thresholds?: ThresholdOverrides;
}): Promise<BaselineApplied> {
  const { report, exitCode } = a;
  try {
    let fromScenario: BaselineSettings | undefined;
    if (a.scenarioThresholds !== undefined) {
      const r = BaselineSettingsSchema.safeParse(a.scenarioThresholds);
      if (!r.success) throw new BaselineError(`scenario ${report.run.scenario}: baseline: ${r.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
      fromScenario = r.data;
    }
    const found = await findBaseline(a.baseline, report.run.scenario, { excludeRunId: report.run.id, before: report.run.startedAt });
    if (!found) return { report, exitCode, note: `no earlier run of "${report.run.scenario}" in ${a.baseline}` };
    if (found.report.run.scenario !== report.run.scenario) {
      return { report, exitCode, note: `${found.path} is scenario "${found.report.run.scenario}", not "${report.run.scenario}": not compared` };
    }
    const cmp = compareReports(report, found.report, { thresholds: resolveThresholds(fromScenario, a.thresholds), baselinePath: found.path, perStudent: fromScenario?.per_student });
    await writeComparison(join(a.runDir, "baseline.json"), cmp);
    const judged = withBaseline(report, cmp);
    await writeJUnit(join(a.runDir, "junit.xml"), [judged]);
    return { report: judged, exitCode: cmp.regressions.length > 0 && exitCode === 0 ? 1 : exitCode, comparison: cmp };
  } catch (e) {
    if (!(e instanceof BaselineError)) throw e;
    return { report, exitCode, note: e.message };
  }
}

/** The report as the suite's JUnit sees it: baseline verdicts appended, status failed on a regression. */
export function withBaseline(report: RunReport, cmp: BaselineComparison): RunReport {
  const verdicts = baselineVerdicts(cmp);
  const regressed = verdicts.some((v) => !v.pass);
  return { ...report, budgets: [...report.budgets, ...verdicts], status: report.status === "passed" && regressed ? "failed" : report.status };
}

export function formatSuiteSummary(runs: readonly SuiteRun[], o: { exitCode: number; durationMs: number; junitPath: string; summaryPath: string }): string {
  const count = (s: RunReport["status"]): number => runs.filter((r) => r.status === s).length;
  const lines = [`suite: ${runs.length} scenario(s): ${count("passed")} passed, ${count("failed")} failed, ${count("broken")} broken — exit ${o.exitCode} (${(o.durationMs / 1000).toFixed(1)} s)`];
  const rows = runs.map((r) => {
    const b = r.baseline === undefined ? "" : "note" in r.baseline ? "baseline: none" : `baseline: ${r.baseline.regressions} regression(s), ${r.baseline.improvements} improvement(s)`;
    return [r.status.toUpperCase(), r.scenario, r.file, `${(r.durationMs / 1000).toFixed(1)} s`, r.budgets.total ? `budgets ${r.budgets.total - r.budgets.failed}/${r.budgets.total}` : "", b];
  });
  const widths = [0, 1, 2, 3, 4].map((i) => Math.max(...rows.map((row) => row[i]!.length), 0));
  for (const row of rows) lines.push(`  ${row.map((c, i) => (i < 5 ? c.padEnd(widths[i]!) : c)).join("  ").trimEnd()}`);
  for (const r of runs) {
    const detail = [
      ...r.failedBudgets.map((m) => `FAIL ${m}`),
      ...r.errors.map((e) => `error: ${e.split("\n").join("\n      ")}`),
      ...(r.baseline && !("note" in r.baseline) && (r.baseline.regressions > 0 || r.baseline.improvements > 0) ? r.baseline.lines : []),
      ...(r.baseline && "note" in r.baseline ? [`baseline: ${r.baseline.note}`] : []),
    ];
    if (detail.length === 0) continue;
    lines.push("", `${r.scenario} (${r.file}):`, ...detail.map((d) => `  ${d}`));
  }
  lines.push("", `junit:   ${o.junitPath}`, `summary: ${o.summaryPath}`);
  for (const r of runs) if (r.runDir) lines.push(`report:  ${r.runDir}/report.html`);
  return lines.join("\n");
}

function brokenReport(file: string, scenario: string, message: string, version: string, seed?: number): RunReport {
  return {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: "proctor", version },
    run: { id: `${scenario}-not-run`, scenario, seed: seed ?? 0, startedAt: new Date().toISOString(), durationMs: 0, scenarioFile: file },
    media: { width: 0, height: 0, fps: 0, videoKbps: 0, clips: [] },
    streamer: { framesSent: 0, audioPacketsSent: 0, maxPacingLatenessMs: 0 },
    students: [],
    budgets: [],
    status: "broken",
    errors: [message],
  };
}

function scenarioNameFromFile(file: string): string {
  return basename(file, extname(file)) || file;
}

function stamp(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

/** package.json's version (src/cli and dist/cli are both two levels below the package root). */
async function toolVersion(): Promise<string> {
  try {
    const pkg = JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")) as { version?: unknown };
    return typeof pkg.version === "string" ? pkg.version : "0.0.0";
  } catch {
    return "0.0.0";
  }
}
