// Normalised impairment parameters for ONE direction of a link, as tc-netem(8) means them.
// This is what the profile loader produces and what every backend consumes (the userspace relay's
// engine, and the tc backend that prints `tc qdisc … netem …`). Units are fixed and carried in the
// names: milliseconds (`…Ms`), probabilities as fractions 0–1, rates in bits per second, sizes in
// bytes/packets. No defaults hide in backends: `cleanParams()` is the one place they live.
//
// Field ↔ tc mapping (tc-netem(8), iproute2 q_netem.c):
//   delayMs jitterMs delayCorrelation distribution  →  delay TIME JITTER CORRELATION distribution D
//   loss {random}                                  →  loss random P [CORRELATION]
//   loss {gemodel}                                 →  loss gemodel p r 1-h 1-k
//   loss {state}                                   →  loss state p13 p31 p32 p23 p14
//   duplicate / reorder(+gap) / corrupt            →  duplicate P C / reorder P C gap G / corrupt P C
//   rate                                           →  rate RATE PACKETOVERHEAD CELLSIZE CELLOVERHEAD
//   limitPackets                                   →  limit PACKETS (netem default 1000)
//   slot                                           →  slot MIN MAX packets N bytes B | slot distribution D DELAY JITTER …

export type Direction = "down" | "up";
export const DIRECTIONS: readonly Direction[] = ["down", "up"];

/** Delay distributions. `uniform` is netem's built-in default (no table). */
export type DelayDistribution = "uniform" | "normal" | "pareto" | "paretonormal";
export const DELAY_DISTRIBUTIONS: readonly DelayDistribution[] = ["uniform", "normal", "pareto", "paretonormal"];

/** A probability with netem's (crude) correlation: next = (1−ρ)·U + ρ·previous. Fractions 0–1. */
export interface CorrelatedProbability {
  probability: number;
  correlation: number;
}

export type LossModel =
  | { kind: "none" }
  /** Independent (or correlated) loss with probability `probability`. */
  | { kind: "random"; probability: number; correlation: number }
  /**
   * Gilbert-Elliott, tc `gemodel p r 1-h 1-k`: Good→Bad with p, Bad→Good with r; a packet is lost
   * with `oneMinusH` in Bad and with `oneMinusK` in Good. tc defaults: r = 1−p, 1-h = 1, 1-k = 0.
   */
  | { kind: "gemodel"; p: number; r: number; oneMinusH: number; oneMinusK: number }
  /**
   * 4-state Markov model (Salsano et al., "Definition of a general and intuitive loss model for
   * packet networks", netem's CLG_4_STATES), tc `state p13 p31 p32 p23 p14`. States: 1 = received in
   * gap, 2 = received in burst, 3 = lost in burst, 4 = isolated loss. tc defaults: p31 = 1−p13,
   * p32 = 0, p23 = 1, p14 = 0.
   */
  | { kind: "state"; p13: number; p31: number; p32: number; p23: number; p14: number };

export interface RateParams {
  /** Serialisation rate, bits per second. */
  bitsPerSecond: number;
  /** Added to each packet's size before computing its serialisation time (may be negative, as in tc). */
  packetOverheadBytes: number;
  /** If > 0: size is rounded up to whole cells of this many bytes (ATM-like links). */
  cellSizeBytes: number;
  /** Added per cell when cellSizeBytes > 0. */
  cellOverheadBytes: number;
}

/** netem `slot`: packets leave only in slots (bursts), as Wi-Fi/LTE aggregation does. */
export type SlotParams =
  | { kind: "range"; minMs: number; maxMs: number; packets: number; bytes: number }
  | { kind: "distribution"; distribution: DelayDistribution; delayMs: number; jitterMs: number; packets: number; bytes: number };

export interface LinkParams {
  delayMs: number;
  jitterMs: number;
  /** Fraction 0–1. */
  delayCorrelation: number;
  distribution: DelayDistribution;
  loss: LossModel;
  duplicate: CorrelatedProbability;
  /** gap ≥ 1 when probability > 0 (tc sets gap 1 if none is given). */
  reorder: CorrelatedProbability & { gap: number };
  corrupt: CorrelatedProbability;
  rate: RateParams | null;
  /** netem queue limit in packets (tail drop beyond it). */
  limitPackets: number;
  slot: SlotParams | null;
}

/** netem's default queue limit. */
export const DEFAULT_LIMIT_PACKETS = 1000;

/** "Unlimited" packets/bytes per slot (netem uses INT_MAX). */
export const SLOT_UNLIMITED = 2 ** 31 - 1;

