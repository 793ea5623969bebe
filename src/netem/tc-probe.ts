// Run-time probe for the tc backend: can this process, on this kernel, do what a profile needs?
// Checked for real, never guessed from config files: root; `ip` and `tc` present; a network
// namespace can be created; a veth pair can be created (inside that throwaway namespace, so the
// root namespace is never touched); and each qdisc the backend uses (netem, htb, pfifo; tbf for
// the record) can be added to that veth — the kernel's own answer ("Error: Specified qdisc kind is
// unknown.") is kept as the reason. /proc/modules and `modprobe -n` only add context to the message
// (a monolithic kernel has no /proc/modules: sch_netem must then be built in).
// `assertTcUsable` turns a probe and a profile's needs into one error that names exactly what is
// missing and points to `--netem relay`, the backend that works anywhere.
import { existsSync, readFileSync } from "node:fs";
import { release } from "node:os";
import { newLinkId, NETNS_PREFIX, runCommand } from "./netns.js";
import type { TcRequirements } from "./tc-commands.js";

export type ProbedQdisc = "netem" | "htb" | "tbf" | "pfifo";

export interface QdiscProbe {
  available: boolean;
  /** Why not: the kernel's / tc's message, or "not probed: …". */
  error?: string;
}

export interface TcProbeResult {
  root: boolean;
  uid: number | null;
  kernel: string;
  /** `tc -V` output, or null when tc is not installed. */
  tc: string | null;
  /** `ip -V` output, or null when ip is not installed. */
  ip: string | null;
  netns: QdiscProbe;
  veth: QdiscProbe;
  qdiscs: Record<ProbedQdisc, QdiscProbe>;
  /** Shorthand for qdiscs.netem.available. */
  netem: boolean;
  /** What the module system says about sch_netem (context for the message). */
  netemModule: string;
  /** One line per missing piece (empty: everything the tc backend can use is there). */
  problems: string[];
}

const QDISC_TRIALS: Record<ProbedQdisc, string[]> = {
  netem: ["netem", "delay", "1ms"],
  htb: ["htb", "default", "1"],
  tbf: ["tbf", "rate", "1mbit", "burst", "10kb", "latency", "50ms"],
  pfifo: ["pfifo", "limit", "10"],
};

const firstLine = (s: string): string => s.trim().split("\n")[0]?.trim() ?? "";

function netemModuleInfo(): string {
  if (!existsSync("/proc/modules")) return "/proc/modules absent (kernel without loadable modules): sch_netem would have to be built in";
  const loaded = readFileSync("/proc/modules", "utf8").split("\n").some((l) => l.startsWith("sch_netem "));
  return loaded ? "sch_netem module loaded" : "sch_netem module not loaded";
}

async function modprobeInfo(): Promise<string | null> {
  const r = await runCommand(["modprobe", "-n", "-v", "sch_netem"]);
  if (r.code === null) return null; // no modprobe
  return r.code === 0 ? `modprobe -n sch_netem: ok${r.stdout.trim() ? ` (${firstLine(r.stdout)})` : ""}` : `modprobe -n sch_netem: ${firstLine(r.stderr) || `exit ${r.code}`}`;
}

