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

/** Median of a − b over the items both lists hold (matched by key). */
export function pairedMedian<T>(a: readonly T[], b: readonly T[], key: (x: T) => string, t: (x: T) => number): { median: number; pairs: number } {
  const at = new Map(b.map((x) => [key(x), t(x)]));
  const d: number[] = [];
  for (const x of a) {
    const other = at.get(key(x));
    if (other !== undefined) d.push(t(x) - other);
  }
  d.sort((p, q) => p - q);
  const m = d.length;
  return { median: m === 0 ? NaN : m % 2 ? d[(m - 1) / 2]! : (d[m / 2 - 1]! + d[m / 2]!) / 2, pairs: m };
}

/**
 * How much later student `a` got the same frames (or audio packets) than student `b` of the same
 * room: the median over matched items (clip id + frame index / packet index). The teacher's own
 * send jitter is common to both and cancels, which a difference of two p50s does not.
 */
export function pairedLatency(a: RunResult["students"][number], b: RunResult["students"][number], kind: "video" | "audio"): { median: number; pairs: number } {
  return kind === "video"
    ? pairedMedian(a.agent.frames, b.agent.frames, (f) => `${f.clipId}:${f.frameIndex}`, (f) => f.completeUnixMs)
    : pairedMedian(a.agent.audio, b.agent.audio, (x) => `${x.clipId}:${x.index}`, (x) => x.arrivalUnixMs);
}
