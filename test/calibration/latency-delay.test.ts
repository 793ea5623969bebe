// Calibration: a fixed down-delay injected by the relay comes back as e2e latency over a clean
// student in the same room (who also goes through a relay, so the relay's own cost cancels).
import { describe, it, expect, beforeAll } from "vitest";
import { runYaml, student, report } from "../helpers/class-run.js";
import type { RunResult } from "../../src/scenario/runner.js";

let r: RunResult;

beforeAll(async () => {
  r = await runYaml(`
name: cal-delay
seed: 11
duration: 8s
lesson: { clips: [ { name: a, duration: 4s }, { name: b, duration: 4s } ] }
rooms:
  - id: r
    students:
      - { group: clean, count: 1, agent: werift, netem: clean }
      - { group: d50, count: 1, agent: werift, netem: { steps: [ { at: 0s, down: { delay: 50ms } } ] } }
      - { group: d100, count: 1, agent: werift, netem: { steps: [ { at: 0s, down: { delay: 100ms } } ] } }
      - { group: d150, count: 1, agent: werift, netem: { steps: [ { at: 0s, down: { delay: 150ms } } ] } }
`);
});

describe("calibration: fixed down-delay → latency", () => {
  for (const d of [50, 100, 150]) {
    it(`+${d} ms down-delay raises video and audio latency by ${d} ± 2 ms over clean`, () => {
      const clean = student(r, "clean").summary;
      const s = student(r, `d${d}`).summary;
      const video = s.latencyMs.p50 - clean.latencyMs.p50;
      const audio = s.audioLatencyMs.p50 - clean.audioLatencyMs.p50;
      report(`down-delay ${d} ms, video latency p50 over clean`, d, video, 2);
      report(`down-delay ${d} ms, audio latency p50 over clean`, d, audio, 2);
      expect(s.latencyMs.count).toBeGreaterThan(200);
      expect(Math.abs(video - d)).toBeLessThanOrEqual(2);
      expect(Math.abs(audio - d)).toBeLessThanOrEqual(2);
    });
  }
});
