// Calibration: random loss injected on the down link comes back as measured loss (before repair:
// what the network took). Four students per rate, each through its own seeded relay, pooled. Two
// checks: the metric recovers what the relays actually dropped (their own count of RTP packets,
// ± 0.5 points), and the relays' realized rate is the configured one within binomial noise (4 σ,
// σ ≈ 0.37 points at 30 % over ~15 000 packets). A fixed ± 1 point against the configured rate
// mixed the two: the seeded draws realized 29.4–29.6 % at 30 % in every run, and one fresh-clone
// run measured 28.92 %.
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
    it(`${p} % injected → measured (video before repair + audio, pooled) within 4 σ, and agrees with what the relays dropped`, () => {
      let lost = 0;
      let expected = 0;
      let truthIn = 0;
      let truthDropped = 0;
      for (const s of r.students.filter((x) => x.student.startsWith(`l${p}-`))) {
        const v = s.summary.video;
        const a = s.summary.audio;
        const vLost = (v.lossBeforeRepair ?? v.lossFraction) * v.packetsExpected;
        console.log(`${s.student}: video ${((vLost / v.packetsExpected) * 100).toFixed(2)} % of ${v.packetsExpected}, audio ${(a.lossFraction * 100).toFixed(2)} % of ${a.packetsExpected}`);
        lost += vLost + a.packetsLost;
        expected += v.packetsExpected + a.packetsExpected;
        // The relay's own count of the RTP it carried down (VP8 96 incl. retransmissions, Opus 111).
        for (const c of s.relay!.rtpCounters("down").values()) {
          truthIn += c.packetsIn;
          truthDropped += c.dropped;
        }
      }
      const measured = (lost / expected) * 100;
      const truth = (truthDropped / truthIn) * 100;
      const sigma = Math.sqrt(((p / 100) * (1 - p / 100)) / expected) * 100;
      report(`random down loss (${expected} packets; 4 σ = ${(4 * sigma).toFixed(2)} points)`, p, measured, 4 * sigma, "%");
      // Two samples of the same process (the relays' count adds the retransmissions): 4 σ of their difference.
      const sigmaDiff = Math.sqrt((p / 100) * (1 - p / 100) * (1 / expected + 1 / truthIn)) * 100;
      report(`the same vs what the relays dropped (${truthDropped} of ${truthIn} RTP packets)`, truth, measured, 4 * sigmaDiff, "%");
      expect(expected).toBeGreaterThan(12_000);
      expect(Math.abs(measured - p)).toBeLessThanOrEqual(4 * sigma);
      expect(Math.abs(measured - truth)).toBeLessThanOrEqual(4 * sigmaDiff);
    });
  }
});
