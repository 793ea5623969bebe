// Calibration: random loss injected on the down link comes back as measured loss (before repair:
// what the network took) within ±1 point. Four students per rate, each through its own seeded
// relay, pooled, so the binomial noise of the sample (σ ≈ 0.35 points) stays well inside the band.
import { describe, it, expect, beforeAll } from "vitest";
import { runYaml, report } from "../helpers/class-run.js";
import type { RunResult } from "../../src/scenario/runner.js";

let r: RunResult;

const lossy = (p: number) => `{ steps: [ { at: 0s, both: {} }, { at: 10ms, down: { loss: ${p}% } } ] }`;

beforeAll(async () => {
  r = await runYaml(`
name: cal-loss
seed: 5
duration: 20s
media: { width: 640, height: 360, fps: 30, videoKbps: 2000 }
lesson: { clips: [ { name: a, duration: 10s }, { name: b, duration: 10s } ] }
rooms:
  - id: r
    students:
      - { group: l30, count: 4, agent: werift, netem: ${lossy(30)} }
      - { group: l70, count: 4, agent: werift, netem: ${lossy(70)} }
`);
});

describe("calibration: random loss → measured loss", () => {
  for (const p of [30, 70]) {
    it(`${p} % injected → ${p} ± 1 points measured (video before repair + audio, pooled)`, () => {
      let lost = 0;
      let expected = 0;
      for (const s of r.students.filter((x) => x.student.startsWith(`l${p}-`))) {
        const v = s.summary.video;
        const a = s.summary.audio;
        const vLost = (v.lossBeforeRepair ?? v.lossFraction) * v.packetsExpected;
        console.log(`${s.student}: video ${((vLost / v.packetsExpected) * 100).toFixed(2)} % of ${v.packetsExpected}, audio ${(a.lossFraction * 100).toFixed(2)} % of ${a.packetsExpected}`);
        lost += vLost + a.packetsLost;
        expected += v.packetsExpected + a.packetsExpected;
      }
      const measured = (lost / expected) * 100;
      report(`random down loss (${expected} packets)`, p, measured, 1, "%");
      expect(expected).toBeGreaterThan(12_000);
      expect(Math.abs(measured - p)).toBeLessThanOrEqual(1);
    });
  }
});
