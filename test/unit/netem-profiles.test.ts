import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { isClean, meanLossProbability, gilbertElliottMeanBurst } from "../../src/netem/params.js";
import { listLibraryProfiles, loadProfile, parseProfile, profileFromObject, ProfileError } from "../../src/netem/profile-loader.js";
import { parsePercent, parseRate } from "../../src/netem/profile-schema.js";

const LIBRARY = [
  "clean", "wifi-good", "4g", "3g", "congested-1mbps", "jitter-heavy",
  "loss-10", "loss-30", "loss-50", "loss-70", "burst-30", "burst-50", "burst-70", "handover", "loss-ladder",
];

function errorOf(fn: () => unknown): ProfileError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ProfileError) return e;
    throw e;
  }
  throw new Error("expected a ProfileError");
}

describe("netem profile library", () => {
  it("has every profile the issue lists, and each loads with its own name", () => {
    const names = listLibraryProfiles();
    for (const n of LIBRARY) expect(names).toContain(n);
    for (const n of names) {
      const p = loadProfile(n);
      expect(p.name).toBe(n);
      expect(p.steps.length).toBeGreaterThan(0);
      expect(p.steps[0]!.atMs).toBe(0);
    }
  });

  it("loss-N profiles lose N % both ways; burst-N are Gilbert-Elliott with N % mean loss and 4–5 packet bursts", () => {
    for (const n of [10, 30, 50, 70]) {
      const s = loadProfile(`loss-${n}`).steps.at(-1)!;
      expect(s.down!.loss).toEqual({ kind: "random", probability: n / 100, correlation: 0 });
      expect(s.up!.loss).toEqual(s.down!.loss);
    }
    for (const n of [30, 50, 70]) {
      const b = loadProfile(`burst-${n}`).steps.at(-1)!.down!.loss;
      if (b.kind !== "gemodel") throw new Error(`burst-${n} is not gemodel`);
      expect(meanLossProbability(b)).toBeCloseTo(n / 100, 3);
      const burst = gilbertElliottMeanBurst(b);
      expect(burst).toBeGreaterThanOrEqual(4 - 1e-9);
      expect(burst).toBeLessThanOrEqual(5 + 1e-9);
    }
  });

  it("handover is a 2 s total blackout; loss-ladder climbs 0→70 % every 10 s", () => {
    const h = loadProfile("handover").steps;
    const black = h.findIndex((s) => s.down?.loss.kind === "random" && s.down.loss.probability === 1);
    expect(black).toBeGreaterThan(0);
    expect(h[black + 1]!.atMs - h[black]!.atMs).toBe(2000);
    expect(h[black + 1]!.down!.loss.kind).toBe("none");
    const ladder = loadProfile("loss-ladder").steps;
    expect(ladder.map((s) => s.atMs)).toEqual([0, 10, 20, 30, 40, 50, 60, 70].map((x) => x * 1000));
    expect(ladder.map((s) => meanLossProbability(s.down!.loss))).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7].map((x) => expect.closeTo(x, 9)));
    expect(isClean(loadProfile("clean").steps[0]!.down!)).toBe(true);
  });
});

describe("profile parsing", () => {
  it("normalises units: ms, fractions, bits per second; a step replaces a direction's parameters", () => {
    const p = parseProfile(
      [
        "name: t",
        "steps:",
        "  - at: 0s",
        "    both: { delay: 40ms, jitter: 10ms, delayCorrelation: 25, distribution: normal, loss: { random: 5%, correlation: 10% } }",
        "  - at: 1.5s",
        "    down: { rate: { bandwidth: 1.5mbit, packetOverhead: 28 }, limit: 20, reorder: { probability: 25%, gap: 5 }, delay: 10ms }",
        "    up: { loss: { gemodel: { p: 1%, r: 30%, '1-h': 90% } }, duplicate: 2%, corrupt: { probability: 0.5, correlation: 1% } }",
        "  - at: 2s",
        "    up: { loss: { state: { p13: 2%, p31: 50%, p32: 10%, p23: 40% } }, slot: { min: 10ms, max: 20ms, packets: 4 } }",
      ].join("\n"),
      "t.yaml",
    );
    const [a, b, c] = p.steps;
    expect(a!.down).toMatchObject({ delayMs: 40, jitterMs: 10, delayCorrelation: 0.25, distribution: "normal", loss: { kind: "random", probability: 0.05, correlation: 0.1 } });
    expect(a!.up).toEqual(a!.down);
    expect(a!.up).not.toBe(a!.down);
    expect(b!.atMs).toBe(1500);
    expect(b!.down).toMatchObject({
      delayMs: 10,
      jitterMs: 0,
      loss: { kind: "none" },
      rate: { bitsPerSecond: 1_500_000, packetOverheadBytes: 28, cellSizeBytes: 0, cellOverheadBytes: 0 },
      limitPackets: 20,
      reorder: { probability: 0.25, correlation: 0, gap: 5 },
    });
    expect(b!.up).toMatchObject({ loss: { kind: "gemodel", p: 0.01, r: 0.3, oneMinusH: 0.9, oneMinusK: 0 }, duplicate: { probability: 0.02, correlation: 0 }, corrupt: { probability: 0.005, correlation: 0.01 } });
    expect(c!.down).toBeNull();
    expect(c!.up).toMatchObject({ loss: { kind: "state", p13: 0.02, p31: 0.5, p32: 0.1, p23: 0.4, p14: 0 }, slot: { kind: "range", minMs: 10, maxMs: 20, packets: 4 } });
  });

  it("applies tc defaults: gemodel r = 1−p, 1-h 100 %, 1-k 0 %; state p31 = 1−p13; reorder gap 1; limit 1000", () => {
    const p = profileFromObject({
      name: "d",
      steps: [{ at: 0, down: { loss: { gemodel: { p: 10 } } }, up: { loss: { state: { p13: 4 } }, delay: "5ms", reorder: 10 } }],
    });
    expect(p.steps[0]!.down!.loss).toEqual({ kind: "gemodel", p: 0.1, r: 0.9, oneMinusH: 1, oneMinusK: 0 });
    expect(p.steps[0]!.up!.loss).toEqual({ kind: "state", p13: 0.04, p31: 0.96, p32: 0, p23: 1, p14: 0 });
    expect(p.steps[0]!.up!.reorder.gap).toBe(1);
    expect(p.steps[0]!.up!.limitPackets).toBe(1000);
  });

  it("parses percentages and tc rates", () => {
    expect(parsePercent("46.67%")).toBeCloseTo(0.4667, 10);
    expect(parsePercent(30)).toBe(0.3);
    expect(parsePercent("30")).toHaveProperty("error");
    expect(parsePercent(100.5)).toHaveProperty("error");
    expect(parseRate("500kbit")).toBe(500_000);
    expect(parseRate("1Mbit")).toBe(1_000_000);
    expect(parseRate("1mibit")).toBe(1_048_576);
    expect(parseRate("1mbps")).toBe(8_000_000);
    expect(parseRate("1000")).toHaveProperty("error");
    expect(parseRate("fast")).toHaveProperty("error");
  });
});

