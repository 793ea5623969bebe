// The end-of-run summary printed by `proctor run`: one row per student, then switch gaps, budgets.
import type { RunReport } from "../report/run-report.js";

const fmt = (v: number, digits = 1): string => (Number.isFinite(v) ? v.toFixed(digits) : "–");

export function formatSummary(report: RunReport, runDir: string): string {
  const lines: string[] = [];
  const header = ["room", "student", "frames", "recv %", "lat p50 ms", "lat p95 ms", "loss %", "jitter ms", "freezes", "A/V ms", "conceal %", "MOS a/v", "join ms", "switch gaps ms"];
  const rows = report.students.map((s) => [
    s.room,
    s.student,
    `${s.wire.framesReceived}/${s.wire.framesExpected}`,
    fmt(s.wire.framesReceivedRatio * 100, 1),
    fmt(s.wire.latencyMs.p50),
    fmt(s.wire.latencyMs.p95),
    fmt((s.wire.video.lossBeforeRepair ?? s.wire.video.lossFraction) * 100, 2),
    fmt(s.wire.video.jitterMs, 2),
    `${s.wire.freezes.count}`,
    s.wire.avSync ? `${s.wire.avSync.offsetMs >= 0 ? "+" : ""}${fmt(s.wire.avSync.offsetMs)}` : "–",
    fmt(s.wire.audioConcealment.concealmentRatio * 100, 1),
    `${fmt(s.wire.mos.audio, 2)}/${fmt(s.wire.mos.video, 2)}`,
    s.wire.joinMs === undefined ? "–" : fmt(s.wire.joinMs, 0),
    s.wire.switchGaps.map((g) => `${g.fromClip}→${g.toClip}: ${g.gapMs >= 0 ? "+" : ""}${fmt(g.gapMs)}`).join(", ") || "none",
  ]);
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
