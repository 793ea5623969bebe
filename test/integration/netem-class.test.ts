// Impairment through the relay in a real class (issue 3): a library loss profile is measured back,
// a fixed down-delay shows up as latency over a clean student of the same room, and students join
// through loss from their very first packet (DTLS retransmission patch + bounded, retried joins).
import { describe, it, expect } from "vitest";
import { runYaml, student, report, pairedLatency } from "../helpers/class-run.js";
import { percentile } from "../../src/metrics/stats.js";

describe("netem relay in a class", () => {
  it("loss-70 (library) measures 70 ± 2 %; +100 ms down-delay measures +100 ± 2 ms over clean", async () => {
    const r = await runYaml(`
name: netem-class
seed: 21
duration: 15s
media: { width: 640, height: 360, fps: 30, videoKbps: 2000 }
lesson: { clips: [ { name: a, duration: 15s } ] }
rooms:
  - id: r
    students:
      - { group: clean, count: 1, agent: werift, netem: clean }
      - { group: d100, count: 1, agent: werift, netem: { steps: [ { at: 0s, down: { delay: 100ms } } ] } }
      - { group: l70, count: 3, agent: werift, netem: { steps: [ { at: 0s, both: {} }, { at: 10ms, down: { loss: 70% } } ] } }
`);
    expect(r.report.errors).toEqual([]);
    // Frame by frame against the clean student, and against the delay the relay actually applied
    // (its own timer lateness included: see test/calibration/latency-delay.test.ts).
    const d100 = student(r, "d100");
    const added = pairedLatency(d100, student(r, "clean"), "video");
    const applied = 100 + d100.relay!.lateness("down").p50Ms;
    report(`down-delay 100 ms through the relay, latency over clean (per-frame median of ${added.pairs})`, applied, added.median, 2);
    expect(added.pairs).toBeGreaterThan(300);
    expect(Math.abs(added.median - applied)).toBeLessThanOrEqual(2);
    let lost = 0;
    let expected = 0;
    for (const s of r.students.filter((x) => x.student.startsWith("l70-"))) {
      const v = s.summary.video;
      lost += (v.lossBeforeRepair ?? 0) * v.packetsExpected + s.summary.audio.packetsLost;
      expected += v.packetsExpected + s.summary.audio.packetsExpected;
      // the relay's own counters agree that it dropped about that share of what it carried down
      const c = s.relay!.counters("down");
      console.log(`${s.student}: relay down in ${c.packetsIn}, dropped ${c.droppedLoss} (${((c.droppedLoss / c.packetsIn) * 100).toFixed(1)} %)`);
    }
    report(`loss-70 measured over ${expected} packets`, 70, (lost / expected) * 100, 2, "%");
    expect(Math.abs((lost / expected) * 100 - 70)).toBeLessThanOrEqual(2);
  });

  it("20 students join through 30 % loss both ways from their first packet, each within 10 s", async () => {
    const r = await runYaml(`
name: join-under-loss
seed: 33
duration: 2s
lesson: { clips: [ { name: a, duration: 2s } ] }
rooms:
  - id: r
    students:
      - { group: j, count: 20, agent: werift, netem: loss-30 }
`);
    const joins = r.students.map((s) => s.summary.joinMs ?? Infinity).sort((a, b) => a - b);
    const retries = r.students.reduce((n, s) => n + (s.summary.joinRetries ?? 0), 0);
    console.log(`join under 30 % loss: p50 ${percentile(joins, 50).toFixed(0)} ms, p95 ${percentile(joins, 95).toFixed(0)} ms, max ${joins[joins.length - 1]!.toFixed(0)} ms, retries ${retries}; errors: ${JSON.stringify(r.report.errors)}`);
    expect(r.students).toHaveLength(20);
    expect(r.report.errors).toEqual([]);
    for (const j of joins) expect(j).toBeLessThanOrEqual(10_000);
  });
});
