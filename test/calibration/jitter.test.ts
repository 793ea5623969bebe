// Calibration: delay jitter of σ = 20 ms comes back as RFC 3550 interarrival jitter within 10 % of
// what the formula predicts. J converges to E|D| with D the difference of two independent transit
// delays: normal(σ) → E|D| = 2σ/√π = 22.57 ms; uniform in [μ−σ, μ+σ) → E|D| = 2σ/3 = 13.33 ms.
// NACK is off for these students: reordered packets must count as plain late arrivals.
import { describe, it, expect, beforeAll } from "vitest";
import { runYaml, student, report } from "../helpers/class-run.js";
import type { RunResult } from "../../src/scenario/runner.js";

let r: RunResult;
const SIGMA = 20;

beforeAll(async () => {
  r = await runYaml(`
name: cal-jitter
seed: 13
duration: 12s
lesson: { clips: [ { name: a, duration: 12s } ] }
rooms:
  - id: r
    students:
      - { group: normal, count: 1, agent: werift, nack: false, netem: { steps: [ { at: 0s, both: {} }, { at: 10ms, down: { delay: 80ms, jitter: ${SIGMA}ms, distribution: normal } } ] } }
      - { group: uniform, count: 1, agent: werift, nack: false, netem: { steps: [ { at: 0s, both: {} }, { at: 10ms, down: { delay: 80ms, jitter: ${SIGMA}ms } } ] } }
`);
});

describe("calibration: delay jitter → RFC 3550 jitter", () => {
  const cases = [
    ["normal", (2 * SIGMA) / Math.sqrt(Math.PI)],
    ["uniform", (2 * SIGMA) / 3],
  ] as const;
  for (const [name, predicted] of cases) {
    it(`${name} σ=${SIGMA} ms → ${predicted.toFixed(2)} ms ± 10 %`, () => {
      const s = student(r, name).summary;
      const video = s.video.jitterMeanMs!;
      const audio = s.audio.jitterMeanMs!;
      report(`${name} jitter σ ${SIGMA} ms, video RFC 3550 jitter`, predicted, video, predicted * 0.1);
      report(`${name} jitter σ ${SIGMA} ms, audio RFC 3550 jitter`, predicted, audio, predicted * 0.1);
      expect(Math.abs(video - predicted)).toBeLessThanOrEqual(predicted * 0.1);
      expect(Math.abs(audio - predicted)).toBeLessThanOrEqual(predicted * 0.1);
    });
  }
});
