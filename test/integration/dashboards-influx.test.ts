// Every query of both dashboards against a real influxd after a real class: one light student
// through a netem profile (delay step, then a 700 ms blackout, so netem_step and freeze events
// exist), two clips (a clip switch), budgets, and one Chromium student on a clean link (its live
// `pixel` points feed the browser panels; without Chromium here those queries are skipped, said). The runner writes its points live to InfluxDB; the
// test adds the end-of-run points of runSummaryPoints. Then each panel target, variable query and
// annotation query is filled in as Grafana would ($run, $room, $student, $scenario, $timeFilter
// around the run, $__interval = 1s) and must return at least one non-null value.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dashboardsAsCode } from "../../src/dashboards/build.js";
import { interpolateInfluxQL, last, select, tagEquals, tagVar, type InterpolateOptions } from "../../src/dashboards/influxql.js";
import { InfluxSink } from "../../src/metrics/influx-sink.js";
import { parseInfluxTarget } from "../../src/metrics/influx-target.js";
import { runSummaryPoints } from "../../src/metrics/run-points.js";
import type { RunResult } from "../../src/scenario/runner.js";
import { runYaml } from "../helpers/class-run.js";
import { influxd, influxdSkipReason, startTestInfluxd, type Series, type TestInfluxd } from "../helpers/influxd.js";
import { chromiumUnavailable } from "../helpers/chromium.js";

const noBrowser = chromiumUnavailable();
const BROWSER = "b";
const BROWSER_GROUP = `
      - { group: ${BROWSER}, count: 1, agent: chromium }`;

const YAML = `
name: dash-test
seed: 11
duration: 6s
lesson: test/fixtures/lessons/quick.yaml
rooms:
  - id: room-1
    mode: per-student
    students:
      - group: s
        count: 1
        agent: werift
        behaviour: { answer: click, correct: 1, after: 500ms }
        netem: { steps: [ { at: 0s, both: {} }, { at: 1500ms, down: { delay: 80ms } }, { at: 2800ms, down: { delay: 80ms, loss: 100% } }, { at: 3500ms, down: { delay: 80ms } } ] }${noBrowser ? "" : BROWSER_GROUP}
budgets:
  latency_ms: ["p95 <= 400", "max <= 5000"]
  switch_gap_ms: ["max <= 500"]
  freeze_count: ["max <= 0"]
`;

type Query = { where: string; query: string };

function hasValue(series: Series[]): boolean {
  return series.some((s) => s.values.some((row) => row.slice(1).some((v) => v !== null && v !== undefined)));
}

if (influxdSkipReason) console.log(`dashboards-influx: skipped: ${influxdSkipReason}`);
if (noBrowser) console.log(`dashboards-influx: no browser student in the class (${noBrowser}): queries of the "pixel" measurement are not checked`);

