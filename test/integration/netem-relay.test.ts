// The UDP relay on real loopback sockets: two plain dgram sockets play teacher and student.
import { createSocket, type Socket } from "node:dgram";
import { afterEach, describe, expect, it } from "vitest";
import { seededRandom } from "../../src/random.js";
import { cleanParams, type LinkParams } from "../../src/netem/params.js";
import { UdpRelay } from "../../src/netem/relay.js";
import { RelayBackend } from "../../src/netem/relay-backend.js";
import { profileFromObject } from "../../src/netem/profile-loader.js";
import type { TimelineEvent } from "../../src/netem/timeline.js";

const HOST = "127.0.0.1";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function params(over: Partial<LinkParams>): LinkParams {
  return { ...cleanParams(), ...over };
}

async function bind(): Promise<Socket> {
  const s = createSocket("udp4");
  await new Promise<void>((r) => s.bind(0, HOST, () => r()));
  return s;
}

type Received = { seq: number; sentAt: number; recvAt: number; from: number; bytes: Buffer };

/** Collect packets `[seq u32][sentAt f64][padding]` arriving at `s`. */
function collect(s: Socket): Received[] {
  const got: Received[] = [];
  s.on("message", (b, rinfo) => {
    got.push({ seq: b.readUInt32BE(0), sentAt: b.readDoubleBE(4), recvAt: performance.now(), from: rinfo.port, bytes: b });
  });
  return got;
}

function packet(seq: number, size = 200): Buffer {
  const b = Buffer.alloc(size, seq & 0xff);
  b.writeUInt32BE(seq, 0);
  b.writeDoubleBE(performance.now(), 4);
  return b;
}

