// One network namespace per student for the tc backend, joined to the root namespace by a veth
// pair, with addresses from a private block and no route anywhere else. Needs root (CAP_NET_ADMIN
// and CAP_SYS_ADMIN for `ip netns`). Everything runs through iproute2's `ip`.
//
// Names (Linux interface names are at most 15 bytes, so an id is at most 12 characters):
//   id         `<pid>p<seq base36>`   — the creating process's pid, so leftovers of a crashed run
//                                       (pid no longer alive) can be told from a live run's links
//   namespace  `proctor-<id>`
//   host end   `pxh<id>` in the root namespace; egress = the link's `down` (teacher→student)
//   ns end     `pxs<id>` inside the namespace; egress = the link's `up` (student→teacher)
// Addresses: a /30 per link from 10.231.0.0/16 (16 384 links): host end .1, student end .2 of
// its /30. Inside the namespace: lo up, the veth up, the connected /30 route, no default route —
// a student there can reach the root namespace's sockets via the host end's address, nothing else.
// The /30 is the lowest one no 10.231.x.y address in the root namespace uses yet (a concurrent run
// picking the same one in the same millisecond is not guarded against).
import { execFile, spawn, type ChildProcess, type SpawnOptions } from "node:child_process";
import type { LinkDevices } from "./tc-commands.js";

export const NETNS_PREFIX = "proctor-";
export const HOST_DEVICE_PREFIX = "pxh";
export const NS_DEVICE_PREFIX = "pxs";
/** 10.231.0.0/16 as a 32-bit number. */
const BLOCK_BASE = (10 << 24) | (231 << 16);
const BLOCK_LINKS = 1 << 14;

