// Judge a run against its budgets. Each budget metric maps to the list of values it is computed
// over (aggregate: all students' values together); each expression becomes one verdict.
import { percentile } from "../metrics/stats.js";
import { compare, type BudgetExpr } from "./budget.js";

export type Verdict = { metric: string; expression: string; measured: number; limit: number; op: string; pass: boolean; note?: string };

export function statisticOf(values: readonly number[], expr: BudgetExpr): number {
  const sorted = values.filter(Number.isFinite).sort((a, b) => a - b);
  const st = expr.statistic;
  if (sorted.length === 0) return st.kind === "count" ? 0 : NaN;
  switch (st.kind) {
    case "percentile":
      return percentile(sorted, st.p);
    case "max":
      return sorted[sorted.length - 1]!;
    case "min":
      return sorted[0]!;
    case "mean":
    case "ratio":
      return sorted.reduce((a, b) => a + b, 0) / sorted.length;
    case "count":
      return sorted.length;
  }
}

export function evaluateBudgets(budgets: Partial<Record<string, BudgetExpr[]>>, values: Record<string, readonly number[]>): Verdict[] {
  const out: Verdict[] = [];
  for (const [metric, exprs] of Object.entries(budgets)) {
    for (const e of exprs ?? []) {
      const measured = statisticOf(values[metric] ?? [], e);
      const pass = Number.isFinite(measured) && compare(measured, e.op, e.value);
      out.push({
        metric,
        expression: e.source,
        measured,
        limit: e.value,
        op: e.op,
        pass,
        note: Number.isFinite(measured) ? undefined : "no data: the metric had no values in this run",
      });
    }
  }
  return out;
}
