// Statistical tests of the per-packet netem model against tc-netem's formulas (≥ 100 000 packets).
import { describe, expect, it } from "vitest";
import { seededRandom } from "../../src/random.js";
import { LinkEngine } from "../../src/netem/engine.js";
import { tableMoments } from "../../src/netem/delay-models.js";
import { cleanParams, fourStateStationary, gilbertElliottMeanBurst, meanLossProbability, type LinkParams, type LossModel } from "../../src/netem/params.js";

const N = 200_000;

function params(over: Partial<LinkParams>): LinkParams {
  return { ...cleanParams(), ...over };
}

/** Submit N packets spaced `gapMs` apart; returns per-packet outcome. */
function run(p: LinkParams, n = N, gapMs = 1000, seed = 7, size = 1000) {
  const e = new LinkEngine(seededRandom(seed), p);
  const lost = new Uint8Array(n);
  const delay = new Float64Array(n);
  const first = new Float64Array(n);
  let dup = 0;
  let copies = 0;
  let reordered = 0;
  let queueDrops = 0;
  let corrupted = 0;
  for (let i = 0; i < n; i++) {
    const now = i * gapMs;
    const d = e.submit(size, now);
    queueDrops += d.queueDrops;
    if (d.duplicated) dup++;
    copies += d.count;
    if (d.count === 0) {
      lost[i] = 1;
      delay[i] = NaN;
      continue;
    }
    first[i] = d.deliveries[0].atMs;
    delay[i] = d.deliveries[0].atMs - now;
    for (let k = 0; k < d.count; k++) {
      if (d.deliveries[k]!.reordered) reordered++;
      const c = d.deliveries[k]!;
      if (c.corruptByte >= 0) {
        corrupted++;
        expect(c.corruptByte).toBeLessThan(size);
        expect(c.corruptBit).toBeGreaterThanOrEqual(0);
        expect(c.corruptBit).toBeLessThan(8);
      }
    }
  }
  return { lost, delay, first, dup, copies, reordered, queueDrops, corrupted };
}

function lossRate(lost: Uint8Array): number {
  let s = 0;
  for (const x of lost) s += x;
  return s / lost.length;
}

/** Mean length of maximal runs of consecutive losses. */
function meanBurst(lost: Uint8Array): number {
  let bursts = 0;
  let losses = 0;
  for (let i = 0; i < lost.length; i++) {
    if (lost[i]) {
      losses++;
      if (i === 0 || !lost[i - 1]) bursts++;
    }
  }
  return losses / bursts;
}

function meanStd(xs: Float64Array): { mean: number; std: number; min: number; max: number } {
  let s = 0;
  let s2 = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const x of xs) {
    s += x;
    s2 += x * x;
    if (x < min) min = x;
    if (x > max) max = x;
  }
  const mean = s / xs.length;
  return { mean, std: Math.sqrt(s2 / xs.length - mean * mean), min, max };
}