/** Send `n` packets, `perTick` at a time with a short pause, so loopback buffers never overflow. */
async function send(s: Socket, port: number, n: number, opts: { perTick?: number; tickMs?: number; size?: number; from?: number } = {}): Promise<Buffer[]> {
  const sent: Buffer[] = [];
  const perTick = opts.perTick ?? 20;
  for (let i = 0; i < n; i++) {
    const b = packet((opts.from ?? 0) + i, opts.size);
    sent.push(b);
    s.send(b, port, HOST);
    if ((i + 1) % perTick === 0) await sleep(opts.tickMs ?? 2);
  }
  return sent;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

describe("UdpRelay on loopback", () => {
  const open: { close(): unknown }[] = [];
  let teacher: Socket;
  let student: Socket;

  async function setup(opts: { down?: LinkParams; up?: LinkParams; seed?: number; targets?: boolean } = {}) {
    teacher = await bind();
    student = await bind();
    const relay = await UdpRelay.open({
      random: { down: seededRandom(opts.seed ?? 1), up: seededRandom((opts.seed ?? 1) + 1) },
      ...(opts.down ? { down: opts.down } : {}),
      ...(opts.up ? { up: opts.up } : {}),
    });
    open.push(teacher, student, relay);
    if (opts.targets !== false) {
      relay.setTargets({ teacher: { address: HOST, port: teacher.address().port }, student: { address: HOST, port: student.address().port } });
    }
    return relay;
  }

  afterEach(async () => {
    for (const o of open.splice(0)) await o.close();
  });

  it("a fixed 50 ms down-delay adds 50 ± 3 ms one way (vs the clean up direction, same run)", async () => {
    const relay = await setup({ down: params({ delayMs: 50 }) });
    const atStudent = collect(student);
    const atTeacher = collect(teacher);
    for (let i = 0; i < 100; i++) {
      teacher.send(packet(i), relay.teacherFacingPort, HOST);
      student.send(packet(i), relay.studentFacingPort, HOST);
      await sleep(5);
    }
    await sleep(150);
    expect(atStudent).toHaveLength(100);
    expect(atTeacher).toHaveLength(100);
    const down = atStudent.map((r) => r.recvAt - r.sentAt);
    const up = atTeacher.map((r) => r.recvAt - r.sentAt);
    const added = median(down) - median(up);
    expect(Math.abs(added - 50)).toBeLessThanOrEqual(3);
    expect(Math.min(...down)).toBeGreaterThanOrEqual(49.5);
    // Each side sees its peer at the port its SDP was rewritten to.
    expect(atStudent.every((r) => r.from === relay.studentFacingPort)).toBe(true);
    expect(atTeacher.every((r) => r.from === relay.teacherFacingPort)).toBe(true);
    // Equal delays keep arrival order (ties leave in arrival order).
    expect(atStudent.map((r) => r.seq)).toEqual([...Array(100).keys()]);
    // The relay's own lateness record: every delayed copy timed, none in the clean direction, and its
    // p50 explains the added delay's excess over 50 ms (within the clean direction's own spread).
    const late = relay.lateness("down");
    expect(late.count).toBe(100);
    expect(relay.lateness("up").count).toBe(0);
    expect(late.p50Ms).toBeGreaterThanOrEqual(-0.5);
    expect(Math.abs(added - 50 - late.p50Ms)).toBeLessThanOrEqual(1.5);
    console.log(`relay: lateness p50 ${late.p50Ms.toFixed(2)} p95 ${late.p95Ms.toFixed(2)} max ${late.maxMs.toFixed(2)} ms`);
    console.log(`relay: down median ${median(down).toFixed(2)} ms, up (clean) median ${median(up).toFixed(2)} ms, added ${added.toFixed(2)} ms`);
  });

  it("30 % random loss measures 30 ± 3 % over 5000 packets; counters add up", async () => {
    const relay = await setup({ down: params({ loss: { kind: "random", probability: 0.3, correlation: 0 } }) });
    const atStudent = collect(student);
    await send(teacher, relay.teacherFacingPort, 5000);
    await sleep(100);
    const loss = 1 - atStudent.length / 5000;
    console.log(`relay: 30 % loss profile measured ${(loss * 100).toFixed(2)} % over 5000 packets`);
    expect(Math.abs(loss - 0.3)).toBeLessThanOrEqual(0.03);
    const c = relay.counters("down");
    expect(c.packetsIn).toBe(5000);
    expect(c.bytesIn).toBe(5000 * 200);
    expect(c.droppedLoss + c.delivered).toBe(5000);
    expect(c.delivered).toBe(atStudent.length);
    expect(c.bytesDelivered).toBe(atStudent.length * 200);
    expect(c.droppedQueue + c.droppedNoTarget + c.duplicated + c.corrupted + c.sendErrors).toBe(0);
    expect(relay.counters("up").packetsIn).toBe(0);
  });

  it("parameters change live via setParams, without reconnecting", async () => {
    const relay = await setup();
    const atTeacher = collect(teacher);
    await send(student, relay.studentFacingPort, 50, { perTick: 5 });
    await sleep(30);
    expect(atTeacher).toHaveLength(50);
    const clean = median(atTeacher.map((r) => r.recvAt - r.sentAt));

    relay.setParams("up", params({ delayMs: 100 }));
    await send(student, relay.studentFacingPort, 50, { perTick: 5, from: 50 });
    await sleep(150);
    expect(atTeacher).toHaveLength(100);
    const delayed = median(atTeacher.slice(50).map((r) => r.recvAt - r.sentAt));
    expect(Math.abs(delayed - clean - 100)).toBeLessThanOrEqual(3);

    relay.setParams("up", params({ loss: { kind: "random", probability: 1, correlation: 0 } }));
    await send(student, relay.studentFacingPort, 50, { perTick: 5, from: 100 });
    await sleep(30);
    expect(atTeacher).toHaveLength(100);
    expect(relay.counters("up")).toMatchObject({ packetsIn: 150, delivered: 100, droppedLoss: 50 });

    relay.setParams("up", cleanParams());
    await send(student, relay.studentFacingPort, 10, { from: 150 });
    await sleep(30);
    expect(atTeacher.slice(100).map((r) => r.seq)).toEqual([...Array(10).keys()].map((i) => 150 + i));
  });

  it("duplicate doubles deliveries; corrupt flips exactly one bit of the copy", async () => {
    const relay = await setup({
      down: params({ duplicate: { probability: 1, correlation: 0 } }),
      up: params({ corrupt: { probability: 1, correlation: 0 } }),
    });
    const atStudent = collect(student);
    const atTeacher = collect(teacher);
    await send(teacher, relay.teacherFacingPort, 100, { size: 100 });
    const sent = await send(student, relay.studentFacingPort, 100, { size: 100 });
    await sleep(50);
    expect(atStudent).toHaveLength(200);
    expect(relay.counters("down")).toMatchObject({ packetsIn: 100, duplicated: 100, delivered: 200 });
    expect(atTeacher).toHaveLength(100);
    expect(relay.counters("up")).toMatchObject({ packetsIn: 100, corrupted: 100, delivered: 100 });
    // Corrupted packets may have a flipped seq byte: match them to the sent ones by position.
    let flippedBits = 0;
    for (let i = 0; i < 100; i++) {
      const got = atTeacher[i]!.bytes;
      const orig = sent[i]!;
      expect(got.length).toBe(orig.length);
      let bits = 0;
      for (let k = 0; k < got.length; k++) {
        let x = got[k]! ^ orig[k]!;
        while (x) {
          bits += x & 1;
          x >>= 1;
        }
      }
      expect(bits).toBe(1);
      flippedBits += bits;
    }
    expect(flippedBits).toBe(100);
  });

  it("jitter larger than the packet spacing reorders; packets still all arrive", async () => {
    const relay = await setup({ down: params({ delayMs: 40, jitterMs: 30 }) });
    const atStudent = collect(student);
    await send(teacher, relay.teacherFacingPort, 400, { perTick: 4, tickMs: 1 });
    await sleep(120);
    expect(atStudent).toHaveLength(400);
    let inversions = 0;
    for (let i = 1; i < atStudent.length; i++) if (atStudent[i]!.seq < atStudent[i - 1]!.seq) inversions++;
    expect(inversions).toBeGreaterThan(20);
    const d = atStudent.map((r) => r.recvAt - r.sentAt);
    expect(Math.min(...d)).toBeGreaterThanOrEqual(9.5);
    expect(Math.max(...d)).toBeLessThan(85);
  });

  it("learns peer addresses from the first packets when no targets are set", async () => {
    const relay = await setup({ targets: false });
    const atStudent = collect(student);
    const atTeacher = collect(teacher);
    teacher.send(packet(1), relay.teacherFacingPort, HOST); // student unknown yet: dropped, counted
    await sleep(20);
    expect(relay.counters("down").droppedNoTarget).toBe(1);
    student.send(packet(2), relay.studentFacingPort, HOST);
    await sleep(20);
    expect(atTeacher.map((r) => r.seq)).toEqual([2]); // teacher learned from its first packet
    teacher.send(packet(3), relay.teacherFacingPort, HOST);
    await sleep(20);
    expect(atStudent.map((r) => r.seq)).toEqual([3]);
    expect(relay.targets()).toEqual({ teacher: { address: HOST, port: teacher.address().port }, student: { address: HOST, port: student.address().port } });
  });

  it("close() stops delivery and releases both ports", async () => {
    const relay = await setup({ down: params({ delayMs: 30 }) });
    const atStudent = collect(student);
    await send(teacher, relay.teacherFacingPort, 10);
    await sleep(5);
    expect(relay.pending("down")).toBe(10);
    const ports = [relay.teacherFacingPort, relay.studentFacingPort];
    await relay.close();
    await relay.close(); // idempotent
    await sleep(50);
    expect(atStudent).toHaveLength(0);
    for (const port of ports) {
      const s = createSocket("udp4");
      await new Promise<void>((resolve, reject) => {
        s.once("error", reject);
        s.bind(port, HOST, () => resolve());
      });
      await new Promise<void>((r) => s.close(() => r()));
    }
  });

  it("RelayBackend.applyProfile runs a profile's steps on the link's relay on time and reports each as an event", async () => {
    const backend = new RelayBackend({ seed: 3 });
    open.push(backend);
    const profile = profileFromObject({
      name: "inline",
      steps: [
        { at: 0, both: { delay: "20ms" } },
        { at: "150ms", down: { loss: "100%" } },
      ],
    });
    const events: TimelineEvent[] = [];
    const t0 = performance.now();
    await backend.applyProfile("room", "s1", profile, (e) => events.push(e));
    const relay = (await backend.get("room", "s1"))!;
    expect(events.map((e) => [e.stepIndex, e.direction])).toEqual([[0, "down"], [0, "up"]]);
    expect(relay.params("down").delayMs).toBe(20);
    await sleep(250);
    expect(events.map((e) => [e.stepIndex, e.direction])).toEqual([[0, "down"], [0, "up"], [1, "down"]]);
    expect(events[2]!.atMs - t0).toBeGreaterThanOrEqual(149);
    expect(events[2]!.atMs - t0).toBeLessThan(200);
    expect(relay.params("down").loss).toEqual({ kind: "random", probability: 1, correlation: 0 });
    expect(relay.params("up").delayMs).toBe(20);
  });
});
