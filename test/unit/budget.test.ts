import { describe, expect, it } from "vitest";
import { BudgetParseError, compare, parseBudget } from "../../src/report/budget.js";
import { evaluateBudgets, statisticOf } from "../../src/report/evaluate.js";

describe("parseBudget", () => {
  it.each([
    ["p95 <= 400", { kind: "percentile", p: 95 }, "<=", 400],
    ["p99.9<2.5", { kind: "percentile", p: 99.9 }, "<", 2.5],
    ["p50 >= 0", { kind: "percentile", p: 50 }, ">=", 0],
    ["p100 > -3", { kind: "percentile", p: 100 }, ">", -3],
    ["  max <= 34  ", { kind: "max" }, "<=", 34],
    ["min >= 0.99", { kind: "min" }, ">=", 0.99],
    ["mean < 10", { kind: "mean" }, "<", 10],
    ["count == 3", { kind: "count" }, "==", 3],
    ["ratio > 0.5", { kind: "ratio" }, ">", 0.5],
    ["min >= -100.25", { kind: "min" }, ">=", -100.25],
  ] as const)("%j", (source, statistic, op, value) => {
    expect(parseBudget(source)).toEqual({ source, statistic, op, value });
  });

  it.each(["p95 < ", "p101 <= 3", "avg <= 3", "p95 <= abc", "<= 4", "p0 <= 1", "p95 => 3", "p95 <= 1e3", "max"])(
    "rejects %j with an error quoting the input",
    (source) => {
      let err: unknown;
      try {
        parseBudget(source);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(BudgetParseError);
      expect((err as Error).message).toContain(`"${source}"`);
    },
  );

  it("says what is wrong", () => {
    expect(() => parseBudget("avg <= 3")).toThrow(/unknown statistic "avg"/);
    expect(() => parseBudget("p101 <= 3")).toThrow(/percentile "p101"/);
    expect(() => parseBudget("p95 <= abc")).toThrow(/expected "<statistic> <op> <number>"/);
    expect(() => parseBudget("p0 <= 1")).toThrow(/percentile "p0" must be above p0/);
  });
});

describe("compare", () => {
  it.each([
    [3, "<=", 3, true],
    [3, "<", 3, false],
    [3, ">=", 3, true],
    [3, ">", 3, false],
    [3, "==", 3, true],
    [2.9, "==", 3, false],
    [4, "<=", 3, false],
    [4, ">", 3, true],
  ] as const)("%d %s %d → %s", (m, op, l, want) => {
    expect(compare(m, op, l)).toBe(want);
  });
});

describe("statisticOf / evaluateBudgets", () => {
  const values = [40, 10, 30, 20, 50]; // sorted: 10 20 30 40 50

  it.each([
    ["p50 <= 0", 30],
    ["p95 <= 0", 48], // rank 3.8 → 40 + 0.8·10
    ["p90 <= 0", 46], // rank 3.6
    ["p10 <= 0", 14], // rank 0.4
    ["max <= 0", 50],
    ["min <= 0", 10],
    ["mean <= 0", 30],
    ["ratio <= 0", 30],
    ["count <= 0", 5],
  ])("%s measures %d", (src, want) => {
    expect(statisticOf(values, parseBudget(src))).toBeCloseTo(want, 10);
  });

  it("ignores non-finite values", () => {
    expect(statisticOf([NaN, 1, Infinity, 3], parseBudget("mean <= 1"))).toBe(2);
    expect(statisticOf([NaN, 1, 3], parseBudget("count == 2"))).toBe(2);
  });

  it("judges every expression and fails 'no data' with a note", () => {
    const verdicts = evaluateBudgets(
      {
        latency_ms: [parseBudget("p95 <= 48"), parseBudget("p95 < 48"), parseBudget("max <= 49")],
        loss: [parseBudget("max <= 0.01")],
        join_ms: [parseBudget("count >= 0")],
      },
      { latency_ms: values, loss: [NaN] },
    );
    expect(verdicts.map((v) => [v.metric, v.expression, v.pass])).toEqual([
      ["latency_ms", "p95 <= 48", true],
      ["latency_ms", "p95 < 48", false],
      ["latency_ms", "max <= 49", false],
      ["loss", "max <= 0.01", false],
      ["join_ms", "count >= 0", true],
    ]);
    const loss = verdicts[3]!;
    expect(loss.measured).toBeNaN();
    expect(loss.note).toMatch(/no data/);
    expect(loss.limit).toBe(0.01);
    expect(loss.op).toBe("<=");
    expect(verdicts[0]!.note).toBeUndefined();
    expect(verdicts[0]!.measured).toBeCloseTo(48, 10);
  });
});
