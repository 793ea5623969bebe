// Run a small class from inline YAML for calibration and integration tests, into a temp folder.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseScenario } from "../../src/scenario/loader.js";
import { runScenario, type RunOptions, type RunResult } from "../../src/scenario/runner.js";

export async function runYaml(yaml: string, opts: Partial<RunOptions> = {}): Promise<RunResult> {
  const scenario = parseScenario(yaml, "<test>");
  return runScenario(scenario, { scenarioFile: "<test>", reportsDir: mkdtempSync(join(tmpdir(), "proctor-run-")), ...opts });
}

export function student(result: RunResult, name: string): RunResult["students"][number] {
  const s = result.students.find((x) => x.student === name);
  if (!s) throw new Error(`no student ${name} in run (have ${result.students.map((x) => x.student).join(", ")})`);
  return s;
}

/** Print a calibration line: what was injected, what came back, the tolerance. */
export function report(what: string, injected: number, measured: number, tolerance: number, unit = "ms"): void {
  const ok = Math.abs(measured - injected) <= tolerance ? "ok" : "OUT OF TOLERANCE";
  console.log(`[calibration] ${what}: injected ${injected.toFixed(2)} ${unit}, measured ${measured.toFixed(2)} ${unit} (±${tolerance} ${unit}) ${ok}`);
}

/** Clip ids of the test lessons (test/fixtures/lessons/quick*.yaml, browser.yaml): declaration order. */
export const LESSON_CLIP = { intro: 1, question: 2, right: 3, wrong: 4, outro: 5 } as const;

/** The clip ids a student saw (from the frame codes it read). */
export function clipsSeen(frames: readonly { clipId?: number }[]): Set<number> {
  return new Set(frames.map((f) => f.clipId ?? -1));
}
