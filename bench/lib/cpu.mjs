// CPU accounting for the benches. Each process reports its own process.cpuUsage() (user + system,
// all threads of the process, µs) against its own monotonic clock; a window's CPU is the
// difference of two samples divided by the wall time between them — "fraction of one core".
// The parent also reads /proc/stat (Linux) over the same window, so a report can say how busy the
// whole machine was (other tenants included): machines are noisy, and this makes the noise visible.
import { readFileSync } from "node:fs";

/** One CPU sample of this process. */
export function cpuSample() {
  const u = process.cpuUsage();
  return { userUs: u.user, systemUs: u.system, monoMs: performance.now() };
}

/** CPU used between two samples of the same process: ms of CPU, ms of wall time, fraction of one core. */
export function cpuBetween(a, b) {
  const cpuMs = (b.userUs + b.systemUs - a.userUs - a.systemUs) / 1000;
  const wallMs = b.monoMs - a.monoMs;
  return { cpuMs, wallMs, fraction: wallMs > 0 ? cpuMs / wallMs : 0 };
}

/** Aggregate jiffies from /proc/stat's first line, or null where it does not exist. */
export function machineSample() {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest* are already inside user/nice)
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    const irq = (f[5] ?? 0) + (f[6] ?? 0);
    const total = f.slice(0, 8).reduce((s, v) => s + (Number.isFinite(v) ? v : 0), 0);
    return { idle, irq, total };
  } catch {
    return null;
  }
}

/** Machine-wide busy fraction (0..1 of all cores) between two /proc/stat samples. */
export function machineBusyBetween(a, b) {
  if (!a || !b || b.total <= a.total) return null;
  return 1 - (b.idle - a.idle) / (b.total - a.total);
}

/**
 * Of that, the fraction spent in hard/soft interrupts: on loopback most of it is the kernel moving
 * the bench's own UDP packets (not charged to any process's cpuUsage), so it is reported apart.
 */
export function machineIrqBetween(a, b) {
  if (!a || !b || b.total <= a.total) return null;
  return (b.irq - a.irq) / (b.total - a.total);
}

/**
 * Wait until the machine is quiet: busy below `maxBusyCores` over a `sampleMs` sample, at most
 * `maxWaitMs`. Returns the last sample's busy cores and how long it waited (other tenants' test
 * runs share these 2 cores; measuring during one of them measures them, not us).
 */
export async function waitForQuiet({ maxBusyCores = 0.35, sampleMs = 1000, maxWaitMs = 60_000, cores = 1 } = {}) {
  const t0 = performance.now();
  let busyCores = null;
  for (;;) {
    const a = machineSample();
    await new Promise((r) => setTimeout(r, sampleMs));
    const busy = machineBusyBetween(a, machineSample());
    if (busy === null) return { busyCores: null, waitedMs: 0, quiet: true };
    busyCores = busy * cores;
    const waitedMs = performance.now() - t0;
    if (busyCores <= maxBusyCores) return { busyCores, waitedMs, quiet: true };
    if (waitedMs >= maxWaitMs) return { busyCores, waitedMs, quiet: false };
  }
}
