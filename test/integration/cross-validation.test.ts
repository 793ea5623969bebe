// Cross-validation of the two tiers: 2 light (werift, wire tier) and 2 browser (Chromium, pixel
// tier) students in one room, every link through the same profile — 30 % random loss both ways
// plus 80 ms one-way delay. What the tiers measure must agree where they measure the same thing:
//   - loss: audio has no repair, so light (RFC 3550 counting) and Chromium (getStats packetsLost)
//     both count the network's loss: each must match the relay's own count of the Opus packets it
//     dropped on that link (1 point), so the tiers agree within 2 points on the same links;
//   - clip switches: each tier finds the same boundaries;
//   - freezes and latency: where they part, and why (see the last test).
// And in a second class, outages the NACK repair can close (blackouts of 300 and 600 ms, one light
// and one browser student): each tier must count the same freezes, of the same length.
import { describe, it, expect, beforeAll } from "vitest";
import { runYaml, student } from "../helpers/class-run.js";
import { chromiumUnavailable } from "../helpers/chromium.js";
import type { RunResult } from "../../src/scenario/runner.js";
import type { PixelSummary } from "../../src/metrics/pixel-summary.js";

const why = chromiumUnavailable();
if (why) console.log(`[cross-validation] skipped: ${why}`);
const FRAME_MS = 1000 / 30;
let r: RunResult;
const pixel = (name: string): PixelSummary => r.report.students.find((x) => x.student === name)!.pixel!;

describe.skipIf(why !== null)("cross-validation: light vs browser students on the same impaired link", () => {
  beforeAll(async () => {
    r = await runYaml(`
name: cross-validation
seed: 12
duration: 16s
lesson:
  clips:
    - { name: a, duration: 5s }
    - { name: b, duration: 5s }
    - { name: c, duration: 5s }
rooms:
  - id: x
    mode: shared
    students:
      - { group: light, count: 2, agent: werift, netem: { name: loss30-d80, steps: [ { at: 0s, both: { delay: 80ms, loss: 30% } } ] } }
      - { group: browser, count: 2, agent: chromium, netem: { name: loss30-d80, steps: [ { at: 0s, both: { delay: 80ms, loss: 30% } } ] } }
`);
  }, 180_000);

  it("every student joined through the loss and measured", () => {
    for (const s of r.report.students) if (s.error) console.log(`${s.student}: ${s.error}`);
    expect(r.report.errors).toEqual([]);
    expect(r.report.students).toHaveLength(4);
  });

  it("audio loss: each tier's reading matches the relay's own drop count; the tiers agree within 2 points", () => {
    // Ground truth: the relay counts the Opus packets (payload type 111) it dropped on each link.
    const truth = (relay: RunResult["students"][number]["relay"]): number => {
      const a = relay!.rtpCounters("down").get(111)!;
      return (a.dropped / a.packetsIn) * 100;
    };
    const rows = [
      ...["light-1", "light-2"].map((n) => ({ n, measured: student(r, n).summary.audio.lossFraction * 100, truth: truth(student(r, n).relay) })),
      ...["browser-1", "browser-2"].map((n) => ({ n, measured: pixel(n).audio!.lossFraction * 100, truth: truth(r.browsers.find((b) => b.student === n)!.relay) })),
    ];
    console.log(`audio loss % (measured / relay truth): ${rows.map((x) => `${x.n} ${x.measured.toFixed(1)} / ${x.truth.toFixed(1)}`).join("; ")}`);
    for (const x of rows) {
      expect(Math.abs(x.truth - 30), x.n).toBeLessThan(6); // the profile's 30 %, over ~800 packets
      expect(Math.abs(x.measured - x.truth), x.n).toBeLessThanOrEqual(1);
    }
    // Both tiers read their links right, so what separates their readings is only what the links did.
    const err = (tier: string) => rows.filter((x) => x.n.startsWith(tier)).map((x) => x.measured - x.truth);
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    expect(Math.abs(mean(err("light")) - mean(err("browser")))).toBeLessThanOrEqual(2);
  });

  it("clip switches: both tiers find the same boundaries in the frames they got", () => {
    for (const n of ["light-1", "light-2"]) expect(student(r, n).summary.switchGaps.map((g) => `${g.fromClip}->${g.toClip}`), n).toEqual(["1->2", "2->3"]);
    for (const n of ["browser-1", "browser-2"]) {
      const gaps = pixel(n).switchGaps;
      console.log(`${n}: switch gaps at presentation ${gaps.map((g) => g.gapMs.toFixed(1)).join(", ")} ms`);
      expect(gaps.map((g) => `${g.fromClip}->${g.toClip}`), n).toEqual(["1->2", "2->3"]);
    }
  });

  // Where the tiers part (measured here, 2 cores): under 30 % loss + 80 ms Chromium freezes far more
  // than the light students' emulated playout (W3C freezes 10–12 vs 0–1; Chromium's own freezeCount
  // 24–25) and presents later (its jitter buffer holds ~400 ms); its frames' network part (receive −
  // capture) is ~185 ms against the light students' 260–270 ms completion. The emulation keeps every
  // NACK repair, Chromium gives frames up and waits for the next key frame (the reference teacher
  // sends one a second and cannot make one on demand). The figures are printed, and the direction
  // is asserted: a browser never shows fewer freezes than the wire promises.
  it("freezes and latency: Chromium freezes at least as often as the emulated playout; its latency splits into network (capture → received) and in-browser parts; unrepaired frames take the same network time at both tiers", () => {
    const light = ["light-1", "light-2"].map((n) => student(r, n).summary);
    for (const n of ["browser-1", "browser-2"]) {
      const p = pixel(n);
      const network = p.networkLatencyMs.p50;
      console.log(
        `${n}: freezes ${p.freezes.count} (Chromium's own ${p.statsFreezes?.count}) vs light ${light.map((l) => l.freezes.count).join(", ")}; ` +
          `latency p50 ${p.latencyMs.p50.toFixed(1)}: network p50 ${network.toFixed(1)} (mean ${p.networkLatencyMs.mean.toFixed(1)}, p95 ${p.networkLatencyMs.p95.toFixed(1)}, min ${p.networkLatencyMs.min.toFixed(1)}) + receive→present p50 ${p.receiveToPresentMs.p50.toFixed(1)} (jitter buffer ${p.video?.jitterBufferMs?.toFixed(1)}); light p50 ${light.map((l) => l.latencyMs.p50.toFixed(1)).join(", ")} mean ${light.map((l) => l.latencyMs.mean.toFixed(1)).join(", ")} p95 ${light.map((l) => l.latencyMs.p95.toFixed(1)).join(", ")} min ${light.map((l) => l.latencyMs.min.toFixed(1)).join(", ")}`,
      );
      expect(p.freezes.count).toBeGreaterThanOrEqual(Math.min(...light.map((l) => l.freezes.count)));
      // Both parts are measured, and the profile's 80 ms one-way delay is inside the network part.
      expect(network).toBeGreaterThan(80);
      expect(p.receiveToPresentMs.p50).toBeGreaterThan(0);
      // A frame that needed no repair takes the same network time at both tiers: the fastest frames
      // agree (measured 80.0–81.8 ms in Chromium vs 79.8–80.9 light, four runs), a check on both
      // tiers' clocks and frame joins (the page clock is mapped onto proctor's within ± 1 ms). Repaired frames do not (Chromium's p95 626–737 ms vs light 390–404: its
      // NACK and key-frame waits run longer), which is what keeps the means apart.
      const lightMin = Math.min(...light.map((l) => l.latencyMs.min));
      expect(p.networkLatencyMs.min).toBeGreaterThanOrEqual(79);
      expect(Math.abs(p.networkLatencyMs.min - lightMin)).toBeLessThanOrEqual(3);
    }
  });
});

