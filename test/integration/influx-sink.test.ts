// InfluxSink against a real influxd 1.x (apt influxdb) on loopback: points arrive intact, a
// SIGKILL mid-stream loses nothing (spool + replay), 4xx batches are set aside without stalling,
// close() flushes the tail, a spool left by a failed close is replayed by the next sink.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InfluxSink, replayInfluxSpool } from "../../src/metrics/influx-sink.js";
import { parseInfluxTarget } from "../../src/metrics/influx-target.js";
import { freeLoopbackPort, generateInfluxdConfig } from "../../src/metrics/influxd-local.js";
import { toLine } from "../../src/metrics/line-protocol.js";
import type { Point } from "../../src/metrics/sample.js";
import { influxd, startTestInfluxd, type TestInfluxd } from "../helpers/influxd.js";

const MEASUREMENTS = ["net", "video", "audio"] as const;

/** Point i: unique time per series (1 µs steps), integer-valued fields so sums are exact. */
function point(i: number, t0: number, run: string): Point {
  return {
    measurement: MEASUREMENTS[i % 3]!,
    tags: { run, room: "class a", student: `s ${i % 5},x=y`, agent: "werift" },
    fields: { v: i, half: i / 2, note: `n"${i % 7}"`, ok: i % 2 === 0 },
    timeUnixMs: t0 + i * 0.001,
  };
}

type Expect = Map<string, { count: number; sum: number }>;
function expected(ps: readonly Point[]): Expect {
  const m: Expect = new Map();
  for (const p of ps) {
    const e = m.get(p.measurement) ?? { count: 0, sum: 0 };
    e.count++;
    e.sum += p.fields.v as number;
    m.set(p.measurement, e);
  }
  return m;
}

async function actual(db: TestInfluxd, run: string): Promise<Expect> {
  const m: Expect = new Map();
  for (const name of MEASUREMENTS) {
    const s = await db.query(`SELECT count(v), sum(v) FROM "${name}" WHERE run = '${run}'`);
    const row = s[0]?.values[0];
    if (row) m.set(name, { count: row[1] as number, sum: row[2] as number });
  }
  return m;
}

/** RFC 3339 with up to 9 fraction digits → ns since epoch. */
function rfc3339ToNs(s: string): bigint {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?Z$/.exec(s);
  if (!m) throw new Error(`bad time ${s}`);
  return BigInt(Date.parse(`${m[1]}Z`)) * 1_000_000n + BigInt((m[2] ?? "").padEnd(9, "0"));
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), "proctor-influx-run-"));
}


