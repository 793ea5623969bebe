// Audio MOS, "E-model-derived": ITU-T G.107 (06/2015) E-model, plus the "effective latency"
// simplification many VoIP monitors use. Both give a rating R (0..100) mapped to a MOS (1..4.5).
//
// G.107 (§7):   R = Ro − Is − Id − Ie,eff + A
//   Ro  = 15 − 1.5·(SLR + No)                 basic signal-to-noise (No: sum of the noise sources, §7.2)
//   Is  = Iolr + Ist + Iq                     simultaneous impairments (§7.3)
//   Id  = Idte + Idle + Idd                   delay impairments (§7.4)
//         Idte (talker echo), Idle (listener echo), and for Ta > mT:
//         Idd = 25·{(1 + X^(6·sT))^(1/(6·sT)) − 3·(1 + (X/3)^(6·sT))^(1/(6·sT)) + 2},  X = log2(Ta/mT)
//         (Idd = 0 for Ta ≤ mT; sT = 1, mT = 100 ms are the default delay sensitivity of the 2015 edition)
//   Ie,eff = Ie + (95 − Ie)·Ppl/(Ppl/BurstR + Bpl)     (§7.5; Ppl in %)
// with every other input at its G.107 Table 2 default (SLR 8, RLR 2, STMR 15, LSTR 18, Ds = Dr = 3,
// TELR 65, WEPL 110, T = Tr = Ta = 0, qdu 1, Ie 0, Bpl 4.3, Ppl 0, BurstR 1, Nc −70, Nfor −64,
// Ps = Pr = 35, A 0), which gives the familiar R = 93.2.
// R → MOS (G.107 Annex B): R < 0 → 1; R > 100 → 4.5; else MOS = 1 + 0.035·R + R·(R − 60)·(100 − R)·7·10⁻⁶.
//
// Assumptions for a WebRTC/Opus call (`opusEModel`), written down because G.107/G.113 do not cover it:
//   - Ta = the one-way mouth-to-ear delay (capture → playout) the caller measured.
//   - Echo cancellation is perfect: echo is treated as on an echo-free default connection, i.e.
//     T = 0 for talker echo (so Idte = 0 exactly) and Tr = 0 for listener echo (Idle = 0.149, the
//     residual already inside the default 93.2). Raising T and Tr with the network delay would model
//     an uncancelled echo path, which WebRTC's AEC removes. (Setting Idle to exactly 0 instead would
//     add 0.15 to every R.) Worked value: Ta = 300 ms, no loss → Idd = 14.76, R = 78.45, MOS = 3.96.
//   - Ie = 0: Opus at the bitrates WebRTC uses for speech (≥ 24 kbit/s) is treated as transparent on
//     G.107's narrowband scale. Opus is not in ITU-T G.113; this is an assumption.
//   - Bpl = 25.1: the value G.113 Appendix I lists for G.711 with its Appendix I packet-loss
//     concealment under random loss, used as a stand-in for Opus PLC (assumption; quoted from memory
//     of G.113, not re-checked against the text in this repository). BurstR = 1 (random loss) unless
//     the caller knows the burstiness.
//
// Effective-latency simplification (not G.107; common in monitoring tools, labelled as such):
//   effLat = latency + 2·jitter + 10 ms
//   R = 93.2 − effLat/40            if effLat < 160 ms
//   R = 93.2 − (effLat − 120)/10    otherwise
//   R −= 2.5 · loss%
// then the same R → MOS mapping. Units: ms, %, dimensionless R and MOS.

export type EModelInputs = {
  SLR: number;
  RLR: number;
  STMR: number;
  LSTR: number;
  Ds: number;
  Dr: number;
  TELR: number;
  WEPL: number;
  /** Mean one-way delay of the echo path (ms). */
  T: number;
  /** Round-trip delay in a 4-wire loop (ms). */
  Tr: number;
  /** Absolute one-way delay, mouth to ear (ms). */
  Ta: number;
  qdu: number;
  Ie: number;
  Bpl: number;
  /** Random packet-loss probability (%). */
  Ppl: number;
  BurstR: number;
  Nc: number;
  Nfor: number;
  Ps: number;
  Pr: number;
  A: number;
  /** Delay sensitivity (G.107 2015): sT and mT (ms). */
  sT: number;
  mT: number;
};

/** G.107 (06/2015) Table 2 default values. */
export const G107_DEFAULTS: Readonly<EModelInputs> = Object.freeze({
  SLR: 8,
  RLR: 2,
  STMR: 15,
  LSTR: 18,
  Ds: 3,
  Dr: 3,
  TELR: 65,
  WEPL: 110,
  T: 0,
  Tr: 0,
  Ta: 0,
  qdu: 1,
  Ie: 0,
  Bpl: 4.3,
  Ppl: 0,
  BurstR: 1,
  Nc: -70,
  Nfor: -64,
  Ps: 35,
  Pr: 35,
  A: 0,
  sT: 1,
  mT: 100,
});

export type EModelResult = {
  R: number;
  mos: number;
  Ro: number;
  Is: number;
  Id: number;
  Idte: number;
  Idle: number;
  Idd: number;
  IeEff: number;
};

