// A real class writes live to a real influxd; influxd is SIGKILLed mid-run and restarted on the
// same port and data folder. Afterwards every point of the run's metrics.lp is in the database:
// the sink spooled while it was away and replayed when it came back — nothing lost.
import { describe, it, expect } from "vitest";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runYaml } from "../helpers/class-run.js";
import { influxdSkipReason, startTestInfluxd } from "../helpers/influxd.js";
import { parseInfluxTarget } from "../../src/metrics/influx-target.js";
import { parseLineProtocol } from "../../src/report/lp-reader.js";

if (influxdSkipReason) console.log(`skipping influx outage test: ${influxdSkipReason}`);

describe.skipIf(influxdSkipReason !== undefined)("InfluxDB outage during a run", () => {
  it("kill influxd mid-run, restart it: the database holds exactly the points of metrics.lp", async () => {
    const db = await startTestInfluxd();
    try {
      let restarted: Promise<void> = Promise.resolve();
      const r = await runYaml(
        `
name: influx-outage
seed: 12
duration: 7s
lesson: { clips: [ { name: a, duration: 3s }, { name: b, duration: 4s } ] }
rooms:
  - id: r
    students:
      - { group: s, count: 2, agent: werift }
      - { group: d, count: 1, agent: werift, netem: { steps: [ { at: 0s, both: {} }, { at: 2s, down: { delay: 60ms } } ] } }
`,
        {
          influx: parseInfluxTarget(db.url),
          hooks: {
            onLessonStarted: () => {
              restarted = (async () => {
                await new Promise((res) => setTimeout(res, 1500));
                await db.kill();
                await new Promise((res) => setTimeout(res, 2500));
                await db.restart();
              })();
            },
          },
        },
      );
      await restarted;
      const stats = r.report.sinks?.influx as Record<string, number> | undefined;
      console.log("influx sink counters:", JSON.stringify(stats));
      expect(stats).toBeDefined();
      expect(stats!.spooled).toBeGreaterThan(0);
      expect(stats!.replayed).toBe(stats!.spooled);
      expect(stats!.dropped).toBe(0);
      expect(stats!.rejected).toBe(0);

      const { points, errors } = parseLineProtocol(readFileSync(join(r.runDir, "metrics.lp"), "utf8"));
      expect(errors).toEqual([]);
      const expected = new Map<string, number>();
      for (const p of points) expected.set(p.measurement, (expected.get(p.measurement) ?? 0) + 1);
      for (const [measurement, n] of expected) {
        const series = await db.query(`SELECT * FROM "${measurement}" WHERE "run" = '${r.report.run.id}'`);
        const stored = series.reduce((k, s) => k + s.values.length, 0);
        console.log(`${measurement}: metrics.lp ${n}, influxd ${stored}`);
        expect(stored, measurement).toBe(n);
      }
      expect(expected.get("wire")).toBeGreaterThanOrEqual(15);
    } finally {
      await db.stop();
    }
  });
});
