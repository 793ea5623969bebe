// `proctor netem show <profile> [--backend relay|tc]` and `proctor netem validate <files…>`.
// Thin: load with the profile loader, print. Functions return {exitCode, stdout, stderr} so main.ts
// only writes them out. Exit codes as everywhere: 0 ok, 2 bad input (unknown profile, invalid
// file, bad flag).
//
// show: one row per (step, direction) with the tc-netem(8) parameters; a direction a step leaves
// alone has no row. With `--backend tc`: the exact commands per step for a student whose link id
// is $ID (namespace proctor-$ID, veths pxh$ID/pxs$ID), and which kernel qdiscs they need.
import { parseArgs } from "node:util";
import type { LinkParams } from "../netem/params.js";
import { formatProfileIssue, loadProfile, ProfileError, type LinkProfile } from "../netem/profile-loader.js";
import { linkDevices } from "../netem/netns.js";
import {
  describeLoss,
  formatArgv,
  formatTcPercent,
  formatTcRate,
  formatTcTime,
  profileCommands,
  profileRequirements,
} from "../netem/tc-commands.js";
import { SLOT_UNLIMITED, DEFAULT_LIMIT_PACKETS } from "../netem/params.js";

export interface CommandOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export const NETEM_HELP = `usage:
  proctor netem show <profile|file.yaml> [--backend relay|tc] [--dir <profiles dir>]
      the profile's steps as a table; with --backend tc the exact tc commands per step
  proctor netem validate <file.yaml…> [--dir <profiles dir>]
      check profile files (every problem, with file:line:column, step and field)
`;

const ms = (v: number): string => (v === 0 ? "-" : formatTcTime(v));
const pctOrDash = (p: { probability: number; correlation: number }): string =>
  p.probability === 0 ? "-" : `${formatTcPercent(p.probability)}${p.correlation > 0 ? ` corr ${formatTcPercent(p.correlation)}` : ""}`;

function describeRate(p: LinkParams): string {
  const r = p.rate;
  if (!r) return "-";
  const extra = [
    r.packetOverheadBytes !== 0 ? `overhead ${r.packetOverheadBytes}` : "",
    r.cellSizeBytes > 0 ? `cell ${r.cellSizeBytes}+${r.cellOverheadBytes}` : "",
  ].filter(Boolean);
  return formatTcRate(r.bitsPerSecond) + (extra.length ? ` (${extra.join(", ")})` : "");
}

function describeSlot(p: LinkParams): string {
  const s = p.slot;
  if (!s) return "-";
  const base = s.kind === "range" ? `${formatTcTime(s.minMs)}–${formatTcTime(s.maxMs)}` : `${s.distribution} ${formatTcTime(s.delayMs)}±${formatTcTime(s.jitterMs)}`;
  const caps = [s.packets !== SLOT_UNLIMITED ? `${s.packets} pkts` : "", s.bytes !== SLOT_UNLIMITED ? `${s.bytes} B` : ""].filter(Boolean);
  return base + (caps.length ? ` (${caps.join(", ")})` : "");
}

const formatAt = (atMs: number): string => (atMs % 1000 === 0 ? `${atMs / 1000}s` : `${atMs}ms`);

