// Delay + jitter as netem draws it (tabledist() in net/sched/sch_netem.c), seeded and pure.
//
//   no jitter            → delay μ exactly
//   uniform (default)    → μ − σ + 2σ·u, u ∈ [0,1): uniform in [μ−σ, μ+σ)   (kernel: (rnd % 2σ) + μ − σ)
//   normal/pareto/…      → μ + σ·t/8192, t = table[⌊u·4096⌋]                  (NETEM_DIST_SCALE = 8192)
// u comes from netem's correlated source (CorrelatedUniform) with the delay correlation.
//
// Choice: the tables are not shipped as data files; they are computed once, lazily, by the same
// procedures iproute2 uses to generate normal.dist / pareto.dist / paretonormal.dist
// (netem/normal.c, pareto.c, paretonormal.c: 16384-point inverse CDF sampled every 4th point →
// 4096 int16 entries scaled by 8192). So a "normal" delay is a quantised inverse-CDF sample clamped
// to ±4σ, exactly like netem's, not Box-Muller. erf for the normal table is the Numerical Recipes
// erfc (fractional error < 1.2e-7), far below the table's 1/8192 quantisation.
//
// Note (as in netem): σ is only nominal for the pareto tables. pareto is (Pareto(α=3, xₘ=1) − 1.5)·4/3,
// clamped at +4σ: mean ≈ −0.03σ, sd ≈ 0.82σ, bounded below at −⅔σ, long tail above; paretonormal
// (¼ normal + ¾ pareto, quantile by quantile): mean ≈ −0.03σ, sd ≈ 0.83σ. normal: mean ≈ 0, sd ≈ 1.00σ
// (its first entries, −32768 −28307 −26871 …, match iproute2's normal.dist). `tableMoments()` gives
// the exact figures of the computed tables, which the tests check the engine against.
import type { Random } from "../random.js";
import type { DelayDistribution } from "./params.js";
import { CorrelatedUniform } from "./loss-models.js";

export const NETEM_DIST_SCALE = 8192;
const TABLESIZE = 16384;
const SHRT_MIN = -32768;
const SHRT_MAX = 32767;

/** C rint(): round half to even. */
function rint(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

function erfc(z: number): number {
  const a = Math.abs(z);
  const t = 1 / (1 + 0.5 * a);
  const ans =
    t *
    Math.exp(
      -a * a -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return z >= 0 ? ans : 2 - ans;
}

/** iproute2 normal(): standard normal CDF. */
function normalCdf(x: number): number {
  return 0.5 + 0.5 * (1 - erfc(x / Math.SQRT2));
}

/** The inverse-CDF grid of netem/normal.c: table[i] = largest x on the 0.00005 grid with rint(16384·Φ(x)) = i. */
function normalGrid(): Float64Array {
  const table = new Float64Array(TABLESIZE + 1);
  for (let x = -10.0; x < 10.05; x += 0.00005) {
    const i = rint(TABLESIZE * normalCdf(x));
    table[i] = x;
  }
  return table;
}

function paretoValue(i: number): number {
  const u = (65536 - 4 * i) / 65536;
  let d = 1.0 / Math.pow(u, 1.0 / 3.0);
  d -= 1.5;
  d *= (4.0 / 3.0) * NETEM_DIST_SCALE;
  if (d > SHRT_MAX) d = SHRT_MAX;
  return rint(d);
}

function clampShort(v: number): number {
  return v < SHRT_MIN ? SHRT_MIN : v > SHRT_MAX ? SHRT_MAX : v;
}

function buildTable(dist: Exclude<DelayDistribution, "uniform">): Int16Array {
  const out = new Int16Array(TABLESIZE / 4);
  const grid = dist === "pareto" ? null : normalGrid();
  for (let i = 0, n = 0; i < TABLESIZE; i += 4, n++) {
    if (dist === "pareto") {
      out[n] = paretoValue(i); // pareto.c walks i = 65536 … by −16, i.e. paretoValue(4n)
    } else {
      const normValue = rint(grid![i]! * NETEM_DIST_SCALE);
      out[n] = dist === "normal" ? clampShort(normValue) : clampShort(Math.trunc((normValue + 3 * paretoValue(i)) / 4));
    }
  }
  return out;
}

const tables = new Map<DelayDistribution, Int16Array>();

/** netem's distribution table for `dist` (null for uniform, which needs none). Computed once. */
export function distributionTable(dist: DelayDistribution): Int16Array | null {
  if (dist === "uniform") return null;
  let t = tables.get(dist);
  if (!t) {
    t = buildTable(dist);
    tables.set(dist, t);
  }
  return t;
}

/** Mean and standard deviation of a distribution in units of σ (what μ + σ·X adds on average). */
export function tableMoments(dist: DelayDistribution): { mean: number; std: number } {
  const t = distributionTable(dist);
  if (!t) return { mean: 0, std: 1 / Math.sqrt(3) };
  let s = 0;
  let s2 = 0;
  for (const v of t) {
    const x = v / NETEM_DIST_SCALE;
    s += x;
    s2 += x * x;
  }
  const mean = s / t.length;
  return { mean, std: Math.sqrt(s2 / t.length - mean * mean) };
}

/** tabledist(): one delay sample for a uniform draw u ∈ [0,1). */
export function tabledist(mu: number, sigma: number, u: number, table: Int16Array | null): number {
  if (sigma === 0) return mu;
  if (!table) return mu - sigma + 2 * sigma * u;
  const t = table[Math.floor(u * table.length)]!;
  return mu + (sigma * t) / NETEM_DIST_SCALE;
}

/** Delay source for one direction: μ, σ, correlation and distribution as set by the last change. */
export class DelaySampler {
  private mu = 0;
  private sigma = 0;
  private table: Int16Array | null = null;
  private readonly crandom: CorrelatedUniform;

  constructor(random: Random) {
    this.crandom = new CorrelatedUniform(random);
  }

  set(delayMs: number, jitterMs: number, correlation: number, distribution: DelayDistribution): void {
    this.mu = delayMs;
    this.sigma = Math.abs(jitterMs);
    this.table = distributionTable(distribution);
    this.crandom.reset(correlation);
  }

  /** Milliseconds; may be negative with a large σ (netem then sends at once). */
  sample(): number {
    if (this.sigma === 0) return this.mu;
    return tabledist(this.mu, this.sigma, this.crandom.next(), this.table);
  }
}
