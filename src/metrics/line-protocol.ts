// InfluxDB line protocol (https://docs.influxdata.com/influxdb/v1/write_protocols/line_protocol_reference/):
//   measurement[,tag=value...] field=value[,field=value...] timestamp_ns
// Escaping: measurement — comma, space; tag keys/values and field keys — comma, equals, space;
// string field values — double quote and backslash, inside double quotes. Integers are written as
// floats (no `i` suffix) so a field never changes type between points.
import type { Point } from "./sample.js";

export function escapeMeasurement(s: string): string {
  return s.replace(/[, ]/g, (c) => `\\${c}`);
}

export function escapeKey(s: string): string {
  return s.replace(/[,= ]/g, (c) => `\\${c}`);
}

function fieldValue(v: number | string | boolean): string | null {
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : null;
  if (typeof v === "boolean") return v ? "true" : "false";
  return `"${v.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/** One point → one line (no trailing newline), or null when it has no finite field. */
export function toLine(p: Point): string | null {
  const fields: string[] = [];
  for (const [k, v] of Object.entries(p.fields)) {
    const fv = fieldValue(v);
    if (fv !== null) fields.push(`${escapeKey(k)}=${fv}`);
  }
  if (fields.length === 0) return null;
  const tags = Object.entries(p.tags)
    .filter(([, v]) => v !== undefined && v !== "")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `,${escapeKey(k)}=${escapeKey(v!)}`)
    .join("");
  const ns = BigInt(Math.round(p.timeUnixMs * 1000)) * 1000n;
  return `${escapeMeasurement(p.measurement)}${tags} ${fields.join(",")} ${ns}`;
}