describe.skipIf(!influxd.ok)("InfluxSink → real influxd 1.x", () => {
  let db: TestInfluxd;
  const dirs: string[] = [];
  const runDir = (): string => {
    const d = tempDir();
    dirs.push(d);
    return d;
  };
  beforeAll(async () => {
    db = await startTestInfluxd();
  });
  afterAll(async () => {
    await db?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it("generated config keeps everything on loopback and in the folder, reporting off", () => {
    const defaults = execFileSync(influxd.ok ? influxd.path : "influxd", ["config", "-config", "/dev/null"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
    const conf = generateInfluxdConfig(defaults, { dir: "/x/y", httpPort: 18086, rpcPort: 18088 });
    const binds = [...conf.matchAll(/bind-address\s*=\s*"([^"]*)"/g)].map((m) => m[1]);
    expect(binds.length).toBeGreaterThanOrEqual(2);
    for (const b of binds) expect(b).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(conf).toMatch(/^reporting-disabled = true$/m);
    expect(conf).not.toMatch(/^reporting-enabled = true$/m);
    expect(conf).toContain('dir = "/x/y/meta"');
    expect(conf).toContain('dir = "/x/y/data"');
    expect(conf).toContain('wal-dir = "/x/y/wal"');
    expect(conf).toContain('bind-address = "127.0.0.1:18086"');
    expect(conf).not.toContain("/var/lib/influxdb");
    expect(conf).not.toContain(".influxdb");
    // The running test server listens on 127.0.0.1 only.
    const ss = execFileSync("ss", ["-ltn"], { encoding: "utf8" });
    expect(ss).toContain(`127.0.0.1:${db.port}`);
    expect(ss).not.toMatch(new RegExp(`(\\*|0\\.0\\.0\\.0|\\[::\\]):${db.port}\\b`));
  });

  it("points arrive with tags, fields and ns timestamps intact; measured write rate", async () => {
    const run = "arrive";
    const t0 = 1_780_000_000_000.123;
    const ps = Array.from({ length: 30_000 }, (_, i) => point(i, t0, run));
    const sink = new InfluxSink(parseInfluxTarget(db.url), { dir: runDir() });
    const started = performance.now();
    for (let i = 0; i < ps.length; i += 500) sink.write(ps.slice(i, i + 500));
    await sink.close();
    const secs = (performance.now() - started) / 1000;
    console.log(`influx write: ${ps.length} points in ${secs.toFixed(2)} s = ${Math.round(ps.length / secs)} points/s (batch 5000, loopback influxd)`);

    expect(await actual(db, run)).toEqual(expected(ps));
    const s = sink.stats();
    expect(s).toMatchObject({ accepted: 30_000, written: 30_000, spooled: 0, replayed: 0, rejected: 0, dropped: 0, pending: 0 });

    // A few points read back field by field, time to the nanosecond as toLine wrote it.
    for (const i of [0, 1, 12_345, 29_999]) {
      const p = ps[i]!;
      const rows = await db.query(`SELECT v, half, note, ok, student, room, agent FROM "${p.measurement}" WHERE run = '${run}' AND v = ${i}`);
      const r = rows[0]!;
      expect(r.values).toHaveLength(1);
      const row = Object.fromEntries(r.columns.map((c, k) => [c, r.values[0]![k]]));
      expect(row).toMatchObject({ v: i, half: i / 2, note: `n"${i % 7}"`, ok: i % 2 === 0, student: `s ${i % 5},x=y`, room: "class a", agent: "werift" });
      const lineNs = toLine(p)!.split(" ").at(-1)!;
      expect(rfc3339ToNs(row.time as string)).toBe(BigInt(lineNs));
    }
  });

  it("influxd SIGKILLed mid-stream and restarted: nothing lost, spool replayed in full", async () => {
    const run = "outage";
    const t0 = 1_780_000_100_000;
    const logs: string[] = [];
    const sink = new InfluxSink(parseInfluxTarget(db.url), { dir: runDir(), batchLines: 1000, flushIntervalMs: 100, backoffInitialMs: 50, backoffMaxMs: 500, log: (m) => logs.push(m) });
    const written: Point[] = [];
    let i = 0;
    const writeSome = (): void => {
      const batch = Array.from({ length: 50 }, () => point(i++, t0, run));
      written.push(...batch);
      sink.write(batch);
    };
    const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
    // ~10 000 points/s: 50 every 5 ms, for 1.5 s before the kill, during the outage, after the restart.
    const writer = setInterval(writeSome, 5);
    await sleep(1500);
    await db.kill();
    const killedAt = performance.now();
    await sleep(1500);
    const beforeRestart = sink.stats();
    await db.restart();
    const restartedAt = performance.now();
    let drainedAt = 0;
    while (performance.now() - restartedAt < 20_000) {
      if (sink.stats().spoolLines === 0) {
        drainedAt = performance.now();
        break;
      }
      await sleep(10);
    }
    await sleep(1000);
    clearInterval(writer);
    await sink.close();
    const s = sink.stats();
    console.log(
      `influx outage: ${written.length} points, ${s.spooled} spooled during ${((restartedAt - killedAt) / 1000).toFixed(1)} s down, ` +
        `replayed in ${((drainedAt - restartedAt) / 1000).toFixed(2)} s after restart; requests ${s.requests}, retries ${s.retries}`,
    );

    expect(beforeRestart.state).toBe("offline");
    expect(beforeRestart.spoolFiles).toBeGreaterThan(0);
    expect(drainedAt).toBeGreaterThan(0);
    expect(s.spooled).toBeGreaterThan(1000);
    expect(s.replayed).toBe(s.spooled);
    expect(s.dropped).toBe(0);
    expect(s.rejected).toBe(0);
    expect(s.written).toBe(written.length);
    expect(s.pending).toBe(0);
    expect(s.accepted).toBe(written.length);
    expect(s.accepted + s.resumed).toBe(s.written + s.rejected + s.dropped + s.pending);
    expect(s.spooled + s.resumed).toBe(s.replayed + s.spoolLines);
    expect(readdirSync(sink.spoolDir)).toEqual([]);
    expect(logs.some((l) => l.includes("unavailable"))).toBe(true);
    expect(logs.some((l) => l.includes("answering again"))).toBe(true);
    expect(await actual(db, run)).toEqual(expected(written));
  });

  it("4xx: unknown database and bad lines are counted as rejected, kept on disk, and later writes go through", async () => {
    const t0 = 1_780_000_200_000;
    // Unknown database → 404 for every batch.
    const dirA = runDir();
    const logs: string[] = [];
    const wrongDb = new InfluxSink(parseInfluxTarget(`http://127.0.0.1:${db.port}/?db=nope`), { dir: dirA, batchLines: 40, log: (m) => logs.push(m) });
    wrongDb.write(Array.from({ length: 100 }, (_, i) => point(i, t0, "nope")));
    expect(await wrongDb.flush(10_000)).toBe(true);
    await wrongDb.close();
    expect(wrongDb.stats()).toMatchObject({ accepted: 100, written: 0, rejected: 100, dropped: 0, requests: 3, retries: 0 });
    const rejectedA = readFileSync(join(dirA, "influx-rejected.lp"), "utf8").trimEnd().split("\n");
    expect(rejectedA.filter((l) => l.startsWith("#"))).toHaveLength(3);
    expect(rejectedA.filter((l) => l.startsWith("#"))[0]).toContain('HTTP 404 from http://127.0.0.1');
    expect(rejectedA.filter((l) => l.startsWith("#"))[0]).toContain("database not found");
    expect(rejectedA.filter((l) => !l.startsWith("#"))).toHaveLength(100);
    expect(logs.some((l) => l.includes("database not found"))).toBe(true);

    // Right database: a batch with a type conflict, then one with an unparsable line, between good
    // batches. (1.x names only one kind of error per response, so each kind gets its own batch.)
    const run = "bad-lines";
    const dirB = runDir();
    const sink = new InfluxSink(parseInfluxTarget(db.url), { dir: dirB, log: () => undefined });
    sink.write([point(0, t0, run)]);
    expect(await sink.flush(10_000)).toBe(true);
    sink.writeLines([`net,run=${run} v="a string now" ${BigInt(t0) * 1_000_000n + 5n}`, toLine(point(3, t0, run))!, toLine(point(4, t0, run))!, toLine(point(5, t0, run))!]);
    expect(await sink.flush(10_000)).toBe(true);
    sink.writeLines([toLine(point(6, t0, run))!, `net,run=${run},broken v= 1`, toLine(point(7, t0, run))!]);
    expect(await sink.flush(10_000)).toBe(true);
    const later = Array.from({ length: 600 }, (_, k) => point(8 + k, t0, run));
    sink.write(later);
    const flushedIn = performance.now();
    expect(await sink.flush(10_000)).toBe(true);
    expect(performance.now() - flushedIn).toBeLessThan(5000);
    await sink.close();
    expect(sink.stats()).toMatchObject({ accepted: 608, written: 606, rejected: 2, dropped: 0, retries: 0, requests: 4 });
    const good = [0, 3, 4, 5, 6, 7].map((i) => point(i, t0, run)).concat(later);
    expect(await actual(db, run)).toEqual(expected(good));
    const rejectedB = readFileSync(join(dirB, "influx-rejected.lp"), "utf8");
    expect(rejectedB).toMatch(/^# .*HTTP 400 .*partial write: field type conflict.*kept 3 of these 4 lines\n/);
    expect(rejectedB).toMatch(/\n# .*HTTP 400 .*partial write: unable to parse .*kept 2 of these 3 lines\n/);
    expect(rejectedB).toContain(`net,run=${run},broken v= 1\n`);
  });

  it("close() flushes the tail written just before it", async () => {
    const run = "tail";
    const ps = Array.from({ length: 1234 }, (_, i) => point(i, 1_780_000_300_000, run));
    // A flush interval far beyond the test and a batch larger than the data: only close() sends.
    const sink = new InfluxSink(parseInfluxTarget(db.url), { dir: runDir(), batchLines: 5000, flushIntervalMs: 600_000 });
    sink.write(ps);
    expect(sink.stats().requests).toBe(0);
    await sink.close();
    expect(sink.stats()).toMatchObject({ written: 1234, requests: 1, pending: 0 });
    expect(await actual(db, run)).toEqual(expected(ps));
  });

  it("close() with the database away gives up after its bound, leaves the spool, and says so; the next sink replays it", async () => {
    const run = "left-over";
    const dir = runDir();
    const deadPort = await freeLoopbackPort();
    const logs: string[] = [];
    const ps = Array.from({ length: 2500 }, (_, i) => point(i, 1_780_000_400_000, run));
    const away = new InfluxSink(parseInfluxTarget(`http://127.0.0.1:${deadPort}/?db=proctor`), { dir, batchLines: 1000, closeTimeoutMs: 800, backoffInitialMs: 50, log: (m) => logs.push(m) });
    away.write(ps);
    const t = performance.now();
    await away.close();
    expect(performance.now() - t).toBeLessThan(3000);
    expect(away.stats()).toMatchObject({ accepted: 2500, written: 0, spooled: 2500, replayed: 0, dropped: 0, pending: 2500, spoolFiles: 3, state: "closed" });
    expect(logs.some((l) => l.includes("gave up after 800 ms") && l.includes("2500 lines") && l.includes(away.spoolDir))).toBe(true);
    expect(readdirSync(away.spoolDir).sort()).toEqual(["000001.lp", "000002.lp", "000003.lp"]);

    const stats = await replayInfluxSpool(parseInfluxTarget(db.url), dir, { log: () => undefined });
    expect(stats).toMatchObject({ resumed: 2500, accepted: 0, written: 2500, replayed: 2500, pending: 0, dropped: 0 });
    expect(readdirSync(away.spoolDir)).toEqual([]);
    expect(await actual(db, run)).toEqual(expected(ps));
  });
});
