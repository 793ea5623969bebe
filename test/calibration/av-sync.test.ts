// Calibration: the streamer's sender reports claim audio was captured 60 ms later (room "late") or
// earlier (room "early") than it was — a real class of streamer bug. A receiver that syncs by SR
// then plays audio 60 ms late / early, so the A/V estimate must read −60 / +60 ± 5 ms
// (positive = audio leads); an honest streamer reads 0 ± 5 ms.
import { describe, it, expect, beforeAll } from "vitest";
import { runYaml, report } from "../helpers/class-run.js";
import type { RunResult } from "../../src/scenario/runner.js";

let r: RunResult;

beforeAll(async () => {
  r = await runYaml(
    `
name: cal-av
seed: 2
duration: 5s
lesson: { clips: [ { name: a, duration: 5s } ] }
rooms:
  - { id: late, students: [ { group: s, count: 1, agent: werift } ] }
  - { id: early, students: [ { group: s, count: 1, agent: werift } ] }
  - { id: honest, students: [ { group: s, count: 1, agent: werift } ] }
`,
    { audioTimestampSkewMs: { late: 60, early: -60, honest: 0 } },
  );
});

describe("calibration: A/V sync estimate", () => {
  for (const [room, expected] of [["late", -60], ["early", 60], ["honest", 0]] as const) {
    it(`room ${room}: A/V offset ${expected} ± 5 ms`, () => {
      const s = r.students.find((x) => x.room === room)!;
      const av = s.summary.avSync;
      expect(av).toBeDefined();
      report(`audio SR skew in room ${room}, A/V offset`, expected, av!.offsetMs, 5);
      expect(av!.videoSamples).toBeGreaterThan(100);
      expect(av!.audioSamples).toBeGreaterThan(100);
      expect(Math.abs(av!.offsetMs - expected)).toBeLessThanOrEqual(5);
    });
  }
});
