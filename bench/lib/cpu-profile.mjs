// Optional CPU profiling of a bench process over exactly the measurement window (node:inspector's
// Profiler, the same sampler as `node --cpu-prof`), written as a .cpuprofile (open it in Chrome
// DevTools or speedscope) and summarised as the top functions by self time, plus self time per
// area (proctor's dist/ code by file, werift by package, node internals, GC, idle).
import { Session } from "node:inspector/promises";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export class WindowProfiler {
  #session = null;

  async start(samplingIntervalUs = 500) {
    this.#session = new Session();
    this.#session.connect();
    await this.#session.post("Profiler.enable");
    await this.#session.post("Profiler.setSamplingInterval", { interval: samplingIntervalUs });
    await this.#session.post("Profiler.start");
  }

  /** Stop, write the profile to `file`, and return its summary. */
  async stop(file, top = 25) {
    const s = this.#session;
    if (!s) return null;
    const { profile } = await s.post("Profiler.stop");
    await s.post("Profiler.disable");
    s.disconnect();
    this.#session = null;
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(profile));
    return { file: relative(ROOT, file), ...summarizeProfile(profile, top) };
  }
}

/** Self time by function and by area from a V8 CPU profile. */
export function summarizeProfile(profile, top = 25) {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    selfUs.set(id, (selfUs.get(id) ?? 0) + (deltas[i] ?? 0));
  }
  let totalUs = 0;
  for (const v of selfUs.values()) totalUs += v;
  const fns = new Map();
  const areas = new Map();
  for (const [id, us] of selfUs) {
    const n = byId.get(id);
    if (!n) continue;
    const cf = n.callFrame;
    const where = location(cf.url);
    const key = `${cf.functionName || "(anonymous)"} ${where}:${cf.lineNumber + 1}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    const area = areaOf(cf);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const busyUs = totalUs - (areas.get("(idle)") ?? 0);
  const rank = (m) =>
    [...m.entries()]
      .filter(([name]) => !name.startsWith("(idle)"))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, us]) => ({ name, selfMs: Math.round(us / 100) / 10, pctOfBusy: busyUs > 0 ? Math.round((1000 * us) / busyUs) / 10 : 0 }));
  return { totalMs: Math.round(totalUs / 1000), busyMs: Math.round(busyUs / 1000), topFunctions: rank(fns), areas: rank(areas) };
}

function location(url) {
  if (!url) return "";
  const path = url.startsWith("file://") ? fileURLToPath(url) : url;
  const rel = path.startsWith(ROOT) ? path.slice(ROOT.length) : path;
  const nm = rel.lastIndexOf(`node_modules${sep}`);
  return nm >= 0 ? rel.slice(nm + 13) : rel;
}

function areaOf(cf) {
  const name = cf.functionName;
  if (name === "(idle)" || name === "(program)" || name === "(garbage collector)") return name;
  const loc = location(cf.url);
  if (!loc) return "(native/builtin)";
  if (loc.startsWith("node:")) return "node internals";
  if (loc.startsWith(`dist${sep}`)) return `proctor ${loc}`;
  if (loc.startsWith(`bench${sep}`)) return `bench ${loc}`;
  const m = /^(werift|@?[^/\\]+)[/\\](?:lib[/\\])?([^/\\]+)?/.exec(loc);
  if (m && m[1] === "werift") return `werift ${m[2] ?? ""}`;
  return m ? `dep ${m[1]}` : loc;
}