/** A link that does nothing: the state before a profile's first step. Always a fresh object. */
export function cleanParams(): LinkParams {
  return {
    delayMs: 0,
    jitterMs: 0,
    delayCorrelation: 0,
    distribution: "uniform",
    loss: { kind: "none" },
    duplicate: { probability: 0, correlation: 0 },
    reorder: { probability: 0, correlation: 0, gap: 0 },
    corrupt: { probability: 0, correlation: 0 },
    rate: null,
    limitPackets: DEFAULT_LIMIT_PACKETS,
    slot: null,
  };
}

/** True when the parameters cannot change a packet (the relay can forward without scheduling). */
export function isClean(p: LinkParams): boolean {
  return (
    p.delayMs === 0 &&
    p.jitterMs === 0 &&
    p.loss.kind === "none" &&
    p.duplicate.probability === 0 &&
    p.reorder.probability === 0 &&
    p.corrupt.probability === 0 &&
    p.rate === null &&
    p.slot === null
  );
}

/**
 * Long-run loss probability of a loss model (what the statistical tests check the engine
 * against). Random: p (exact only without correlation — netem's correlation shifts the marginal).
 * Gilbert-Elliott: π_B = p/(p+r), π_G = r/(p+r); loss = π_G·(1−k) + π_B·(1−h).
 * 4-state: stationary distribution of the chain; loss = π₃ + π₄.
 */
export function meanLossProbability(m: LossModel): number {
  switch (m.kind) {
    case "none":
      return 0;
    case "random":
      return m.probability;
    case "gemodel": {
      if (m.p + m.r === 0) return m.oneMinusK; // stays in Good forever
      return (m.r * m.oneMinusK + m.p * m.oneMinusH) / (m.p + m.r);
    }
    case "state": {
      const pi = fourStateStationary(m);
      return pi[2] + pi[3];
    }
  }
}

/**
 * Stationary distribution [π₁, π₂, π₃, π₄] of the 4-state chain (1→3 p13, 1→4 p14, 2→3 p23,
 * 3→1 p31, 3→2 p32, 4→1 always). Balance equations:
 *   π₄ = p14·π₁;  π₂·p23 = p32·π₃;  π₃·(p31+p32) = p13·π₁ + p23·π₂  ⇒  π₃ = p13·π₁ / p31.
 * (Requires p31 > 0 when p13 > 0, else the chain is absorbed in state 3: loss → 100 %.)
 */
export function fourStateStationary(m: { p13: number; p31: number; p32: number; p23: number; p14: number }): [number, number, number, number] {
  if (m.p13 > 0 && m.p31 === 0) return [0, 0, 1, 0];
  const w1 = 1;
  const w4 = m.p14;
  const w3 = m.p13 > 0 ? m.p13 / m.p31 : 0;
  const w2 = m.p23 > 0 ? (m.p32 * w3) / m.p23 : m.p32 * w3 > 0 ? Infinity : 0;
  if (!Number.isFinite(w2)) return [0, 1, 0, 0]; // absorbed in state 2 (received in burst)
  const sum = w1 + w2 + w3 + w4;
  return [w1 / sum, w2 / sum, w3 / sum, w4 / sum];
}

/**
 * Mean length of a loss burst (maximal run of consecutive losses) for the Gilbert-Elliott model,
 * general case. Loss of packet n depends only on the state S_n (drawn independently of the
 * transition), so with ℓ_G = 1−k, ℓ_B = 1−h and transition matrix P:
 *   P(loss) = π_G ℓ_G + π_B ℓ_B
 *   P(burst starts at n) = P(L_{n−1}=0, L_n=1) = Σ_{s,s'} π_s (1−ℓ_s) P(s→s') ℓ_{s'}
 *   mean burst = P(loss) / P(burst starts).
 * With 1-h = 1 and 1-k = 0 this reduces to 1/r (the Bad state's geometric sojourn).
 */
export function gilbertElliottMeanBurst(m: { p: number; r: number; oneMinusH: number; oneMinusK: number }): number {
  const piB = m.p + m.r === 0 ? 0 : m.p / (m.p + m.r);
  const piG = 1 - piB;
  const lG = m.oneMinusK;
  const lB = m.oneMinusH;
  const loss = piG * lG + piB * lB;
  const start = piG * (1 - lG) * ((1 - m.p) * lG + m.p * lB) + piB * (1 - lB) * (m.r * lG + (1 - m.r) * lB);
  return start === 0 ? Infinity : loss / start;
}
