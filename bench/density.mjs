// Light-student density bench: how many light students one core holds.
//
// Layout: the teacher (proctor's streamer + room server) in one process; N students in ONE other
// process. Under test: proctor's LightStudent with all its observations on (receiver-light.mjs).
// Baseline, same run, same layout, same N, same teacher and wire format: bare werift receivers with
// werift's own helpers (receiver-bare.mjs: RtpSourceCallback → JitterBufferCallback →
// DepacketizeCallback). WERIFT.md measured those at ≈ 80 students per core.
//
// Figure: the students' process CPU over a steady window as a fraction of one core; students per
// core = N / fraction at the largest N at which every student got ≥ 29.5 fps with 0 lost packets.
// Issue #2's target: ≥ 120.
import { measureClass, skipReason, skippedRow } from "./lib/class-run.mjs";
import { perCore } from "./fanout.mjs";

export const DENSITY_TARGET_PER_CORE = 120;

export async function runDensity({ generated, fps, ns, warmMs, windowMs, profileDir, log, budget }) {
  const rows = [];
  const last = {};
  for (const [i, n] of ns.entries()) {
    const order = i % 2 === 0 ? ["light", "bare"] : ["bare", "light"];
    for (const receivers of order) {
      const spec = { label: `density-${receivers}-${n}`, teacher: "proctor", receivers, n };
      const skip = skipReason(last[receivers], n, (r) => r.studentsCpu, budget);
      if (skip) log(`density: ${receivers} students, ${n} in one process: skipped (${skip})`);
      else log(`density: ${receivers} students, ${n} in one process`);
      const row = skip ? skippedRow(spec, skip) : await measureClass({ ...spec, generated, fps, warmMs, windowMs, profileDir, log }, budget);
      rows.push(row);
      last[receivers] = row;
    }
  }
  rows.sort((a, b) => a.n - b.n || (a.receivers === "light" ? -1 : 1));
  const figure = (receivers) => perCore(rows.filter((r) => r.receivers === receivers), (r) => r.studentsCpu);
  const light = figure("light");
  const bare = figure("bare");
  return {
    name: "density",
    title: "Light-student density (students' process CPU per student; students per core)",
    layout: "teacher process (proctor Teacher + room server) | all N students in one process",
    rows,
    figures: {
      unit: "light students per core",
      proctor: light,
      baseline: bare,
      ratio: light.perCore !== null && bare.perCore !== null ? light.perCore / bare.perCore : null,
      target: DENSITY_TARGET_PER_CORE,
      meetsTarget: light.perCore !== null && light.perCore >= DENSITY_TARGET_PER_CORE,
    },
  };
}
