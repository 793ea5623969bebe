// Per-packet loss decisions exactly as Linux netem (net/sched/sch_netem.c) makes them, driven by a
// seeded `Random` so a run replays. Pure and synchronous; no allocation per packet.
//
// - Correlated random (get_crandom): u = (1−ρ)·U + ρ·u_prev, event when u < p. This is netem's
//   well-known crude correlation: it keeps the mean of u at ½ but narrows its spread, so with
//   ρ > 0 the long-run event rate drifts from p (towards 0 for p < ½). Faithful on purpose.
// - Gilbert-Elliott (loss_gilb_ell): in the current state, first draw the transition (G→B with p,
//   B→G with r), then decide the loss with the probability of the state the packet started in
//   (1−k in Good, 1−h in Bad). Two draws per packet.
// - 4-state (loss_4state, Salsano et al.): one draw per packet; the packet's fate is that of the
//   state the chain moves into (3 = lost in burst, 4 = isolated loss).
// A parameter change (netem_change) re-initialises the model state (Good / state 1), as tc does.
import type { Random } from "../random.js";
import type { LossModel } from "./params.js";

/** netem's correlated uniform source (struct crndstate + get_crandom). */
export class CorrelatedUniform {
  private rho = 0;
  private last = 0;

  constructor(private readonly random: Random) {}

  /** init_crandom: set ρ (fraction 0–1) and seed `last` with a fresh draw. */
  reset(correlation: number): void {
    this.rho = correlation;
    this.last = this.random();
  }

  next(): number {
    const u = this.random();
    if (this.rho === 0) return u;
    const v = (1 - this.rho) * u + this.rho * this.last;
    this.last = v;
    return v;
  }

  /** netem's `p && p >= get_crandom()` on a u32 scale, here `u < p` on [0,1). */
  event(probability: number): boolean {
    if (probability <= 0) return false;
    return this.next() < probability;
  }
}

const GOOD = 0;
const BAD = 1;

const TX_IN_GAP = 1;
const TX_IN_BURST = 2;
const LOST_IN_BURST = 3;
const LOST_IN_GAP = 4;

export class LossProcess {
  private model: LossModel = { kind: "none" };
  private readonly crandom: CorrelatedUniform;
  /** Gilbert-Elliott state (GOOD/BAD) or 4-state state (1–4). */
  private state = GOOD;

  constructor(private readonly random: Random) {
    this.crandom = new CorrelatedUniform(random);
  }

  setModel(model: LossModel): void {
    this.model = model;
    this.crandom.reset(model.kind === "random" ? model.correlation : 0);
    this.state = model.kind === "state" ? TX_IN_GAP : GOOD;
  }

  /** Current chain state (for tests and debugging): 0/1 Good/Bad for gemodel, 1–4 for state. */
  get chainState(): number {
    return this.state;
  }

  /** Decide one packet: true = lost. */
  lose(): boolean {
    const m = this.model;
    switch (m.kind) {
      case "none":
        return false;
      case "random":
        return this.crandom.event(m.probability);
      case "gemodel":
        return this.gilbertElliott(m.p, m.r, m.oneMinusH, m.oneMinusK);
      case "state":
        return this.fourState(m.p13, m.p31, m.p32, m.p23, m.p14);
    }
  }

  private gilbertElliott(p: number, r: number, oneMinusH: number, oneMinusK: number): boolean {
    const rnd = this.random;
    if (this.state === GOOD) {
      if (rnd() < p) this.state = BAD;
      return rnd() < oneMinusK;
    }
    if (rnd() < r) this.state = GOOD;
    // kernel: loss when rnd > h, i.e. with probability 1−h
    return rnd() < oneMinusH;
  }

  private fourState(p13: number, p31: number, p32: number, p23: number, p14: number): boolean {
    const x = this.random();
    switch (this.state) {
      case TX_IN_GAP:
        if (x < p14) {
          this.state = LOST_IN_GAP;
          return true;
        }
        if (x < p14 + p13) {
          this.state = LOST_IN_BURST;
          return true;
        }
        return false;
      case TX_IN_BURST:
        if (x < p23) {
          this.state = LOST_IN_BURST;
          return true;
        }
        return false;
      case LOST_IN_BURST:
        if (x < p32) {
          this.state = TX_IN_BURST;
          return false;
        }
        if (x < p32 + p31) {
          this.state = TX_IN_GAP;
          return false;
        }
        return true;
      default: // LOST_IN_GAP: always back to the gap, packet transmitted
        this.state = TX_IN_GAP;
        return false;
    }
  }
}
