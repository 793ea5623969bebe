// LinkParams → the exact `tc` argv lists that make one veth end behave like that direction of the
// link. Pure: no process is run here (tc-backend.ts runs them; `proctor netem show --backend tc`
// prints them). Syntax follows tc-netem(8) / iproute2 q_netem.c, option order as in the man page's
// synopsis: limit, delay (jitter, correlation, distribution), loss, corrupt, duplicate, reorder,
// rate, slot.
//
// Direction ↔ device (qdiscs shape EGRESS only, so each direction is the egress of one veth end):
//   down (teacher→student) = egress of the host-side veth `pxh<id>` (root namespace, toward the student)
//   up   (student→teacher) = egress of the namespace-side veth `pxs<id>`, i.e. `tc -n proctor-<id> …`
//
// Qdisc layouts (one per direction, chosen from the params):
//   none   clean params: no qdisc of ours (the device default).
//   netem  `root handle 1: netem …` — no rate, or a rate htb cannot express (cell size, negative
//          packet overhead): then netem's own `rate RATE PACKETOVERHEAD CELLSIZE CELLOVERHEAD`.
//   htb    a rate: `root handle 1: htb default 1`, one class `1:1 htb rate R ceil R [overhead N]`,
//          and a leaf `parent 1:1 handle 10:` that is `netem …` (delay/loss/…) or, when nothing
//          but rate and queue limit is asked, `pfifo limit N` — so rate shaping needs only sch_htb,
//          not sch_netem. htb dequeues from the netem leaf once a packet's delay is over, so a
//          packet leaves at max(arrival + delay, previous departure) + size/rate, the order DESIGN.md
//          gives; packets waiting for the rate stay in the leaf and count against its `limit`
//          (tail drop), as with netem's own rate. Chosen over tbf: an htb class changes in place
//          (`tc class change`) and takes any leaf; netem-root + tbf-child would need sch_netem
//          even for a rate-only link.
//
// Steps: the first is `tc qdisc add`; later ones `tc qdisc change` / `tc class change`. The kernel's
// netem_change() (net/sched/sch_netem.c) KEEPS attributes a change request omits — correlations
// (TCA_NETEM_CORR), reorder, corrupt, the delay distribution table, slot, netem rate — so a change
// that would drop one of them rebuilds instead (`tc qdisc del` + `add`). Invariant: after every
// transition the kernel state equals a fresh `add` with the new arguments. A layout change
// (none/netem/htb, or the htb leaf's kind) also rebuilds. Identical params emit nothing.
//
// Values: times as tc time units (`40ms`, `1500us`); probabilities as percentages (`46.67%`);
// rates as tc units (`2mbit`, `750kbit`, `1500kbit`). netem's `distribution uniform` has no table
// file in iproute2 (uniform is netem's table-less default), so it is never written; a uniform slot
// distribution becomes the equivalent range `slot MIN MAX`.
import { DEFAULT_LIMIT_PACKETS, meanLossProbability, SLOT_UNLIMITED, type Direction, type LinkParams, type RateParams } from "./params.js";
import type { LinkProfile } from "./profile-loader.js";

/** One veth end: its name and the namespace it lives in (null = the root namespace). */
export interface TcDevice {
  dev: string;
  netns: string | null;
}

/** Which device carries which direction of a student's link. */
export interface LinkDevices {
  down: TcDevice;
  up: TcDevice;
}

export type TcArgv = readonly string[];

export type TcLayout = { kind: "none" } | { kind: "netem" } | { kind: "htb"; leaf: "netem" | "pfifo" };

/** htb class that carries all traffic (`default 1`), and the leaf qdisc's handle. */
export const HTB_ROOT = "1:";
export const HTB_CLASS = "1:1";
export const LEAF_HANDLE = "10:";

// ---------------------------------------------------------------- value formatting (tc units)

/** Milliseconds → tc time: `40ms`, `1500us`, `250ns`. */
export function formatTcTime(ms: number): string {
  if (Number.isInteger(ms)) return `${ms}ms`;
  const us = ms * 1000;
  if (Math.abs(us - Math.round(us)) < 1e-6) return `${Math.round(us)}us`;
  return `${Math.round(ms * 1e6)}ns`;
}

/** Fraction 0–1 → tc percentage: 0.3 → `30%`, 0.4667 → `46.67%` (float noise trimmed). */
export function formatTcPercent(fraction: number): string {
  const s = (fraction * 100).toFixed(6).replace(/\.?0+$/, "");
  return `${s === "-0" ? "0" : s}%`;
}

