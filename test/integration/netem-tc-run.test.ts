// `proctor run --netem tc` end to end: every student is a light-student process in its own network
// namespace, the room server and the teacher reach it only on its veth's host end, and its profile
// is tc qdiscs on that veth driven by the lesson's timeline. This kernel has sch_htb but (here) no
// sch_netem: a rate-only profile runs for real and its measured throughput and queueing delay are
// checked against the set rate; a delay profile needs sch_netem (skipped with the probe's reason),
// and the CLI refuses it fast. Needs `npm run build` (the agent process runs from dist/).
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { listHostDevices, listProctorNamespaces, runCommand } from "../../src/netem/netns.js";
import { probeTc } from "../../src/netem/tc-probe.js";
import { percentile } from "../../src/metrics/stats.js";
import type { RunResult } from "../../src/scenario/runner.js";
import type { RemoteStudent } from "../../src/scenario/remote-student.js";
import { report, runYaml, student } from "../helpers/class-run.js";

const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
const hasIp = (await runCommand(["ip", "-V"])).code === 0;
const built = existsSync("dist/agents/agent-process.js") && existsSync("dist/cli/main.js");
const probe = await probeTc();
const canRun = isRoot && hasIp && built;
const skipWhy = !isRoot ? "not root" : !hasIp ? "no `ip` (iproute2)" : !built ? "dist/ not built (npm run build)" : "";
if (!canRun) console.log(`[netem-tc-run] SKIPPED runs in namespaces: ${skipWhy}`);
const hasHtb = probe.qdiscs.htb.available;
if (canRun && !hasHtb) console.log(`[netem-tc-run] SKIPPED rate run: sch_htb unavailable (${probe.qdiscs.htb.error})`);
if (!probe.netem) console.log(`[netem-tc-run] SKIPPED delay run through tc: sch_netem unavailable (${probe.qdiscs.netem.error}; ${probe.netemModule})`);

/** RTP 12 + SRTP auth tag 10 + UDP 8 + IPv4 20 + Ethernet 14: what htb counts besides the payload (header extensions not counted: a lower bound). */
const PACKET_OVERHEAD_BYTES = 64;
const RATE_BPS = 300_000;
const LIMIT_PACKETS = 30;