describe.skipIf(!influxd.ok)("dashboards against a real influxd after a real class", () => {
  let db: TestInfluxd;
  let run: RunResult;
  let fill: InterpolateOptions;
  const student = "s";

  beforeAll(async () => {
    db = await startTestInfluxd();
    const target = parseInfluxTarget(db.url);
    run = await runYaml(YAML, { influx: target });
    const r = run.report;
    console.log(`run ${r.run.id}: status ${r.status}, influx ${JSON.stringify(r.sinks?.influx)}`);
    expect(r.sinks?.influx?.dropped).toBe(0);
    // What the runner would hand runSummaryPoints: the value lists the budgets were judged on.
    const s = run.students[0]!;
    const values: Record<string, number[]> = {
      latency_ms: s.agent.frames.filter((f) => f.captureUnixMs !== undefined).map((f) => f.completeUnixMs - f.captureUnixMs!),
      switch_gap_ms: s.summary.switchGaps.map((g) => g.gapMs),
      freeze_count: [s.summary.freezes.count],
      mos_audio: [s.summary.mos.audio],
    };
    const sink = new InfluxSink(target, { dir: mkdtempSync(join(tmpdir(), "proctor-dash-sink-")), log: (m) => console.log(`influx: ${m}`) });
    sink.write(runSummaryPoints(r, { build: "test-build" }, values));
    await sink.close();
    expect(sink.stats().written).toBeGreaterThan(0);
    expect(sink.stats().rejected).toBe(0);
    const start = Date.parse(r.run.startedAt);
    fill = {
      vars: { run: r.run.id, room: "room-1", student: noBrowser ? student : [student, BROWSER], scenario: r.run.scenario },
      range: { fromMs: start - 10_000, toMs: Date.now() + 10_000 },
      intervalMs: 1000,
    };
  });

  afterAll(async () => {
    await db?.stop();
  });

  it("the class produced what the dashboards draw: netem steps, a clip switch, a freeze", () => {
    const s = run.students[0]!;
    console.log(`freezes ${s.summary.freezes.count}, switches ${s.summary.switchGaps.length}, lip-sync ${s.summary.avSync?.offsetMs?.toFixed(1)} ms, loss ${(s.summary.video.lossBeforeRepair ?? 0).toFixed(3)}`);
    expect(s.summary.switchGaps.length).toBeGreaterThanOrEqual(1);
    expect(s.summary.freezes.count).toBeGreaterThanOrEqual(1);
  });

  for (const { file } of dashboardsAsCode()) {
    it(`${file}: every panel query returns data`, async () => {
      const d = dashboardsAsCode().find((x) => x.file === file)!.dashboard;
      const queries: Query[] = [];
      const visit = (ps: unknown[] | undefined): void => {
        for (const p of (ps ?? []) as { type: string; title?: string; panels?: unknown[]; targets?: { refId: string; query: string }[] }[]) {
          if (p.type === "row") visit(p.panels);
          else for (const t of p.targets ?? []) queries.push({ where: `panel "${p.title}" ${t.refId}`, query: t.query });
        }
      };
      visit(d.panels);
      expect(queries.length).toBeGreaterThanOrEqual(10);
      const empty: string[] = [];
      let checked = 0;
      for (const q of queries) {
        if (noBrowser && q.query.includes('FROM "pixel"')) continue;
        checked++;
        const text = interpolateInfluxQL(q.query, fill);
        const series = await db.query(text);
        if (!hasValue(series)) empty.push(`${q.where}: ${text}`);
      }
      console.log(`${file}: ${queries.length} panel queries, ${checked} checked, ${checked - empty.length} with data`);
      expect(empty, `queries without data:\n${empty.join("\n")}`).toEqual([]);
    });

    it(`${file}: every variable and annotation query returns data`, async () => {
      const d = dashboardsAsCode().find((x) => x.file === file)!.dashboard;
      const queries: Query[] = [];
      for (const v of d.templating?.list ?? []) if (v.type === "query") queries.push({ where: `variable $${v.name}`, query: String(v.query) });
      for (const a of d.annotations?.list ?? []) queries.push({ where: `annotation "${a.name}"`, query: (a.target as unknown as { query: string }).query });
      const empty: string[] = [];
      for (const q of queries) {
        const text = interpolateInfluxQL(q.query, fill);
        const series = await db.query(text);
        if (!hasValue(series)) empty.push(`${q.where}: ${text}`);
      }
      console.log(`${file}: ${queries.length} variable/annotation queries, ${queries.length - empty.length} with data`);
      expect(empty, `queries without data:\n${empty.join("\n")}`).toEqual([]);
    });
  }

  it("variables list the run's own values; annotations carry every netem step", async () => {
    const runs = await db.query(interpolateInfluxQL('SHOW TAG VALUES FROM "wire" WITH KEY = "run"', fill));
    expect(runs[0]!.values.map((v) => v[1])).toContain(run.report.run.id);
    const students = await db.query(interpolateInfluxQL('SHOW TAG VALUES FROM "wire" WITH KEY = "student" WHERE "run" =~ /^$run$/ AND "room" =~ /^$room$/', fill));
    expect(students[0]!.values.map((v) => v[1])).toEqual([student]);
    // The dashboard's own student variable lists light and browser students alike.
    const inClassVars = dashboardsAsCode()[0]!.dashboard.templating!.list!;
    const studentVar = String(inClassVars.find((v) => v.name === "student")!.query);
    const listed = (await db.query(interpolateInfluxQL(studentVar, fill))).flatMap((x) => x.values.map((v) => v[1]));
    expect(listed.sort()).toEqual(noBrowser ? [student] : [BROWSER, student]);
    const inClass = dashboardsAsCode()[0]!.dashboard;
    const netem = inClass.annotations!.list!.find((a) => a.name === "Netem steps")!;
    const rows = (await db.query(interpolateInfluxQL((netem.target as unknown as { query: string }).query, fill)))[0]!;
    // 4 profile steps; each records one event per direction it sets (both = down + up).
    expect(rows.values.length).toBeGreaterThanOrEqual(4);
    const delayCol = rows.columns.indexOf("delay_ms");
    expect(rows.values.map((r) => r[delayCol])).toContain(80);
  });

  it("summary points hold the report's figures exactly, and budget rows match the verdicts", async () => {
    const w = run.report.students[0]!.wire;
    const q = select(last("latency_p95_ms"), last("freeze_count"), last("switch_count")).from("student_summary").where(tagVar("run"), tagEquals("student", student));
    const row = (await db.query(interpolateInfluxQL(q.toString(), fill)))[0]!.values[0]!;
    expect(row.slice(1)).toEqual([w.latencyMs.p95, w.freezes.count, w.switchGaps.length]);
    const budgets = await db.query(interpolateInfluxQL('SELECT last("pass") AS "pass", last("limit") AS "limit" FROM "budget" WHERE "run" =~ /^$run$/ GROUP BY "metric", "expression"', fill));
    expect(budgets.length).toBe(run.report.budgets.length);
    for (const v of run.report.budgets) {
      const s = budgets.find((b) => b.tags?.metric === v.metric && b.tags?.expression === v.expression);
      expect(s, `${v.metric} ${v.expression}`).toBeDefined();
      expect(s!.values[0]!.slice(1)).toEqual([v.pass ? 1 : 0, v.limit]);
    }
    // The freeze budget ("max <= 0") must have failed: the blackout froze the picture.
    expect(budgets.find((b) => b.tags?.metric === "freeze_count")!.values[0]![1]).toBe(0);
  });

  it("escaping survives a real influxd: quotes, regex metacharacters and spaces in names and values", async () => {
    const room = `o'neil "A" 1/2.(x)`;
    const target = parseInfluxTarget(db.url);
    const sink = new InfluxSink(target, { dir: mkdtempSync(join(tmpdir(), "proctor-dash-esc-")) });
    sink.write([{ measurement: "esc test", tags: { run: "esc", room }, fields: { "we'ird f": 42 }, timeUnixMs: Date.now() }]);
    await sink.close();
    const byEquals = select(last("we'ird f")).from("esc test").where(tagEquals("room", room)).toString();
    expect((await db.query(byEquals))[0]!.values[0]![1]).toBe(42);
    const byVar = interpolateInfluxQL(select(last("we'ird f")).from("esc test").where(tagVar("room")).toString(), { vars: { room } });
    expect((await db.query(byVar))[0]!.values[0]![1]).toBe(42);
    const other = interpolateInfluxQL(select(last("we'ird f")).from("esc test").where(tagVar("room")).toString(), { vars: { room: `o'neil "A" 1/2x(x)` } });
    expect(await db.query(other)).toEqual([]);
  });
});