/** Bits per second → the largest tc SI unit that is exact: `2mbit`, `750kbit`, `1500kbit`, `64bit`. */
export function formatTcRate(bitsPerSecond: number): string {
  const bps = Math.round(bitsPerSecond);
  for (const [unit, f] of [["tbit", 1e12], ["gbit", 1e9], ["mbit", 1e6], ["kbit", 1e3]] as const) {
    if (bps >= f && bps % f === 0) return `${bps / f}${unit}`;
  }
  return `${bps}bit`;
}

// ---------------------------------------------------------------- what a direction needs

/** True when htb's class can shape this rate exactly (no ATM-like cells, overhead ≥ 0). */
export function htbCanShape(rate: RateParams): boolean {
  return rate.cellSizeBytes === 0 && rate.cellOverheadBytes === 0 && rate.packetOverheadBytes >= 0;
}

/** The netem features these params use (empty: sch_netem is not needed). */
export function netemFeatures(p: LinkParams): string[] {
  const f: string[] = [];
  if (p.delayMs > 0 || p.jitterMs > 0) f.push("delay");
  if (p.loss.kind !== "none") f.push(p.loss.kind === "random" ? "loss" : `loss ${p.loss.kind}`);
  if (p.corrupt.probability > 0) f.push("corrupt");
  if (p.duplicate.probability > 0) f.push("duplicate");
  if (p.reorder.probability > 0) f.push("reorder");
  if (p.rate && !htbCanShape(p.rate)) f.push("rate with cell size/negative overhead");
  if (p.slot) f.push("slot");
  return f;
}

export function tcLayout(p: LinkParams): TcLayout {
  const netem = netemFeatures(p).length > 0;
  if (p.rate && htbCanShape(p.rate)) return { kind: "htb", leaf: netem ? "netem" : "pfifo" };
  return netem ? { kind: "netem" } : { kind: "none" };
}

/** Kernel qdiscs a set of params needs: sch_netem (with the features that need it) and sch_htb. */
export interface TcRequirements {
  /** netem features in use, e.g. ["delay", "loss gemodel"]; empty: sch_netem not needed. */
  netem: string[];
  htb: boolean;
}

export function requirementsFor(params: Iterable<LinkParams>): TcRequirements {
  const netem = new Set<string>();
  let htb = false;
  for (const p of params) {
    for (const f of netemFeatures(p)) netem.add(f);
    if (tcLayout(p).kind === "htb") htb = true;
  }
  return { netem: [...netem], htb };
}

export function profileRequirements(profile: LinkProfile): TcRequirements {
  const all: LinkParams[] = [];
  for (const s of profile.steps) {
    if (s.down) all.push(s.down);
    if (s.up) all.push(s.up);
  }
  return requirementsFor(all);
}

// ---------------------------------------------------------------- argument lists

/** The options after `netem` (tc-netem(8) OPTIONS), defaults left out. */
export function netemArgs(p: LinkParams, opts: { rate: boolean } = { rate: tcLayout(p).kind === "netem" }): string[] {
  const a: string[] = [];
  if (p.limitPackets !== DEFAULT_LIMIT_PACKETS) a.push("limit", String(p.limitPackets));
  if (p.delayMs > 0 || p.jitterMs > 0) {
    a.push("delay", formatTcTime(p.delayMs));
    if (p.jitterMs > 0) {
      a.push(formatTcTime(p.jitterMs));
      if (p.delayCorrelation > 0) a.push(formatTcPercent(p.delayCorrelation));
      if (p.distribution !== "uniform") a.push("distribution", p.distribution);
    }
  }
  const l = p.loss;
  switch (l.kind) {
    case "none":
      break;
    case "random":
      a.push("loss", "random", formatTcPercent(l.probability));
      if (l.correlation > 0) a.push(formatTcPercent(l.correlation));
      break;
    case "gemodel":
      a.push("loss", "gemodel", ...[l.p, l.r, l.oneMinusH, l.oneMinusK].map(formatTcPercent));
      break;
    case "state":
      a.push("loss", "state", ...[l.p13, l.p31, l.p32, l.p23, l.p14].map(formatTcPercent));
      break;
  }
  if (p.corrupt.probability > 0) {
    a.push("corrupt", formatTcPercent(p.corrupt.probability));
    if (p.corrupt.correlation > 0) a.push(formatTcPercent(p.corrupt.correlation));
  }
  if (p.duplicate.probability > 0) {
    a.push("duplicate", formatTcPercent(p.duplicate.probability));
    if (p.duplicate.correlation > 0) a.push(formatTcPercent(p.duplicate.correlation));
  }
  if (p.reorder.probability > 0) {
    a.push("reorder", formatTcPercent(p.reorder.probability));
    if (p.reorder.correlation > 0) a.push(formatTcPercent(p.reorder.correlation));
    if (p.reorder.gap > 1) a.push("gap", String(p.reorder.gap));
  }
  if (opts.rate && p.rate) {
    const r = p.rate;
    a.push("rate", formatTcRate(r.bitsPerSecond));
    if (r.cellSizeBytes > 0 || r.cellOverheadBytes !== 0) a.push(String(r.packetOverheadBytes), String(r.cellSizeBytes), String(r.cellOverheadBytes));
    else if (r.packetOverheadBytes !== 0) a.push(String(r.packetOverheadBytes));
  }
  if (p.slot) {
    const s = p.slot;
    if (s.kind === "range" || s.distribution === "uniform") {
      const [min, max] = s.kind === "range" ? [s.minMs, s.maxMs] : [Math.max(0, s.delayMs - s.jitterMs), s.delayMs + s.jitterMs];
      a.push("slot", formatTcTime(min));
      if (max !== min) a.push(formatTcTime(max));
    } else {
      a.push("slot", "distribution", s.distribution, formatTcTime(s.delayMs), formatTcTime(s.jitterMs));
    }
    if (s.packets !== SLOT_UNLIMITED) a.push("packets", String(s.packets));
    if (s.bytes !== SLOT_UNLIMITED) a.push("bytes", String(s.bytes));
  }
  return a;
}

