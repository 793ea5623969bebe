// One measured class: a teacher process and one or more student processes on loopback, driven by
// IPC through the same sequence as the runner (teacher + room server up → students join → lesson
// starts), then a warm-up, then a steady measurement window in which every process samples its own
// CPU and every student counts frames, lost packets and e2e latency. Joins are outside the window.
import { cpus } from "node:os";
import { join } from "node:path";
import { spawnChild } from "./ipc.mjs";
import { cpuBetween, machineSample, machineBusyBetween, machineIrqBetween, waitForQuiet } from "./cpu.mjs";
import { summarize } from "./stats.mjs";
import { BENCH_ROOM } from "./teacher-proctor.mjs";

/** A student "gets 30 fps" when it completed at least this many frames per second in the window. */
export const FPS_FLOOR = 29.5;
/** Load from outside our processes (cores) above which a window counts as contended. */
export const CONTENDED_CORES = 0.4;
/** A measured process at or above this fraction of one core cannot take more students. */
const SATURATED = 0.85;
/** Before a class starts, wait (bounded) until the machine is at most this busy (cores). */
const QUIET_CORES = 0.35;

/**
 * Whether measuring `n` is pointless after `prev` (the same variant at a smaller N): it already
 * failed on a quiet machine, or its measured process was already near one full core (one process is one thread of
 * JavaScript, and cost grows with N). A collapsed class costs a minute of backlog; skipping keeps
 * the bench within its time budget (`budget.deadlineMs`, monotonic). Returns the reason, or null.
 */
export function skipReason(prev, n, cpuOf, budget) {
  if (budget?.deadlineMs !== undefined && performance.now() > budget.deadlineMs) return "bench time budget used up";
  if (!prev) return null;
  if (prev.skipped) return prev.skipped;
  // A failure while another tenant loaded the machine says nothing about larger N: measure on.
  if (!prev.ok && !prev.contended) return `N=${prev.n} already failed`;
  if (cpuOf(prev) >= SATURATED) return `N=${prev.n} already used ${(100 * cpuOf(prev)).toFixed(0)} % of one core`;
  return null;
}

/** A table row for a class that was not run. */
export function skippedRow({ label, teacher, receivers, n }, reason) {
  return { label, teacher, receivers, n, skipped: reason, ok: false };
}

/**
 * runClass, waiting for a quiet machine first, and once more if the class failed while another
 * tenant was loading the machine (the retry is recorded in the row: `attempts`).
 */
