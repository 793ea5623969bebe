// Dashboards as code: structure (every panel has the InfluxDB data source and InfluxQL queries that
// only use known variables; the variables and annotations exist), deterministic rendering, the
// provisioning files, and a check that the committed dashboards/ files are not stale.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import {
  buildDashboards,
  dashboardCommand,
  dashboardsAsCode,
  DEFAULT_GRAFANA_DASHBOARDS_DIR,
  DEFAULT_GRAFANA_INFLUX_URL,
  renderDashboards,
} from "../../src/dashboards/build.js";
import { interpolateInfluxQL } from "../../src/dashboards/influxql.js";

type Json = Record<string, unknown>;
type Target = { refId?: string; query?: string; rawQuery?: boolean; datasource?: { type?: string; uid?: string }; fromAnnotations?: boolean; resultFormat?: string };
type PanelJson = { id?: number; type: string; title?: string; datasource?: { type?: string; uid?: string }; targets?: Target[]; panels?: PanelJson[]; repeat?: string; gridPos?: { x: number; y: number; w: number; h: number } };
type DashJson = { uid: string; title: string; panels: PanelJson[]; templating: { list: Json[] }; annotations: { list: { name: string; target?: Target; datasource?: Json }[] } };

const committedRoot = join(process.cwd(), "dashboards");
const DEFAULTS = { influxUrl: DEFAULT_GRAFANA_INFLUX_URL, dashboardsPath: DEFAULT_GRAFANA_DASHBOARDS_DIR };

function rendered(): Map<string, string> {
  return new Map(renderDashboards(DEFAULTS, {}).map((f) => [f.path, f.content]));
}

function dash(file: string): DashJson {
  return JSON.parse(rendered().get(file)!) as DashJson;
}

function flatPanels(ps: PanelJson[]): PanelJson[] {
  return ps.flatMap((p) => [p, ...flatPanels(p.panels ?? [])]);
}

/** Every variable a query may use, with a value (Grafana fills the built-ins). */
const ALL_VARS = { vars: { run: "r", room: "room-1", student: ["a", "b"], scenario: "s" }, range: { fromMs: 0, toMs: 1 }, intervalMs: 1000 };

describe.each(["in-class.json", "post-class.json"])("%s", (file) => {
  const d = dash(file);
  const panels = flatPanels(d.panels).filter((p) => p.type !== "row");

  it("has panels, each with the InfluxDB data source and at least one raw InfluxQL query", () => {
    expect(panels.length).toBeGreaterThanOrEqual(8);
    for (const p of panels) {
      expect(p.datasource, p.title).toEqual({ type: "influxdb", uid: "${datasource}" });
      expect(p.targets?.length, p.title).toBeGreaterThan(0);
      const refIds = new Set<string>();
      for (const t of p.targets ?? []) {
        expect(t.rawQuery, p.title).toBe(true);
        expect(t.datasource).toEqual(p.datasource);
        expect(t.query, p.title).toMatch(/^SELECT .+ FROM "[a-z_]+"/);
        expect(refIds.has(t.refId!), `${p.title}: duplicate refId ${t.refId}`).toBe(false);
        refIds.add(t.refId!);
      }
    }
  });

  it("queries use only the dashboard's variables and Grafana's built-ins", () => {
    const declared = new Set(d.templating.list.map((v) => v.name as string));
    const queries = [...panels.flatMap((p) => (p.targets ?? []).map((t) => t.query!)), ...d.annotations.list.map((a) => a.target!.query!), ...d.templating.list.flatMap((v) => (v.type === "query" ? [v.query as string] : []))];
    for (const q of queries) {
      for (const m of q.matchAll(/\$\{?([A-Za-z_]\w*)/g)) {
        const name = m[1]!;
        if (["timeFilter", "__interval"].includes(name)) continue;
        expect(declared.has(name), `${q} uses $${name}, not a variable of ${file}`).toBe(true);
      }
      expect(() => interpolateInfluxQL(q, ALL_VARS)).not.toThrow();
    }
  });

  it("panel ids are unique and every panel fits the 24-column grid", () => {
    const ids = flatPanels(d.panels).map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of flatPanels(d.panels)) {
      expect(p.gridPos).toBeDefined();
      expect(p.gridPos!.x + p.gridPos!.w).toBeLessThanOrEqual(24);
    }
  });

  it("annotations are InfluxQL queries over proctor's measurements, marked fromAnnotations", () => {
    expect(d.annotations.list.length).toBeGreaterThan(0);
    for (const a of d.annotations.list) {
      expect(a.datasource).toEqual({ type: "influxdb", uid: "${datasource}" });
      expect(a.target?.fromAnnotations).toBe(true);
      expect(a.target?.rawQuery).toBe(true);
      expect(a.target?.query).toMatch(/^SELECT .+ FROM "(event|run_summary)" WHERE .*\$timeFilter/);
    }
  });
});