/** The htb class's shaping options: `rate R ceil R [overhead N]`. */
export function htbClassArgs(rate: RateParams): string[] {
  const r = formatTcRate(rate.bitsPerSecond);
  const a = ["rate", r, "ceil", r];
  if (rate.packetOverheadBytes > 0) a.push("overhead", String(rate.packetOverheadBytes));
  return a;
}

/** The htb leaf: `netem …` or `pfifo limit N`. */
function leafArgs(p: LinkParams, leaf: "netem" | "pfifo"): string[] {
  return leaf === "netem" ? ["netem", ...netemArgs(p, { rate: false })] : ["pfifo", "limit", String(p.limitPackets)];
}

function tc(d: TcDevice, ...rest: string[]): string[] {
  return d.netns ? ["tc", "-n", d.netns, ...rest] : ["tc", ...rest];
}

// ---------------------------------------------------------------- commands

/** Commands that install `p` on a device that has no qdisc of ours. */
export function setupCommands(d: TcDevice, p: LinkParams): string[][] {
  const layout = tcLayout(p);
  switch (layout.kind) {
    case "none":
      return [];
    case "netem":
      return [tc(d, "qdisc", "add", "dev", d.dev, "root", "handle", HTB_ROOT, "netem", ...netemArgs(p))];
    case "htb":
      return [
        tc(d, "qdisc", "add", "dev", d.dev, "root", "handle", HTB_ROOT, "htb", "default", "1"),
        tc(d, "class", "add", "dev", d.dev, "parent", HTB_ROOT, "classid", HTB_CLASS, "htb", ...htbClassArgs(p.rate!)),
        tc(d, "qdisc", "add", "dev", d.dev, "parent", HTB_CLASS, "handle", LEAF_HANDLE, ...leafArgs(p, layout.leaf)),
      ];
  }
}

/** Remove whatever we installed (the device falls back to its default qdisc). */
export function clearCommands(d: TcDevice): string[][] {
  return [tc(d, "qdisc", "del", "dev", d.dev, "root")];
}

/** netlink attributes netem_change() keeps when a request omits them (see header). */
function stickyNetemAttributes(p: LinkParams, withRate: boolean): Set<string> {
  const s = new Set<string>();
  const delayCorr = p.jitterMs > 0 && p.delayCorrelation > 0;
  const lossCorr = p.loss.kind === "random" && p.loss.correlation > 0;
  if (delayCorr || lossCorr || (p.duplicate.probability > 0 && p.duplicate.correlation > 0)) s.add("correlation");
  if (p.reorder.probability > 0) s.add("reorder");
  if (p.corrupt.probability > 0) s.add("corrupt");
  if (p.jitterMs > 0 && p.distribution !== "uniform") s.add("distribution");
  if (p.slot) s.add("slot");
  if (withRate && p.rate) s.add("rate");
  return s;
}

/** True if `tc qdisc change … netem <next>` leaves the kernel exactly as a fresh add would. */
export function netemChangeIsExact(prev: LinkParams, next: LinkParams, withRate: boolean): boolean {
  const before = stickyNetemAttributes(prev, withRate);
  const after = stickyNetemAttributes(next, withRate);
  for (const a of before) if (!after.has(a)) return false;
  return true;
}

