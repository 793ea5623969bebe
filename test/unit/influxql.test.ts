// The InfluxQL builder: exact query strings, escaping of identifiers / strings / regex values,
// rejection of what InfluxQL cannot express, and Grafana-style variable interpolation.
import { describe, expect, it } from "vitest";
import {
  as,
  count,
  escapeRegexValue,
  field,
  fieldCompare,
  interpolateInfluxQL,
  InfluxQLError,
  last,
  math,
  max,
  mean,
  percentile,
  quoteIdent,
  quoteString,
  select,
  showTagValues,
  sum,
  tagEquals,
  tagNotEquals,
  tagVar,
  timeFilter,
} from "../../src/dashboards/influxql.js";

describe("InfluxQL query strings", () => {
  it("a per-student time series: aggregation, template variables, $timeFilter, GROUP BY time and tag, fill", () => {
    const q = select(mean("latency_p95_ms"))
      .from("wire")
      .where(tagVar("run"), tagVar("room"), tagVar("student"), timeFilter)
      .groupByTime()
      .groupBy("student")
      .fill("null");
    expect(q.toString()).toBe(
      'SELECT mean("latency_p95_ms") FROM "wire" WHERE "run" =~ /^$run$/ AND "room" =~ /^$room$/ AND "student" =~ /^$student$/ AND $timeFilter GROUP BY time($__interval), "student" fill(null)',
    );
  });

  it("every aggregation renders with its argument; percentile takes p; aliases are quoted", () => {
    const q = select(mean("a"), max("b", "B max"), count("c"), last("d"), sum("e"), percentile("f", 95), percentile("g", 99.9, "p99.9"), field("h"), as(last("limit"), "limit"))
      .from("m")
      .toString();
    expect(q).toBe('SELECT mean("a"), max("b") AS "B max", count("c"), last("d"), sum("e"), percentile("f", 95), percentile("g", 99.9) AS "p99.9", "h", last("limit") AS "limit" FROM "m"');
  });

  it("arithmetic of aggregates, nested ones parenthesised", () => {
    expect(select(math(count("pass"), "-", sum("pass"), "failed")).from("budget").toString()).toBe('SELECT count("pass") - sum("pass") AS "failed" FROM "budget"');
    expect(select(math(math(last("x"), "+", 1), "*", 100)).from("m").toString()).toBe('SELECT (last("x") + 1) * 100 FROM "m"');
  });

  it("tag equality, inequality, field comparisons, fill values, ORDER BY time DESC and LIMIT", () => {
    const q = select(field("duration_ms"))
      .from("event")
      .where(tagEquals("kind", "freeze"), tagNotEquals("student", "s-1"), fieldCompare("duration_ms", ">=", 150), timeFilter)
      .groupByTime("10s")
      .fill(0)
      .orderByTimeDesc()
      .limit(20);
    expect(q.toString()).toBe(
      `SELECT "duration_ms" FROM "event" WHERE "kind" = 'freeze' AND "student" != 's-1' AND "duration_ms" >= 150 AND $timeFilter GROUP BY time(10s) fill(0) ORDER BY time DESC LIMIT 20`,
    );
    expect(select(mean("x")).from("m").groupByTime().fill("previous").toString()).toBe('SELECT mean("x") FROM "m" GROUP BY time($__interval) fill(previous)');
    expect(select(mean("x")).from("m").groupBy("build", "scenario").toString()).toBe('SELECT mean("x") FROM "m" GROUP BY "build", "scenario"');
  });

  it("queries are immutable: refining one does not change the other", () => {
    const base = select(mean("x")).from("m").where(tagVar("run"));
    const a = base.where(timeFilter);
    expect(base.toString()).toBe('SELECT mean("x") FROM "m" WHERE "run" =~ /^$run$/');
    expect(a.toString()).toBe('SELECT mean("x") FROM "m" WHERE "run" =~ /^$run$/ AND $timeFilter');
  });

  it("SHOW TAG VALUES for variables, with and without WHERE", () => {
    expect(showTagValues({ from: "wire", key: "run" })).toBe('SHOW TAG VALUES FROM "wire" WITH KEY = "run"');
    expect(showTagValues({ from: ["wire", "pixel"], key: "run" })).toBe('SHOW TAG VALUES FROM "wire", "pixel" WITH KEY = "run"');
    expect(showTagValues({ from: "wire", key: "student", where: [tagVar("run"), tagVar("room")] })).toBe('SHOW TAG VALUES FROM "wire" WITH KEY = "student" WHERE "run" =~ /^$run$/ AND "room" =~ /^$room$/');
    expect(() => showTagValues({ key: "run", where: [timeFilter] })).toThrow(/timeFilter/);
  });
});

