// A small InfluxQL (InfluxDB 1.x) query builder for the dashboards: the Grafana foundation SDK has
// no InfluxDB query model, and hand-written query strings drift (a missing quote, a tag compared as
// a field). Every identifier and literal goes through one escaper, Grafana template variables are
// validated names, and `interpolateInfluxQL` fills variables in the way Grafana's InfluxDB data
// source does, so tests can run each dashboard query against a real influxd.
//
// Lexical rules (InfluxQL reference, "Identifiers" and "Literals"; influxql scanner.go ScanString):
//   identifier  "..."  with \" and \\ escaped; no newline
//   string      '...'  with \' and \\ escaped; no newline
//   regex       /.../  with \/ escaped
// Grafana (InfluxDB data source, InfluxQL mode): `$timeFilter` → `time >= <from>ms and time <= <to>ms`,
// `$__interval` → the panel's interval (e.g. `1s`); a multi-value or "All" variable inside a regex
// expands to `(a|b)` with each value regex-escaped — hence tags are matched as `"tag" =~ /^$var$/`.

export type Aggregation = "mean" | "median" | "max" | "min" | "count" | "sum" | "last" | "first" | "spread" | "stddev" | "percentile";
export type Fill = "null" | "none" | "previous" | "linear" | number;
export type CompareOp = "=" | "!=" | "<" | "<=" | ">" | ">=";

/** A SELECT column: a raw field/tag, an aggregation of a field, or arithmetic of two columns. */
export type Selector =
  | { kind: "field"; name: string; alias?: string }
  | { kind: "agg"; fn: Aggregation; field: string; p?: number; alias?: string }
  | { kind: "math"; left: Selector; op: "+" | "-" | "*" | "/"; right: Selector | number; alias?: string };

export type Condition =
  | { kind: "timeFilter" }
  | { kind: "tagVar"; tag: string; variable: string }
  | { kind: "tagEquals"; tag: string; value: string; negate?: boolean }
  | { kind: "fieldCompare"; field: string; op: CompareOp; value: number };

export class InfluxQLError extends Error {
  readonly code = "PRX_ERR_INFLUXQL";
  constructor(message: string) {
    super(message);
    this.name = "InfluxQLError";
  }
}

// ── escaping ────────────────────────────────────────────────────────────────────────────────────

function noNewline(s: string, what: string): void {
  if (/[\n\r]/.test(s)) throw new InfluxQLError(`${what} ${JSON.stringify(s)} contains a newline, which InfluxQL cannot quote`);
}