/** What a device's tc state looks like for `p` (equal keys: nothing to do). */
function stateKey(p: LinkParams): string {
  const layout = tcLayout(p);
  switch (layout.kind) {
    case "none":
      return "none";
    case "netem":
      return JSON.stringify(["netem", netemArgs(p)]);
    case "htb":
      return JSON.stringify(["htb", htbClassArgs(p.rate!), leafArgs(p, layout.leaf)]);
  }
}

/**
 * Commands that move a device from `prev` (what is installed; null = nothing of ours) to `next`.
 * `change` where that is exact, a rebuild where the layout differs or the kernel would keep stale
 * attributes.
 */
export function transitionCommands(d: TcDevice, prev: LinkParams | null, next: LinkParams): string[][] {
  if (prev === null) return setupCommands(d, next);
  if (stateKey(prev) === stateKey(next)) return [];
  const a = tcLayout(prev);
  const b = tcLayout(next);
  if (b.kind === "none") return a.kind === "none" ? [] : clearCommands(d);
  if (a.kind === "none") return setupCommands(d, next);
  const rebuild = (): string[][] => [...clearCommands(d), ...setupCommands(d, next)];
  if (a.kind === "netem" && b.kind === "netem") {
    if (!netemChangeIsExact(prev, next, true)) return rebuild();
    return [tc(d, "qdisc", "change", "dev", d.dev, "root", "handle", HTB_ROOT, "netem", ...netemArgs(next))];
  }
  if (a.kind === "htb" && b.kind === "htb") {
    const out: string[][] = [];
    const classNext = htbClassArgs(next.rate!);
    if (JSON.stringify(htbClassArgs(prev.rate!)) !== JSON.stringify(classNext)) {
      out.push(tc(d, "class", "change", "dev", d.dev, "parent", HTB_ROOT, "classid", HTB_CLASS, "htb", ...classNext));
    }
    const leafPrev = leafArgs(prev, a.leaf);
    const leafNext = leafArgs(next, b.leaf);
    if (JSON.stringify(leafPrev) !== JSON.stringify(leafNext)) {
      const exact = a.leaf === b.leaf && (b.leaf === "pfifo" || netemChangeIsExact(prev, next, false));
      if (exact) {
        out.push(tc(d, "qdisc", "change", "dev", d.dev, "parent", HTB_CLASS, "handle", LEAF_HANDLE, ...leafNext));
      } else {
        out.push(tc(d, "qdisc", "del", "dev", d.dev, "parent", HTB_CLASS, "handle", LEAF_HANDLE));
        out.push(tc(d, "qdisc", "add", "dev", d.dev, "parent", HTB_CLASS, "handle", LEAF_HANDLE, ...leafNext));
      }
    }
    return out;
  }
  return rebuild();
}

/** One step's commands for one direction. `argv` is empty when the step changes nothing on tc. */
export interface ProfileCommand {
  stepIndex: number;
  atMs: number;
  direction: Direction;
  device: TcDevice;
  argv: string[][];
}

/** Every step's commands, in order, starting from devices with nothing installed. */
export function profileCommands(profile: LinkProfile, devices: LinkDevices): ProfileCommand[] {
  const current: Record<Direction, LinkParams | null> = { down: null, up: null };
  const out: ProfileCommand[] = [];
  for (const s of profile.steps) {
    for (const direction of ["down", "up"] as const) {
      const next = s[direction];
      if (!next) continue;
      const device = devices[direction];
      out.push({ stepIndex: s.index, atMs: s.atMs, direction, device, argv: transitionCommands(device, current[direction], next) });
      current[direction] = next;
    }
  }
  return out;
}

const SHELL_SAFE = /^[A-Za-z0-9_.:%/=+@$-]+$/;

/** argv → one shell line (arguments quoted only when needed; `$` kept so `pxh$ID` stays a variable). */
export function formatArgv(argv: TcArgv): string {
  return argv.map((a) => (SHELL_SAFE.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}

/** Mean loss of params as a percentage string (for tables): "30%", "—". */
export function describeLoss(p: LinkParams): string {
  const l = p.loss;
  switch (l.kind) {
    case "none":
      return "-";
    case "random":
      return `${formatTcPercent(l.probability)}${l.correlation > 0 ? ` corr ${formatTcPercent(l.correlation)}` : ""}`;
    case "gemodel":
      return `gemodel p ${formatTcPercent(l.p)} r ${formatTcPercent(l.r)} 1-h ${formatTcPercent(l.oneMinusH)} 1-k ${formatTcPercent(l.oneMinusK)} (mean ${formatTcPercent(Number(meanLossProbability(l).toFixed(4)))})`;
    case "state":
      return `state ${[l.p13, l.p31, l.p32, l.p23, l.p14].map(formatTcPercent).join(" ")} (mean ${formatTcPercent(Number(meanLossProbability(l).toFixed(4)))})`;
  }
}