const ours = (names: string[]): string[] => names.filter((n) => n.includes(`${process.pid}p`));
const alive = (pid: number | undefined): boolean => {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const runs: RunResult[] = [];

/** Wire bitrate (lower bound: payload + fixed headers) of what a student received, first to last arrival. */
function wireRate(a: RunResult["students"][number]["agent"]): { packets: number; wireBytes: number; seconds: number; bps: number } {
  const packets = a.videoStats.packetsReceived + a.audioStats.packetsReceived;
  const wireBytes = a.videoStats.bytes + a.audioStats.bytes + packets * PACKET_OVERHEAD_BYTES;
  const times = [...a.frames.map((f) => f.completeUnixMs), ...a.audio.map((p) => p.arrivalUnixMs)].sort((x, y) => x - y);
  const seconds = (times.at(-1)! - times[0]!) / 1000;
  return { packets, wireBytes, seconds, bps: (wireBytes * 8) / seconds };
}

afterAll(async () => {
  // Whatever happened above: no child, namespace or veth of this process may outlive the file.
  for (const r of runs) for (const s of r.students) {
    const pid = (s.agent as RemoteStudent).pid;
    if (alive(pid)) process.kill(pid!, "SIGKILL");
  }
  for (const ns of ours(await listProctorNamespaces())) await runCommand(["ip", "netns", "del", ns]);
  for (const dev of ours(await listHostDevices())) await runCommand(["ip", "link", "del", dev]);
});

describe.skipIf(!canRun || !hasHtb)("proctor run --netem tc (real namespaces, htb)", () => {
  it("clean student in a namespace gets ≥ 99 % frames; 300 kbit down carries 300 kbit (+2 %) and queues as predicted; nothing leaks", { timeout: 90_000 }, async () => {
    const r = await runYaml(
      `
name: tc-rate
seed: 11
duration: 8s
lesson: { clips: [ { name: a, duration: 8s } ] }
rooms:
  - id: r
    students:
      - { group: clean, count: 1, agent: werift }
      - { group: fast, count: 1, agent: werift, netem: { steps: [ { at: 0s, down: { rate: 5mbit } } ] } }
      - { group: r300, count: 1, agent: werift, nack: false, netem: { steps: [ { at: 0s, down: { rate: 300kbit, limit: ${LIMIT_PACKETS} } } ] } }
`,
      { netem: "tc", log: (l) => (l.includes("tc:") || l.includes("clock offset") ? console.log(l) : undefined) },
    );
    runs.push(r);
    expect(r.report.errors).toEqual([]);

    // Every student ran in a child process (not this one), in a namespace, and has left.
    for (const s of r.students) {
      const pid = (s.agent as RemoteStudent).pid;
      expect(pid).toBeGreaterThan(0);
      expect(pid).not.toBe(process.pid);
      expect(alive(pid)).toBe(false);
      // Two processes, one wall clock: the measured offset between them is small.
      expect(Math.abs((s.agent as RemoteStudent).clockOffsetMs)).toBeLessThan(5);
    }
    expect(ours(await listProctorNamespaces())).toEqual([]);
    expect(ours(await listHostDevices())).toEqual([]);

    const clean = student(r, "clean").summary;
    console.log(`clean (namespace, no qdisc): frames ${(clean.framesReceivedRatio * 100).toFixed(1)} %, latency p50 ${clean.latencyMs.p50.toFixed(1)} ms p95 ${clean.latencyMs.p95.toFixed(1)} ms`);
    expect(clean.framesReceivedRatio).toBeGreaterThanOrEqual(0.99);

    const fast = student(r, "fast").summary;
    console.log(`fast (5 Mbit/s down): frames ${(fast.framesReceivedRatio * 100).toFixed(1)} %, latency p50 ${fast.latencyMs.p50.toFixed(1)} ms`);
    expect(fast.framesReceivedRatio).toBeGreaterThanOrEqual(0.99);

    // 300 kbit/s under a ~600 kbit/s stream: the link is saturated, so what arrives is the rate.
    // (No NACK for this student: retransmissions of what the queue dropped would share the link.)
    const offered = wireRate(student(r, "clean").agent);
    console.log(`offered (clean student): ${(offered.bps / 1000).toFixed(1)} kbit/s, ${offered.packets} packets in ${offered.seconds.toFixed(2)} s`);
    const slow = student(r, "r300");
    const a = slow.agent;
    const { packets, wireBytes, seconds, bps } = wireRate(a);
    console.log(`r300: ${packets} packets, ${wireBytes} wire bytes (lower bound) in ${seconds.toFixed(2)} s = ${(bps / 1000).toFixed(1)} kbit/s; video loss ${(slow.summary.video.lossFraction * 100).toFixed(1)} %`);
    console.log(`[calibration] 300 kbit/s down (htb): received wire bitrate ${(bps / 1000).toFixed(1)} kbit/s (a lower bound), must be ≤ ${(RATE_BPS * 1.02) / 1000} and ≥ ${(RATE_BPS * 0.9) / 1000}`);
    expect(bps).toBeLessThanOrEqual(RATE_BPS * 1.02);
    expect(bps).toBeGreaterThanOrEqual(RATE_BPS * 0.9);
    expect(slow.summary.video.lossFraction).toBeGreaterThan(0.1); // tail drop beyond the 30-packet queue

    // Queueing: a packet admitted to a full 30-packet queue waits for ~30 packets at the rate.
    const meanPacketBits = (wireBytes * 8) / packets;
    const predictedMs = ((LIMIT_PACKETS * meanPacketBits) / RATE_BPS) * 1000;
    const audioDelays = a.audio.filter((p) => p.captureUnixMs !== undefined).map((p) => p.arrivalUnixMs - p.captureUnixMs!).sort((x, y) => x - y);
    const cleanAudio = student(r, "clean").agent.audio.filter((p) => p.captureUnixMs !== undefined).map((p) => p.arrivalUnixMs - p.captureUnixMs!).sort((x, y) => x - y);
    const added = percentile(audioDelays, 50) - percentile(cleanAudio, 50);
    report(`r300 audio delay p50 over clean, predicted ${LIMIT_PACKETS} × ${(meanPacketBits / 8).toFixed(0)} B at 300 kbit/s`, predictedMs, added, predictedMs * 0.2);
    expect(Math.abs(added - predictedMs)).toBeLessThanOrEqual(predictedMs * 0.2);

    // The applied steps are events, as with the relay.
    const lp = readFileSync(join(r.runDir, "metrics.lp"), "utf8");
    expect(lp).toMatch(/kind=netem_step[^ ]*student=r300|student=r300[^ ]*kind=netem_step/);
  });
});

describe.skipIf(!canRun || !probe.netem)("proctor run --netem tc with netem delay (needs sch_netem)", () => {
  it("+100 ms down-delay measures +100 ± 2 ms over a clean student", { timeout: 90_000 }, async () => {
    const r = await runYaml(
      `
name: tc-delay
seed: 12
duration: 6s
lesson: { clips: [ { name: a, duration: 6s } ] }
rooms:
  - id: r
    students:
      - { group: clean, count: 1, agent: werift }
      - { group: d100, count: 1, agent: werift, netem: { steps: [ { at: 0s, down: { delay: 100ms } } ] } }
`,
      { netem: "tc" },
    );
    runs.push(r);
    expect(r.report.errors).toEqual([]);
    const added = student(r, "d100").summary.latencyMs.p50 - student(r, "clean").summary.latencyMs.p50;
    report("down-delay 100 ms through tc netem, latency p50 over clean", 100, added, 2);
    expect(Math.abs(added - 100)).toBeLessThanOrEqual(2);
  });
});

describe.skipIf(!built || probe.netem)("proctor run --netem tc on a kernel without sch_netem", () => {
  it("a delay profile exits 2 at once, naming sch_netem and suggesting --netem relay", { timeout: 30_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), "proctor-tc-cli-"));
    const file = join(dir, "delay.yaml");
    writeFileSync(
      file,
      `name: tc-delay-cli
seed: 1
duration: 5s
lesson: { clips: [ { name: a, duration: 5s } ] }
rooms:
  - id: r
    students:
      - { group: d, count: 1, agent: werift, netem: { steps: [ { at: 0s, down: { delay: 100ms } } ] } }
`,
    );
    const t0 = performance.now();
    const res = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, ["dist/cli/main.js", "run", file, "--netem", "tc", "--out", dir], { encoding: "utf8", timeout: 60_000 }, (e, stdout, stderr) =>
        resolve({ code: e ? (typeof e.code === "number" ? e.code : null) : 0, stdout, stderr }),
      ),
    );
    const ms = performance.now() - t0;
    console.log(`CLI refused in ${ms.toFixed(0)} ms:\n${res.stderr}`);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(isRoot ? "sch_netem" : "root");
    expect(res.stderr).toContain("--netem relay");
    // Fast = before any media, socket or namespace: nothing of a run was started (the time is
    // node start-up + the probe; ~3 s idle here, more when the machine is loaded).
    expect(`${res.stdout}${res.stderr}`).not.toMatch(/media:|room server|joining/);
    expect(ms).toBeLessThan(20_000);
    expect(existsSync(join(dir, "tc-delay-cli"))).toBe(false);
    expect(readFileSync(file, "utf8")).toContain("delay"); // nothing ran: no run folder, no namespace
    expect(ours(await listProctorNamespaces())).toEqual([]);
  });
});
