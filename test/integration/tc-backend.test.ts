// The tc backend for real: the probe, a namespace + veth per student, UDP both ways between the
// student's namespace and the root namespace, htb rate shaping measured on the wire, step changes
// on time, every generated command accepted by the real `tc`, and nothing left behind. Parts that
// need sch_netem are skipped (with the probe's reason printed) on kernels without it.
import { spawn, type ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "../../src/clock.js";
import {
  cleanupLeftovers,
  createNamespaceLink,
  destroyNamespaceLink,
  linkNames,
  listProctorNamespaces,
  ownerPid,
  runCommand,
  subnetAddresses,
  subnetIndexOf,
} from "../../src/netem/netns.js";
import { cleanParams, type LinkParams } from "../../src/netem/params.js";
import { listLibraryProfiles, loadProfile, profileFromObject, type LinkProfile } from "../../src/netem/profile-loader.js";
import { TcBackend, type TcLink } from "../../src/netem/tc-backend.js";
import { profileCommands, profileRequirements, requirementsFor } from "../../src/netem/tc-commands.js";
import { assertTcUsable, formatProbe, probeTc, TcUnavailableError, type TcProbeResult } from "../../src/netem/tc-probe.js";
import type { TimelineEvent } from "../../src/netem/timeline.js";

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
const hasIp = (await runCommand(["ip", "-V"])).code === 0;
const canRun = isRoot && hasIp;
const skipWhy = !isRoot ? "not root" : !hasIp ? "no `ip` (iproute2) on PATH" : "";
if (!canRun) console.log(`[tc-backend] SKIPPED namespace/veth tests: ${skipWhy}`);

const probe: TcProbeResult = await probeTc();
console.log(`[tc-backend] probe:\n${formatProbe(probe)}${probe.problems.length ? `\nproblems:\n  ${probe.problems.join("\n  ")}` : ""}`);
const hasHtb = probe.qdiscs.htb.available;
if (canRun && !hasHtb) console.log(`[tc-backend] SKIPPED rate shaping: sch_htb unavailable (${probe.qdiscs.htb.error})`);
if (!probe.netem) console.log(`[tc-backend] SKIPPED netem tests: sch_netem unavailable (${probe.qdiscs.netem.error}; ${probe.netemModule})`);

/** Ethernet + IPv4 + UDP headers: what htb counts on a veth besides the payload. */
const L2_OVERHEAD = 14 + 20 + 8;
const PAYLOAD = 1200;

const RECEIVER = `
const dgram = require("node:dgram");
const cfg = JSON.parse(process.env.PX_CFG);
const s = dgram.createSocket("udp4");
const got = [];
let idle = null;
const finish = () => { process.stdout.write(JSON.stringify(got) + "\\n", () => process.exit(0)); };
s.on("message", (m) => {
  got.push([performance.timeOrigin + performance.now(), m.length]);
  if (cfg.echo) s.send(m, 0, m.length, cfg.echoPort, cfg.echoTo);
  if (idle) clearTimeout(idle);
  idle = setTimeout(finish, cfg.idleMs);
});
setTimeout(finish, cfg.maxMs);
s.bind(0, cfg.address, () => process.stdout.write("ready " + s.address().port + "\\n"));
`;

const SENDER = `
const dgram = require("node:dgram");
const cfg = JSON.parse(process.env.PX_CFG);
const s = dgram.createSocket("udp4");
const buf = Buffer.alloc(cfg.size, 7);
s.bind(0, cfg.from, () => {
  const t0 = performance.now();
  let sent = 0;
  const tick = () => {
    const elapsed = performance.now() - t0;
    if (elapsed >= cfg.durationMs || sent >= cfg.maxPackets) {
      process.stdout.write("sent " + sent + "\\n", () => { s.close(); process.exit(0); });
      return;
    }
    const due = Math.min(cfg.maxPackets, Math.floor((elapsed * cfg.pps) / 1000) + 1);
    while (sent < due) { s.send(buf, cfg.port, cfg.to); sent++; }
    setTimeout(tick, 2);
  };
  tick();
});
`;

/** Start a node script in the root namespace (link null) or in a student's namespace. */
function node(link: TcLink | null, script: string, cfg: object): ChildProcess {
  const env = { ...process.env, PX_CFG: JSON.stringify(cfg) };
  return link ? link.spawn([process.execPath, "-e", script], { env }) : spawn(process.execPath, ["-e", script], { env, stdio: ["pipe", "pipe", "pipe"] });
}

function output(child: ChildProcess): { lines: Promise<string[]>; line: (re: RegExp) => Promise<RegExpExecArray> } {
  let buf = "";
  let err = "";
  const waiters: { re: RegExp; resolve: (m: RegExpExecArray) => void }[] = [];
  child.stdout!.on("data", (d: Buffer) => {
    buf += d.toString();
    for (const w of [...waiters]) {
      const m = w.re.exec(buf);
      if (m) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  });
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  const lines = new Promise<string[]>((resolve, reject) =>
    child.once("exit", (code) => (code === 0 ? resolve(buf.trim().split("\n")) : reject(new Error(`child exited ${code}: ${err}`)))),
  );
  return {
    lines,
    line: (re) =>
      new Promise((resolve, reject) => {
        const m = re.exec(buf);
        if (m) return resolve(m);
        waiters.push({ re, resolve });
        child.once("exit", () => reject(new Error(`child exited before printing ${re}: ${err}`)));
      }),
  };
}

type Arrival = [unixMs: number, bytes: number];

/** Receiver in `where` bound to `address`; resolves with its port and, later, every arrival. */
async function receiver(where: TcLink | null, address: string, opts: { idleMs?: number; maxMs?: number } = {}): Promise<{ port: number; arrivals: Promise<Arrival[]> }> {
  const child = node(where, RECEIVER, { address, idleMs: opts.idleMs ?? 500, maxMs: opts.maxMs ?? 15_000 });
  const out = output(child);
  const m = await out.line(/ready (\d+)\n/);
  return { port: Number(m[1]), arrivals: out.lines.then((l) => JSON.parse(l.at(-1)!) as Arrival[]) };
}

/** Sender in `where` from `from` to `to:port`, `pps` packets per second for `durationMs`. */
async function sender(where: TcLink | null, cfg: { from: string; to: string; port: number; pps: number; durationMs: number; size?: number; maxPackets?: number }): Promise<number> {
  const out = output(node(where, SENDER, { size: PAYLOAD, maxPackets: 1e9, ...cfg }));
  const lines = await out.lines;
  return Number(/sent (\d+)/.exec(lines.join("\n"))![1]);
}

/** Wire throughput (bit/s, L2 bytes as htb counts them) of the arrivals within [fromMs, toMs]. */
function throughput(arrivals: Arrival[], fromMs: number, toMs: number): { bps: number; packets: number } {
  const inWindow = arrivals.filter(([t]) => t >= fromMs && t <= toMs);
  if (inWindow.length < 2) return { bps: 0, packets: inWindow.length };
  const bytes = inWindow.slice(1).reduce((s, [, b]) => s + b + L2_OVERHEAD, 0);
  return { bps: (bytes * 8) / ((inWindow.at(-1)![0] - inWindow[0]![0]) / 1000), packets: inWindow.length };
}

function params(over: Partial<LinkParams>): LinkParams {
  return { ...cleanParams(), ...over };
}

const rate = (bitsPerSecond: number) => ({ bitsPerSecond, packetOverheadBytes: 0, cellSizeBytes: 0, cellOverheadBytes: 0 });

async function namespaceExists(ns: string): Promise<boolean> {
  return (await listProctorNamespaces()).includes(ns);
}

async function hostLinkExists(dev: string): Promise<boolean> {
  return (await runCommand(["ip", "link", "show", dev])).code === 0;
}

describe("tc probe and the fail-fast message", () => {
  it("probe reports the basics of this machine", () => {
    expect(probe.root).toBe(isRoot);
    if (hasIp) expect(probe.ip).toMatch(/iproute2|ip utility/);
    if (canRun) {
      expect(probe.netns.available).toBe(true);
      expect(probe.veth.available).toBe(true);
      expect(probe.qdiscs.pfifo.available).toBe(true);
    }
    expect(probe.netem).toBe(probe.qdiscs.netem.available);
  });

  it("missing sch_netem: names sch_netem, what needs it, and suggests --netem relay; rate alone does not need it", () => {
    const noNetem: TcProbeResult = probe.netem
      ? { ...probe, netem: false, qdiscs: { ...probe.qdiscs, netem: { available: false, error: "Error: Specified qdisc kind is unknown." } } }
      : probe;
    const used = probe.netem ? "synthetic" : "this machine's";
    console.log(`[tc-backend] fail-fast message checked on ${used} probe`);
    if (!noNetem.veth.available) {
      console.log(`[tc-backend] (veth unavailable here: the message names that instead)`);
      return;
    }
    let err: unknown;
    try {
      assertTcUsable(noNetem, profileRequirements(loadProfile("burst-30")), 'profile "burst-30"');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TcUnavailableError);
    const msg = (err as Error).message;
    console.log(`[tc-backend] message:\n${msg}`);
    expect(msg).toContain("sch_netem");
    expect(msg).toContain("delay, loss gemodel");
    expect(msg).toContain('profile "burst-30"');
    expect(msg).toContain("--netem relay");
    expect((err as TcUnavailableError).missing).toHaveLength(1);
    if (noNetem.qdiscs.htb.available) expect(() => assertTcUsable(noNetem, requirementsFor([params({ rate: rate(2e6) })]))).not.toThrow();
  });

  it("not root: the message names root privileges and suggests --netem relay", () => {
    const notRoot: TcProbeResult = { ...probe, root: false, uid: 1000 };
    expect(() => assertTcUsable(notRoot, { netem: [], htb: false })).toThrow(/root privileges \(running as uid 1000\)[\s\S]*--netem relay/);
  });
});

describe("netns naming and addressing", () => {
  it("ids carry the owner pid and fit interface names; /30s come from 10.231.0.0/16", () => {
    const n = linkNames("4194304pzz");
    expect(n).toEqual({ id: "4194304pzz", namespace: "proctor-4194304pzz", hostDevice: "pxh4194304pzz", nsDevice: "pxs4194304pzz" });
    expect(n.hostDevice.length).toBeLessThanOrEqual(15);
    expect(ownerPid("123p4")).toBe(123);
    expect(ownerPid("probe")).toBeNull();
    expect(subnetAddresses(0)).toEqual({ network: "10.231.0.0", host: "10.231.0.1", student: "10.231.0.2", prefixLength: 30 });
    expect(subnetAddresses(65)).toEqual({ network: "10.231.1.4", host: "10.231.1.5", student: "10.231.1.6", prefixLength: 30 });
    expect(subnetAddresses(16383).student).toBe("10.231.255.254");
    expect(subnetIndexOf("10.231.1.6")).toBe(65);
    expect(subnetIndexOf("10.232.0.1")).toBeNull();
    expect(() => subnetAddresses(16384)).toThrow(RangeError);
  });
});

describe.skipIf(!canRun)("tc backend: namespaces, veth, rate shaping (real)", () => {
  let backend: TcBackend;
  const created: string[] = [];

  beforeAll(async () => {
    const removed = await cleanupLeftovers();
    if (removed.length) console.log(`[tc-backend] removed leftovers of crashed runs: ${removed.join(", ")}`);
    backend = await TcBackend.open({ probe });
  });

  afterAll(async () => {
    await backend?.close();
    for (const ns of created) expect(await namespaceExists(ns)).toBe(false);
  });

  it("prepare: a namespace per student, veth with a /30, lo up, no default route, reachable both ways", { timeout: 20_000 }, async () => {
    const link = await backend.prepare("room-a", "s1");
    created.push(link.namespace);
    expect(await backend.prepare("room-a", "s1")).toBe(link);
    expect(link.namespace).toMatch(new RegExp(`^proctor-${process.pid}p[0-9a-z]+$`));
    expect(await namespaceExists(link.namespace)).toBe(true);
    const addrs = (await link.exec(["ip", "-o", "-4", "addr", "show"])).stdout;
    expect(addrs).toContain(`${link.net.nsDevice}    inet ${link.studentAddress}/30`);
    expect(addrs).toMatch(/lo\s+inet 127\.0\.0\.1\/8/);
    const routes = (await link.exec(["ip", "-4", "route", "show"])).stdout.trim().split("\n");
    expect(routes.some((r) => r.startsWith("default"))).toBe(false);
    expect(routes).toHaveLength(1);
    expect((await runCommand(["ip", "-o", "-4", "addr", "show", "dev", link.net.hostDevice])).stdout).toContain(`inet ${link.hostAddress}/30`);
    expect(subnetIndexOf(link.hostAddress)).toBe(subnetIndexOf(link.studentAddress));
    // Nothing beyond the /30 is reachable from inside: a UDP send to another private address fails at once.
    const unreachable = await link.exec([process.execPath, "-e", `require("node:dgram").createSocket("udp4").send("x", 9, "10.232.0.1", (e) => { console.log(e ? e.code : "sent"); process.exit(0); })`]);
    expect(unreachable.stdout.trim()).toBe("ENETUNREACH");

    // root → namespace and namespace → root over UDP (sender inside the namespace: `ip netns exec … node`).
    const down = await receiver(link, link.studentAddress);
    await sender(null, { from: link.hostAddress, to: link.studentAddress, port: down.port, pps: 200, durationMs: 100, size: 100 });
    const up = await receiver(null, link.hostAddress);
    await sender(link, { from: link.studentAddress, to: link.hostAddress, port: up.port, pps: 200, durationMs: 100, size: 100 });
    expect((await down.arrivals).length).toBeGreaterThanOrEqual(19);
    expect((await up.arrivals).length).toBeGreaterThanOrEqual(19);

    // Students prepared concurrently get their own /30s; the same student twice gets one link.
    const [x, y, x2] = await Promise.all([backend.prepare("room-b", "x"), backend.prepare("room-b", "y"), backend.prepare("room-b", "x")]);
    created.push(x.namespace, y.namespace);
    expect(x2).toBe(x);
    expect(new Set([link.net.subnetIndex, x.net.subnetIndex, y.net.subnetIndex]).size).toBe(3);
  });

  it.skipIf(!hasHtb)("down = host-end egress at 2 Mbit/s, up = namespace-end egress at 1 Mbit/s, each within 5 %", { timeout: 20_000 }, async () => {
    const link = await backend.prepare("room-a", "rates");
    created.push(link.namespace);
    link.setParams("down", params({ rate: rate(2_000_000), limitPackets: 40 }));
    link.setParams("up", params({ rate: rate(1_000_000), limitPackets: 40 }));
    await link.settled();
    expect((await runCommand(["tc", "qdisc", "show", "dev", link.net.hostDevice])).stdout).toMatch(/qdisc htb 1: root[\s\S]*qdisc pfifo 10: parent 1:1 limit 40p/);
    expect((await runCommand(["tc", "-n", link.namespace, "class", "show", "dev", link.net.nsDevice])).stdout).toMatch(/class htb 1:1 root .*rate 1Mbit ceil 1Mbit/);

    // Both directions at once, each offered at twice its rate for 3.5 s.
    const pktBits = (PAYLOAD + L2_OVERHEAD) * 8;
    const down = await receiver(link, link.studentAddress);
    const up = await receiver(null, link.hostAddress);
    const t0 = performance.timeOrigin + performance.now();
    await Promise.all([
      sender(null, { from: link.hostAddress, to: link.studentAddress, port: down.port, pps: Math.ceil(4e6 / pktBits), durationMs: 3500 }),
      sender(link, { from: link.studentAddress, to: link.hostAddress, port: up.port, pps: Math.ceil(2e6 / pktBits), durationMs: 3500 }),
    ]);
    const window: [number, number] = [t0 + 800, t0 + 3400];
    const d = throughput(await down.arrivals, ...window);
    const u = throughput(await up.arrivals, ...window);
    console.log(`[tc-backend] htb rate: down ${(d.bps / 1e6).toFixed(4)} Mbit/s (${d.packets} pkts, target 2), up ${(u.bps / 1e6).toFixed(4)} Mbit/s (${u.packets} pkts, target 1)`);
    expect(Math.abs(d.bps / 2e6 - 1)).toBeLessThan(0.05);
    expect(Math.abs(u.bps / 1e6 - 1)).toBeLessThan(0.05);
    // Offered twice the rate into a 40-packet queue: the excess was tail-dropped, not queued.
    const stats = (await runCommand(["tc", "-s", "qdisc", "show", "dev", link.net.hostDevice, "parent", "1:1"])).stdout;
    expect(Number(/dropped (\d+)/.exec(stats)![1])).toBeGreaterThan(100);
  });

  it.skipIf(!hasHtb)("a profile's steps change the rate on time (tc class change), with an event per step", { timeout: 20_000 }, async () => {
    const link = await backend.prepare("room-a", "steps");
    created.push(link.namespace);
    const profile = profileFromObject({
      name: "rate-step",
      steps: [
        { at: "0s", down: { rate: "2mbit", limit: 30 } },
        { at: "2500ms", down: { rate: "1mbit", limit: 30 } },
      ],
    });
    expect(backend.commandsFor(profile, link).map((c) => c.argv.map((a) => a.join(" ")))).toEqual([
      [`tc qdisc add dev ${link.net.hostDevice} root handle 1: htb default 1`, `tc class add dev ${link.net.hostDevice} parent 1: classid 1:1 htb rate 2mbit ceil 2mbit`, `tc qdisc add dev ${link.net.hostDevice} parent 1:1 handle 10: pfifo limit 30`],
      [`tc class change dev ${link.net.hostDevice} parent 1: classid 1:1 htb rate 1mbit ceil 1mbit`],
    ]);
    const down = await receiver(link, link.studentAddress);
    const events: TimelineEvent[] = [];
    const run = backend.applyProfile(link, profile, (e) => events.push(e));
    const start = systemClock.toUnixMs(systemClock.nowMs());
    await sender(null, { from: link.hostAddress, to: link.studentAddress, port: down.port, pps: Math.ceil(4e6 / ((PAYLOAD + L2_OVERHEAD) * 8)), durationMs: 5000 });
    run.stop();
    await link.settled();
    expect(events.map((e) => [e.stepIndex, e.direction, e.stepAtMs])).toEqual([
      [0, "down", 0],
      [1, "down", 2500],
    ]);
    const stepAt = systemClock.toUnixMs(events[1]!.atMs);
    expect(stepAt - start).toBeGreaterThanOrEqual(2490);
    expect(stepAt - start).toBeLessThan(2700);
    const arrivals = await down.arrivals;
    const before = throughput(arrivals, start + 600, stepAt - 100);
    const after = throughput(arrivals, stepAt + 300, start + 4900);
    console.log(`[tc-backend] rate step: ${(before.bps / 1e6).toFixed(4)} Mbit/s before, ${(after.bps / 1e6).toFixed(4)} Mbit/s after (targets 2, 1)`);
    expect(Math.abs(before.bps / 2e6 - 1)).toBeLessThan(0.05);
    expect(Math.abs(after.bps / 1e6 - 1)).toBeLessThan(0.05);
    expect(link.history.map((h) => h.result.argv.slice(1, 3).join(" "))).toEqual(["qdisc add", "class add", "qdisc add", "class change"]);
    expect(link.history.every((h) => h.result.code === 0)).toBe(true);
  });

  it("tc accepts every command generated for the library and the edge cases (kernel may lack the qdisc)", { timeout: 20_000 }, async () => {
    const link = await backend.prepare("room-a", "syntax");
    created.push(link.namespace);
    const edge = profileFromObject({
      name: "edge",
      steps: [
        { at: 0, down: { delay: "40ms", jitter: "10ms", delayCorrelation: "25%", distribution: "normal", loss: { random: "3%", correlation: "20%" } } },
        { at: 1, down: { delay: "10ms", reorder: { probability: "25%", correlation: "50%", gap: 5 }, corrupt: { probability: "0.1%", correlation: "5%" }, duplicate: "1%" } },
        { at: 2, down: { loss: { gemodel: { p: "1%", r: "30%", "1-h": "80%", "1-k": "0.5%" } }, limit: 300 } },
        { at: 3, down: { loss: { state: { p13: "2%", p31: "70%", p32: "10%", p23: "50%", p14: "1%" } } } },
        { at: 4, down: { slot: { min: "10ms", max: "30ms", packets: 8, bytes: 12000 } } },
        { at: 5, down: { slot: { distribution: "pareto", delay: "20ms", jitter: "5ms", packets: 8 } } },
        { at: 6, down: { rate: { bandwidth: "5kbit", packetOverhead: 20, cellSize: 100, cellOverhead: 5 } } },
        { at: 7, down: { rate: { bandwidth: "10mbit", packetOverhead: -14 }, delay: 1.5 } },
        { at: 8, down: { rate: { bandwidth: "3mbit", packetOverhead: 24 }, delay: "5ms", jitter: "1ms", distribution: "pareto" } },
        { at: 9, down: { rate: "3mbit", limit: 20 } },
        { at: 10, down: {} },
      ],
    });
    const profiles: LinkProfile[] = [...listLibraryProfiles().map((n) => loadProfile(n)), edge];
    let commands = 0;
    const kernelRefusals = new Set<string>();
    for (const profile of profiles) {
      for (const c of profileCommands(profile, link.devices)) {
        for (const argv of c.argv) {
          const r = await runCommand(argv);
          commands++;
          // tc's own parse errors ("What is …", "Usage: …", "Illegal …", "No distribution data …")
          // never start with "Error:"; a kernel (netlink) refusal always does.
          if (r.code !== 0) {
            expect(r.stderr, `${argv.join(" ")}`).toMatch(/^Error: /);
            kernelRefusals.add(r.stderr.trim().split("\n")[0]!);
          }
          if (probe.netem) expect(r.code, `${argv.join(" ")}: ${r.stderr}`).toBe(0);
        }
      }
      for (const d of [link.devices.down, link.devices.up]) await runCommand(["tc", ...(d.netns ? ["-n", d.netns] : []), "qdisc", "del", "dev", d.dev, "root"]);
    }
    console.log(`[tc-backend] ${commands} generated commands run through the real tc; kernel refusals: ${[...kernelRefusals].join(" | ") || "none"}`);
    expect(commands).toBeGreaterThan(60);
  });

  it("applyProfile fails fast, before any command, when the kernel lacks what the profile needs", async () => {
    const link = await backend.prepare("room-a", "needs");
    created.push(link.namespace);
    const noNetem: TcProbeResult = { ...probe, netem: false, qdiscs: { ...probe.qdiscs, netem: { available: false, error: "Error: Specified qdisc kind is unknown." } } };
    const strict = await TcBackend.open({ probe: noNetem });
    try {
      const l2 = await strict.prepare("room-a", "needs-2");
      created.push(l2.namespace);
      expect(() => strict.applyProfile(l2, loadProfile("loss-30"))).toThrow(/sch_netem qdisc, needed for loss[\s\S]*--netem relay/);
      expect(() => l2.setParams("down", params({ delayMs: 10 }))).toThrow(TcUnavailableError);
      expect(l2.history).toHaveLength(0);
      // A clean profile needs nothing and runs.
      strict.applyProfile(l2, loadProfile("clean")).stop();
      await l2.settled();
      expect(l2.history).toHaveLength(0);
    } finally {
      await strict.close();
    }
    expect(link.history).toHaveLength(0);
  });

  it("cleanup: close removes namespaces and veths; leftovers of a dead run are removed, a live run's are kept", { timeout: 20_000 }, async () => {
    // A "crashed run": a pid that has exited owns a namespace + veth.
    const dead = spawn(process.execPath, ["-e", ""]);
    const deadPid = dead.pid!;
    await new Promise((r) => dead.once("exit", r));
    const orphan = await createNamespaceLink(`${deadPid}p0`);
    const mine = await createNamespaceLink();
    expect(await namespaceExists(orphan.namespace)).toBe(true);
    const removed = await cleanupLeftovers();
    expect(removed).toContain(orphan.id);
    expect(await namespaceExists(orphan.namespace)).toBe(false);
    expect(await hostLinkExists(orphan.hostDevice)).toBe(false);
    expect(await namespaceExists(mine.namespace)).toBe(true);
    expect(await cleanupLeftovers()).not.toContain(orphan.id); // idempotent

    // A backend with a running program inside its namespace still closes cleanly.
    const b = await TcBackend.open({ probe });
    const link = await b.prepare("room-z", "s9");
    const rx = await receiver(link, link.studentAddress, { idleMs: 60_000, maxMs: 60_000 });
    expect(rx.port).toBeGreaterThan(0);
    const killed = rx.arrivals.then(() => "exited", () => "killed");
    await b.close();
    expect(await killed).toBe("killed");
    expect(await namespaceExists(link.namespace)).toBe(false);
    expect(await hostLinkExists(link.net.hostDevice)).toBe(false);
    await destroyNamespaceLink(mine);
    await destroyNamespaceLink(mine); // idempotent
    expect(await namespaceExists(mine.namespace)).toBe(false);
  });
});

describe.skipIf(!canRun || !probe.netem)("tc backend: netem on the veth (needs sch_netem)", () => {
  let backend: TcBackend;
  beforeAll(async () => {
    backend = await TcBackend.open({ probe });
  });
  afterAll(async () => {
    await backend?.close();
  });

  it("a 50 ms down delay raises the UDP round trip by 50 ms ± 5", { timeout: 20_000 }, async () => {
    const link = await backend.prepare("room-n", "delay");
    // Echo inside the namespace; this process sends 30 packets and times each echo itself (one clock).
    const rtts = async (): Promise<number> => {
      const sock = createSocket("udp4");
      await new Promise<void>((r) => sock.bind(0, link.hostAddress, () => r()));
      const echo = node(link, RECEIVER, { address: link.studentAddress, idleMs: 300, maxMs: 10_000, echo: true, echoTo: link.hostAddress, echoPort: sock.address().port });
      const port = Number((await output(echo).line(/ready (\d+)\n/))[1]);
      const sentAt = new Map<number, number>();
      const rtt: number[] = [];
      sock.on("message", (m) => {
        const t = sentAt.get(m.readUInt32BE(0));
        if (t !== undefined) rtt.push(performance.now() - t);
      });
      for (let i = 0; i < 30; i++) {
        const b = Buffer.alloc(64);
        b.writeUInt32BE(i, 0);
        sentAt.set(i, performance.now());
        sock.send(b, port, link.studentAddress);
        await new Promise((r) => setTimeout(r, 20));
      }
      await new Promise((r) => setTimeout(r, 300));
      sock.close();
      expect(rtt.length).toBeGreaterThanOrEqual(28);
      rtt.sort((a, b) => a - b);
      return rtt[Math.floor(rtt.length / 2)]!;
    };
    const base = await rtts();
    backend.applyProfile(link, profileFromObject({ name: "d50", steps: [{ at: 0, down: { delay: "50ms" } }] }));
    await link.settled();
    const delayed = await rtts();
    console.log(`[tc-backend] netem delay: median UDP round trip ${base.toFixed(2)} ms → ${delayed.toFixed(2)} ms`);
    expect(delayed - base).toBeGreaterThan(45);
    expect(delayed - base).toBeLessThan(55);
  });

  it("loss-30 down loses 30 ± 3 % of 3000 packets; up is untouched when only down is impaired", { timeout: 20_000 }, async () => {
    const link = await backend.prepare("room-n", "loss");
    backend.applyProfile(link, profileFromObject({ name: "down-30", steps: [{ at: 0, down: { loss: "30%" } }] }));
    await link.settled();
    const down = await receiver(link, link.studentAddress);
    const up = await receiver(null, link.hostAddress);
    const [sentDown, sentUp] = await Promise.all([
      sender(null, { from: link.hostAddress, to: link.studentAddress, port: down.port, pps: 1000, durationMs: 3000, size: 100, maxPackets: 3000 }),
      sender(link, { from: link.studentAddress, to: link.hostAddress, port: up.port, pps: 1000, durationMs: 3000, size: 100, maxPackets: 3000 }),
    ]);
    const lossDown = 1 - (await down.arrivals).length / sentDown;
    const lossUp = 1 - (await up.arrivals).length / sentUp;
    console.log(`[tc-backend] netem loss: down ${(lossDown * 100).toFixed(2)} %, up ${(lossUp * 100).toFixed(2)} %`);
    expect(Math.abs(lossDown - 0.3)).toBeLessThan(0.03);
    expect(lossUp).toBeLessThan(0.005);
  });
});
