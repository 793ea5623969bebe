// The in-class dashboard: what each student lives through while the lesson plays, from the
// per-second `wire` points (light students) and `pixel` points (browser students: what Chromium
// presented and played) the runner writes live, the `event` points (freezes, clip switches,
// netem steps, joins) and, for figures only known at the end (lip-sync estimate, audio
// concealment, repair RTT), the `student_summary` points of src/metrics/run-points.ts.
//
// Layout: a class overview (one series per student), the browser students' pixel tier beside
// Chromium's own readings, and one row per student (repeated over the `student` variable; its
// panels draw the `wire` or the `pixel` series, whichever the student writes). Annotations draw netem steps, clip starts/switches, joins, freezes and answers under
// every panel. Variables: datasource, run, room (multi), student (multi).
import * as common from "@grafana/grafana-foundation-sdk/common";
import * as dashboard from "@grafana/grafana-foundation-sdk/dashboard";
import * as timeseries from "@grafana/grafana-foundation-sdk/timeseries";
import { count, field, last, math, max, mean, select, tagEquals, tagVar, timeFilter, type Condition } from "./influxql.js";
import { annotation, datasourceRef, datasourceVariable, tagVariable, target, lettered, type InfluxQLTargetBuilder } from "./influx-dataquery.js";

export const IN_CLASS_UID = "proctor-in-class";

/** Run, room and student as chosen in the variables, and the dashboard's time range. */
const studentScope: Condition[] = [tagVar("run"), tagVar("room"), tagVar("student"), timeFilter];
const roomScope: Condition[] = [tagVar("run"), tagVar("room"), timeFilter];
const eventOf = (kind: string, scope: Condition[] = studentScope): Condition[] => [tagEquals("kind", kind), ...scope];

type SeriesOpts = { unit: string; bars?: boolean; points?: boolean; right?: string[]; w?: number; h?: number; description?: string };

function series(title: string, targets: InfluxQLTargetBuilder[], o: SeriesOpts): timeseries.PanelBuilder {
  const p = new timeseries.PanelBuilder()
    .title(title)
    .datasource(datasourceRef)
    .targets(lettered(targets))
    .unit(o.unit)
    .span(o.w ?? 8)
    .height(o.h ?? 8)
    .lineWidth(1)
    .fillOpacity(o.bars ? 80 : 10)
    .spanNulls(false)
    .showPoints(o.points ? common.VisibilityMode.Always : common.VisibilityMode.Auto)
    .drawStyle(o.bars ? common.GraphDrawStyle.Bars : o.points ? common.GraphDrawStyle.Points : common.GraphDrawStyle.Line)
    .legend(new common.VizLegendOptionsBuilder().displayMode(common.LegendDisplayMode.List).placement(common.LegendPlacement.Bottom).showLegend(true));
  if (o.description) p.description(o.description);
  for (const name of o.right ?? []) p.overrideByName(name, [{ id: "custom.axisPlacement", value: common.AxisPlacement.Right }]);
  return p;
}

function overview(): timeseries.PanelBuilder[] {
  const byStudent = (sel: ReturnType<typeof mean>, from = "wire", where = studentScope) =>
    target(select(sel).from(from).where(...where).groupByTime().groupBy("student").fill("null")).alias("$tag_student");
  return [
    series("Latency p95 by student (wire)", [byStudent(mean("latency_p95_ms"))], { unit: "ms", w: 6, description: "Frame complete − capture time, p95 of each second." }),
    series("Video loss by student", [byStudent(mean("loss_pct"))], { unit: "percent", w: 6, description: "Packets lost on the network per second (before NACK repair)." }),
    series("Frame rate by student", [byStudent(mean("fps"))], { unit: "fps", w: 6 }),
    series("Freezes by student", [target(select(count("duration_ms")).from("event").where(...eventOf("freeze")).groupByTime().groupBy("student").fill("none")).alias("$tag_student")], {
      unit: "short",
      bars: true,
      w: 6,
      description: "Freezes (W3C webrtc-stats rule on the emulated playout) starting in each interval.",
    }),
  ];
}

/** Measurements the per-second series of a student come from: light students write `wire`, browser students `pixel`. */
const PER_SECOND = ["wire", "pixel"] as const;