describe("in-class specifics", () => {
  const d = dash("in-class.json");
  it("variables run / room / student are SHOW TAG VALUES queries chained run → room → student; datasource is a variable", () => {
    const byName = new Map(d.templating.list.map((v) => [v.name as string, v]));
    expect([...byName.keys()]).toEqual(["datasource", "run", "room", "student"]);
    expect(byName.get("datasource")!.type).toBe("datasource");
    // Light students write `wire`, browser students `pixel`: the variables list both.
    expect(byName.get("run")!.query).toBe('SHOW TAG VALUES FROM "wire", "pixel" WITH KEY = "run"');
    expect(byName.get("room")!.query).toMatch(/WITH KEY = "room" WHERE "run" =~ \/\^\$run\$\//);
    expect(byName.get("student")!.query).toMatch(/WITH KEY = "student" WHERE "run" =~ .* AND "room" =~ /);
    expect(byName.get("student")!.multi).toBe(true);
    expect(byName.get("student")!.includeAll).toBe(true);
  });

  it("annotations cover netem steps, clip starts and switches, joins and freezes from the event measurement", () => {
    const kinds = d.annotations.list.map((a) => /"kind" = '([a-z_]+)'/.exec(a.target!.query!)?.[1]);
    expect(kinds.sort()).toEqual(["answer", "clip_start", "clip_switch", "freeze", "join", "netem_step"]);
  });

  it("a row repeats per student, and its panels cover latency, lip-sync, freezes, audio, loss/jitter, bitrate/fps", () => {
    const rows = d.panels.filter((p) => p.type === "row");
    const repeated = rows.find((r) => r.repeat === "student");
    expect(repeated).toBeDefined();
    const after = d.panels.slice(d.panels.indexOf(repeated!) + 1).filter((p) => p.type !== "row");
    const titles = after.map((p) => p.title!.toLowerCase()).join(" | ");
    for (const word of ["latency", "lip-sync", "freezes", "audio", "loss", "jitter", "bitrate", "frame rate"]) expect(titles).toContain(word);
    for (const p of after) for (const t of p.targets!) expect(t.query).toMatch(/"student" =~ \/\^\$student\$\//);
    // Each per-student panel but the freeze events draws a browser student's pixel series too.
    for (const p of after.filter((x) => !x.title!.startsWith("Freezes"))) expect(p.targets!.some((t) => t.query!.includes('FROM "pixel"')), p.title).toBe(true);
  });

  it("a browser-students row draws the pixel tier beside Chromium's own readings, by student", () => {
    const rows = d.panels.filter((p) => p.type === "row");
    const row = rows.find((r) => /browser/i.test(r.title ?? ""));
    expect(row).toBeDefined();
    const next = rows[rows.indexOf(row!) + 1];
    const panels = d.panels.slice(d.panels.indexOf(row!) + 1, next ? d.panels.indexOf(next) : undefined);
    const queries = panels.flatMap((p) => p.targets!.map((t) => t.query!));
    expect(panels.length).toBeGreaterThanOrEqual(4);
    for (const q of queries) expect(q).toMatch(/FROM "pixel" .*GROUP BY time\(\$__interval\), "student"/);
    for (const f of ["latency_p95_ms", "lipsync_ms", "playout_lipsync_ms", "fps", "codes_read", "jitter_buffer_ms", "audio_jitter_buffer_ms"]) expect(queries.some((q) => q.includes(`"${f}"`)), f).toBe(true);
  });
});

describe("post-class specifics", () => {
  const d = dash("post-class.json");
  const panels = flatPanels(d.panels).filter((p) => p.type !== "row");
  it("has the budget table, the per-metric and per-student tables, and trends grouped by scenario and build", () => {
    const byTitle = new Map(panels.map((p) => [p.title!, p]));
    expect(byTitle.get("Budgets")!.type).toBe("table");
    expect(byTitle.get("Budgets")!.targets![0]!.query).toBe('SELECT last("measured") AS "measured", last("limit") AS "limit", last("pass") AS "pass" FROM "budget" WHERE "run" =~ /^$run$/ GROUP BY "metric", "expression"');
    expect(byTitle.get("Budgets")!.targets![0]!.resultFormat).toBe("table");
    expect(byTitle.get("Per metric: p50 / p95 / max")!.targets![0]!.query).toMatch(/FROM "run_metric" .*GROUP BY "metric"/);
    expect(byTitle.get("Per student")!.targets![0]!.query).toMatch(/FROM "student_summary" .*GROUP BY "room", "student", "profile"/);
    const trends = panels.filter((p) => p.type === "timeseries" && p.targets!.some((t) => /GROUP BY time\(\$__interval\), "scenario", "build"/.test(t.query!)));
    expect(trends.length).toBeGreaterThanOrEqual(3);
    expect(d.templating.list.map((v) => v.name)).toEqual(["datasource", "scenario", "run"]);
  });
});

describe("rendering and provisioning", () => {
  it("is deterministic: two renders are byte-identical and carry no functions", () => {
    const a = renderDashboards(DEFAULTS, {});
    const b = renderDashboards(DEFAULTS, {});
    expect(a).toEqual(b);
    expect(a.map((f) => f.path)).toEqual(["in-class.json", "post-class.json", join("provisioning", "datasources", "proctor.yaml"), join("provisioning", "dashboards", "proctor.yaml")]);
    expect(a[0]!.content).not.toContain("_implementsDataqueryVariant");
    expect(dashboardsAsCode().map((x) => x.dashboard.uid)).toEqual(["proctor-in-class", "proctor-post-class"]);
  });

  it("datasource provisioning takes the InfluxDB URL from the environment, default 127.0.0.1:8086 db proctor", () => {
    const ds = (env: Record<string, string>) => renderDashboards({}, env).find((f) => f.path.includes("datasources"))!.content;
    const def = ds({});
    expect(def).toContain('url: "http://127.0.0.1:8086"');
    expect(def).toContain('dbName: "proctor"');
    expect(def).toContain("type: influxdb");
    expect(def).toContain('uid: "proctor-influxdb"');
    const fromRunUrl = ds({ PROCTOR_INFLUX_URL: "http://influx.lan:9999/?db=classes" });
    expect(fromRunUrl).toContain('url: "http://influx.lan:9999"');
    expect(fromRunUrl).toContain('dbName: "classes"');
    const grafanaWins = ds({ PROCTOR_INFLUX_URL: "http://a:1/?db=x", PROCTOR_GRAFANA_INFLUX_URL: "http://influxdb:8086/?db=y" });
    expect(grafanaWins).toContain('url: "http://influxdb:8086"');
    expect(grafanaWins).toContain('database: "y"');
    expect(() => ds({ PROCTOR_GRAFANA_INFLUX_URL: "http://h:8086/?org=o&bucket=b" })).toThrow(/InfluxQL/);
    const prov = renderDashboards({ dashboardsPath: "/srv/dash" }, {}).find((f) => f.path.includes(join("provisioning", "dashboards")))!.content;
    expect(prov).toContain('path: "/srv/dash"');
    expect(prov).toContain("type: file");
  });

  it("buildDashboards / dashboardCommand write every file and say what they wrote", async () => {
    const out = mkdtempSync(join(tmpdir(), "proctor-dash-"));
    const text = await dashboardCommand({ outDir: out, ...DEFAULTS }, {});
    for (const f of renderDashboards(DEFAULTS, {})) {
      expect(readFileSync(join(out, f.path), "utf8")).toBe(f.content);
      expect(text).toContain(join(out, f.path));
    }
    expect(text).toMatch(/in-class\.json: "proctor — in class" \(uid proctor-in-class\), \d+ panels, 4 variables, 6 annotations/);
    const again = await buildDashboards(out, DEFAULTS, {});
    expect(again.length).toBe(4);
  });

  it("the committed dashboards/ files equal a fresh build (run `proctor dashboards build` after changing src/dashboards)", () => {
    for (const [path, content] of rendered()) {
      let committed: string;
      try {
        committed = readFileSync(join(committedRoot, path), "utf8");
      } catch {
        throw new Error(`dashboards/${path} is missing: run \`proctor dashboards build\``);
      }
      expect(committed, `dashboards/${path} is stale: run \`proctor dashboards build\``).toBe(content);
    }
  });
});
