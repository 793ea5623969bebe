// Relay bench (issue 3): what proctor's userspace netem relay (`UdpRelay`, dist/netem/relay.js)
// costs per packet, and how much latency it adds to a student's media path.
//
// Layout: the relay runs alone in a child process (this file, forked with --relay-child; driven by
// IPC, lib/ipc.mjs `serve`), so process.cpuUsage there is the relay's CPU and nothing else. The
// load generator — one UDP sender and one UDP receiver, in THIS process so both read one clock — sends
// ~1100-byte datagrams (a full VP8 RTP packet) stamped in-payload with performance.now(). Relayed
// packets go sender → relay teacher-facing port → [down engine] → relay student-facing port →
// receiver; direct packets go sender → receiver. Everything is on 127.0.0.1.
//
//   (a) throughput: zero impairment, relayed packets only, at a few offered loads; relay CPU (user +
//       system: system includes the kernel's loopback delivery done in the relay's send calls) over a
//       steady window → µs of CPU per packet and packets per second per core of relay CPU. Baseline
//       at two of those loads, same process: a bare Node forwarder (two dgram sockets, nothing else),
//       i.e. what any Node userspace relay pays before it does anything netem-like.
//   (b) added latency at zero impairment: relay path and direct path interleaved packet by packet in
//       the SAME window at the same rate (5000 pps each); added = relay − direct (mean, p50, p99).
//   (c) the same with a typical profile (delay 40 ms ± 10 ms uniform, 5 % random loss): relay CPU per
//       packet under impairment (heap + one timer per direction) and the latency beyond the
//       configured delay: mean relay − mean direct − 40 ms (means add up), and measured quantile − the
//       same quantile of U[30, 50) ms (quantiles do not add up; these include the base path).
// Each phase waits (≤ 2 s) for a quiet machine and reports the load from outside our processes; a
// load that failed while contended is measured again (twice at most). The whole bench takes ~1 min.
import { fork } from "node:child_process";
import { createSocket } from "node:dgram";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import { serve } from "./lib/ipc.mjs";
import { cpuSample, cpuBetween, machineSample, machineBusyBetween, machineIrqBetween, waitForQuiet } from "./lib/cpu.mjs";
import { summarize, round } from "./lib/stats.mjs";
import { startTicker } from "./lib/ticker.mjs";
import { CONTENDED_CORES } from "./lib/class-run.mjs";

const SELF = fileURLToPath(import.meta.url);
const CHILD_FLAG = "--relay-child";
const HOST = "127.0.0.1";
export const RELAY_PACKET_BYTES = 1100;
const RECV_BUFFER_BYTES = 4 << 20;
/** Offered loads of phase (a), packets per second through the relay. */
export const RELAY_LOADS_PPS = [5_000, 10_000, 20_000, 40_000];
/** Loads at which the bare Node forwarder (baseline) is measured right after the relay. */
export const BASELINE_LOADS_PPS = [5_000, 20_000];
/** Rate of each path in phases (b) and (c). */
export const LATENCY_RATE_PPS = 5_000;
/** Phase (c)'s profile: tc-netem `delay 40ms 10ms loss random 5%`. */
export const TYPICAL_PROFILE = { delayMs: 40, jitterMs: 10, lossProbability: 0.05 };
/** A load "held" when the relay lost (kernel drops before it + drops after it) at most this share. */
const HELD_LOSS = 0.01;
/** …and its process stayed below this fraction of a core. */
const HELD_CPU = 0.95;
/** Longest wait for a quiet machine before a phase, and re-measurements allowed in phase (a). */
const QUIET_WAIT_MS = 2_000;
const RETRIES = 2;

if (process.argv.includes(CHILD_FLAG)) await relayChild();

// ─── relay process ───────────────────────────────────────────────────────────────────────────────

