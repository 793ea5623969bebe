// --influx URL parsing (1.x / 2.x / 3.x) and the write requests InfluxSink builds from it, checked
// against a tiny recording HTTP server on 127.0.0.1 (no InfluxDB 2.x/3.x server exists here).
import { createServer, type IncomingMessage, type Server } from "node:http";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InfluxTargetError, parseInfluxTarget, resolveInfluxTarget } from "../../src/metrics/influx-target.js";
import { InfluxSink, refusedLines } from "../../src/metrics/influx-sink.js";
import { toLine } from "../../src/metrics/line-protocol.js";
import type { Point } from "../../src/metrics/sample.js";

const noEnv = {};

describe("parseInfluxTarget", () => {
  it("1.x plain http URL: /write with db, rp, ns precision", () => {
    const t = parseInfluxTarget("http://127.0.0.1:8086/?db=proctor&rp=autogen", { env: noEnv });
    expect(t.version).toBe(1);
    expect(t.writeUrl).toBe("http://127.0.0.1:8086/write?db=proctor&rp=autogen&precision=ns");
    expect(t.pingUrl).toBe("http://127.0.0.1:8086/ping");
    expect(t.database).toBe("proctor");
    expect(t.headers.Authorization).toBeUndefined();
  });

  it("1.x: db defaults to proctor, rp omitted, influx1:// defaults to port 8086", () => {
    const t = parseInfluxTarget("influx1://db.example", { env: noEnv });
    expect(t.writeUrl).toBe("http://db.example:8086/write?db=proctor&precision=ns");
    const s = parseInfluxTarget("influx1+https://db.example/?db=x", { env: noEnv });
    expect(s.writeUrl).toBe("https://db.example:8086/write?db=x&precision=ns");
  });

  it("1.x credentials become Basic auth and are masked in display", () => {
    const t = parseInfluxTarget("http://alice:s3cret@h:8086/?db=d", { env: noEnv });
    expect(t.headers.Authorization).toBe(`Basic ${Buffer.from("alice:s3cret").toString("base64")}`);
    expect(t.display).not.toContain("s3cret");
    expect(t.writeUrl).not.toContain("s3cret");
    const q = parseInfluxTarget("http://h:8086/?db=d&u=bob&p=pw", { env: noEnv });
    expect(q.headers.Authorization).toBe(`Basic ${Buffer.from("bob:pw").toString("base64")}`);
    expect(q.display).not.toContain("pw");
  });

  it("path prefix (reverse proxy) is kept; an explicit endpoint path picks the version", () => {
    expect(parseInfluxTarget("https://grafana.example/influx/?db=d", { env: noEnv }).writeUrl).toBe("https://grafana.example/influx/write?db=d&precision=ns");
    expect(parseInfluxTarget("http://h:9/x/write?db=d", { env: noEnv }).writeUrl).toBe("http://h:9/x/write?db=d&precision=ns");
    const v2 = parseInfluxTarget("http://h:9/api/v2/write?org=o&bucket=b", { env: noEnv });
    expect(v2.version).toBe(2);
    expect(v2.writeUrl).toBe("http://h:9/api/v2/write?org=o&bucket=b&precision=ns");
    const v3 = parseInfluxTarget("http://h:9/api/v3/write_lp?db=d", { env: noEnv });
    expect(v3.version).toBe(3);
    expect(v3.writeUrl).toBe("http://h:9/api/v3/write_lp?db=d&precision=nanosecond");
  });

  it("2.x: org+bucket select it; token → Authorization: Token; token may come from PROCTOR_INFLUX_TOKEN", () => {
    const t = parseInfluxTarget("http://h:8086/?org=acme&bucket=class%20q&token=abc", { env: noEnv });
    expect(t.version).toBe(2);
    expect(t.writeUrl).toBe("http://h:8086/api/v2/write?org=acme&bucket=class+q&precision=ns");
    expect(t.database).toBe("class q");
    expect(t.headers.Authorization).toBe("Token abc");
    expect(t.display).not.toContain("abc");
    const e = parseInfluxTarget("influx2+https://cloud.example/?org=o&bucket=b", { env: { PROCTOR_INFLUX_TOKEN: "fromenv" } });
    expect(e.writeUrl).toBe("https://cloud.example:8086/api/v2/write?org=o&bucket=b&precision=ns");
    expect(e.headers.Authorization).toBe("Token fromenv");
  });

  it("3.x: /api/v3/write_lp, precision=nanosecond, Bearer token, default port 8181", () => {
    const t = parseInfluxTarget("influx3://h/?db=proctor&token=T", { env: noEnv });
    expect(t.version).toBe(3);
    expect(t.writeUrl).toBe("http://h:8181/api/v3/write_lp?db=proctor&precision=nanosecond");
    expect(t.headers.Authorization).toBe("Bearer T");
  });

  it("errors name the parameter and the value", () => {
    const cases: [string, string, RegExp][] = [
      ["not a url", "url", /not a URL/],
      ["ftp://h/?db=x", "scheme", /unsupported/],
      ["http://h:8086/?db=x&bucke=y", "bucke", /unknown parameter for InfluxDB 1\.x/],
      ["http://h:8086/?org=o", "bucket", /required for InfluxDB 2\.x/],
      ["http://h:8086/?bucket=b", "org", /required for InfluxDB 2\.x/],
      ["influx3://h/?db=x&rp=autogen", "rp", /belongs to InfluxDB 1\.x/],
      ["http://h:8086/?db=", "db", /is empty/],
      ["http://h:8086/?db=a&db=b", "db", /given twice/],
      ["influx1://h/api/v2/write?db=x", "path", /2\.x write endpoint but the scheme says 1\.x/],
      ["influx2://u:p@h/?org=o&bucket=b", "userinfo", /token/],
      ["http://h:8086/?db=x&u=bob", "p", /together/],
    ];
    for (const [url, param, re] of cases) {
      let err: unknown;
      try {
        parseInfluxTarget(url, { source: "--influx", env: noEnv });
      } catch (e) {
        err = e;
      }
      expect(err, url).toBeInstanceOf(InfluxTargetError);
      const e = err as InfluxTargetError;
      expect(e.param, url).toBe(param);
      expect(e.code).toBe("PRX_ERR_INFLUX_URL");
      expect(e.message, url).toMatch(re);
      expect(e.message.startsWith("--influx: " + param), url).toBe(true);
    }
    expect(() => parseInfluxTarget("http://h:8086/?db=x&bucke=y")).toThrow(/bucke "y"/);
  });

  it("resolveInfluxTarget: flag wins over PROCTOR_INFLUX_URL; neither → null; errors name the source", () => {
    expect(resolveInfluxTarget(undefined, {})).toBeNull();
    expect(resolveInfluxTarget("", { PROCTOR_INFLUX_URL: " " })).toBeNull();
    expect(resolveInfluxTarget(undefined, { PROCTOR_INFLUX_URL: "http://e:1/?db=fromenv" })?.database).toBe("fromenv");
    expect(resolveInfluxTarget("http://f:1/?db=fromflag", { PROCTOR_INFLUX_URL: "http://e:1/?db=fromenv" })?.database).toBe("fromflag");
    expect(() => resolveInfluxTarget(undefined, { PROCTOR_INFLUX_URL: "http://e:1/?dbx=1" })).toThrow(/^PROCTOR_INFLUX_URL: dbx/);
  });
});

