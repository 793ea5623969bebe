// The end-of-run summary printed by `proctor run`: one row per student, then switch gaps, budgets.
import type { RunReport, StudentReport } from "../report/run-report.js";
import type { WireSummary } from "../metrics/wire-summary.js";
import type { PixelSummary } from "../metrics/pixel-summary.js";

const fmt = (v: number, digits = 1): string => (Number.isFinite(v) ? v.toFixed(digits) : "–");

export function formatSummary(report: RunReport, runDir: string): string {
  const lines: string[] = [];
  const header = ["room", "student", "frames", "recv %", "lat p50 ms", "lat p95 ms", "loss %", "jitter ms", "freezes", "A/V ms", "conceal %", "MOS a/v", "join ms", "switch gaps ms"];
  const rows = report.students.map((s) => (s.wire ? wireRow(s, s.wire) : s.pixel ? pixelRow(s, s.pixel) : [s.room, s.student, ...header.slice(2).map(() => "–")]));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  lines.push(line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line));
  if (report.budgets.length > 0) {
    lines.push("", "budgets:");
    for (const v of report.budgets) {
      lines.push(`  ${v.pass ? "PASS" : "FAIL"}  ${v.metric}: ${v.expression}  (measured ${fmt(v.measured, 3)})${v.note ? `  ${v.note}` : ""}`);
    }
  }
  for (const [name, st] of Object.entries(report.sinks ?? {})) {
    lines.push(`sink ${name}: ${Object.entries(st).filter(([, v]) => typeof v === "number").map(([k, v]) => `${k} ${v}`).join(", ")}`);
  }
  for (const e of report.errors) lines.push(`error: ${e}`);
  lines.push(
    "",
    `status: ${report.status}`,
    `report: ${runDir}/report.html`,
    `        ${runDir}/report.json, junit.xml, metrics.lp`,
  );
  return lines.join("\n");
}

const gapList = (gaps: readonly { fromClip: number; toClip: number; gapMs: number }[]): string =>
  gaps.map((g) => `${g.fromClip}→${g.toClip}: ${g.gapMs >= 0 ? "+" : ""}${fmt(g.gapMs)}`).join(", ") || "none";
const signed = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? "–" : `${v >= 0 ? "+" : ""}${fmt(v)}`);

function wireRow(s: StudentReport, w: WireSummary): string[] {
  return [
    s.room,
    s.student,
    `${w.framesReceived}/${w.framesExpected}`,
    fmt(w.framesReceivedRatio * 100, 1),
    fmt(w.latencyMs.p50),
    fmt(w.latencyMs.p95),
    fmt((w.video.lossBeforeRepair ?? w.video.lossFraction) * 100, 2),
    fmt(w.video.jitterMs, 2),
    `${w.freezes.count}`,
    signed(w.avSync?.offsetMs),
    fmt(w.audioConcealment.concealmentRatio * 100, 1),
    `${fmt(w.mos.audio, 2)}/${fmt(w.mos.video, 2)}`,
    w.joinMs === undefined ? "–" : fmt(w.joinMs, 0),
    gapList(w.switchGaps),
  ];
}

/** A browser student's row: frames presented (codes read), latency to presentation, lip-sync from markers. */
function pixelRow(s: StudentReport, p: PixelSummary): string[] {
  return [
    s.room,
    `${s.student} (chromium)`,
    `${p.framesCoded}/${p.framesPresented}`,
    fmt(p.codeReadRatio * 100, 1),
    fmt(p.latencyMs.p50),
    fmt(p.latencyMs.p95),
    fmt((p.video?.lossFraction ?? NaN) * 100, 2),
    fmt(p.video?.jitterMs ?? NaN, 2),
    `${p.freezes.count}`,
    signed(p.lipSync.offsetMs.p50),
    fmt((p.audio?.concealmentRatio ?? NaN) * 100, 1),
    `${fmt(p.mos.audio, 2)}/${fmt(p.mos.video, 2)}`,
    "–",
    gapList(p.switchGaps),
  ];
}