async function relayChild() {
  const { UdpRelay } = await import("../dist/netem/relay.js");
  const { cleanParams } = await import("../dist/netem/params.js");
  const { seededRandom } = await import("../dist/random.js");
  let relay = null;
  // Baseline in the same process: the least a Node UDP relay does — two sockets, every datagram
  // received on one is sent on the other to the latched target with send(buf, port, address), as
  // UdpRelay sends (no engine, no counters beyond two integers).
  const bare = { in: null, out: null, target: null, packetsIn: 0, delivered: 0 };
  const bindBare = () =>
    new Promise((resolve, reject) => {
      const sock = createSocket({ type: "udp4", recvBufferSize: RECV_BUFFER_BYTES });
      sock.once("error", reject);
      sock.bind(0, HOST, () => resolve(sock));
    });
  const paramsOf = (p) =>
    p ? { ...cleanParams(), delayMs: p.delayMs, jitterMs: p.jitterMs, loss: p.lossProbability > 0 ? { kind: "random", probability: p.lossProbability, correlation: 0 } : { kind: "none" } } : cleanParams();
  serve({
    async open() {
      relay = await UdpRelay.open({ random: { down: seededRandom(3), up: seededRandom(4) }, host: HOST, recvBufferBytes: RECV_BUFFER_BYTES });
      bare.in = await bindBare();
      bare.out = await bindBare();
      bare.in.on("message", (msg) => {
        bare.packetsIn++;
        const t = bare.target;
        if (t === null) return;
        bare.delivered++;
        bare.out.send(msg, t.port, t.address);
      });
      return { teacherFacingPort: relay.teacherFacingPort, bareInPort: bare.in.address().port, pid: process.pid };
    },
    setTargets({ student }) {
      relay.setTargets({ student });
      bare.target = { address: student.address, port: student.port };
      return { ok: true };
    },
    setProfile({ profile }) {
      relay.setParams("down", paramsOf(profile));
      return { ok: true };
    },
    mark() {
      return { cpu: cpuSample(), relay: relay.counters("down"), bare: { packetsIn: bare.packetsIn, delivered: bare.delivered }, pending: relay.pending("down") };
    },
    async exit() {
      await relay?.close();
      bare.in?.close();
      bare.out?.close();
      setTimeout(() => process.exit(0), 20);
      return { ok: true };
    },
  });
}

/** Fork this file as the relay process; `call(cmd, args)` runs a handler there. */
async function forkRelay() {
  const child = fork(SELF, [CHILD_FLAG], { stdio: ["ignore", "inherit", "inherit", "ipc"], serialization: "advanced" });
  const pending = new Map();
  let nextId = 1;
  let exited = false;
  const gone = new Promise((resolve) =>
    child.once("exit", (code, signal) => {
      exited = true;
      for (const p of pending.values()) p.reject(new Error(`relay process exited (${code ?? signal})`));
      pending.clear();
      resolve();
    }),
  );
  const ready = new Promise((resolve, reject) => {
    child.on("message", (m) => {
      if (m?.ready) return resolve();
      const p = pending.get(m?.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.ok) p.resolve(m.result);
      else p.reject(new Error(`relay "${p.cmd}": ${m.error}`));
    });
    setTimeout(() => reject(new Error("relay process: not ready within 20 s")), 20_000).unref();
  });
  await Promise.race([ready, gone.then(() => Promise.reject(new Error("relay process exited before ready")))]);
  const call = (cmd, args = {}) =>
    exited ? Promise.reject(new Error("relay process has exited")) : new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { cmd, resolve, reject });
      child.send({ id, cmd, args });
    });
  return {
    pid: child.pid,
    call,
    async stop() {
      if (exited) return;
      const timer = setTimeout(() => !exited && child.kill("SIGKILL"), 5_000);
      await call("exit").catch(() => undefined);
      await gone;
      clearTimeout(timer);
    },
  };
}

// ─── load generator (this process) ───────────────────────────────────────────────────────────────

const PATH_DIRECT = 0;
const PATH_RELAY = 1;
const PATH_BARE = 2;
const POOL = 8192; // send buffers in rotation: a buffer is rewritten only 8192 sends later