describe("refusedLines (server messages → lines not stored)", () => {
  it("1.x partial writes: dropped=N plus one per unparsable line; other 4xx: the whole batch", () => {
    // Messages as InfluxDB 1.6.7 sends them (recorded from the real server).
    const conflict = 'partial write: field type conflict: input field "v" on measurement "m" is type string, already exists as type float dropped=2';
    expect(refusedLines(JSON.stringify({ error: conflict }), conflict, 3)).toBe(2);
    const parse = "partial write: unable to parse 'm,bad v= 7': missing tag value\nunable to parse 'broken line here': invalid field format dropped=0";
    expect(refusedLines(JSON.stringify({ error: parse }), parse, 4)).toBe(2);
    expect(refusedLines('{"error":"database not found: \\"nope\\""}', 'database not found: "nope"', 7)).toBe(7);
  });

  it("2.x '(N written)' and 3.x data[] forms", () => {
    const m2 = "partial write error (5 written): unable to parse 'x': invalid field format";
    expect(refusedLines(JSON.stringify({ code: "invalid", message: m2 }), m2, 8)).toBe(3);
    const b3 = JSON.stringify({ error: "partial write of line protocol occurred", data: [{ original_line: "x", line_number: 2, error_message: "bad" }] });
    expect(refusedLines(b3, "partial write of line protocol occurred", 10)).toBe(1);
  });
});

type Recorded = { method: string; url: string; headers: IncomingMessage["headers"]; body: string };

/** Records every request; answers with the next scripted status (then 204). */
function recorder(): { server: Server; base: () => string; requests: Recorded[]; script: { status: number; body?: string; headers?: Record<string, string> }[] } {
  const requests: Recorded[] = [];
  const script: { status: number; body?: string; headers?: Record<string, string> }[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      requests.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") });
      const next = script.shift() ?? { status: 204 };
      res.writeHead(next.status, { "Content-Type": "application/json", ...next.headers });
      res.end(next.body ?? "");
    });
  });
  return {
    server,
    requests,
    script,
    base: () => {
      const a = server.address();
      return `127.0.0.1:${typeof a === "object" && a ? a.port : 0}`;
    },
  };
}

function points(n: number, t0: number): Point[] {
  return Array.from({ length: n }, (_, i) => ({
    measurement: "net",
    tags: { run: "r1", room: "class a", student: `s${i % 3}` },
    fields: { rtt_ms: i * 1.5, codec: "vp8", ok: i % 2 === 0 },
    timeUnixMs: t0 + i + 0.25,
  }));
}