describe("escaping", () => {
  it("identifiers: double quotes and backslashes are escaped inside double quotes", () => {
    expect(quoteIdent("plain")).toBe('"plain"');
    expect(quoteIdent('we"ird')).toBe('"we\\"ird"');
    expect(quoteIdent("back\\slash")).toBe('"back\\\\slash"');
    expect(quoteIdent("with space, comma=eq")).toBe('"with space, comma=eq"');
    expect(select(mean('a"b')).from('m"1').groupBy('t"g').toString()).toBe('SELECT mean("a\\"b") FROM "m\\"1" GROUP BY "t\\"g"');
  });

  it("string literals: single quotes and backslashes are escaped inside single quotes", () => {
    expect(quoteString("it's")).toBe("'it\\'s'");
    expect(quoteString("a\\b")).toBe("'a\\\\b'");
    expect(quoteString('say "hi"')).toBe(`'say "hi"'`);
    expect(select(field("x")).from("m").where(tagEquals("room", "o'neil \\ class")).toString()).toBe(`SELECT "x" FROM "m" WHERE "room" = 'o\\'neil \\\\ class'`);
  });

  it("regex values: metacharacters and the / delimiter are escaped", () => {
    expect(escapeRegexValue("a.b")).toBe("a\\.b");
    expect(escapeRegexValue("x/y(z)|w*+?^$[]{}")).toBe("x\\/y\\(z\\)\\|w\\*\\+\\?\\^\\$\\[\\]\\{\\}");
    expect(escapeRegexValue("smoke-20250101-120000-ab12")).toBe("smoke-20250101-120000-ab12");
  });

  it("what InfluxQL cannot express is refused with a PRX_ERR_INFLUXQL error naming the input", () => {
    expect(() => quoteIdent("two\nlines")).toThrow(InfluxQLError);
    expect(() => quoteString("two\nlines")).toThrow(/newline/);
    expect(() => quoteIdent("")).toThrow(/empty/);
    expect(() => select(mean("x")).from("m").where(tagVar("run", "bad-name")).toString()).toThrow(/bad-name/);
    expect(() => select(percentile("x", 0)).from("m").toString()).toThrow(/0 < p/);
    expect(() => select(percentile("x", 101)).from("m").toString()).toThrow(/101/);
    expect(() => select(mean("x")).from("m").groupByTime("1 minute")).toThrow(/1 minute/);
    expect(() => select(mean("x")).from("m").limit(0)).toThrow(/LIMIT/);
    expect(() => select(mean("x")).from("m").fill(NaN).toString()).toThrow(/fill/);
    expect(() => select(mean("x")).toString()).toThrow(/FROM/);
    expect(() => select()).toThrow(/at least one/);
    let caught: unknown;
    try {
      quoteString("a\nb");
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(InfluxQLError);
    expect((caught as InfluxQLError).code).toBe("PRX_ERR_INFLUXQL");
  });
});

describe("interpolateInfluxQL (Grafana's InfluxDB variable rules)", () => {
  const q = 'SELECT mean("x") FROM "wire" WHERE "run" =~ /^$run$/ AND "student" =~ /^$student$/ AND $timeFilter GROUP BY time($__interval), "student"';

  it("$timeFilter becomes an ms range, $__interval a duration literal, a regex variable its escaped value", () => {
    const out = interpolateInfluxQL(q, { vars: { run: "r.1", student: "s-1" }, range: { fromMs: 1000.4, toMs: 5000.2 }, intervalMs: 1000 });
    expect(out).toBe('SELECT mean("x") FROM "wire" WHERE "run" =~ /^r\\.1$/ AND "student" =~ /^s-1$/ AND time >= 1000ms and time <= 5001ms GROUP BY time(1s), "student"');
  });

  it("a multi-value variable in a regex becomes (a|b), each value escaped", () => {
    const out = interpolateInfluxQL(q, { vars: { run: "r", student: ["a/b", "c+d"] }, range: { fromMs: 0, toMs: 1 }, intervalMs: 60_000 });
    expect(out).toContain('"student" =~ /^(a\\/b|c\\+d)$/');
    expect(out).toContain("GROUP BY time(1m)");
  });

  it("inside a string literal the value is quote-escaped; ${name} works; division is not a regex", () => {
    const out = interpolateInfluxQL(`SELECT sum("a") / count("b") FROM "m" WHERE "room" = '$room' AND "x" = '\${run}'`, { vars: { room: "o'neil", run: "r1" } });
    expect(out).toBe(`SELECT sum("a") / count("b") FROM "m" WHERE "room" = 'o\\'neil' AND "x" = 'r1'`);
  });

  it("a variable without a value is an error, not an empty match", () => {
    expect(() => interpolateInfluxQL(q, { vars: { run: "r" }, range: { fromMs: 0, toMs: 1 } })).toThrow(/\$student/);
    expect(() => interpolateInfluxQL("SELECT x FROM m WHERE $timeFilter")).toThrow(/range/);
  });
});
