// The post-class dashboard: how a finished run went, and how runs trend across builds and
// scenarios. Reads the end-of-run points of src/metrics/run-points.ts (`run_summary`,
// `student_summary`, `budget`, `run_metric`) — the same figures as report.json — plus the per-second
// `wire` points for the run's own timeline.
//
// Variables: datasource, scenario (multi), run (one run of those scenarios). The "Run" section is
// scoped by run only (any time range shows it); the "Across runs" section by scenario and the
// dashboard's time range, one series per scenario and build.
import * as common from "@grafana/grafana-foundation-sdk/common";
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import * as stat from "@grafana/grafana-foundation-sdk/stat";
import * as table from "@grafana/grafana-foundation-sdk/table";
import * as timeseries from "@grafana/grafana-foundation-sdk/timeseries";
import { as, count, field, last, max, mean, select, tagEquals, tagVar, timeFilter, type Selector } from "./influxql.js";
import { annotation, datasourceRef, datasourceVariable, tagVariable, target, lettered, type InfluxQLTargetBuilder } from "./influx-dataquery.js";

export const POST_CLASS_UID = "proctor-post-class";

const runScope = [tagVar("run")];
const trendScope = [tagVar("scenario"), timeFilter];

/** Figures of the per-student table: field in student_summary → column title. */
const STUDENT_COLUMNS: readonly [string, string][] = [
  ["latency_p50_ms", "latency p50 (ms)"],
  ["latency_p95_ms", "latency p95 (ms)"],
  ["latency_max_ms", "latency max (ms)"],
  ["lipsync_ms", "lip-sync (ms)"],
  ["freeze_count", "freezes"],
  ["freeze_ratio", "freeze ratio"],
  ["audio_concealment", "audio concealment"],
  ["loss", "loss"],
  ["jitter_ms", "jitter (ms)"],
  ["mos_audio", "MOS audio"],
  ["mos_video", "MOS video"],
  ["switch_gap_max_ms", "switch gap max (ms)"],
  ["join_ms", "join (ms)"],
  ["frames_received_ratio", "frames received"],
];

function statPanel(title: string, t: InfluxQLTargetBuilder, unit: string, mappings?: dashboard.ValueMapping[]): stat.PanelBuilder {
  const p = new stat.PanelBuilder()
    .title(title)
    .datasource(datasourceRef)
    .withTarget(t)
    .unit(unit)
    .span(6)
    .height(4)
    .graphMode(common.BigValueGraphMode.None)
    .colorMode(common.BigValueColorMode.Value)
    .reduceOptions(new common.ReduceDataOptionsBuilder().calcs(["lastNotNull"]).values(false));
  if (mappings) p.mappings(mappings);
  return p;
}

function tablePanel(title: string, t: InfluxQLTargetBuilder, w = 24, h = 8, description?: string): table.PanelBuilder {
  const p = new table.PanelBuilder().title(title).datasource(datasourceRef).withTarget(t.table()).span(w).height(h).filterable(true);
  if (description) p.description(description);
  // InfluxQL table results carry a time column; for one-point-per-run tables it is noise.
  return p.withTransformation({ id: "organize", options: { excludeByName: { Time: true } } });
}

function trend(title: string, targets: InfluxQLTargetBuilder[], unit: string, description?: string): timeseries.PanelBuilder {
  const p = new timeseries.PanelBuilder()
    .title(title)
    .datasource(datasourceRef)
    .targets(lettered(targets))
    .unit(unit)
    .span(12)
    .height(8)
    .drawStyle(common.GraphDrawStyle.Line)
    .showPoints(common.VisibilityMode.Always)
    .pointSize(6)
    .spanNulls(true);
  if (description) p.description(description);
  return p;
}

const statusMappings: dashboard.ValueMapping[] = [
  {
    type: dashboard.MappingType.ValueToText,
    options: { "0": { text: "passed", color: "green", index: 0 }, "1": { text: "failed", color: "red", index: 1 }, "2": { text: "broken", color: "purple", index: 2 } },
  },
];
const passMappings: dashboard.ValueMapping[] = [
  { type: dashboard.MappingType.ValueToText, options: { "1": { text: "PASS", color: "green", index: 0 }, "0": { text: "FAIL", color: "red", index: 1 } } },
];