describe("profile errors name file, line:column, step and field", () => {
  const dir = mkdtempSync(join(tmpdir(), "netem-profiles-"));
  const write = (name: string, text: string): string => {
    const f = join(dir, name);
    writeFileSync(f, text);
    return f;
  };

  it("loss 120 %", () => {
    const f = write("bad-loss.yaml", ["name: bad-loss", "steps:", "  - at: 0s", "    both: { delay: 10ms }", "  - at: 5s", "    both: { delay: 10ms, loss: 120% }"].join("\n"));
    const e = errorOf(() => loadProfile(f));
    expect(e.issues).toHaveLength(1);
    const i = e.issues[0]!;
    expect(i).toMatchObject({ file: f, line: 6, column: 32, stepIndex: 1, field: "steps[1].both.loss" });
    expect(e.message).toContain(`${f}:6:32: steps[1].both.loss: must be within 0–100 %`);
    expect(e.message).toContain("120%");
  });

  it("negative delay, unknown field, bad rate string and gemodel p out of range, all at once", () => {
    const f = write(
      "bad-many.yaml",
      [
        "name: bad-many",
        "steps:",
        "  - at: 0s",
        "    down: { delay: -5ms }",
        "    up: { delya: 5ms }",
        "  - at: 1s",
        "    both:",
        "      rate: 1 megabit",
        "      loss: { gemodel: { p: 150%, r: 20% } }",
      ].join("\n"),
    );
    const e = errorOf(() => loadProfile(f));
    const byField = new Map(e.issues.map((i) => [i.field, i]));
    expect(byField.get("steps[0].down.delay")).toMatchObject({ stepIndex: 0, line: 4, column: 20 });
    expect(byField.get("steps[0].down.delay")!.message).toMatch(/negative/);
    expect(byField.get("steps[0].up.delya")).toMatchObject({ stepIndex: 0, line: 5, message: 'unknown field "delya"' });
    expect(byField.get("steps[1].both.rate")).toMatchObject({ stepIndex: 1, line: 8, column: 13 });
    expect(byField.get("steps[1].both.rate")!.message).toMatch(/expected a rate like "1mbit"/);
    expect(byField.get("steps[1].both.loss.gemodel.p")).toMatchObject({ stepIndex: 1, line: 9 });
    expect(e.issues).toHaveLength(4);
  });

  it("structural mistakes: reorder without delay, both with down, steps out of order, unknown name", () => {
    const e1 = errorOf(() => parseProfile("name: x\nsteps:\n  - at: 0s\n    down: { reorder: 10% }\n", "x.yaml"));
    expect(e1.issues[0]).toMatchObject({ field: "steps[0].down.reorder", stepIndex: 0, line: 4 });
    const e2 = errorOf(() => parseProfile("name: x\nsteps:\n  - at: 0s\n    both: {}\n    up: {}\n", "x.yaml"));
    expect(e2.issues[0]!.message).toMatch(/"both" cannot be combined/);
    const e3 = errorOf(() => parseProfile("name: x\nsteps:\n  - at: 5s\n    both: {}\n  - at: 1s\n    both: {}\n", "x.yaml"));
    expect(e3.issues[0]).toMatchObject({ field: "steps[1].at", stepIndex: 1, line: 5 });
    const e4 = errorOf(() => loadProfile("no-such-profile"));
    expect(e4.message).toMatch(/no netem profile named "no-such-profile".*loss-30/);
    const e5 = errorOf(() => parseProfile("name: x\nsteps: [ { at: 0s, both: { loss: 10% } ", "x.yaml"));
    expect(e5.issues[0]!.message).toMatch(/^YAML/);
  });
});