/** `"name"`, with backslash and double quote escaped. */
export function quoteIdent(name: string): string {
  if (name === "") throw new InfluxQLError("empty identifier");
  noNewline(name, "identifier");
  return `"${name.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** `'value'`, with backslash and single quote escaped. */
export function quoteString(value: string): string {
  noNewline(value, "string literal");
  return `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

/** Escapes regex metacharacters (so a value matches itself) and the `/` delimiter. */
export function escapeRegexValue(value: string): string {
  return value.replace(/[\\^$.|?*+()[\]{}]/g, (c) => `\\${c}`).replace(/\//g, "\\/");
}

const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function checkVar(name: string): string {
  if (!VAR_NAME.test(name)) throw new InfluxQLError(`bad template variable name ${JSON.stringify(name)}: expected letters, digits, _`);
  return name;
}

function checkNumber(v: number, what: string): string {
  if (!Number.isFinite(v)) throw new InfluxQLError(`${what} must be a finite number, got ${v}`);
  return String(v);
}

// ── selectors and conditions ────────────────────────────────────────────────────────────────────

export const field = (name: string, alias?: string): Selector => ({ kind: "field", name, alias });
const agg = (fn: Aggregation) => (fieldName: string, alias?: string): Selector => ({ kind: "agg", fn, field: fieldName, alias });
export const mean = agg("mean");
export const median = agg("median");
export const max = agg("max");
export const min = agg("min");
export const count = agg("count");
export const sum = agg("sum");
export const last = agg("last");
export const first = agg("first");
export const percentile = (fieldName: string, p: number, alias?: string): Selector => ({ kind: "agg", fn: "percentile", field: fieldName, p, alias });
export const math = (left: Selector, op: "+" | "-" | "*" | "/", right: Selector | number, alias?: string): Selector => ({ kind: "math", left, op, right, alias });
/** Same selector, new column name. */
export const as = (s: Selector, alias: string): Selector => ({ ...s, alias });

export const timeFilter: Condition = { kind: "timeFilter" };
/** `"tag" =~ /^$variable$/` — matches one value, several (multi) or all. */
export const tagVar = (tag: string, variable = tag): Condition => ({ kind: "tagVar", tag, variable });
export const tagEquals = (tag: string, value: string): Condition => ({ kind: "tagEquals", tag, value });
export const tagNotEquals = (tag: string, value: string): Condition => ({ kind: "tagEquals", tag, value, negate: true });
export const fieldCompare = (fieldName: string, op: CompareOp, value: number): Condition => ({ kind: "fieldCompare", field: fieldName, op, value });

function renderSelector(s: Selector, top = true): string {
  let text: string;
  switch (s.kind) {
    case "field":
      text = quoteIdent(s.name);
      break;
    case "agg":
      if (s.fn === "percentile") {
        const p = s.p ?? NaN;
        if (!(p > 0 && p <= 100)) throw new InfluxQLError(`percentile of "${s.field}" needs 0 < p ≤ 100, got ${s.p}`);
        text = `percentile(${quoteIdent(s.field)}, ${p})`;
      } else {
        text = `${s.fn}(${quoteIdent(s.field)})`;
      }
      break;
    case "math": {
      const right = typeof s.right === "number" ? checkNumber(s.right, "arithmetic operand") : renderSelector(s.right, false);
      text = `${renderSelector(s.left, false)} ${s.op} ${right}`;
      if (!top) text = `(${text})`;
      break;
    }
  }
  return top && s.alias !== undefined ? `${text} AS ${quoteIdent(s.alias)}` : text;
}

function renderCondition(c: Condition): string {
  switch (c.kind) {
    case "timeFilter":
      return "$timeFilter";
    case "tagVar":
      return `${quoteIdent(c.tag)} =~ /^$${checkVar(c.variable)}$/`;
    case "tagEquals":
      return `${quoteIdent(c.tag)} ${c.negate ? "!=" : "="} ${quoteString(c.value)}`;
    case "fieldCompare":
      return `${quoteIdent(c.field)} ${c.op} ${checkNumber(c.value, `comparison value of "${c.field}"`)}`;
  }
}

// ── queries ─────────────────────────────────────────────────────────────────────────────────────

/** SELECT … FROM … [WHERE …] [GROUP BY …] [fill(…)] [ORDER BY time DESC] [LIMIT n]. Immutable. */
export class SelectQuery {
  private constructor(
    private readonly selectors: readonly Selector[],
    private readonly measurement?: string,
    private readonly conditions: readonly Condition[] = [],
    private readonly interval?: string,
    private readonly tags: readonly string[] = [],
    private readonly fillWith?: Fill,
    private readonly descending = false,
    private readonly rowLimit?: number,
  ) {}

  static of(selectors: readonly Selector[]): SelectQuery {
    if (selectors.length === 0) throw new InfluxQLError("SELECT needs at least one column");
    return new SelectQuery(selectors);
  }

  private with(p: Partial<{ m: string; c: readonly Condition[]; i: string; t: readonly string[]; f: Fill; d: boolean; l: number }>): SelectQuery {
    return new SelectQuery(this.selectors, p.m ?? this.measurement, p.c ?? this.conditions, p.i ?? this.interval, p.t ?? this.tags, p.f ?? this.fillWith, p.d ?? this.descending, p.l ?? this.rowLimit);
  }

  from(measurement: string): SelectQuery {
    return this.with({ m: measurement });
  }
  /** ANDed with any conditions already given. */
  where(...conditions: Condition[]): SelectQuery {
    return this.with({ c: [...this.conditions, ...conditions] });
  }
  /** `GROUP BY time(<interval>)`; the interval is a template variable (`$__interval`) or a duration literal (`10s`). */
  groupByTime(interval = "$__interval"): SelectQuery {
    if (!/^\$[A-Za-z_]\w*$/.test(interval) && !/^\d+(ns|u|µ|ms|s|m|h|d|w)$/.test(interval)) throw new InfluxQLError(`bad GROUP BY time interval ${JSON.stringify(interval)}`);
    return this.with({ i: interval });
  }
  groupBy(...tags: string[]): SelectQuery {
    return this.with({ t: [...this.tags, ...tags] });
  }
  fill(f: Fill): SelectQuery {
    return this.with({ f });
  }
  orderByTimeDesc(): SelectQuery {
    return this.with({ d: true });
  }
  limit(n: number): SelectQuery {
    if (!Number.isInteger(n) || n <= 0) throw new InfluxQLError(`LIMIT must be a positive integer, got ${n}`);
    return this.with({ l: n });
  }

  toString(): string {
    if (this.measurement === undefined) throw new InfluxQLError("SELECT without FROM");
    let q = `SELECT ${this.selectors.map((s) => renderSelector(s)).join(", ")} FROM ${quoteIdent(this.measurement)}`;
    if (this.conditions.length) q += ` WHERE ${this.conditions.map(renderCondition).join(" AND ")}`;
    const group = [...(this.interval !== undefined ? [`time(${this.interval})`] : []), ...this.tags.map(quoteIdent)];
    if (group.length) q += ` GROUP BY ${group.join(", ")}`;
    if (this.fillWith !== undefined) {
      const f = this.fillWith;
      q += ` fill(${typeof f === "number" ? checkNumber(f, "fill value") : f})`;
    }
    if (this.descending) q += " ORDER BY time DESC";
    if (this.rowLimit !== undefined) q += ` LIMIT ${this.rowLimit}`;
    return q;
  }
}

export function select(...selectors: Selector[]): SelectQuery {
  return SelectQuery.of(selectors);
}

/** `SHOW TAG VALUES [FROM "m"] WITH KEY = "key" [WHERE …]` — the shape of a Grafana query variable. */
export function showTagValues(opts: { from?: string | readonly string[]; key: string; where?: readonly Condition[] }): string {
  let q = "SHOW TAG VALUES";
  const from = typeof opts.from === "string" ? [opts.from] : (opts.from ?? []);
  if (from.length) q += ` FROM ${from.map(quoteIdent).join(", ")}`;
  q += ` WITH KEY = ${quoteIdent(opts.key)}`;
  const where = opts.where ?? [];
  if (where.some((c) => c.kind === "timeFilter")) throw new InfluxQLError("SHOW TAG VALUES takes no $timeFilter on InfluxDB 1.x (tsm1 index)");
  if (where.length) q += ` WHERE ${where.map(renderCondition).join(" AND ")}`;
  return q;
}

// ── interpolation (what Grafana does before sending a query) ─────────────────────────────────────

export type InterpolateOptions = {
  /** Template variables: one value, or several (multi / All). */
  vars?: Readonly<Record<string, string | readonly string[]>>;
  /** Dashboard time range for `$timeFilter` (unix ms). */
  range?: { fromMs: number; toMs: number };
  /** `$__interval` in ms (default 1000). */
  intervalMs?: number;
};

function intervalLiteral(ms: number): string {
  if (ms % 86_400_000 === 0) return `${ms / 86_400_000}d`;
  if (ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${Math.round(ms)}ms`;
}

/**
 * Fills Grafana's variables into a query as Grafana's InfluxDB data source does: inside a regex
 * literal (`/^$v$/`) the values are regex-escaped and joined as `(a|b)`; inside a string literal
 * they are quote-escaped; elsewhere inserted as they are. Unknown variables are an error.
 */
export function interpolateInfluxQL(query: string, opts: InterpolateOptions = {}): string {
  const vars = opts.vars ?? {};
  const lookup = (name: string): readonly string[] => {
    if (name === "timeFilter") {
      if (!opts.range) throw new InfluxQLError("query uses $timeFilter but no range was given");
      return [`time >= ${Math.floor(opts.range.fromMs)}ms and time <= ${Math.ceil(opts.range.toMs)}ms`];
    }
    if (name === "__interval") return [intervalLiteral(opts.intervalMs ?? 1000)];
    if (name === "__interval_ms") return [String(opts.intervalMs ?? 1000)];
    const v = vars[name];
    if (v === undefined) throw new InfluxQLError(`query uses $${name} but no value was given`);
    return typeof v === "string" ? [v] : v;
  };
  let out = "";
  let i = 0;
  let ctx: "code" | "regex" | "string" | "ident" = "code";
  while (i < query.length) {
    const c = query[i]!;
    if (c === "\\" && ctx !== "code") {
      out += query.slice(i, i + 2);
      i += 2;
      continue;
    }
    if (c === "$") {
      const m = /^\$(?:\{([A-Za-z_]\w*)\}|([A-Za-z_]\w*))/.exec(query.slice(i));
      if (m) {
        const values = lookup((m[1] ?? m[2])!);
        if (ctx === "regex") out += values.length === 1 ? escapeRegexValue(values[0]!) : `(${values.map(escapeRegexValue).join("|")})`;
        else if (ctx === "string") out += quoteString(values.join(",")).slice(1, -1);
        else out += values.join(",");
        i += m[0].length;
        continue;
      }
    }
    if (ctx === "code") {
      // A regex literal only follows =~ or !~ (a lone "/" elsewhere is division).
      if (c === "/" && /[=!]~\s*$/.test(out)) ctx = "regex";
      else if (c === "'") ctx = "string";
      else if (c === '"') ctx = "ident";
    } else if ((ctx === "regex" && c === "/") || (ctx === "string" && c === "'") || (ctx === "ident" && c === '"')) {
      ctx = "code";
    }
    out += c;
    i++;
  }
  return out;
}