/** The steps table: at, direction, delay, jitter, correlation, distribution, loss, duplicate, reorder, corrupt, rate, limit, slot. */
export function profileTable(profile: LinkProfile): string {
  const header = ["at", "dir", "delay", "jitter", "corr", "dist", "loss", "duplicate", "reorder", "corrupt", "rate", "limit", "slot"];
  const rows: string[][] = [];
  for (const s of profile.steps) {
    for (const direction of ["down", "up"] as const) {
      const p = s[direction];
      if (!p) continue;
      rows.push([
        formatAt(s.atMs),
        direction,
        ms(p.delayMs),
        ms(p.jitterMs),
        p.delayCorrelation > 0 ? formatTcPercent(p.delayCorrelation) : "-",
        p.jitterMs > 0 ? p.distribution : "-",
        describeLoss(p),
        pctOrDash(p.duplicate),
        p.reorder.probability === 0 ? "-" : `${pctOrDash(p.reorder)}${p.reorder.gap > 1 ? ` gap ${p.reorder.gap}` : ""}`,
        pctOrDash(p.corrupt),
        describeRate(p),
        p.limitPackets === DEFAULT_LIMIT_PACKETS ? "-" : String(p.limitPackets),
        describeSlot(p),
      ]);
    }
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** The tc commands of a profile, grouped by step, for a student link id `$ID`. */
export function profileTcScript(profile: LinkProfile): string {
  const devices = linkDevices("$ID");
  const needs = profileRequirements(profile);
  const needed = [needs.netem.length ? `sch_netem (${needs.netem.join(", ")})` : "", needs.htb ? "sch_htb (rate)" : ""].filter(Boolean);
  const lines = [
    `# tc backend, student link id $ID: namespace ${devices.up.netns}, veth ${devices.down.dev} (root namespace) ⇄ ${devices.up.dev} (in the namespace)`,
    `# down (teacher→student) = egress of ${devices.down.dev}; up (student→teacher) = egress of ${devices.up.dev}`,
    `# rate = htb root 1: + class 1:1, leaf 10: = netem (or pfifo when only rate/limit); otherwise netem at root 1:`,
    `# kernel qdiscs needed: ${needed.length ? needed.join(", ") : "none (clean: no qdisc installed)"}`,
  ];
  let lastStep = -1;
  for (const c of profileCommands(profile, devices)) {
    if (c.stepIndex !== lastStep) {
      lines.push(`# step ${c.stepIndex} at ${formatAt(c.atMs)}`);
      lastStep = c.stepIndex;
    }
    if (c.argv.length === 0) lines.push(`#   ${c.direction}: no change (no qdisc needed, or same as before)`);
    for (const argv of c.argv) lines.push(formatArgv(argv));
  }
  return lines.join("\n");
}

function profileErrorText(e: unknown): string | null {
  if (e instanceof ProfileError) return e.issues.map(formatProfileIssue).join("\n");
  return null;
}

/** `proctor netem show <profile> [--backend relay|tc]`. */
export function netemShow(ref: string, opts: { backend?: string; dir?: string } = {}): CommandOutput {
  const backend = opts.backend ?? "relay";
  if (backend !== "relay" && backend !== "tc") {
    return { exitCode: 2, stdout: "", stderr: `proctor netem show: unknown backend "${backend}" (known: relay, tc)\n` };
  }
  let profile: LinkProfile;
  try {
    profile = loadProfile(ref, opts.dir ? { dir: opts.dir } : {});
  } catch (e) {
    const text = profileErrorText(e);
    if (text === null) throw e;
    return { exitCode: 2, stdout: "", stderr: `proctor netem show: invalid profile\n${text}\n` };
  }
  const out = [`profile ${profile.name} (${profile.source})`];
  if (profile.description) out.push(profile.description);
  out.push("", profileTable(profile));
  if (backend === "tc") out.push("", profileTcScript(profile));
  return { exitCode: 0, stdout: out.join("\n") + "\n", stderr: "" };
}

/** `proctor netem validate <files…>`: every file checked, every problem reported. */
export function netemValidate(files: readonly string[], opts: { dir?: string } = {}): CommandOutput {
  if (files.length === 0) return { exitCode: 2, stdout: "", stderr: `proctor netem validate: expected at least one profile file\n${NETEM_HELP}` };
  const ok: string[] = [];
  const bad: string[] = [];
  for (const f of files) {
    try {
      const p = loadProfile(f, opts.dir ? { dir: opts.dir } : {});
      const last = p.steps[p.steps.length - 1]!;
      ok.push(`${f}: ok — ${p.name}, ${p.steps.length} step(s), last at ${formatAt(last.atMs)}`);
    } catch (e) {
      const text = profileErrorText(e);
      if (text === null) throw e;
      bad.push(text);
    }
  }
  const summary = `${ok.length} valid, ${bad.length} invalid`;
  return {
    exitCode: bad.length ? 2 : 0,
    stdout: [...ok, summary].join("\n") + "\n",
    stderr: bad.length ? bad.join("\n") + "\n" : "",
  };
}

/** `proctor netem <show|validate> …` from argv (the words after `netem`). */
export function runNetemCommand(argv: readonly string[]): CommandOutput {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      options: { backend: { type: "string" }, dir: { type: "string" }, help: { type: "boolean", short: "h", default: false } },
    });
  } catch (e) {
    return { exitCode: 2, stdout: "", stderr: `proctor netem: ${(e as Error).message}\n${NETEM_HELP}` };
  }
  const [sub, ...rest] = parsed.positionals;
  const dir = parsed.values.dir;
  if (parsed.values.help) return { exitCode: 0, stdout: NETEM_HELP, stderr: "" };
  if (sub === "show") {
    if (rest.length !== 1) return { exitCode: 2, stdout: "", stderr: `proctor netem show: expected exactly one profile, got ${rest.length}\n${NETEM_HELP}` };
    return netemShow(rest[0]!, { ...(parsed.values.backend ? { backend: parsed.values.backend } : {}), ...(dir ? { dir } : {}) });
  }
  if (sub === "validate") {
    if (parsed.values.backend) return { exitCode: 2, stdout: "", stderr: "proctor netem validate: --backend applies to show only\n" };
    return netemValidate(rest, dir ? { dir } : {});
  }
  return { exitCode: 2, stdout: "", stderr: `proctor netem: ${sub ? `unknown subcommand "${sub}"` : "missing subcommand"} (known: show, validate)\n${NETEM_HELP}` };
}