/** Probe this machine (≈ 100 ms as root; a throwaway namespace `proctor-<pid>p<n>` is created and removed). */
export async function probeTc(): Promise<TcProbeResult> {
  const uid = typeof process.getuid === "function" ? process.getuid() : null;
  const root = uid === 0;
  const [tcV, ipV] = await Promise.all([runCommand(["tc", "-V"]), runCommand(["ip", "-V"])]);
  const tc = tcV.code === 0 ? firstLine(tcV.stdout) : null;
  const ip = ipV.code === 0 ? firstLine(ipV.stdout) : null;
  const notProbed = (why: string): QdiscProbe => ({ available: false, error: `not probed: ${why}` });
  let netns: QdiscProbe;
  let veth: QdiscProbe;
  const qdiscs = {} as Record<ProbedQdisc, QdiscProbe>;
  const why = !root ? "needs root" : !ip ? "ip (iproute2) not installed" : !tc ? "tc (iproute2) not installed" : null;
  if (why) {
    netns = notProbed(why);
    veth = notProbed(why);
    for (const k of Object.keys(QDISC_TRIALS) as ProbedQdisc[]) qdiscs[k] = notProbed(why);
  } else {
    const ns = `${NETNS_PREFIX}${newLinkId()}`;
    const add = await runCommand(["ip", "netns", "add", ns]);
    netns = add.code === 0 ? { available: true } : { available: false, error: firstLine(add.stderr) || `exit ${add.code}` };
    if (netns.available) {
      try {
        const v = await runCommand(["ip", "-n", ns, "link", "add", "pxa", "type", "veth", "peer", "name", "pxb"]);
        veth = v.code === 0 ? { available: true } : { available: false, error: firstLine(v.stderr) || `exit ${v.code}` };
        for (const [kind, args] of Object.entries(QDISC_TRIALS) as [ProbedQdisc, string[]][]) {
          if (!veth.available) {
            qdiscs[kind] = notProbed("no veth to try it on");
            continue;
          }
          const r = await runCommand(["tc", "-n", ns, "qdisc", "add", "dev", "pxa", "root", "handle", "1:", ...args]);
          qdiscs[kind] = r.code === 0 ? { available: true } : { available: false, error: firstLine(r.stderr) || `exit ${r.code}` };
          if (r.code === 0) await runCommand(["tc", "-n", ns, "qdisc", "del", "dev", "pxa", "root"]);
        }
      } finally {
        await runCommand(["ip", "netns", "del", ns]);
      }
    } else {
      veth = notProbed("no namespace to try it in");
      for (const k of Object.keys(QDISC_TRIALS) as ProbedQdisc[]) qdiscs[k] = notProbed("no namespace to try it in");
    }
  }
  const modprobe = await modprobeInfo();
  const netemModule = [netemModuleInfo(), modprobe].filter(Boolean).join("; ");
  const problems: string[] = [];
  if (!root) problems.push(`not root (uid ${uid ?? "unknown"}): namespaces and qdiscs need root`);
  if (!ip) problems.push(`ip (iproute2) not found: ${firstLine(ipV.stderr) || "not on PATH"}`);
  if (!tc) problems.push(`tc (iproute2) not found: ${firstLine(tcV.stderr) || "not on PATH"}`);
  if (root && ip && !netns.available) problems.push(`cannot create a network namespace: ${netns.error}`);
  if (netns.available && !veth.available) problems.push(`cannot create a veth pair: ${veth.error}`);
  if (veth.available) {
    for (const [kind, q] of Object.entries(qdiscs) as [ProbedQdisc, QdiscProbe][]) {
      if (!q.available) problems.push(`kernel has no sch_${kind} (tc: "${q.error}")${kind === "netem" ? ` — ${netemModule}` : ""}`);
    }
  }
  return { root, uid, kernel: release(), tc, ip, netns, veth, qdiscs, netem: qdiscs.netem.available, netemModule, problems };
}

/** A human summary, one item per line. */
export function formatProbe(p: TcProbeResult): string {
  const yes = (q: QdiscProbe): string => (q.available ? "yes" : `no (${q.error})`);
  return [
    `kernel ${p.kernel}, uid ${p.uid ?? "?"}${p.root ? " (root)" : ""}`,
    `tc: ${p.tc ?? "missing"}`,
    `ip: ${p.ip ?? "missing"}`,
    `netns: ${yes(p.netns)}`,
    `veth: ${yes(p.veth)}`,
    ...(Object.entries(p.qdiscs) as [ProbedQdisc, QdiscProbe][]).map(([k, q]) => `sch_${k}: ${yes(q)}`),
    `sch_netem module: ${p.netemModule}`,
  ].join("\n");
}

/** The tc backend cannot run what was asked; `missing` lists each missing piece. */
export class TcUnavailableError extends Error {
  readonly code = "PRX_ERR_NETEM_TC_UNAVAILABLE";
  constructor(readonly missing: string[], what: string) {
    super(
      `tc netem backend cannot run${what ? ` ${what}` : ""} on this machine:\n` +
        missing.map((m) => `  - ${m}`).join("\n") +
        `\nUse \`--netem relay\` (the userspace relay backend: unprivileged, any kernel) instead.`,
    );
    this.name = "TcUnavailableError";
  }
}

/**
 * Throw `TcUnavailableError` unless the probe shows everything `needs` asks for. The basics
 * (root, ip, tc, namespaces, veth) are always needed; sch_netem only when a netem feature is used
 * (the message says which), sch_htb only for a rate. `what` names the profile in the message.
 */
export function assertTcUsable(probe: TcProbeResult, needs: TcRequirements, what = ""): void {
  const missing: string[] = [];
  if (!probe.root) missing.push(`root privileges (running as uid ${probe.uid ?? "unknown"}): namespaces, veth and qdiscs need root`);
  if (!probe.ip) missing.push("the `ip` command (iproute2)");
  if (!probe.tc) missing.push("the `tc` command (iproute2)");
  if (probe.root && probe.ip && !probe.netns.available) missing.push(`network namespaces (ip netns add: ${probe.netns.error})`);
  if (probe.netns.available && !probe.veth.available) missing.push(`veth pairs (ip link add … type veth: ${probe.veth.error})`);
  if (probe.veth.available) {
    if (needs.netem.length > 0 && !probe.qdiscs.netem.available) {
      missing.push(
        `the kernel's sch_netem qdisc, needed for ${needs.netem.join(", ")} (tc: "${probe.qdiscs.netem.error}"; ${probe.netemModule}) — ` +
          `build the kernel with CONFIG_NET_SCH_NETEM or \`modprobe sch_netem\``,
      );
    }
    if (needs.htb && !probe.qdiscs.htb.available) {
      missing.push(`the kernel's sch_htb qdisc, needed for rate (tc: "${probe.qdiscs.htb.error}") — CONFIG_NET_SCH_HTB or \`modprobe sch_htb\``);
    }
  }
  if (missing.length > 0) throw new TcUnavailableError(missing, what);
}
