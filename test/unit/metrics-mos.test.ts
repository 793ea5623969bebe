import { describe, expect, it } from "vitest";
import { G107_DEFAULTS, eModel, effectiveLatencyMos, opusEModel, rToMos } from "../../src/metrics/mos-audio.js";
import { G1070_H264_VGA_9IN, g1070VideoQuality } from "../../src/metrics/mos-video.js";

describe("G.107 E-model", () => {
  it("Table 2 defaults give the textbook R = 93.2 (Ro 94.77, Is 1.41, Idle 0.15)", () => {
    const r = eModel();
    expect(r.Ro).toBeCloseTo(94.769, 3);
    expect(r.Is).toBeCloseTo(1.414, 3);
    expect(r.Idte).toBe(0); // T = 0 → (1 − e^0) = 0
    expect(r.Idle).toBeCloseTo(0.149, 3);
    expect(r.Idd).toBe(0);
    expect(r.IeEff).toBe(0);
    expect(r.R).toBeCloseTo(93.206, 3);
    expect(r.mos).toBeCloseTo(4.4094, 4);
    expect(G107_DEFAULTS.Bpl).toBe(4.3);
  });

  it.each([
    // Ta (ms) → Idd = 25·{(1+X⁶)^⅙ − 3·(1+(X/3)⁶)^⅙ + 2}, X = log2(Ta/100); R = 93.206 − Idd.
    [100, 0, 93.2062], // Ta ≤ mT: no Idd
    [150, 0.1635, 93.0427],
    [200, 3.0444, 90.1618], // X = 1: 25·(2^⅙ − 3·(730/729)^⅙ + 2)
    [300, 14.7607, 78.4455], // the worked value: R ≈ 78.4
    [400, 24.0701, 69.1361],
    [600, 35.2468, 57.9594],
  ])("Ta %d ms → Idd %f, R %f", (ta, idd, R) => {
    const r = opusEModel({ oneWayDelayMs: ta, lossPercent: 0 });
    expect(r.Idd).toBeCloseTo(idd, 3);
    expect(r.R).toBeCloseTo(R, 3);
    expect(r.Idte).toBe(0); // perfect echo cancellation
  });

  it("Ta = 300 ms: R = 78.4 ± 0.1 and MOS 3.96", () => {
    const r = opusEModel({ oneWayDelayMs: 300, lossPercent: 0 });
    expect(Math.abs(r.R - 78.4)).toBeLessThanOrEqual(0.1);
    expect(r.mos).toBeCloseTo(3.9639, 4);
  });

  it.each([
    // Ie,eff = Ie + (95 − Ie)·Ppl/(Ppl/BurstR + Bpl)
    [0, 2, 1, 25.1, 190 / 27.1], // 7.0111
    [0, 5, 2, 25.1, 475 / 27.6], // 17.2101
    [11, 1, 1, 19, 11 + 84 / 20], // G.729A-like: 15.2
    [0, 0, 1, 4.3, 0],
  ])("Ie %d, Ppl %d %%, BurstR %d, Bpl %d → Ie,eff %f", (Ie, Ppl, BurstR, Bpl, expected) => {
    expect(eModel({ Ie, Ppl, BurstR, Bpl }).IeEff).toBeCloseTo(expected, 9);
  });

  it("Opus assumptions: Bpl 25.1, Ie 0 — 150 ms and 1 % loss → R 89.40, MOS 4.32", () => {
    const r = opusEModel({ oneWayDelayMs: 150, lossPercent: 1 });
    expect(r.IeEff).toBeCloseTo(95 / 26.1, 9);
    expect(r.R).toBeCloseTo(93.2062 - 0.1635 - 95 / 26.1, 3);
    expect(r.mos).toBeCloseTo(4.3241, 3);
  });
});

describe("R → MOS (G.107 Annex B)", () => {
  it.each([
    [-5, 1],
    [0, 1],
    [50, 2.575], // 1 + 1.75 + 50·(−10)·50·7e-6
    [93.2, 4.409285824], // 1 + 3.262 + 93.2·33.2·6.8·7e-6
    [100, 4.5],
    [120, 4.5],
  ])("R %d → MOS %f", (R, mos) => {
    expect(rToMos(R)).toBeCloseTo(mos, 9);
  });
});