function bindUdp(connectPort) {
  return new Promise((resolve, reject) => {
    const s = createSocket({ type: "udp4", recvBufferSize: RECV_BUFFER_BYTES, sendBufferSize: RECV_BUFFER_BYTES });
    s.once("error", reject);
    s.bind(0, HOST, () => {
      if (connectPort === undefined) {
        s.off("error", reject);
        return resolve(s);
      }
      s.connect(connectPort, HOST, () => {
        s.off("error", reject);
        resolve(s);
      });
    });
  });
}

class LoadGen {
  received = [0, 0, 0];
  sent = [0, 0, 0];
  /** Latency recording: packets whose send stamp falls in [recFrom, recTo). */
  recFrom = Infinity;
  recTo = -Infinity;
  lat = [[], [], []];
  pool = Array.from({ length: POOL }, () => Buffer.alloc(RELAY_PACKET_BYTES));
  next = 0;

  static async open(relayPort, barePort) {
    const g = new LoadGen();
    g.rx = await bindUdp();
    g.rx.on("message", (m) => g.onMessage(m));
    g.tx = [await bindUdp(g.rx.address().port), await bindUdp(relayPort), await bindUdp(barePort)];
    return g;
  }

  onMessage(m) {
    const now = performance.now();
    const path = m[0];
    this.received[path]++;
    const sentAt = m.readDoubleLE(8);
    if (sentAt >= this.recFrom && sentAt < this.recTo) this.lat[path].push(now - sentAt);
  }

  send(path) {
    const b = this.pool[this.next];
    this.next = (this.next + 1) % POOL;
    b[0] = path;
    b.writeUInt32LE(this.sent[path]++, 4);
    b.writeDoubleLE(performance.now(), 8);
    this.tx[path].send(b);
  }

  /** Send `pps` on each of `paths` (interleaved packet by packet) in 1-ms ticks; returns stop(). */
  start(pps, paths) {
    const perMs = pps / 1000;
    return startTicker(1, performance.now(), (k) => {
      const n = Math.floor((k + 1) * perMs) - Math.floor(k * perMs);
      for (let i = 0; i < n; i++) for (const p of paths) this.send(p);
    });
  }

  snapshot() {
    return { sent: [...this.sent], received: [...this.received] };
  }

