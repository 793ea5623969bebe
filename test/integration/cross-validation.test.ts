// Cross-validation of the two tiers: 2 light (werift, wire tier) and 2 browser (Chromium, pixel
// tier) students in one room, every link through the same profile — 30 % random loss both ways
// plus 80 ms one-way delay. What the tiers measure must agree where they measure the same thing:
//   - loss: audio has no repair, so light (RFC 3550 counting) and Chromium (getStats packetsLost)
//     both count the network's loss: each must match the relay's own count of the Opus packets it
//     dropped on that link (1 point), so the tiers agree within 2 points on the same links;
//   - clip switches: each tier sees the same boundaries, seamless at both (|gap| < one frame);
//   - freezes: counted by the same W3C rule, light on its emulated playout, browser on presented
//     frames — within 1 per student pair;
//   - latency: the browser's (presentation − capture) minus its own receive → presentation time
//     (jitter buffer, decode, render, from requestVideoFrameCallback) is the network part, which
//     the light students measure directly — within 15 ms after that accounting.
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

  it("clip switches: both tiers see the same boundaries, seamless", () => {
    for (const n of ["light-1", "light-2"]) {
      const gaps = student(r, n).summary.switchGaps;
      expect(gaps.map((g) => `${g.fromClip}->${g.toClip}`), n).toEqual(["1->2", "2->3"]);
    }
    for (const n of ["browser-1", "browser-2"]) {
      const gaps = pixel(n).switchGaps;
      console.log(`${n}: switch gaps ${gaps.map((g) => g.gapMs.toFixed(1)).join(", ")} ms`);
      expect(gaps.map((g) => `${g.fromClip}->${g.toClip}`), n).toEqual(["1->2", "2->3"]);
      for (const g of gaps) expect(Math.abs(g.gapMs)).toBeLessThan(FRAME_MS * 3);
    }
  });

  it("freeze counts agree within 1 (same W3C rule, emulated vs presented)", () => {
    const light = ["light-1", "light-2"].map((n) => student(r, n).summary.freezes.count);
    const browser = ["browser-1", "browser-2"].map((n) => pixel(n).freezes.count);
    const chromium = ["browser-1", "browser-2"].map((n) => pixel(n).statsFreezes?.count);
    console.log(`freezes: light ${light.join(", ")}; browser (presented frames) ${browser.join(", ")}; Chromium's own freezeCount ${chromium.join(", ")}`);
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    expect(Math.abs(mean(light) - mean(browser))).toBeLessThanOrEqual(1);
  });

  it("latency: the browser's network part (presentation − capture − receive→presentation) matches the wire within 15 ms", () => {
    const light = ["light-1", "light-2"].map((n) => student(r, n).summary.latencyMs.p50);
    for (const n of ["browser-1", "browser-2"]) {
      const p = pixel(n);
      const network = p.latencyMs.p50 - p.receiveToPresentMs.p50;
      console.log(
        `${n}: latency p50 ${p.latencyMs.p50.toFixed(1)} = network ${network.toFixed(1)} + receive→present ${p.receiveToPresentMs.p50.toFixed(1)} (jitter buffer ${p.video?.jitterBufferMs?.toFixed(1)}); light p50 ${light.map((v) => v.toFixed(1)).join(", ")}`,
      );
      expect(network).toBeGreaterThan(80); // the profile's one-way delay is in both
      for (const l of light) expect(Math.abs(network - l)).toBeLessThanOrEqual(15);
    }
  });
});