export async function measureClass(opts, budget = { retries: 2 }) {
  const attempts = [];
  for (let i = 0; i < 2; i++) {
    const quiet = await waitForQuiet({ maxBusyCores: QUIET_CORES, cores: cpus().length, maxWaitMs: 10_000 });
    if (!quiet.quiet) opts.log?.(`  ${opts.label}: machine still busy (${quiet.busyCores.toFixed(2)} cores) after ${(quiet.waitedMs / 1000).toFixed(0)} s; measuring anyway`);
    const row = await runClass(opts);
    row.busyBeforeCores = quiet.busyCores;
    attempts.push({ ok: row.ok, contended: row.contended, otherLoadCores: row.otherLoadCores });
    row.attempts = attempts;
    if (row.ok || !row.contended || i === 1 || budget.retries <= 0) return row;
    budget.retries--;
    opts.log?.(`  ${opts.label}: failed while contended (other load ${row.otherLoadCores.toFixed(2)} cores); measuring again`);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Run one class. `teacher`: "proctor" | "bare"; `receivers`: "probe" | "light" | "bare";
 * `perProcess`: most students in one process. Returns one table row (plain data).
 */
export async function runClass({ label, teacher, receivers, n, perProcess = Infinity, generated, fps, warmMs, windowMs, profileDir, joinConcurrency = 16, log = () => undefined }) {
  const children = [];
  const t0 = performance.now();
  try {
    const tch = await spawnChild(`${label}/teacher`);
    children.push(tch);
    const { url } = await tch.call("teacher", { variant: teacher, generated, fps });

    const names = Array.from({ length: n }, (_, i) => `s${String(i + 1).padStart(3, "0")}`);
    const groups = [];
    const size = Math.min(n, perProcess);
    for (let i = 0; i < n; i += size) groups.push(names.slice(i, i + size));
    const studs = await Promise.all(groups.map((_, i) => spawnChild(`${label}/students-${i + 1}`)));
    children.unshift(...studs); // stopped first
    const joinT0 = performance.now();
    const joins = await Promise.all(
      studs.map((c, i) => c.call("students", { kind: receivers, names: groups[i], serverUrl: url, room: BENCH_ROOM, concurrency: Math.max(4, Math.ceil(joinConcurrency / studs.length)) }, 120_000)),
    );
    const joinWallMs = performance.now() - joinT0;
    const joined = joins.reduce((s, j) => s + j.joined, 0);
    const failed = joins.flatMap((j) => j.failed);
    const joinMs = summarize(joins.flatMap((j) => j.joinMs));
    log(`  ${label}: ${joined}/${n} joined in ${(joinWallMs / 1000).toFixed(1)} s${failed.length ? ` (${failed.length} failed: ${failed[0].error})` : ""}`);

    const mapping = await tch.call("start", { playMs: warmMs + windowMs + 30_000 });
    await Promise.all(studs.map((c) => c.call("mapping", { mapping })));
    await sleep(warmMs);

    const all = [tch, ...studs];
    const names2 = ["teacher", ...studs.map((_, i) => `students-${i + 1}`)];
    const m0 = machineSample();
    await Promise.all(all.map((c) => c.call("markStart", { profileDir: profileDir ? join(profileDir, label) : undefined })));
    await sleep(windowMs);
    const ends = await Promise.all(all.map((c, i) => c.call("markEnd", { profileDir: profileDir ? join(profileDir, label) : undefined, profileName: names2[i] }, 120_000)));
    const m1 = machineSample();
    const teacherStats = await tch.call("teacherStats");

    const teacherCpu = cpuBetween(ends[0].start, ends[0].end);
    const studentCpus = ends.slice(1).map((e) => cpuBetween(e.start, e.end));
    const studentsFraction = studentCpus.reduce((s, c) => s + c.fraction, 0);
    const perStudent = ends.slice(1).flatMap((e) => e.perStudent);
    const e2eAll = ends.slice(1).flatMap((e) => Array.from(e.e2e));
    const e2e = summarize(e2eAll);
    const fpsValues = perStudent.map((s) => s.fps);
    const videoLost = perStudent.reduce((s, p) => s + Math.max(0, p.videoLost), 0);
    const audioLost = perStudent.reduce((s, p) => s + Math.max(0, p.audioLost), 0);
    const fpsMin = fpsValues.length ? Math.min(...fpsValues) : 0;
    const busy = machineBusyBetween(m0, m1);
    const irq = machineIrqBetween(m0, m1);
    const cores = cpus().length;
    const ok = joined === n && fpsMin >= FPS_FLOOR && videoLost + audioLost === 0;
    // Busy time not charged to the bench's processes, minus interrupts (our own loopback packets).
    const otherLoadCores = busy === null ? null : Math.max(0, (busy - irq) * cores - teacherCpu.fraction - studentsFraction);
    return {
      label,
      teacher,
      receivers,
      n,
      joined,
      failedJoins: failed,
      joinMs: { p50: e2eRound(joinMs.p50), max: e2eRound(joinMs.max), wallMs: Math.round(joinWallMs) },
      windowMs: Math.round(teacherCpu.wallMs),
      teacherCpu: teacherCpu.fraction,
      teacherCpuPerStudentPct: (100 * teacherCpu.fraction) / n,
      studentProcesses: studs.length,
      studentsCpu: studentsFraction,
      studentsCpuPerStudentPct: (100 * studentsFraction) / n,
      studentsCpuPerProcess: studentCpus.map((c) => c.fraction),
      fpsMin,
      fpsMean: fpsValues.length ? fpsValues.reduce((s, v) => s + v, 0) / fpsValues.length : 0,
      videoLost,
      audioLost,
      videoPackets: perStudent.reduce((s, p) => s + p.videoPackets, 0),
      audioPackets: perStudent.reduce((s, p) => s + p.audioPackets, 0),
      e2eMs: { p50: e2eRound(e2e.p50), p95: e2eRound(e2e.p95), p99: e2eRound(e2e.p99), max: e2eRound(e2e.max), frames: e2e.count },
      machineBusyCores: busy === null ? null : busy * cores,
      irqCores: irq === null ? null : irq * cores,
      otherLoadCores,
      contended: otherLoadCores !== null && otherLoadCores > CONTENDED_CORES,
      teacherStats,
      ok,
      profiles: profileDir ? ends.map((e, i) => ({ process: names2[i], ...e.profile })) : undefined,
      wallMs: Math.round(performance.now() - t0),
    };
  } finally {
    // The window is over: no graceful goodbyes needed (a backlogged process would take long).
    await Promise.allSettled(children.map((c) => c.stop(2_000)));
  }
}

function e2eRound(v) {
  return v === null || v === undefined ? null : Math.round(v * 100) / 100;
}
