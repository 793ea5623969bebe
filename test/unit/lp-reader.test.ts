// Line-protocol reader: reads back exactly what src/metrics/line-protocol.ts writes (escapes,
// types, ns timestamps), parses the other spellings InfluxDB allows, and skips malformed lines.
import { describe, it, expect } from "vitest";
import { toLine } from "../../src/metrics/line-protocol.js";
import { parseLine, parseLineProtocol, LineProtocolError } from "../../src/report/lp-reader.js";
import type { Point } from "../../src/metrics/sample.js";

describe("lp-reader", () => {
  it("round-trips points written by toLine, escapes included", () => {
    const points: Point[] = [
      { measurement: "wire", tags: { room: "class a", student: "x,y=z", run: "r1" }, fields: { latency_p95_ms: 12.25, frames: 30, ok: true }, timeUnixMs: 1_795_444_268_000 },
      { measurement: "event", tags: { kind: "note" }, fields: { text: 'say "hi" \\ there, a=b' }, timeUnixMs: 1_795_444_268_910.021 },
      { measurement: "my meas,x", tags: {}, fields: { "a b": -1.5e-7 }, timeUnixMs: 0.5 },
    ];
    for (const p of points) {
      const back = parseLine(toLine(p)!);
      expect(back?.measurement).toBe(p.measurement);
      expect(back?.tags).toEqual(p.tags);
      expect(back?.fields).toEqual(p.fields);
      expect(back!.timeUnixMs).toBeCloseTo(p.timeUnixMs, 6);
    }
  });

  it("converts 19-digit ns timestamps to ms within a double's resolution (~0.25 µs at today's epoch)", () => {
    const p = parseLine("m f=1 1795444268910021123");
    expect(Math.abs(p!.timeUnixMs - 1795444268910.021123)).toBeLessThan(3e-4);
    expect(parseLine("m f=1 -1500000")!.timeUnixMs).toBe(-1.5);
  });

  it("reads integer, unsigned, boolean spellings and a missing timestamp", () => {
    const p = parseLine("m a=12i,b=7u,c=t,d=FALSE,e=1.5e3,f=\"s\"");
    expect(p).toEqual({ measurement: "m", tags: {}, fields: { a: 12, b: 7, c: true, d: false, e: 1500, f: "s" }, timeUnixMs: NaN });
  });

  it("skips blanks and comments; lists malformed lines with their numbers and keeps the rest", () => {
    const text = ["# header", "", "wire,student=a v=1 1000000", "broken line here x", "m f=abc 1", "m f=\"unterminated 1", "wire,student=b v=2 2000000"].join("\n");
    const { points, errors } = parseLineProtocol(text);
    expect(points.map((p) => [p.tags.student, p.fields.v, p.timeUnixMs])).toEqual([["a", 1, 1], ["b", 2, 2]]);
    expect(errors.map((e) => e.line)).toEqual([4, 5, 6]);
    expect(() => parseLine("m f=abc 1")).toThrow(LineProtocolError);
  });
});