  close() {
    for (const s of [this.rx, ...(this.tx ?? [])]) s?.close();
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Forwarder (relay or bare, in the relay process) + load generator counters and CPU over one window. */
async function measureWindow(relay, gen, windowMs, kind = "relay") {
  const r0 = await relay.call("mark");
  const g0 = cpuSample();
  const s0 = gen.snapshot();
  const m0 = machineSample();
  await sleep(windowMs);
  const r1 = await relay.call("mark");
  const g1 = cpuSample();
  const s1 = gen.snapshot();
  const m1 = machineSample();
  const relayCpu = cpuBetween(r0.cpu, r1.cpu);
  const genCpu = cpuBetween(g0, g1);
  const wallS = relayCpu.wallMs / 1000;
  const d = (k) => (r1[kind][k] ?? 0) - (r0[kind][k] ?? 0);
  const busy = machineBusyBetween(m0, m1);
  const irq = machineIrqBetween(m0, m1) ?? 0;
  const cores = cpus().length;
  const otherLoadCores = busy === null ? null : Math.max(0, (busy - irq) * cores - relayCpu.fraction - genCpu.fraction);
  return {
    wallS,
    relayCpu,
    relayUserFraction: (r1.cpu.userUs - r0.cpu.userUs) / 1000 / relayCpu.wallMs,
    relaySystemFraction: (r1.cpu.systemUs - r0.cpu.systemUs) / 1000 / relayCpu.wallMs,
    genCpu,
    relayIn: d("packetsIn"),
    relayDelivered: d("delivered"),
    relayDroppedLoss: d("droppedLoss"),
    relayDroppedQueue: d("droppedQueue"),
    sent: s1.sent.map((v, i) => v - s0.sent[i]),
    received: s1.received.map((v, i) => v - s0.received[i]),
    pendingAtEnd: r1.pending,
    machineBusyCores: busy === null ? null : busy * cores,
    irqCores: busy === null ? null : irq * cores,
    otherLoadCores,
  };
}

/** Wait for the sender's last packets (and, impaired, the relay's queue) to drain. */
async function drain(relay, maxMs) {
  const t0 = performance.now();
  await sleep(50);
  while (performance.now() - t0 < maxMs && (await relay.call("mark")).pending > 0) await sleep(20);
  await sleep(30);
}

async function quiet(log, what) {
  const q = await waitForQuiet({ maxBusyCores: 0.35, cores: cpus().length, maxWaitMs: QUIET_WAIT_MS, sampleMs: 500 });
  if (!q.quiet) log(`relay: ${what}: machine still busy (${q.busyCores?.toFixed(2)} cores) after ${QUIET_WAIT_MS / 1000} s; measuring anyway (see "other load")`);
  return q.busyCores;
}

// ─── phases ──────────────────────────────────────────────────────────────────────────────────────

async function throughputRow(relay, gen, kind, pps, warmMs, windowMs) {
  const path = kind === "relay" ? PATH_RELAY : PATH_BARE;
  // Loss is counted over the whole phase (start → drained), CPU and rates over the steady window.
  const r0 = (await relay.call("mark"))[kind];
  const s0 = gen.snapshot();
  const stop = gen.start(pps, [path]);
  await sleep(warmMs);
  const w = await measureWindow(relay, gen, windowMs, kind);
  stop();
  await drain(relay, 500);
  const r1 = (await relay.call("mark"))[kind];
  const s1 = gen.snapshot();
  const sentRelay = s1.sent[path] - s0.sent[path];
  const dropsBeforeRelay = Math.max(0, sentRelay - (r1.packetsIn - r0.packetsIn));
  const dropsAfterRelay = Math.max(0, r1.delivered - r0.delivered - (s1.received[path] - s0.received[path]));
  const lossShare = sentRelay > 0 ? (dropsBeforeRelay + dropsAfterRelay) / sentRelay : 0;
  const deliveredPps = w.relayDelivered / w.wallS;
  const usPerPacket = w.relayIn > 0 ? (w.relayCpu.cpuMs * 1000) / w.relayIn : null;
  return {
    forwarder: kind,
    offeredPps: pps,
    sentPps: round(w.sent[path] / w.wallS, 0),
    relayInPps: round(w.relayIn / w.wallS, 0),
    deliveredPps: round(deliveredPps, 0),
    receivedPps: round(w.received[path] / w.wallS, 0),
    dropsBeforeRelay,
    dropsAfterRelay,
    lossShare: round(lossShare, 5),
    relayCpu: round(w.relayCpu.fraction, 4),
    relayUser: round(w.relayUserFraction, 4),
    relaySystem: round(w.relaySystemFraction, 4),
    usCpuPerPacket: round(usPerPacket, 2),
    ppsPerCore: w.relayCpu.fraction > 0 ? round(deliveredPps / w.relayCpu.fraction, 0) : null,
    loadGenCpu: round(w.genCpu.fraction, 4),
    otherLoadCores: round(w.otherLoadCores, 2),
    irqCores: round(w.irqCores, 2),
    contended: w.otherLoadCores !== null && w.otherLoadCores > CONTENDED_CORES,
    held: lossShare <= HELD_LOSS && w.relayCpu.fraction <= HELD_CPU,
  };
}

/** U[μ−σ, μ+σ) quantile: what the configured delay alone gives at quantile q (0..1). */
const uniformQuantile = (mu, sigma, q) => mu - sigma + 2 * sigma * q;

async function latencyRow(relay, gen, profile, warmMs, windowMs) {
  await relay.call("setProfile", { profile });
  gen.lat = [[], [], []];
  const stop = gen.start(LATENCY_RATE_PPS, [PATH_RELAY, PATH_DIRECT]);
  await sleep(warmMs);
  gen.recFrom = performance.now();
  gen.recTo = gen.recFrom + windowMs;
  const w = await measureWindow(relay, gen, windowMs);
  stop();
  await drain(relay, 1_000);
  gen.recTo = -Infinity;
  const direct = summarize(gen.lat[PATH_DIRECT]);
  const relayed = summarize(gen.lat[PATH_RELAY]);
  const nominal = (q) => (profile ? uniformQuantile(profile.delayMs, profile.jitterMs, q) : 0);
  const ms = (s) => ({ count: s.count, p50: round(s.p50, 3), p95: round(s.p95, 3), p99: round(s.p99, 3), max: round(s.max, 3), mean: round(s.mean, 3) });
  return {
    profile: profile ? `delay ${profile.delayMs}ms ${profile.jitterMs}ms loss ${profile.lossProbability * 100}%` : "none",
    ratePps: LATENCY_RATE_PPS,
    directMs: ms(direct),
    relayMs: ms(relayed),
    /**
     * Clean: relay path − direct path, same window (mean, p50, p99). Under a profile: mean = relay −
     * direct − the configured mean delay (means add up); p50/p99 = relay − the configured delay's
     * own quantile (quantiles do not add up, so the direct path is not subtracted: they include it).
     */
    addedMs: {
      mean: round(relayed.mean - direct.mean - (profile ? profile.delayMs : 0), 3),
      p50: round(relayed.p50 - (profile ? nominal(0.5) : direct.p50), 3),
      p99: round(relayed.p99 - (profile ? nominal(0.99) : direct.p99), 3),
    },
    nominalDelayMs: profile ? { p50: nominal(0.5), p99: nominal(0.99) } : null,
    relayLoss: w.relayIn > 0 ? round(w.relayDroppedLoss / w.relayIn, 4) : null,
    relayInPps: round(w.relayIn / w.wallS, 0),
    relayCpu: round(w.relayCpu.fraction, 4),
    usCpuPerPacket: w.relayIn > 0 ? round((w.relayCpu.cpuMs * 1000) / w.relayIn, 2) : null,
    loadGenCpu: round(w.genCpu.fraction, 4),
    otherLoadCores: round(w.otherLoadCores, 2),
    contended: w.otherLoadCores !== null && w.otherLoadCores > CONTENDED_CORES,
  };
}

/**
 * Run the relay bench. `studentPps`: packets per second one student's media brings (from the
 * bench clip), to turn packets per core into student links per core.
 */
export async function runRelay({ loads = RELAY_LOADS_PPS, baselineLoads = BASELINE_LOADS_PPS, warmMs = 1_000, windowMs = 3_000, latencyWindowMs = 5_000, studentPps = null, log = () => undefined } = {}) {
  const relay = await forkRelay();
  let gen = null;
  try {
    const ports = await relay.call("open");
    gen = await LoadGen.open(ports.teacherFacingPort, ports.bareInPort);
    await relay.call("setTargets", { student: { address: HOST, port: gen.rx.address().port } });

    const throughput = [];
    let retries = RETRIES;
    for (const pps of loads) {
      for (const kind of baselineLoads.includes(pps) ? ["relay", "bare"] : ["relay"]) {
        await quiet(log, `${kind} ${pps} pps`);
        log(`relay: (a) zero impairment, ${kind === "relay" ? "UdpRelay" : "bare Node forwarder (baseline)"}, offered ${pps} pps for ${windowMs / 1000} s`);
        let row = await throughputRow(relay, gen, kind, pps, warmMs, windowMs);
        if (!row.held && row.contended && retries-- > 0) {
          log(`relay: ${kind} ${pps} pps did not hold while contended (other load ${row.otherLoadCores} cores); measuring again`);
          await quiet(log, `${kind} ${pps} pps (again)`);
          row = { ...(await throughputRow(relay, gen, kind, pps, warmMs, windowMs)), retried: true };
        }
        throughput.push(row);
      }
    }

    await quiet(log, "latency");
    log(`relay: (b) latency, relay vs direct path at ${LATENCY_RATE_PPS} pps each, zero impairment, ${latencyWindowMs / 1000} s`);
    const clean = await latencyRow(relay, gen, null, warmMs, latencyWindowMs);
    await quiet(log, "impaired latency");
    log(`relay: (c) latency and CPU under delay ${TYPICAL_PROFILE.delayMs}ms ${TYPICAL_PROFILE.jitterMs}ms loss ${TYPICAL_PROFILE.lossProbability * 100}%, ${latencyWindowMs / 1000} s`);
    const impaired = await latencyRow(relay, gen, TYPICAL_PROFILE, warmMs, latencyWindowMs);

    const relayRows = throughput.filter((r) => r.forwarder === "relay");
    const held = relayRows.filter((r) => r.held);
    const best = held.length > 0 ? held.reduce((a, b) => (b.deliveredPps > a.deliveredPps ? b : a)) : null;
    const perCore = best?.ppsPerCore ?? null;
    // Relay vs bare forwarder at the same offered loads (both held): CPU per packet.
    const versusBare = baselineLoads
      .map((pps) => {
        const r = relayRows.find((x) => x.offeredPps === pps);
        const b = throughput.find((x) => x.forwarder === "bare" && x.offeredPps === pps);
        return r?.held && b?.held ? { pps, relayUs: r.usCpuPerPacket, bareUs: b.usCpuPerPacket, ratio: round(r.usCpuPerPacket / b.usCpuPerPacket, 2) } : null;
      })
      .filter(Boolean);
    return {
      name: "relay",
      title: "netem relay (UdpRelay): packets per core, added latency, CPU per packet under impairment",
      layout: "relay (and the bare-forwarder baseline, idle while the relay runs) in one process | UDP sender + receiver in the bench process (one clock); 127.0.0.1",
      packetBytes: RELAY_PACKET_BYTES,
      throughput,
      latency: { clean, impaired },
      figures: {
        unit: "relayed packets per second per core of relay CPU",
        ppsPerCore: perCore,
        atDeliveredPps: best?.deliveredPps ?? null,
        /** The same at the lowest offered load (a class-sized load: per-wake-up costs weigh more). */
        ppsPerCoreLowLoad: throughput[0]?.held ? throughput[0].ppsPerCore : null,
        lowLoadPps: throughput[0]?.offeredPps ?? null,
        usCpuPerPacketClean: clean.usCpuPerPacket,
        usCpuPerPacketImpaired: impaired.usCpuPerPacket,
        impairedCostRatio: clean.usCpuPerPacket && impaired.usCpuPerPacket ? round(impaired.usCpuPerPacket / clean.usCpuPerPacket, 2) : null,
        addedLatencyMs: clean.addedMs,
        addedLatencyImpairedMs: impaired.addedMs,
        versusBare,
        studentPps,
        studentLinksPerCore: perCore !== null && studentPps ? round(perCore / studentPps, 0) : null,
        note: best ? null : "no offered load held (loss ≤ 1 % and relay < 0.95 core)",
      },
    };
  } finally {
    gen?.close();
    await relay.stop();
  }
}

/** Print the relay bench's tables. */
export function printRelay(r, log = console.log) {
  log(`\n== ${r.title} ==\n   layout: ${r.layout}; ${r.packetBytes}-byte datagrams`);
  table(
    log,
    ["forwarder", "offered pps", "relayed pps", "relay CPU %", "user %", "sys %", "µs CPU/pkt", "pps/core", "lost", "loadgen %", "other load", "held"],
    r.throughput.map((t) => [
      t.forwarder === "relay" ? "UdpRelay" : "bare fwd",
      String(t.offeredPps),
      String(t.deliveredPps),
      pct(t.relayCpu),
      pct(t.relayUser),
      pct(t.relaySystem),
      fmt(t.usCpuPerPacket, 2),
      t.ppsPerCore === null ? "-" : String(t.ppsPerCore),
      `${t.dropsBeforeRelay}+${t.dropsAfterRelay} (${(t.lossShare * 100).toFixed(2)} %)`,
      pct(t.loadGenCpu),
      t.otherLoadCores === null ? "-" : `${t.otherLoadCores.toFixed(2)}${t.contended ? "*" : ""}`,
      t.held ? "yes" : "NO",
    ]),
  );
  log(`   bare fwd = baseline: a plain Node forwarder (two dgram sockets, send(buf, port, address)) in the same process.`);
  log(`   relay CPU = the relay process (user + system; system includes the kernel's loopback delivery of its sends); lost = kernel drops before + after the relay`);
  log(`   (whole phase); held = lost ≤ ${HELD_LOSS * 100} % and relay < ${HELD_CPU * 100} % of a core; * = other load > ${CONTENDED_CORES} cores (contended).`);
  log(`\n   latency, one-way, relay path vs direct path in the same window (${r.latency.clean.ratePps} pps each path):`);
  table(
    log,
    ["profile", "direct p50", "direct p99", "relay p50", "relay p99", "added mean", "added p50", "added p99", "relay loss", "µs CPU/pkt", "relay CPU %", "other load"],
    [r.latency.clean, r.latency.impaired].map((l) => [
      l.profile,
      fmt(l.directMs.p50, 3),
      fmt(l.directMs.p99, 3),
      fmt(l.relayMs.p50, 3),
      fmt(l.relayMs.p99, 3),
      fmt(l.addedMs.mean, 3),
      fmt(l.addedMs.p50, 3),
      fmt(l.addedMs.p99, 3),
      l.relayLoss === null ? "-" : `${(l.relayLoss * 100).toFixed(2)} %`,
      fmt(l.usCpuPerPacket, 2),
      pct(l.relayCpu),
      l.otherLoadCores === null ? "-" : `${l.otherLoadCores.toFixed(2)}${l.contended ? "*" : ""}`,
    ]),
  );
  log(`   ms; added, clean: relay − direct. Under the profile: mean = relay − direct − 40 ms; p50/p99 = relay − the configured`);
  log(`   delay's own quantile (U[30,50): 40, 49.8 ms), so they include the base path (see direct).`);
  log(relaySummary(r));
}

/** The relay bench's figure lines (also used in the run's summary). */
export function relaySummary(r) {
  const f = r.figures;
  return [
    `-> ${f.unit}: ${f.ppsPerCore === null ? f.note : `${f.ppsPerCore} (at ${f.atDeliveredPps} pps relayed)`}` +
      (f.ppsPerCoreLowLoad ? `; ${f.ppsPerCoreLowLoad} at ${f.lowLoadPps} pps offered` : "") +
      (f.studentLinksPerCore ? `; ≈ ${f.studentLinksPerCore} student links per core at ${f.studentPps} pps per student` : ""),
    `   added latency at zero impairment: mean ${fmt(f.addedLatencyMs.mean, 3)}, p50 ${fmt(f.addedLatencyMs.p50, 3)}, p99 ${fmt(f.addedLatencyMs.p99, 3)} ms; ` +
      `beyond the configured delay under the profile: mean ${fmt(f.addedLatencyImpairedMs.mean, 3)}, p50 ${fmt(f.addedLatencyImpairedMs.p50, 3)}, p99 ${fmt(f.addedLatencyImpairedMs.p99, 3)} ms`,
    (f.versusBare.length > 0 ? `   vs a bare Node forwarder, CPU per packet: ${f.versusBare.map((v) => `${v.pps} pps ${fmt(v.relayUs, 2)} vs ${fmt(v.bareUs, 2)} µs (×${fmt(v.ratio, 2)})`).join("; ")}\n` : "") +
    `   relay CPU per packet at ${LATENCY_RATE_PPS} pps: ${fmt(f.usCpuPerPacketClean, 2)} µs clean, ${fmt(f.usCpuPerPacketImpaired, 2)} µs impaired (×${fmt(f.impairedCostRatio, 2)})`,
  ].join("\n");
}

function table(log, head, rows) {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells) => "   " + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  log(line(head));
  for (const r of rows) log(line(r));
}
function pct(f) {
  return f === null || f === undefined ? "-" : (f * 100).toFixed(1);
}
function fmt(v, d = 1) {
  return v === null || v === undefined ? "-" : v.toFixed(d);
}