function browsers(): timeseries.PanelBuilder[] {
  const byStudent = (sel: ReturnType<typeof mean>, alias = "$tag_student") =>
    target(select(sel).from("pixel").where(...studentScope).groupByTime().groupBy("student").fill("null")).alias(alias);
  return [
    series("Latency to presentation p95 by browser student", [byStudent(mean("latency_p95_ms"))], {
      unit: "ms",
      w: 6,
      description: "Frame presented in Chromium (requestVideoFrameCallback) − capture at the teacher, p95 of each second.",
    }),
    series("Lip-sync as heard vs Chromium's estimate", [byStudent(mean("lipsync_ms"), "$tag_student (pixel)"), byStudent(mean("playout_lipsync_ms"), "$tag_student (Chromium)")], {
      unit: "ms",
      points: true,
      w: 6,
      description:
        "Audio leads > 0. Pixel: flash presented − marker handed to the output device. Chromium: audio − video estimatedPlayoutTimestamp (its renderer hand-off; reads 12–34 ms lower).",
    }),
    series("Presented fps and frame codes read", [byStudent(mean("fps"), "$tag_student fps"), byStudent(mean("codes_read"), "$tag_student codes read")], {
      unit: "fps",
      w: 6,
      description: "Frames Chromium presented each second, and how many of them carried a readable frame code.",
    }),
    series("Chromium jitter buffer", [byStudent(mean("jitter_buffer_ms"), "$tag_student video"), byStudent(mean("audio_jitter_buffer_ms"), "$tag_student audio")], {
      unit: "ms",
      w: 6,
      description: "getStats jitterBufferDelay / jitterBufferEmittedCount over each second: what the browser holds back to ride out jitter and repairs.",
    }),
  ];
}

function perStudent(): timeseries.PanelBuilder[] {
  const wire = (...sels: Parameters<typeof select>) => select(...sels).from("wire").where(...studentScope).groupByTime().fill("null");
  const pixel = (...sels: Parameters<typeof select>) => select(...sels).from("pixel").where(...studentScope).groupByTime().fill("null");
  const summary = (...sels: Parameters<typeof select>) => select(...sels).from("student_summary").where(...studentScope).groupByTime().fill("none");
  return [
    series(
      "Latency (wire) — $student",
      [
        target(wire(mean("latency_p50_ms"))).alias("p50"),
        target(wire(mean("latency_p95_ms"))).alias("p95"),
        target(wire(max("latency_max_ms"))).alias("max"),
        target(pixel(mean("latency_p50_ms"))).alias("p50 presented"),
        target(pixel(mean("latency_p95_ms"))).alias("p95 presented"),
      ],
      { unit: "ms", description: "End-to-end latency per second: frame complete at a light student (or presented in a browser student) − capture at the teacher." },
    ),
    series(
      "Lip-sync offset — $student",
      [
        target(summary(last("lipsync_ms"))).alias("A/V offset (audio leads > 0)"),
        target(pixel(mean("lipsync_ms"))).alias("as heard (pixel)"),
        target(pixel(mean("playout_lipsync_ms"))).alias("Chromium's estimate"),
      ],
      {
        unit: "ms",
        points: true,
        description: "Video − audio presentation of the same instant; budget −100…+25 ms. Light students: wire estimate, written at the end of the run. Browser students: per marker, live.",
      },
    ),
    series("Freezes — $student", [target(select(field("duration_ms")).from("event").where(...eventOf("freeze"))).alias("freeze duration")], {
      unit: "ms",
      bars: true,
      description: "Each freeze at its start, height = its duration.",
    }),
    series(
      "Audio — $student",
      [
        target(wire(mean("audio_loss_pct"))).alias("audio packets lost"),
        target(summary(math(last("audio_concealment"), "*", 100))).alias("concealment (run)"),
        target(pixel(mean("concealment_pct"))).alias("concealed (Chromium)"),
      ],
      { unit: "percent", description: "Per second: audio packets lost (wire estimate of concealment). End of run: concealed / expected frames." },
    ),
    series(
      "Loss / jitter / RTT — $student",
      [
        target(wire(mean("loss_pct"))).alias("video loss"),
        target(wire(mean("jitter_ms"))).alias("jitter"),
        target(summary(last("rtt_ms"))).alias("repair RTT"),
        target(pixel(mean("loss_pct"))).alias("video loss (Chromium)"),
        target(pixel(mean("rtt_ms"))).alias("RTT (Chromium)"),
      ],
      {
        unit: "percent",
        right: ["jitter", "repair RTT", "RTT (Chromium)"],
        description: "Loss before repair (%), RFC 3550 interarrival jitter and NACK repair RTT (ms, right axis); browser students: getStats loss and candidate-pair RTT.",
      },
    ).overrideByRegexp("^(jitter|repair RTT|RTT \\(Chromium\\))$", [{ id: "unit", value: "ms" }]),
    series(
      "Bitrate / frame rate — $student",
      [
        target(wire(mean("bitrate_kbps"))).alias("bitrate"),
        target(wire(mean("fps"))).alias("fps"),
        target(pixel(mean("bitrate_kbps"))).alias("bitrate (Chromium)"),
        target(pixel(mean("fps"))).alias("fps presented"),
      ],
      { unit: "kbps", right: ["fps", "fps presented"] },
    ).overrideByRegexp("^fps", [{ id: "unit", value: "fps" }]),
  ];
}

