import { describe, expect, it } from "vitest";
import { escapeKey, escapeMeasurement, toLine } from "../../src/metrics/line-protocol.js";
import type { Point } from "../../src/metrics/sample.js";

// Expected lines follow the InfluxDB v1 line protocol reference ("Special characters"):
// measurement: escape comma, space; tag keys/values, field keys: comma, equals, space;
// string field values: double quote (and backslash), inside double quotes.

describe("escaping", () => {
  it("measurement escapes comma and space but not equals", () => {
    expect(escapeMeasurement("my Measurement,x=1")).toBe("my\\ Measurement\\,x=1");
  });
  it("keys escape comma, equals and space", () => {
    expect(escapeKey("tag Key,a=b")).toBe("tag\\ Key\\,a\\=b");
    expect(escapeKey("plain_key")).toBe("plain_key");
  });
});

describe("toLine", () => {
  const base: Point = { measurement: "latency", tags: {}, fields: { v: 1 }, timeUnixMs: 1_700_000_000_000 };

  it("writes measurement, sorted tags, fields and ns timestamp", () => {
    const line = toLine({
      measurement: "frame latency",
      tags: { student: "s 1", room: "room,a", run: "r=1", agent: "werift" },
      fields: { latency_ms: 12.5, frames: 3, ok: true, bad: false },
      timeUnixMs: 1_700_000_000_123.456,
    });
    expect(line).toBe(
      "frame\\ latency,agent=werift,room=room\\,a,run=r\\=1,student=s\\ 1 latency_ms=12.5,frames=3,ok=true,bad=false 1700000000123456000",
    );
  });

  it("quotes string fields, escaping double quotes and backslashes only", () => {
    const line = toLine({ ...base, fields: { msg: 'say "hi", a=b \\ done' } });
    expect(line).toBe('latency msg="say \\"hi\\", a=b \\\\ done" 1700000000000000000');
  });

  it("escapes field keys", () => {
    expect(toLine({ ...base, fields: { "a b,c=d": 2 } })).toBe("latency a\\ b\\,c\\=d=2 1700000000000000000");
  });

  it("drops non-finite number fields and empty/undefined tags", () => {
    const line = toLine({
      ...base,
      tags: { room: "", student: undefined, run: "x" },
      fields: { a: NaN, b: 4, c: Infinity, d: -Infinity },
    });
    expect(line).toBe("latency,run=x b=4 1700000000000000000");
  });

  it("returns null when no field is finite", () => {
    expect(toLine({ ...base, fields: { a: NaN, b: Infinity } })).toBeNull();
    expect(toLine({ ...base, fields: {} })).toBeNull();
  });

  it("writes nanoseconds with µs resolution and no float artefacts", () => {
    expect(toLine({ ...base, timeUnixMs: 0.001 })).toBe("latency v=1 1000");
    expect(toLine({ ...base, timeUnixMs: 1_723_456_789_012.3 })).toBe("latency v=1 1723456789012300000");
    expect(toLine({ ...base, timeUnixMs: 1 })).toBe("latency v=1 1000000");
  });

  it("writes integers and negatives as plain floats (no i suffix)", () => {
    expect(toLine({ ...base, fields: { n: -7, z: 0 } })).toBe("latency n=-7,z=0 1700000000000000000");
  });
});
