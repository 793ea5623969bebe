// Budgets: k6-style thresholds. Each metric maps to a list of expressions; grammar:
//
//   expr      := statistic op number
//   statistic := "p" digits ("." digits)? | "max" | "min" | "mean" | "count" | "ratio"
//   op        := "<=" | "<" | ">=" | ">" | "=="
//   number    := "-"? digits ("." digits)?
//
// Parsed once at load (scan → parse → typed expression); errors quote the input and say where.
export type Statistic = { kind: "percentile"; p: number } | { kind: "max" | "min" | "mean" | "count" | "ratio" };
export type Op = "<=" | "<" | ">=" | ">" | "==";
export type BudgetExpr = { source: string; statistic: Statistic; op: Op; value: number };

export class BudgetParseError extends Error {}

export function parseBudget(source: string): BudgetExpr {
  const m = /^\s*([a-z]+[0-9.]*)\s*(<=|>=|==|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/.exec(source);
  if (!m) {
    throw new BudgetParseError(`bad budget "${source}": expected "<statistic> <op> <number>", e.g. "p95 <= 400" (statistics: p50, p95, p99, max, min, mean, count, ratio; ops: <= < >= > ==)`);
  }
  const [, stat, op, num] = m;
  return { source, statistic: parseStatistic(stat!, source), op: op as Op, value: Number(num) };
}

function parseStatistic(s: string, source: string): Statistic {
  const p = /^p(\d+(?:\.\d+)?)$/.exec(s);
  if (p) {
    const v = Number(p[1]);
    if (!(v > 0 && v <= 100)) throw new BudgetParseError(`bad budget "${source}": percentile "${s}" must be above p0 and at most p100`);
    return { kind: "percentile", p: v };
  }
  if (s === "max" || s === "min" || s === "mean" || s === "count" || s === "ratio") return { kind: s };
  throw new BudgetParseError(`bad budget "${source}": unknown statistic "${s}" (known: p<N>, max, min, mean, count, ratio)`);
}

export function compare(measured: number, op: Op, limit: number): boolean {
  switch (op) {
    case "<=":
      return measured <= limit;
    case "<":
      return measured < limit;
    case ">=":
      return measured >= limit;
    case ">":
      return measured > limit;
    case "==":
      return measured === limit;
  }
}