describe.skipIf(why !== null)("cross-validation: blackouts — both tiers count the same freezes", () => {
  const BLACKOUTS = "{ at: 0s, both: {} }, { at: 3030ms, down: { loss: 100% } }, { at: 3330ms, down: {} }, { at: 6030ms, down: { loss: 100% } }, { at: 6630ms, down: {} }";
  let b: RunResult;
  beforeAll(async () => {
    b = await runYaml(`
name: cross-validation-blackouts
seed: 9
duration: 9s
lesson: { clips: [ { name: a, duration: 9s } ] }
rooms:
  - id: r
    mode: shared
    students:
      - { group: light, count: 1, agent: werift, netem: { steps: [ ${BLACKOUTS} ] } }
      - { group: browser, count: 1, agent: chromium, netem: { steps: [ ${BLACKOUTS} ] } }
`);
  }, 120_000);

  it("300 and 600 ms blackouts: two freezes at each tier (and in Chromium's own count), lengths within two frame intervals", () => {
    expect(b.report.errors).toEqual([]);
    const light = student(b, "light").summary.freezes;
    const p = b.report.students.find((s) => s.student === "browser")!.pixel!;
    console.log(
      `blackouts: light freezes ${light.list.map((f) => f.durationMs.toFixed(1)).join(", ")} ms; Chromium presented ${p.freezes.list.map((f) => f.durationMs.toFixed(1)).join(", ")} ms; Chromium's own ${p.statsFreezes?.count} (${p.statsFreezes?.totalMs.toFixed(0)} ms)`,
    );
    // Measured (four runs): light 351.1, 628.3 / 330.1, 633.5 / 371.0, 625.1 / 297.4, 632.5; Chromium
    // 333.5, 616.9 / 331.1, 666.7 / 368.0, 616.3 / 332.0, 632.7; Chromium's own 2 (964–1007 ms). A freeze ends at the first frame shown after the hole, which
    // may be one frame earlier or later at either tier: lengths agree within two frame intervals.
    expect(light.count).toBe(2);
    expect(p.freezes.count).toBe(2);
    expect(p.statsFreezes?.count).toBe(2);
    const [l300, l600] = light.list.map((f) => f.durationMs);
    const [b300, b600] = p.freezes.list.map((f) => f.durationMs);
    // A freeze spans the blackout give or take a frame (the hole's edges fall between frame ticks;
    // a fresh-clone CI run read 297.4 ms for the light student's 300 ms one).
    for (const [w, l, c] of [[300, l300!, b300!], [600, l600!, b600!]] as const) {
      expect(l).toBeGreaterThanOrEqual(w - FRAME_MS);
      expect(c).toBeGreaterThanOrEqual(w - FRAME_MS);
      expect(Math.abs(l - c)).toBeLessThanOrEqual(2 * FRAME_MS);
    }
  });
});
