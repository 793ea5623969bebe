// Streamer fan-out bench: how many students one core of the AI teacher serves.
//
// Layout: the teacher (proctor's Teacher + MediaProgram + room server) in one process; N probe
// receivers (receiver-probe.mjs, the cheapest werift receiver, so the students' side is not the
// limit) in ⌈N/60⌉ other processes. Baseline, same run, same layout, same N: a bare werift sender
// (teacher-bare.mjs: werift's own sender.sendRtp and stock SR loop, no proctor program, extensions
// or sender reports) behind the same room server.
//
// Figure: teacher CPU over a steady window (after joins and warm-up) as a fraction of one core;
// students served per core = N / fraction at the largest N at which every student got ≥ 29.5 fps
// with 0 lost packets. Issue #2's target: ≥ 250.
import { measureClass, skipReason, skippedRow } from "./lib/class-run.mjs";

export const FANOUT_TARGET_PER_CORE = 250;
const RECEIVERS_PER_PROCESS = 60;

export async function runFanout({ generated, fps, ns, warmMs, windowMs, profileDir, log, budget }) {
  const rows = [];
  const last = {};
  for (const [i, n] of ns.entries()) {
    const order = i % 2 === 0 ? ["proctor", "bare"] : ["bare", "proctor"]; // alternate, so drift in machine load hits both
    for (const teacher of order) {
      const spec = { label: `fanout-${teacher}-${n}`, teacher, receivers: "probe", n };
      const skip = skipReason(last[teacher], n, (r) => r.teacherCpu, budget);
      if (skip) log(`fanout: ${teacher} teacher, ${n} students: skipped (${skip})`);
      else log(`fanout: ${teacher} teacher, ${n} students`);
      const row = skip ? skippedRow(spec, skip) : await measureClass({ ...spec, perProcess: RECEIVERS_PER_PROCESS, generated, fps, warmMs, windowMs, profileDir, log }, budget);
      rows.push(row);
      last[teacher] = row;
    }
  }
  rows.sort((a, b) => a.n - b.n || (a.teacher === "proctor" ? -1 : 1));
  const figure = (teacher) => perCore(rows.filter((r) => r.teacher === teacher), (r) => r.teacherCpu);
  const proctor = figure("proctor");
  const bare = figure("bare");
  return {
    name: "fanout",
    title: "Streamer fan-out (teacher CPU per student; students served per core)",
    layout: `teacher process (Teacher + MediaProgram + room server) | ${RECEIVERS_PER_PROCESS} probe receivers per student process`,
    rows,
    figures: {
      unit: "students served per core",
      proctor,
      baseline: bare,
      ratio: proctor.perCore !== null && bare.perCore !== null ? proctor.perCore / bare.perCore : null,
      target: FANOUT_TARGET_PER_CORE,
      meetsTarget: proctor.perCore !== null && proctor.perCore >= FANOUT_TARGET_PER_CORE,
    },
  };
}

/**
 * The per-core figure: N / CPU fraction at the largest N whose row is ok (all joined, 30 fps,
 * 0 loss) — fixed costs included. Also the marginal cost: least-squares slope of CPU over N across
 * the ok rows (needs two), i.e. what one more student costs once the fixed part is paid.
 */
export function perCore(rows, cpuOf) {
  const ok = rows.filter((r) => r.ok).sort((a, b) => b.n - a.n);
  const largestTestedN = Math.max(...rows.filter((r) => !r.skipped).map((r) => r.n));
  const best = ok[0];
  if (!best) return { n: null, cpu: null, perStudentPct: null, perCore: null, marginal: null, largestTestedN, note: "no N held 30 fps with 0 loss" };
  const cpu = cpuOf(best);
  return { n: best.n, cpu, perStudentPct: (100 * cpu) / best.n, perCore: best.n / cpu, marginal: fit(ok, cpuOf), largestTestedN };
}

function fit(rows, cpuOf) {
  const ns = [...new Set(rows.map((r) => r.n))];
  if (ns.length < 2) return null;
  const xs = rows.map((r) => r.n);
  const ys = rows.map(cpuOf);
  const mx = xs.reduce((s, v) => s + v, 0) / xs.length;
  const my = ys.reduce((s, v) => s + v, 0) / ys.length;
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < xs.length; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  const slope = sxy / sxx;
  const fixed = my - slope * mx;
  return { perStudentPct: 100 * slope, fixedPct: 100 * fixed, perCore: slope > 0 ? 1 / slope : null, fromN: ns.sort((a, b) => a - b) };
}