/** The G.107 E-model; unspecified inputs take their Table 2 defaults. */
export function eModel(inputs: Partial<EModelInputs> = {}): EModelResult {
  const p: EModelInputs = { ...G107_DEFAULTS, ...inputs };
  const log10 = Math.log10;
  // §7.2 basic signal-to-noise ratio.
  const OLR = p.SLR + p.RLR;
  const Nfo = p.Nfor + p.RLR;
  const Pre = p.Pr + 10 * log10(1 + 10 ** ((10 - p.LSTR) / 10));
  const Nor = p.RLR - 121 + Pre + 0.008 * (Pre - 35) ** 2;
  const Nos = p.Ps - p.SLR - p.Ds - 100 + 0.004 * (p.Ps - OLR - p.Ds - 14) ** 2;
  const No = 10 * log10(10 ** (p.Nc / 10) + 10 ** (Nos / 10) + 10 ** (Nor / 10) + 10 ** (Nfo / 10));
  const Ro = 15 - 1.5 * (p.SLR + No);
  // §7.3 simultaneous impairment factor.
  const Xolr = OLR + 0.2 * (64 + No - p.RLR);
  const Iolr = 20 * ((1 + (Xolr / 8) ** 8) ** (1 / 8) - Xolr / 8);
  const STMRo = -10 * log10(10 ** (-p.STMR / 10) + Math.exp(-p.T / 4) * 10 ** (-p.TELR / 10));
  const Ist =
    12 * (1 + ((STMRo - 13) / 6) ** 8) ** (1 / 8) -
    28 * (1 + ((STMRo + 1) / 19.4) ** 35) ** (1 / 35) -
    13 * (1 + ((STMRo - 3) / 33) ** 13) ** (1 / 13) +
    29;
  const Q = 37 - 15 * log10(p.qdu);
  const G = 1.07 + 0.258 * Q + 0.0602 * Q * Q;
  const Y = (Ro - 100) / 15 + 46 / 8.4 - G / 9;
  const Z = 46 / 30 - G / 40;
  const Iq = 15 * log10(1 + 10 ** Y + 10 ** Z);
  const Is = Iolr + Ist + Iq;
  // §7.4 delay impairment factor.
  const Roe = -1.5 * (No - p.RLR);
  const TERV = p.TELR - 40 * log10((1 + p.T / 10) / (1 + p.T / 150)) + 6 * Math.exp(-0.3 * p.T * p.T);
  const Re = 80 + 2.5 * (TERV - 14);
  // `+ 0` turns the −0 of a negative bracket × 0 (T = 0) into 0.
  const Idte = ((Roe - Re) / 2 + Math.sqrt((Roe - Re) ** 2 / 4 + 100) - 1) * (1 - Math.exp(-p.T)) + 0;
  const Rle = 10.5 * (p.WEPL + 7) * (p.Tr + 1) ** -0.25;
  const Idle = (Ro - Rle) / 2 + Math.sqrt((Ro - Rle) ** 2 / 4 + 169);
  let Idd = 0;
  if (p.Ta > p.mT) {
    const X = Math.log2(p.Ta / p.mT);
    const e = 6 * p.sT;
    Idd = 25 * ((1 + X ** e) ** (1 / e) - 3 * (1 + (X / 3) ** e) ** (1 / e) + 2);
  }
  const Id = Idte + Idle + Idd;
  // §7.5 effective equipment impairment factor.
  const IeEff = p.Ie + ((95 - p.Ie) * p.Ppl) / (p.Ppl / p.BurstR + p.Bpl);
  const R = Ro - Is - Id - IeEff + p.A;
  return { R, mos: rToMos(R), Ro, Is, Id, Idte, Idle, Idd, IeEff };
}

/** G.107 Annex B: R → MOS (CQE). */
export function rToMos(R: number): number {
  if (R <= 0) return 1;
  if (R >= 100) return 4.5;
  return 1 + 0.035 * R + R * (R - 60) * (100 - R) * 7e-6;
}

/** Opus assumptions (see header): Ie and Bpl used for a WebRTC Opus call. */
export const OPUS_IE = 0;
export const OPUS_BPL = 25.1;

/**
 * E-model-derived audio MOS for a WebRTC/Opus call with the assumptions in the header.
 * oneWayDelayMs: mouth-to-ear (capture → playout) delay; lossPercent: packet loss after recovery (%).
 */
export function opusEModel(input: { oneWayDelayMs: number; lossPercent: number; burstR?: number }): EModelResult {
  return eModel({
    Ta: input.oneWayDelayMs,
    T: 0,
    Tr: 0,
    Ie: OPUS_IE,
    Bpl: OPUS_BPL,
    Ppl: input.lossPercent,
    BurstR: input.burstR ?? 1,
  });
}

/** The effective-latency simplification (NOT G.107; see header). Returns R and MOS. */
export function effectiveLatencyMos(input: { latencyMs: number; jitterMs: number; lossPercent: number }): {
  effectiveLatencyMs: number;
  R: number;
  mos: number;
} {
  const eff = input.latencyMs + 2 * input.jitterMs + 10;
  let R = eff < 160 ? 93.2 - eff / 40 : 93.2 - (eff - 120) / 10;
  R -= 2.5 * input.lossPercent;
  return { effectiveLatencyMs: eff, R, mos: rToMos(R) };
}
