// CPU of a whole process tree (Linux /proc): Chromium is a browser process plus zygotes, a GPU
// process, utility processes and one renderer per window, and process.cpuUsage() cannot see
// them. A sample lists every descendant of the root pid (ppid chains over /proc/*/stat) with its
// utime + stime; a window's CPU is the sum of each process's growth between two samples (a
// process born inside the window counts from 0; one that died inside it is lost, and counted).
import { readFileSync, readdirSync } from "node:fs";
import { execFileSync } from "node:child_process";

/** Clock ticks per second of utime/stime (USER_HZ; 100 on Linux almost everywhere). */
const TICKS_PER_S = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** Every process as { pid, ppid, ticks } from /proc/<pid>/stat (comm may hold spaces and parens). */
function allProcesses() {
  const out = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    let stat;
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8");
    } catch {
      continue; // exited between readdir and read
    }
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // rest[0] = state (field 3), rest[1] = ppid (4), rest[11] = utime (14), rest[12] = stime (15)
    out.push({ pid: Number(name), ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) });
  }
  return out;
}

/** Chromium's process kind from its command line (--type=renderer|gpu-process|utility|zygote…; none = browser). */
function kindOf(pid) {
  try {
    // Chromium rewrites its argv (one space-joined string), so split on both.
    const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split(/[\0 ]/);
    const type = args.find((a) => a.startsWith("--type="))?.slice(7);
    if (!type) return "browser";
    const sub = args.find((a) => a.startsWith("--utility-sub-type="))?.slice(19);
    return sub ? `${type}:${sub.split(".").pop()}` : type;
  } catch {
    return "gone";
  }
}

/** One sample of `rootPid` and all its descendants: Map pid → { ticks, kind }, with the monotonic time. */
export function treeSample(rootPid) {
  const procs = allProcesses();
  const children = new Map();
  for (const p of procs) {
    if (!children.has(p.ppid)) children.set(p.ppid, []);
    children.get(p.ppid).push(p);
  }
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const tree = new Map();
  const stack = byPid.has(rootPid) ? [byPid.get(rootPid)] : [];
  while (stack.length) {
    const p = stack.pop();
    tree.set(p.pid, { ticks: p.ticks, kind: kindOf(p.pid) });
    for (const c of children.get(p.pid) ?? []) stack.push(c);
  }
  return { monoMs: performance.now(), procs: tree };
}

/**
 * CPU of the tree between two samples: fraction of one core in all, by process kind, and how many
 * processes were born or died inside the window (a death loses that process's last ticks).
 */
export function treeCpuBetween(a, b) {
  const wallMs = b.monoMs - a.monoMs;
  let ticks = 0;
  const byKind = {};
  let born = 0;
  for (const [pid, p] of b.procs) {
    const before = a.procs.get(pid);
    if (!before) born++;
    const d = p.ticks - (before?.ticks ?? 0);
    ticks += d;
    byKind[p.kind] = (byKind[p.kind] ?? 0) + d;
  }
  const died = [...a.procs.keys()].filter((pid) => !b.procs.has(pid)).length;
  const frac = (t) => (wallMs > 0 ? (t * 1000) / TICKS_PER_S / wallMs : 0);
  return {
    cpuMs: (ticks * 1000) / TICKS_PER_S,
    wallMs,
    fraction: frac(ticks),
    byKind: Object.fromEntries(Object.entries(byKind).map(([k, t]) => [k, frac(t)]).sort((x, y) => y[1] - x[1])),
    processes: b.procs.size,
    renderers: [...b.procs.values()].filter((p) => p.kind === "renderer").length,
    born,
    died,
  };
}
