// A small reader for InfluxDB line protocol — the inverse of src/metrics/line-protocol.ts — so
// writers that need per-second data (the HTML report) read a run's metrics.lp instead of adding
// fields to report.json.
//
//   measurement[,tag=value...] field=value[,field=value...] [timestamp_ns]
//
// Escapes (https://docs.influxdata.com/influxdb/v1/write_protocols/line_protocol_reference/):
// measurement — "\," and "\ "; tag keys/values and field keys — "\,", "\=" and "\ "; string field
// values are double-quoted with "\"" and "\\". Field values: floats, integers ("12i"), unsigned
// ("12u"), booleans (t, T, true, True, TRUE, f, …), strings. Empty lines and "#" comments skip.
import { readFile } from "node:fs/promises";

export type LpPoint = {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, number | string | boolean>;
  /** Unix ms (fractional), NaN when the line has no timestamp. */
  timeUnixMs: number;
};

export type LpError = { line: number; message: string; text: string };

export class LineProtocolError extends Error {}

/** Splits `s` at unescaped `sep` characters outside double quotes; keeps escapes in the parts. */
function splitUnescaped(s: string, sep: string, quotes: boolean): string[] {
  const parts: string[] = [];
  let start = 0;
  let inQuote = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "\\") {
      i++;
      continue;
    }
    if (quotes && c === '"') inQuote = !inQuote;
    else if (c === sep && !inQuote) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  if (inQuote) throw new LineProtocolError("unterminated string field value");
  parts.push(s.slice(start));
  return parts;
}

function unescape(s: string): string {
  return s.replace(/\\([,= ])/g, "$1");
}

/** Index of the first unescaped "=" in a key=value pair. */
function keyEnd(pair: string): number {
  for (let i = 0; i < pair.length; i++) {
    if (pair[i] === "\\") i++;
    else if (pair[i] === "=") return i;
  }
  return -1;
}

function fieldValue(raw: string): number | string | boolean {
  if (raw.startsWith('"')) {
    if (raw.length < 2 || !raw.endsWith('"')) throw new LineProtocolError(`bad string field value ${raw}`);
    return raw.slice(1, -1).replace(/\\(["\\])/g, "$1");
  }
  if (/^(t|T|true|True|TRUE)$/.test(raw)) return true;
  if (/^(f|F|false|False|FALSE)$/.test(raw)) return false;
  const int = /^(-?\d+)[iu]$/.exec(raw);
  if (int) return Number(int[1]);
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw)) return Number(raw);
  throw new LineProtocolError(`bad field value "${raw}"`);
}

/** ns since the epoch → ms, keeping sub-ms precision without losing digits to float rounding. */
function nsToMs(raw: string): number {
  if (!/^-?\d+$/.test(raw)) throw new LineProtocolError(`bad timestamp "${raw}"`);
  const ns = BigInt(raw);
  return Number(ns / 1_000_000n) + Number(ns % 1_000_000n) / 1e6;
}

/** One line → a point, or null for an empty/comment line. Throws LineProtocolError when malformed. */
export function parseLine(line: string): LpPoint | null {
  const text = line.trim();
  if (text === "" || text.startsWith("#")) return null;
  // Sections are separated by unescaped spaces outside quoted field values.
  const sections = splitUnescaped(text, " ", true).filter((s) => s !== "");
  if (sections.length < 2 || sections.length > 3) throw new LineProtocolError(`expected "measurement[,tags] fields [timestamp]", got ${sections.length} section(s)`);
  const [head, fieldSection, ts] = sections as [string, string, string | undefined];
  const [rawMeasurement, ...rawTags] = splitUnescaped(head, ",", false);
  if (!rawMeasurement) throw new LineProtocolError("missing measurement");
  const tags: Record<string, string> = {};
  for (const t of rawTags) {
    const eq = keyEnd(t);
    if (eq <= 0) throw new LineProtocolError(`bad tag "${t}"`);
    tags[unescape(t.slice(0, eq))] = unescape(t.slice(eq + 1));
  }
  const fields: Record<string, number | string | boolean> = {};
  for (const f of splitUnescaped(fieldSection, ",", true)) {
    const eq = keyEnd(f);
    if (eq <= 0) throw new LineProtocolError(`bad field "${f}"`);
    fields[unescape(f.slice(0, eq))] = fieldValue(f.slice(eq + 1));
  }
  return { measurement: unescape(rawMeasurement), tags, fields, timeUnixMs: ts === undefined ? NaN : nsToMs(ts) };
}

/** Every point of a line-protocol text; malformed lines are skipped and listed in `errors`. */
export function parseLineProtocol(text: string): { points: LpPoint[]; errors: LpError[] } {
  const points: LpPoint[] = [];
  const errors: LpError[] = [];
  const lines = text.split("\n");
  for (const [i, line] of lines.entries()) {
    try {
      const p = parseLine(line);
      if (p) points.push(p);
    } catch (e) {
      if (!(e instanceof LineProtocolError)) throw e;
      errors.push({ line: i + 1, message: e.message, text: line.length > 200 ? `${line.slice(0, 200)}…` : line });
    }
  }
  return { points, errors };
}

/** Reads a metrics.lp file; a missing file reads as no points. */
export async function readLineProtocolFile(path: string): Promise<{ points: LpPoint[]; errors: LpError[] }> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { points: [], errors: [] };
    throw e;
  }
  return parseLineProtocol(text);
}

/** A numeric field, or undefined when absent / not a number. */
export function numField(p: LpPoint, name: string): number | undefined {
  const v = p.fields[name];
  return typeof v === "number" ? v : undefined;
}