describe("loss models", () => {
  it.each([0.1, 0.5, 0.7])("random loss %s is within ±0.5 points over 200k packets", (p) => {
    const r = run(params({ loss: { kind: "random", probability: p, correlation: 0 } }));
    expect(Math.abs(lossRate(r.lost) - p)).toBeLessThan(0.005);
  });

  it("loss 100 % drops everything, loss 0 nothing", () => {
    expect(lossRate(run(params({ loss: { kind: "random", probability: 1, correlation: 0 } }), 10_000).lost)).toBe(1);
    expect(lossRate(run(params({ loss: { kind: "none" } }), 10_000).lost)).toBe(0);
  });

  it("correlated random loss clusters: P(loss | previous lost) > P(loss)", () => {
    const r = run(params({ loss: { kind: "random", probability: 0.3, correlation: 0.75 } }));
    let both = 0;
    let prev = 0;
    for (let i = 1; i < N; i++) {
      if (r.lost[i - 1]) {
        prev++;
        if (r.lost[i]) both++;
      }
    }
    expect(both / prev).toBeGreaterThan(lossRate(r.lost) + 0.2);
  });

  // Gilbert-Elliott (tc `gemodel p r 1-h 1-k`), formulas tested (params.ts):
  //   mean loss  = (r·(1−k) + p·(1−h)) / (p + r)
  //   mean burst = P(loss) / P(L_{n−1}=0, L_n=1); with 1-h = 1, 1-k = 0 this is exactly 1/r.
  it("Gilbert-Elliott, simple (1-h = 100 %, 1-k = 0): mean loss p/(p+r) and mean burst 1/r within 5 %", () => {
    const m: LossModel = { kind: "gemodel", p: 0.4667, r: 0.2, oneMinusH: 1, oneMinusK: 0 };
    const r = run(params({ loss: m }));
    const expectedLoss = 0.4667 / (0.4667 + 0.2);
    const expectedBurst = 1 / 0.2;
    expect(meanLossProbability(m)).toBeCloseTo(expectedLoss, 12);
    expect(gilbertElliottMeanBurst(m)).toBeCloseTo(expectedBurst, 9);
    expect(Math.abs(lossRate(r.lost) / expectedLoss - 1)).toBeLessThan(0.05);
    expect(Math.abs(meanBurst(r.lost) / expectedBurst - 1)).toBeLessThan(0.05);
  });

  it.each([
    { p: 0.05, r: 0.3, oneMinusH: 0.8, oneMinusK: 0.02 },
    { p: 0.107, r: 0.25, oneMinusH: 1, oneMinusK: 0.01 },
    { p: 0.2, r: 0.1, oneMinusH: 0.6, oneMinusK: 0 },
  ])("Gilbert-Elliott, general %o: mean loss and mean burst within 5 % of the formulas", (g) => {
    const m: LossModel = { kind: "gemodel", ...g };
    const r = run(params({ loss: m }));
    const expectedLoss = (g.r * g.oneMinusK + g.p * g.oneMinusH) / (g.p + g.r);
    expect(Math.abs(lossRate(r.lost) / expectedLoss - 1)).toBeLessThan(0.05);
    expect(Math.abs(meanBurst(r.lost) / gilbertElliottMeanBurst(m) - 1)).toBeLessThan(0.05);
  });

  it("4-state model: loss = π₃ + π₄ of the chain's stationary distribution (within 5 %)", () => {
    const s = { p13: 0.03, p31: 0.3, p32: 0.2, p23: 0.4, p14: 0.02 };
    const pi = fourStateStationary(s);
    expect(pi.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    // balance: π₄ = p14·π₁ and π₃·(p31+p32) = p13·π₁ + p23·π₂
    expect(pi[3]).toBeCloseTo(s.p14 * pi[0], 12);
    expect(pi[2] * (s.p31 + s.p32)).toBeCloseTo(s.p13 * pi[0] + s.p23 * pi[1], 12);
    const r = run(params({ loss: { kind: "state", ...s } }));
    expect(Math.abs(lossRate(r.lost) / (pi[2] + pi[3]) - 1)).toBeLessThan(0.05);
    // With only p13 given (tc defaults p31 = 1−p13, p23 = 1, p32 = p14 = 0) it is Bernoulli p13.
    const b = run(params({ loss: { kind: "state", p13: 0.2, p31: 0.8, p32: 0, p23: 1, p14: 0 } }));
    expect(Math.abs(lossRate(b.lost) - 0.2)).toBeLessThan(0.005);
  });
});

describe("delay models", () => {
  it("uniform (default): mean μ and sd σ/√3 within 2 %, never outside [μ−σ, μ+σ)", () => {
    const r = run(params({ delayMs: 100, jitterMs: 20 }));
    const s = meanStd(r.delay);
    expect(Math.abs(s.mean / 100 - 1)).toBeLessThan(0.02);
    expect(Math.abs(s.std / (20 / Math.sqrt(3)) - 1)).toBeLessThan(0.02);
    expect(s.min).toBeGreaterThanOrEqual(80);
    expect(s.max).toBeLessThan(120);
  });

  it("no jitter: every packet exactly μ", () => {
    const s = meanStd(run(params({ delayMs: 50 }), 1000).delay);
    expect(s.min).toBe(50);
    expect(s.max).toBe(50);
  });

  it("normal: mean μ and sd σ within 2 % (netem's table, clamped at ±4σ)", () => {
    const s = meanStd(run(params({ delayMs: 200, jitterMs: 30, distribution: "normal" })).delay);
    expect(Math.abs(s.mean / 200 - 1)).toBeLessThan(0.02);
    expect(Math.abs(s.std / 30 - 1)).toBeLessThan(0.02);
    expect(s.min).toBeGreaterThanOrEqual(200 - 4.0001 * 30);
    expect(s.max).toBeLessThanOrEqual(200 + 4.0001 * 30);
    const t = tableMoments("normal");
    expect(Math.abs(t.mean)).toBeLessThan(0.01);
    expect(Math.abs(t.std - 1)).toBeLessThan(0.01);
  });

  it.each(["pareto", "paretonormal"] as const)("%s: mean and sd within 2 % of netem's table moments", (dist) => {
    const t = tableMoments(dist);
    const s = meanStd(run(params({ delayMs: 200, jitterMs: 30, distribution: dist })).delay);
    expect(Math.abs(s.mean / (200 + 30 * t.mean) - 1)).toBeLessThan(0.02);
    expect(Math.abs(s.std / (30 * t.std) - 1)).toBeLessThan(0.02);
    // Pareto is skewed: a long tail above, bounded below (table minimum −2/3 σ for pareto).
    expect(s.max - 200).toBeGreaterThan(200 - s.min);
  });

  it("jitter larger than the spacing reorders as the model predicts: P(D₁ − D₂ > gap) for uniform D", () => {
    // D ~ U[80,120), packets 1 ms apart: packet i+1 arrives before i iff D_i − D_{i+1} > 1,
    // and for the difference of two U(−σ,σ): P = (2σ − 1)² / (2·(2σ)²).
    const r = run(params({ delayMs: 100, jitterMs: 20 }), N, 1);
    let inverted = 0;
    for (let i = 1; i < N; i++) if (r.first[i]! < r.first[i - 1]!) inverted++;
    const expected = (40 - 1) ** 2 / (2 * 40 ** 2);
    expect(Math.abs(inverted / (N - 1) - expected)).toBeLessThan(0.01);
  });
});

describe("reorder, duplicate, corrupt", () => {
  it.each([
    { p: 0.25, gap: 1 },
    { p: 0.25, gap: 5 },
    { p: 0.5, gap: 3 },
  ])("reorder %o: the immediate share is p/(1 + p·(gap−1)) within 5 %, sent at once", ({ p, gap }) => {
    const r = run(params({ delayMs: 100, reorder: { probability: p, correlation: 0, gap } }), N, 1);
    const expected = p / (1 + p * (gap - 1));
    expect(Math.abs(r.reordered / N / expected - 1)).toBeLessThan(0.05);
    let immediate = 0;
    for (const d of r.delay) if (d === 0) immediate++;
    expect(immediate).toBe(r.reordered);
  });

  it("duplicate: a share p of packets is delivered twice; duplicate + loss behaves as netem (the loss consumes the copy)", () => {
    const r = run(params({ duplicate: { probability: 0.1, correlation: 0 } }));
    expect(Math.abs(r.dup / N - 0.1)).toBeLessThan(0.005);
    expect(r.copies).toBe(N + r.dup);
    // loss 100 % (netem: count = 1 + dup − loss): a packet picked for duplication still goes once,
    // no clone is made; every other packet is lost.
    const q = run(params({ duplicate: { probability: 0.5, correlation: 0 }, loss: { kind: "random", probability: 1, correlation: 0 } }));
    expect(q.dup).toBe(0);
    expect(Math.abs(q.copies / N - 0.5)).toBeLessThan(0.005);
    expect(lossRate(q.lost) + q.copies / N).toBeCloseTo(1, 12);
    // loss 50 % + duplicate 100 %: one copy always survives the first loss; the clone then faces
    // its own loss draw → 2 copies with probability ½·½ + … : P(2 copies) = P(no loss)·P(clone kept) = 0.25
    const h = run(params({ duplicate: { probability: 1, correlation: 0 }, loss: { kind: "random", probability: 0.5, correlation: 0 } }));
    expect(lossRate(h.lost)).toBe(0);
    expect(Math.abs(h.dup / N - 0.5)).toBeLessThan(0.005);
    expect(Math.abs((h.copies - N) / N - 0.25)).toBeLessThan(0.005);
  });

  it("corrupt: a share p of copies has exactly one bit of one byte marked", () => {
    const r = run(params({ corrupt: { probability: 0.05, correlation: 0 } }), 100_000);
    expect(Math.abs(r.corrupted / 100_000 - 0.05)).toBeLessThan(0.003);
  });
});

describe("rate and queue limit", () => {
  it("send = max(now + delay, last send) + size·8/rate (+ overhead), exactly", () => {
    const e = new LinkEngine(seededRandom(1), params({ delayMs: 50, rate: { bitsPerSecond: 1_000_000, packetOverheadBytes: 0, cellSizeBytes: 0, cellOverheadBytes: 0 } }));
    expect(e.submit(1000, 0).deliveries[0].atMs).toBeCloseTo(58, 9); // 0 + 50 + 8
    expect(e.submit(1000, 1).deliveries[0].atMs).toBeCloseTo(66, 9); // max(51, 58) + 8
    expect(e.submit(500, 100).deliveries[0].atMs).toBeCloseTo(154, 9); // queue empty: 100 + 50 + 4
    e.setParams(params({ rate: { bitsPerSecond: 1_000_000, packetOverheadBytes: 24, cellSizeBytes: 48, cellOverheadBytes: 5 } }));
    // (1000 + 24) bytes → 22 cells of 48 → 22·53 = 1166 bytes → 9.328 ms
    expect(e.submit(1000, 1000).deliveries[0].atMs).toBeCloseTo(1009.328, 9);
  });

  it("throughput within 2 % of the rate when offered twice the rate; tail drop beyond the limit", () => {
    const rate = 1_000_000;
    const limit = 100;
    const e = new LinkEngine(seededRandom(3), params({ rate: { bitsPerSecond: rate, packetOverheadBytes: 0, cellSizeBytes: 0, cellOverheadBytes: 0 }, limitPackets: limit }));
    let delivered = 0;
    let drops = 0;
    let firstAt = Infinity;
    let lastAt = 0;
    let maxQueue = 0;
    let maxLength = 0;
    for (let i = 0; i < N; i++) {
      const now = i * 4; // 1000 B every 4 ms = 2 Mbit/s offered
      const d = e.submit(1000, now);
      drops += d.queueDrops;
      if (d.count) {
        delivered++;
        firstAt = Math.min(firstAt, d.deliveries[0].atMs);
        lastAt = d.deliveries[0].atMs;
        maxQueue = Math.max(maxQueue, Math.round((d.deliveries[0].atMs - now) / 8));
      }
      maxLength = Math.max(maxLength, e.queueLength(now));
    }
    expect(maxLength).toBe(limit);
    const throughput = ((delivered - 1) * 1000 * 8) / ((lastAt - firstAt) / 1000);
    expect(Math.abs(throughput / rate - 1)).toBeLessThan(0.02);
    expect(drops).toBeGreaterThan(0.45 * N);
    expect(drops + delivered).toBe(N);
    expect(maxQueue).toBeLessThanOrEqual(limit + 1);
  });

  it("queue limit without rate: with 1 s delay and limit 10, the 11th waiting packet is tail-dropped", () => {
    const e = new LinkEngine(seededRandom(1), params({ delayMs: 1000, limitPackets: 10 }));
    for (let i = 0; i < 10; i++) expect(e.submit(100, i).count).toBe(1);
    const d = e.submit(100, 10);
    expect(d.count).toBe(0);
    expect(d.queueDrops).toBe(1);
    expect(e.submit(100, 1000.5).count).toBe(1); // the first one left at 1000
  });

  it("slot: packets leave in bursts of at most `packets`, slots at least `min` apart", () => {
    const e = new LinkEngine(seededRandom(5), params({ slot: { kind: "range", minMs: 10, maxMs: 20, packets: 3, bytes: 2 ** 31 - 1 } }));
    const perRelease = new Map<number, number>();
    for (let i = 0; i < 20_000; i++) {
      // 1 packet / 8 ms offered; slots carry up to 3 packets every 10–20 ms: no backlog, no drops.
      const d = e.submit(200, i * 8);
      expect(d.count).toBe(1);
      const at = d.deliveries[0].atMs;
      expect(at).toBeGreaterThanOrEqual(i * 8);
      perRelease.set(at, (perRelease.get(at) ?? 0) + 1);
    }
    const times = [...perRelease.keys()].sort((a, b) => a - b);
    for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(10 - 1e-9);
    expect(Math.max(...perRelease.values())).toBe(3);
  });
});

describe("reproducibility and live changes", () => {
  it("the same seed gives the same drop sequence; another seed a different one", () => {
    const p = params({ loss: { kind: "gemodel", p: 0.1, r: 0.3, oneMinusH: 0.9, oneMinusK: 0.01 }, delayMs: 30, jitterMs: 10, duplicate: { probability: 0.01, correlation: 0 } });
    const a = run(p, 50_000, 1, 42);
    const b = run(p, 50_000, 1, 42);
    const c = run(p, 50_000, 1, 43);
    expect(Buffer.from(a.lost).equals(Buffer.from(b.lost))).toBe(true);
    expect(Array.from(a.delay)).toEqual(Array.from(b.delay));
    expect(Buffer.from(a.lost).equals(Buffer.from(c.lost))).toBe(false);
  });

  it("setParams changes the behaviour immediately and keeps already-queued packets' times", () => {
    const e = new LinkEngine(seededRandom(9), params({ delayMs: 100 }));
    expect(e.submit(100, 0).deliveries[0].atMs).toBe(100);
    e.setParams(params({ loss: { kind: "random", probability: 1, correlation: 0 } }));
    expect(e.submit(100, 1).count).toBe(0);
    expect(e.queueLength(50)).toBe(1);
    expect(e.queueLength(100)).toBe(0);
    e.setParams(cleanParams());
    expect(e.submit(100, 200).deliveries[0].atMs).toBe(200);
  });
});