describe("InfluxSink request building against a recording server", () => {
  const rec = recorder();
  let dir: string;
  beforeAll(async () => {
    await new Promise<void>((r) => rec.server.listen(0, "127.0.0.1", r));
    dir = mkdtempSync(join(tmpdir(), "proctor-influx-unit-"));
  });
  afterAll(async () => {
    await new Promise((r) => rec.server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  const cases: { name: string; url: () => string; path: string; auth: string | undefined }[] = [
    { name: "1.x", url: () => `http://u1:pw1@${rec.base()}/?db=proctor&rp=autogen`, path: "/write?db=proctor&rp=autogen&precision=ns", auth: `Basic ${Buffer.from("u1:pw1").toString("base64")}` },
    { name: "2.x", url: () => `http://${rec.base()}/?org=acme&bucket=proctor&token=tok2`, path: "/api/v2/write?org=acme&bucket=proctor&precision=ns", auth: "Token tok2" },
    { name: "3.x", url: () => `influx3://${rec.base()}/?db=proctor&token=tok3`, path: "/api/v3/write_lp?db=proctor&precision=nanosecond", auth: "Bearer tok3" },
  ];
  for (const c of cases) {
    it(`${c.name}: POST to the right path with the right headers, body = line protocol of the points`, async () => {
      rec.requests.length = 0;
      const sink = new InfluxSink(parseInfluxTarget(c.url(), { env: noEnv }), { dir: join(dir, c.name), batchLines: 4, flushIntervalMs: 60_000 });
      const ps = points(10, 1_700_000_000_000);
      sink.write(ps);
      await sink.close();
      expect(rec.requests.map((r) => r.method)).toEqual(["POST", "POST", "POST"]);
      for (const r of rec.requests) {
        expect(r.url).toBe(c.path);
        expect(r.headers.authorization).toBe(c.auth);
        expect(r.headers["content-type"]).toBe("text/plain; charset=utf-8");
      }
      // Batches of 4, 4, 2 lines, in order, exactly toLine's output (ns timestamps).
      expect(rec.requests.map((r) => r.body.split("\n").length)).toEqual([4, 4, 2]);
      expect(rec.requests.map((r) => r.body).join("\n")).toBe(ps.map((p) => toLine(p)).join("\n"));
      expect(rec.requests[0]!.body.split("\n")[0]).toBe('net,room=class\\ a,run=r1,student=s0 rtt_ms=0,codec="vp8",ok=true 1700000000000250000');
      const s = sink.stats();
      expect(s).toMatchObject({ accepted: 10, written: 10, rejected: 0, spooled: 0, dropped: 0, pending: 0, requests: 3, state: "closed" });
    });
  }

  it("retries 503 and 429 (honouring Retry-After), rejects a 400 into influx-rejected.lp and goes on", async () => {
    rec.requests.length = 0;
    rec.script.push(
      { status: 503, body: '{"error":"overloaded"}' },
      { status: 429, body: '{"message":"slow down"}', headers: { "Retry-After": "0" } },
      { status: 204 },
      { status: 400, body: '{"error":"partial write: unable to parse \'x\': invalid field format dropped=0"}' },
      { status: 204 },
    );
    const logs: string[] = [];
    const d = join(dir, "retry");
    const sink = new InfluxSink(parseInfluxTarget(`http://${rec.base()}/?db=proctor`, { env: noEnv }), { dir: d, batchLines: 3, flushIntervalMs: 60_000, backoffInitialMs: 10, log: (m) => logs.push(m) });
    sink.write(points(3, 1_700_000_000_000));
    expect(await sink.flush(5000)).toBe(true);
    sink.write(points(3, 1_700_000_010_000));
    expect(await sink.flush(5000)).toBe(true);
    sink.write(points(3, 1_700_000_020_000));
    await sink.close();
    // 3 tries for batch 1 (same body each time), 1 for batch 2 (refused), 1 for batch 3.
    expect(rec.requests).toHaveLength(5);
    expect(rec.requests[1]!.body).toBe(rec.requests[0]!.body);
    expect(rec.requests[2]!.body).toBe(rec.requests[0]!.body);
    const s = sink.stats();
    expect(s).toMatchObject({ accepted: 9, written: 8, rejected: 1, dropped: 0, retries: 2, pending: 0 });
    // The first failure spooled batch 1 to disk; the retry that succeeded replayed it from there.
    expect(s.spooled).toBe(3);
    expect(s.replayed).toBe(3);
    const rejected = readFileSync(join(d, "influx-rejected.lp"), "utf8").trimEnd().split("\n");
    expect(rejected[0]).toMatch(/^# .* HTTP 400 from .*unable to parse 'x'.*kept 2 of these 3 lines$/);
    expect(rejected.slice(1)).toEqual(rec.requests[3]!.body.split("\n"));
    expect(logs.some((l) => l.includes("unavailable (HTTP 503: overloaded)"))).toBe(true);
    expect(logs.some((l) => l.includes("refused 1 of 3 lines"))).toBe(true);
  });
});