describe("effective-latency simplification (not G.107)", () => {
  it.each([
    // latency, jitter, loss% → effLat = lat + 2·jitter + 10; R; MOS
    [20, 5, 0, 40, 92.2, 4.389098664], // 93.2 − 40/40
    [100, 25, 0, 160, 89.2, 4.318910784], // at 160 the second branch: 93.2 − 40/10
    [150, 10, 1, 180, 84.7, 4.188562839], // 93.2 − 60/10 − 2.5
  ])("latency %d, jitter %d, loss %d%% → effLat %d, R %f", (latencyMs, jitterMs, lossPercent, eff, R, mos) => {
    const r = effectiveLatencyMos({ latencyMs, jitterMs, lossPercent });
    expect(r.effectiveLatencyMs).toBe(eff);
    expect(r.R).toBeCloseTo(R, 9);
    expect(r.mos).toBeCloseTo(mos, 9);
  });

  it("just below 160 ms uses the gentle slope", () => {
    expect(effectiveLatencyMos({ latencyMs: 149, jitterMs: 0, lossPercent: 0 }).R).toBeCloseTo(93.2 - 159 / 40, 9);
  });
});

describe("G.1070 video quality (H.264 VGA 9.2\" coefficients)", () => {
  it("worked value: 1000 kbit/s, 30 fps, 0 % loss", () => {
    // Ofr = 5.517 + 0.0129·1000 = 18.417; Iofr = 3.459 − 3.459/(1 + 5.6013^1.02) = 2.95015;
    // Dfrv = 1.15 + 0.355 = 1.505; Icoding = 2.95015·exp(−ln(30/18.417)²/(2·1.505²)) = 2.79911
    const r = g1070VideoQuality({ bitrateKbps: 1000, fps: 30, lossPercent: 0 });
    expect(r.ofr).toBeCloseTo(18.417, 9);
    expect(r.iofr).toBeCloseTo(2.95015, 4);
    expect(r.dfrv).toBeCloseTo(1.505, 9);
    expect(r.icoding).toBeCloseTo(2.79911, 4);
    expect(r.vq).toBeCloseTo(3.79911, 4);
  });

  it("worked value: 1 % loss at 1000 kbit/s, 30 fps", () => {
    // DPplv = 0.736 − 6.451·exp(−30/0.114) + 13.684·exp(−1000/513.77) = 2.68991; Vq = 1 + 2.79911·e^(−1/2.68991)
    const r = g1070VideoQuality({ bitrateKbps: 1000, fps: 30, lossPercent: 1 });
    expect(r.dpplv).toBeCloseTo(2.68991, 4);
    expect(r.vq).toBeCloseTo(2.93004, 4);
  });

  it("rises with bit rate at 30 fps over 10 kbit/s … 3 Mbit/s (the set's sensible range)", () => {
    let prev = 0;
    for (let br = 10; br <= 3000; br += 10) {
      const v = g1070VideoQuality({ bitrateKbps: br, fps: 30, lossPercent: 0 }).vq;
      expect(v).toBeGreaterThanOrEqual(prev);
      prev = v;
    }
  });

  it("falls with loss, stays within 1..5 everywhere", () => {
    for (const br of [50, 300, 1000, 2000, 8000]) {
      for (const fps of [1, 5, 15, 30, 60]) {
        let prev = Infinity;
        for (const loss of [0, 0.5, 1, 2, 5, 10, 50, 100]) {
          const v = g1070VideoQuality({ bitrateKbps: br, fps, lossPercent: loss }).vq;
          expect(v).toBeGreaterThanOrEqual(1);
          expect(v).toBeLessThanOrEqual(5);
          expect(v).toBeLessThanOrEqual(prev);
          prev = v;
        }
      }
    }
    expect(g1070VideoQuality({ bitrateKbps: 1000, fps: 30, lossPercent: 100 }).vq).toBeCloseTo(1, 6);
  });

  it("accepts another coefficient set", () => {
    const flat = [...G1070_H264_VGA_9IN] as [number, number, number, number, number, number, number, number, number, number, number, number];
    flat[2] = 2; // v3: the ceiling of Iofr
    const r = g1070VideoQuality({ bitrateKbps: 1e9, fps: 30, lossPercent: 0 }, flat);
    expect(r.iofr).toBeCloseTo(2, 6);
  });
});