function annotations(): dashboard.AnnotationQueryBuilder[] {
  return [
    annotation("Netem steps", "orange", select(field("step"), field("delay_ms"), field("jitter_ms"), field("loss_pct"), field("student"), field("profile")).from("event").where(...eventOf("netem_step")), {
      text: "loss_pct",
      title: "delay_ms",
      tags: ["student", "profile"],
    }),
    annotation("Clip starts", "blue", select(field("clip_id"), field("room")).from("event").where(...eventOf("clip_start", roomScope)), { text: "clip_id", tags: ["room"] }),
    annotation("Clip switches", "purple", select(field("gap_ms"), field("from_clip"), field("to_clip"), field("student")).from("event").where(...eventOf("clip_switch")), {
      text: "gap_ms",
      tags: ["student"],
    }),
    annotation("Joins", "green", select(field("join_ms"), field("retries"), field("student")).from("event").where(...eventOf("join")), { text: "join_ms", tags: ["student"] }),
    annotation("Freezes", "red", select(field("duration_ms"), field("student")).from("event").where(...eventOf("freeze")), { text: "duration_ms", tags: ["student"] }),
    annotation("Answers", "yellow", select(field("reason"), field("to_clip"), field("room")).from("event").where(...eventOf("answer", roomScope)), {
      text: "reason",
      tags: ["room"],
    }),
  ];
}

export function inClassDashboard(): dashboard.Dashboard {
  const d = new dashboard.DashboardBuilder("proctor — in class")
    .uid(IN_CLASS_UID)
    .description("Live class quality per student: latency, lip-sync, freezes, audio, loss/jitter, bitrate; browser students' pixel tier beside Chromium's own readings; netem steps and clip switches as annotations.")
    .tags(["proctor", "webrtc", "in-class"])
    .editable()
    .tooltip(dashboard.DashboardCursorSync.Crosshair)
    .time({ from: "now-15m", to: "now" })
    .refresh("5s")
    .timezone("browser")
    .withVariable(datasourceVariable())
    .withVariable(tagVariable({ name: "run", label: "Run", from: PER_SECOND, key: "run", sort: dashboard.VariableSort.AlphabeticalDesc }))
    .withVariable(tagVariable({ name: "room", label: "Room", from: PER_SECOND, key: "room", where: [tagVar("run")], multi: true }))
    .withVariable(tagVariable({ name: "student", label: "Student", from: PER_SECOND, key: "student", where: [tagVar("run"), tagVar("room")], multi: true }))
    .annotations(annotations())
    .link(new dashboard.DashboardLinkBuilder("proctor").type(dashboard.DashboardLinkType.Dashboards).tags(["proctor"]).asDropdown(false).keepTime(true).includeVars(true));
  d.withRow(new dashboard.RowBuilder("Class"));
  for (const p of overview()) d.withPanel(p);
  d.withRow(new dashboard.RowBuilder("Browser students (pixel tier)"));
  for (const p of browsers()) d.withPanel(p);
  // An expanded row followed by its panels: Grafana repeats the row and its panels per student.
  d.withRow(new dashboard.RowBuilder("Student $student").repeat("student"));
  for (const p of perStudent()) d.withPanel(p);
  return d.build();
}