function runSection(d: dashboard.DashboardBuilder): void {
  d.withRow(new dashboard.RowBuilder("Run $run"));
  d.withPanel(statPanel("Status", target(select(last("exit_code")).from("run_summary").where(...runScope)), "none", statusMappings));
  d.withPanel(statPanel("Budgets failed", target(select(last("budgets_failed")).from("run_summary").where(...runScope)), "none"));
  d.withPanel(statPanel("Students", target(select(last("students")).from("run_summary").where(...runScope)), "none"));
  d.withPanel(statPanel("Mean MOS (audio, E-model-derived)", target(select(mean("mos_audio")).from("student_summary").where(...runScope)), "none"));

  const budgets = tablePanel(
    "Budgets",
    target(select(as(last("measured"), "measured"), as(last("limit"), "limit"), as(last("pass"), "pass")).from("budget").where(...runScope).groupBy("metric", "expression")),
    12,
    8,
    "One row per budget expression of the scenario, as judged at the end of the run.",
  );
  budgets.overrideByName("pass", [
    { id: "mappings", value: passMappings },
    { id: "custom.cellOptions", value: { type: common.TableCellDisplayMode.ColorBackground } },
  ]);
  d.withPanel(budgets);
  d.withPanel(
    tablePanel(
      "Per metric: p50 / p95 / max",
      target(
        select(as(last("p50"), "p50"), as(last("p95"), "p95"), as(last("max"), "max"), as(last("mean"), "mean"), as(last("count"), "count")).from("run_metric").where(...runScope).groupBy("metric"),
      ),
      12,
      8,
      "Over all students of the run: the value lists the budgets are judged on (latency per frame, switch gap per switch, the rest per student).",
    ),
  );
  const cols: Selector[] = STUDENT_COLUMNS.map(([f, title]) => as(last(f), title));
  d.withPanel(tablePanel("Per student", target(select(...cols).from("student_summary").where(...runScope).groupBy("room", "student", "profile")), 24, 10));
  d.withPanel(
    trend(
      "Latency p95 during the run (wire, per student)",
      [target(select(mean("latency_p95_ms")).from("wire").where(...runScope, timeFilter).groupByTime().groupBy("student").fill("null")).alias("$tag_student")],
      "ms",
    ).showPoints(common.VisibilityMode.Never),
  );
  d.withPanel(
    trend(
      "Video loss during the run (per student)",
      [target(select(mean("loss_pct")).from("wire").where(...runScope, timeFilter).groupByTime().groupBy("student").fill("null")).alias("$tag_student")],
      "percent",
    ).showPoints(common.VisibilityMode.Never),
  );
}

function acrossRuns(d: dashboard.DashboardBuilder): void {
  d.withRow(new dashboard.RowBuilder("Across runs — by scenario and build"));
  const byRunMetric = (metric: string, stat: "p95" | "max", alias: string) =>
    target(select(max(stat)).from("run_metric").where(tagEquals("metric", metric), ...trendScope).groupByTime().groupBy("scenario", "build").fill("none")).alias(`${alias} $tag_scenario $tag_build`);
  const byStudents = (f: string, alias: string, agg = mean) =>
    target(select(agg(f)).from("student_summary").where(...trendScope).groupByTime().groupBy("scenario", "build").fill("none")).alias(`${alias} $tag_scenario $tag_build`);
  d.withPanel(trend("Latency p95 per run", [byRunMetric("latency_ms", "p95", "p95")], "ms", "p95 over all frames of each run (run_metric latency_ms)."));
  d.withPanel(trend("Freeze ratio per run (mean over students)", [byStudents("freeze_ratio", "freeze ratio")], "percentunit"));
  d.withPanel(trend("MOS per run (mean over students)", [byStudents("mos_audio", "audio"), byStudents("mos_video", "video")], "none"));
  d.withPanel(
    trend(
      "Budget pass rate",
      [target(select(mean("pass")).from("budget").where(...trendScope).groupByTime().groupBy("scenario", "build").fill("none")).alias("$tag_scenario $tag_build")],
      "percentunit",
      "Share of budget expressions that held, per run.",
    ),
  );
  d.withPanel(
    tablePanel(
      "By build and scenario (mean over students in the time range)",
      target(
        select(
          as(mean("latency_p95_ms"), "latency p95 (ms)"),
          as(mean("freeze_ratio"), "freeze ratio"),
          as(mean("audio_concealment"), "audio concealment"),
          as(mean("mos_audio"), "MOS audio"),
          as(mean("mos_video"), "MOS video"),
          as(count("latency_p95_ms"), "students"),
        )
          .from("student_summary")
          .where(...trendScope)
          .groupBy("build", "scenario"),
      ),
    ),
  );
}

export function postClassDashboard(): dashboard.Dashboard {
  const d = new dashboard.DashboardBuilder("proctor — post class")
    .uid(POST_CLASS_UID)
    .description("One run against its budgets (per metric, per student), and trends across runs by scenario and build.")
    .tags(["proctor", "webrtc", "post-class"])
    .editable()
    .time({ from: "now-7d", to: "now" })
    .timezone("browser")
    .withVariable(datasourceVariable())
    .withVariable(tagVariable({ name: "scenario", label: "Scenario", from: "run_summary", key: "scenario", multi: true }))
    .withVariable(tagVariable({ name: "run", label: "Run", from: "run_summary", key: "run", where: [tagVar("scenario")], sort: dashboard.VariableSort.AlphabeticalDesc }))
    .annotation(annotation("Runs", "blue", select(field("status"), field("students"), field("run"), field("scenario")).from("run_summary").where(...trendScope), { text: "status", tags: ["run", "scenario"] }))
    .link(new dashboard.DashboardLinkBuilder("proctor").type(dashboard.DashboardLinkType.Dashboards).tags(["proctor"]).asDropdown(false).keepTime(true).includeVars(true));
  runSection(d);
  acrossRuns(d);
  return d.build();
}