export interface CommandResult {
  argv: readonly string[];
  /** Exit code; null when killed by a signal or when the program could not start. */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A command that failed: names the command line and quotes its stderr. */
export class CommandError extends Error {
  readonly code = "PRX_ERR_NETEM_COMMAND";
  constructor(readonly result: CommandResult) {
    super(`\`${result.argv.join(" ")}\` failed (exit ${result.code ?? "?"}): ${(result.stderr || result.stdout).trim() || "no output"}`);
    this.name = "CommandError";
  }
}

/** Run a program (no shell) and collect its output. Never rejects. */
export function runCommand(argv: readonly string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<CommandResult> {
  const [file, ...args] = argv;
  if (!file) return Promise.resolve({ argv, code: null, stdout: "", stderr: "empty command" });
  return new Promise((resolve) => {
    const child = execFile(file, args, { timeout: opts.timeoutMs ?? 10_000, encoding: "utf8", maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null;
      let code: number | null = 0;
      if (e) code = typeof e.code === "number" ? e.code : null;
      const spawnError = e && typeof e.code === "string" ? `${e.code}: ${e.message}` : "";
      resolve({ argv, code, stdout: String(stdout ?? ""), stderr: String(stderr ?? "") + spawnError });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Run and throw `CommandError` unless the exit code is 0. */
export async function runChecked(argv: readonly string[], opts: { timeoutMs?: number } = {}): Promise<CommandResult> {
  const r = await runCommand(argv, opts);
  if (r.code !== 0) throw new CommandError(r);
  return r;
}

export interface LinkNames {
  id: string;
  namespace: string;
  hostDevice: string;
  nsDevice: string;
}

export function linkNames(id: string): LinkNames {
  return { id, namespace: NETNS_PREFIX + id, hostDevice: HOST_DEVICE_PREFIX + id, nsDevice: NS_DEVICE_PREFIX + id };
}

/** The tc devices of a link id (see tc-commands.ts for the direction mapping). */
export function linkDevices(id: string): LinkDevices {
  const n = linkNames(id);
  return { down: { dev: n.hostDevice, netns: null }, up: { dev: n.nsDevice, netns: n.namespace } };
}

let sequence = 0;

/** A fresh link id owned by this process: `<pid>p<seq>`. */
export function newLinkId(pid = process.pid): string {
  return `${pid}p${(sequence++).toString(36)}`;
}

/** The pid encoded in a link id, or null if the id is not ours. */
export function ownerPid(id: string): number | null {
  const m = /^(\d+)p[0-9a-z]+$/.exec(id);
  return m ? Number(m[1]) : null;
}

const dotted = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");

/** The /30 number `index` (0–16383) of 10.231.0.0/16: host end, student end, network. */
export function subnetAddresses(index: number): { network: string; host: string; student: string; prefixLength: 30 } {
  if (!Number.isInteger(index) || index < 0 || index >= BLOCK_LINKS) throw new RangeError(`subnet index ${index} outside 0–${BLOCK_LINKS - 1}`);
  const net = (BLOCK_BASE + index * 4) >>> 0;
  return { network: dotted(net), host: dotted(net + 1), student: dotted(net + 2), prefixLength: 30 };
}

/** Index of the /30 an address of 10.231.0.0/16 falls in, or null. */
export function subnetIndexOf(address: string): number | null {
  const m = /^10\.231\.(\d+)\.(\d+)$/.exec(address);
  if (!m) return null;
  return (Number(m[1]) * 256 + Number(m[2])) >> 2;
}

export interface NamespaceLink extends LinkNames {
  /** Address of the host end (root namespace): what the student reaches the teacher/room server at. */
  hostAddress: string;
  /** Address of the student end (inside the namespace). */
  studentAddress: string;
  prefixLength: 30;
  subnetIndex: number;
}

/** Names of this machine's `proctor-*` namespaces. */
export async function listProctorNamespaces(): Promise<string[]> {
  const r = await runCommand(["ip", "netns", "list"]);
  if (r.code !== 0) return [];
  return r.stdout
    .split("\n")
    .map((l) => l.trim().split(/\s+/)[0] ?? "")
    .filter((n) => n.startsWith(NETNS_PREFIX));
}

/** Names of `pxh*` interfaces in the root namespace. */
export async function listHostDevices(): Promise<string[]> {
  const r = await runCommand(["ip", "-o", "link", "show"]);
  if (r.code !== 0) return [];
  const out: string[] = [];
  for (const line of r.stdout.split("\n")) {
    const m = /^\d+:\s+([^:@\s]+)[@:]/.exec(line);
    if (m && m[1]!.startsWith(HOST_DEVICE_PREFIX)) out.push(m[1]!);
  }
  return out;
}

const reserved = new Set<number>();

async function allocateSubnet(): Promise<number> {
  const used = new Set<number>();
  const r = await runCommand(["ip", "-o", "-4", "addr", "show"]);
  for (const m of r.stdout.matchAll(/inet (10\.231\.\d+\.\d+)\//g)) {
    const i = subnetIndexOf(m[1]!);
    if (i !== null) used.add(i);
  }
  for (let i = 0; i < BLOCK_LINKS; i++) {
    // `reserved` is read live: a concurrent call in this process may have taken one meanwhile.
    if (!used.has(i) && !reserved.has(i)) {
      reserved.add(i);
      return i;
    }
  }
  throw new Error("no free /30 left in 10.231.0.0/16");
}

/**
 * Create namespace `proctor-<id>`, the veth pair `pxh<id>` ⇄ `pxs<id>` (the latter moved into the
 * namespace), addresses, lo up. On any failure, what was made is removed and the error thrown.
 */
export async function createNamespaceLink(id: string = newLinkId()): Promise<NamespaceLink> {
  const n = linkNames(id);
  if (n.hostDevice.length > 15) throw new Error(`link id "${id}" too long: interface names are at most 15 characters`);
  const subnetIndex = await allocateSubnet();
  const a = subnetAddresses(subnetIndex);
  const cidr = (addr: string): string => `${addr}/${a.prefixLength}`;
  try {
    await runChecked(["ip", "netns", "add", n.namespace]);
    await runChecked(["ip", "link", "add", n.hostDevice, "type", "veth", "peer", "name", n.nsDevice, "netns", n.namespace]);
    await runChecked(["ip", "addr", "add", cidr(a.host), "dev", n.hostDevice]);
    await runChecked(["ip", "link", "set", n.hostDevice, "up"]);
    await runChecked(["ip", "-n", n.namespace, "addr", "add", cidr(a.student), "dev", n.nsDevice]);
    await runChecked(["ip", "-n", n.namespace, "link", "set", n.nsDevice, "up"]);
    await runChecked(["ip", "-n", n.namespace, "link", "set", "lo", "up"]);
  } catch (e) {
    await destroyNamespaceLink(id);
    reserved.delete(subnetIndex);
    throw e;
  }
  return { ...n, hostAddress: a.host, studentAddress: a.student, prefixLength: a.prefixLength, subnetIndex };
}

/**
 * Remove a link's namespace and veth pair. Idempotent: whatever is already gone is fine. (Deleting
 * the namespace destroys its veth end and with it the pair, unless a process still runs inside —
 * so the host end is deleted explicitly too.)
 */
export async function destroyNamespaceLink(idOrLink: string | NamespaceLink): Promise<void> {
  const id = typeof idOrLink === "string" ? idOrLink : idOrLink.id;
  const n = linkNames(id);
  await runCommand(["ip", "link", "del", n.hostDevice]);
  await runCommand(["ip", "netns", "del", n.namespace]);
  if (typeof idOrLink !== "string") reserved.delete(idOrLink.subnetIndex);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Remove namespaces and host veth ends left by runs that are gone (their owner pid is not alive).
 * A live run's links — this process's included — are left alone. Returns the ids removed.
 */
export async function cleanupLeftovers(): Promise<string[]> {
  const ids = new Set<string>();
  for (const ns of await listProctorNamespaces()) ids.add(ns.slice(NETNS_PREFIX.length));
  for (const dev of await listHostDevices()) ids.add(dev.slice(HOST_DEVICE_PREFIX.length));
  const removed: string[] = [];
  for (const id of ids) {
    const pid = ownerPid(id);
    if (pid === null || pid === process.pid || pidAlive(pid)) continue;
    await destroyNamespaceLink(id);
    removed.push(id);
  }
  return removed.sort();
}

/** Run a program inside a namespace (`ip netns exec <ns> argv…`) and collect its output. */
export function execInNamespace(namespace: string, argv: readonly string[], opts: { timeoutMs?: number; input?: string } = {}): Promise<CommandResult> {
  return runCommand(["ip", "netns", "exec", namespace, ...argv], opts);
}

/** Start a long-running program inside a namespace; the caller owns (and must end) the child. */
export function spawnInNamespace(namespace: string, argv: readonly string[], opts: SpawnOptions = {}): ChildProcess {
  return spawn("ip", ["netns", "exec", namespace, ...argv], { stdio: ["pipe", "pipe", "pipe"], ...opts });
}
