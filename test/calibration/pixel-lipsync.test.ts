// Calibration of the pixel-tier lip-sync (positive = audio leads), in real Chromium through the
// reference teacher. Two ways to put a known offset in front of the browser:
//   1. in the source: one lesson of three clips whose marker audio plays 0, +60 ms (audio lags) and
//      −60 ms (audio leads) against its flash → −60 / +60 / 0 ± 5 ms, read per clip;
//   2. in the streamer's timestamps: sender reports claim audio was captured 60 ms later (room
//      "late") / earlier ("early") than it was; Chromium syncs by them, so it plays audio 60 ms
//      late / early → −60 / +60 / 0 ± 5 ms.
// Chromium's A/V sync settles over the first markers, so each reading is the median of the
// markers after the first SETTLE_MS of a clip (or of the lesson).
import { describe, it, expect, beforeAll } from "vitest";
import { runYaml, report } from "../helpers/class-run.js";
import { chromiumUnavailable } from "../helpers/chromium.js";
import { percentile } from "../../src/metrics/stats.js";
import type { RunResult } from "../../src/scenario/runner.js";
import type { PixelSummary } from "../../src/metrics/pixel-summary.js";

const why = chromiumUnavailable();
if (why) console.log(`[pixel-lipsync] skipped: ${why}`);
const SETTLE_MS = 2500;
const TOL = 5;

const median = (v: number[]): number => percentile([...v].sort((a, b) => a - b), 50);
const pixelOf = (r: RunResult, room: string): PixelSummary => r.report.students.find((s) => s.room === room)!.pixel!;

describe.skipIf(why !== null)("calibration: pixel-tier lip-sync in Chromium", () => {
  let source: RunResult;
  let skew: RunResult;
  beforeAll(async () => {
    source = await runYaml(`
name: cal-pixel-source
seed: 4
duration: 19s
lesson:
  clips:
    - { name: clean, duration: 7s }
    - { name: late, duration: 6s, markerAudioOffsetMs: 60 }
    - { name: early, duration: 6s, markerAudioOffsetMs: -60 }
rooms:
  - { id: r, students: [ { group: b, count: 1, agent: chromium } ] }
`);
    skew = await runYaml(
      `
name: cal-pixel-skew
seed: 4
duration: 9s
lesson: { clips: [ { name: a, duration: 9s } ] }
rooms:
  - { id: late, students: [ { group: b, count: 1, agent: chromium } ] }
  - { id: early, students: [ { group: b, count: 1, agent: chromium } ] }
  - { id: honest, students: [ { group: b, count: 1, agent: chromium } ] }
`,
      { audioTimestampSkewMs: { late: 60, early: -60, honest: 0 } },
    );
  }, 240_000);

  for (const [clip, clipId, expected] of [["clean", 1, 0], ["late", 2, -60], ["early", 3, 60]] as const) {
    it(`source clip "${clip}": ${expected} ± ${TOL} ms`, () => {
      expect(source.report.errors).toEqual([]);
      const p = pixelOf(source, "r");
      const pairs = p.lipSync.pairs.filter((x) => x.clipId === clipId);
      const start = Math.min(...pairs.map((x) => x.flashUnixMs));
      const settled = pairs.filter((x) => x.flashUnixMs - start >= (clipId === 1 ? SETTLE_MS : 0) && x.frameIndex !== 0);
      console.log(`[pixel-lipsync] ${clip}: ${pairs.map((x) => x.offsetMs.toFixed(1)).join(" ")} (raw bias ${p.lipSync.biasMs})`);
      expect(settled.length).toBeGreaterThanOrEqual(3);
      const m = median(settled.map((x) => x.offsetMs));
      report(`pixel lip-sync, source offset (${clip})`, expected, m, TOL);
      expect(Math.abs(m - expected)).toBeLessThanOrEqual(TOL);
    });
  }

  for (const [room, expected] of [["late", -60], ["early", 60], ["honest", 0]] as const) {
    it(`sender-report skew, room ${room}: ${expected} ± ${TOL} ms`, () => {
      expect(skew.report.errors).toEqual([]);
      const p = pixelOf(skew, room);
      const start = Math.min(...p.lipSync.pairs.map((x) => x.flashUnixMs));
      const settled = p.lipSync.pairs.filter((x) => x.flashUnixMs - start >= SETTLE_MS);
      console.log(`[pixel-lipsync] room ${room}: ${p.lipSync.pairs.map((x) => x.offsetMs.toFixed(1)).join(" ")}; getStats playout ${p.playoutLipSyncMs.p50}`);
      expect(settled.length).toBeGreaterThanOrEqual(3);
      const m = median(settled.map((x) => x.offsetMs));
      report(`pixel lip-sync, audio SR skew (${room})`, expected, m, TOL);
      expect(Math.abs(m - expected)).toBeLessThanOrEqual(TOL);
    });
  }
});
