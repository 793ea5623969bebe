// Calibration: a switch where the streamer is told to hold 10 frame ticks shows a 333 ± 2 ms gap;
// back-to-back clips show 0 ± 1 ms. Measured on presentation times of the emulated playout (the
// metric's definition) and, looser by the pacing jitter, on arrival.
import { describe, it, expect, beforeAll } from "vitest";
import { runYaml, report } from "../helpers/class-run.js";
import type { RunResult } from "../../src/scenario/runner.js";

let r: RunResult;
const HOLD = 10;
const INTERVAL = 1000 / 30;

beforeAll(async () => {
  r = await runYaml(
    `
name: cal-switch
seed: 4
duration: 7s
lesson: { clips: [ { name: a, duration: 2s }, { name: b, duration: 2s }, { name: c, duration: 4s } ] }
rooms:
  - id: r
    students:
      - { group: s, count: 2, agent: werift }
`,
    {
      hooks: {
        // Clips a→b switch back to back (clean); at 3 s the teacher interrupts b with c, holding 10 ticks.
        onLessonStarted: ({ programs, library }) => {
          setTimeout(() => programs.get("r")!.switchNow(library.get("c"), { holdTicks: HOLD }), 3000);
        },
      },
    },
  );
});

describe("calibration: clip-switch gap", () => {
  it("clean switch a→b: 0 ± 5 ms; held switch b→c: 333 ± 2 ms (presentation)", () => {
    for (const s of r.students) {
      const gaps = s.summary.presentedSwitchGaps;
      expect(gaps.map((g) => `${g.fromClip}->${g.toClip}`)).toEqual(["1->2", "2->3"]);
      const [clean, held] = gaps as [(typeof gaps)[0], (typeof gaps)[0]];
      // Typically −0.04 ms; one fresh-clone run on a loaded machine read −3.04: clip b starts on a key
      // frame several times larger than a delta, whose last packet can complete after its render
      // time. ± 5 ms still tells a seamless switch from one held tick (+33 ms) six times over.
      report(`${s.student} clean switch gap`, 0, clean.gapMs, 5);
      report(`${s.student} held switch gap (${HOLD} ticks)`, HOLD * INTERVAL, held.gapMs, 2);
      expect(Math.abs(clean.gapMs)).toBeLessThanOrEqual(5);
      expect(Math.abs(held.gapMs - HOLD * INTERVAL)).toBeLessThanOrEqual(2);
      // The sender's own capture clock agrees exactly (what the streamer scheduled).
      expect(clean.captureGapMs).toBeCloseTo(0, 3);
      expect(held.captureGapMs).toBeCloseTo(HOLD * INTERVAL, 3);
      // Arrival-based (wire) gap: within the pacing jitter of the held gap.
      const wire = s.summary.switchGaps[1]!;
      expect(Math.abs(wire.gapMs - HOLD * INTERVAL)).toBeLessThanOrEqual(8);
    }
  });
});
