// Userspace UDP relay for ONE student link: the "relay" netem backend (unprivileged, any OS).
//
//   teacher ──▶ teacherFacing ──[down engine]──▶ studentFacing ──▶ student
//   teacher ◀── teacherFacing ◀──[up engine]─── studentFacing ◀── student
//
// Two sockets on 127.0.0.1 ephemeral ports. The teacher is told (via the rewritten SDP answer) that
// the student lives at `teacherFacing`; the student is told (rewritten offer) that the teacher lives
// at `studentFacing`. Each side therefore sees all its peer's packets, ICE checks included, coming
// from the port it expects, and ICE/DTLS/SRTP run end to end through the relay untouched.
// Peer addresses come from `setTargets` (the real candidates in the SDP) and are latched to the
// source of the latest packet from that side (only the peer knows our port).
//
// Per packet: the direction's `LinkEngine` decides (drop / deliver at t / flip a bit); deliveries
// wait in a per-direction min-heap ordered by (time, arrival order) drained by ONE timer per
// direction, so packets leave in send-time order and no timer is created per packet. Nothing is
// logged and little is allocated: the received Buffer itself is queued (Node hands us a fresh one);
// only a corrupted copy is copied, so a duplicate stays intact.
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import { systemClock, type Clock } from "../clock.js";
import type { Random } from "../random.js";
import { LinkEngine } from "./engine.js";
import { cleanParams, type Direction, type LinkParams } from "./params.js";
import type { ParamsTarget } from "./timeline.js";

export interface Endpoint {
  address: string;
  port: number;
}

export interface RelayCounters {
  /** Packets/bytes received from the sending side. */
  packetsIn: number;
  bytesIn: number;
  /** Dropped by the loss model. */
  droppedLoss: number;
  /** Tail-dropped by the queue limit. */
  droppedQueue: number;
  /** Dropped because the receiving side's address was not known yet. */
  droppedNoTarget: number;
  /** Copies handed to the socket (a duplicated packet counts twice). */
  delivered: number;
  bytesDelivered: number;
  /** Packets the duplicate rule fired on. */
  duplicated: number;
  /** Delivered copies with one bit flipped. */
  corrupted: number;
  /** Socket send errors (counted, never thrown). */
  sendErrors: number;
}

function zeroCounters(): RelayCounters {
  return { packetsIn: 0, bytesIn: 0, droppedLoss: 0, droppedQueue: 0, droppedNoTarget: 0, delivered: 0, bytesDelivered: 0, duplicated: 0, corrupted: 0, sendErrors: 0 };
}

export interface UdpRelayOptions {
  /** Seeded randomness per direction (same seeds ⇒ same decisions). */
  random: { down: Random; up: Random };
  clock?: Clock;
  down?: LinkParams;
  up?: LinkParams;
  /** Bind address (default 127.0.0.1). */
  host?: string;
  /**
   * Bytes added to each UDP payload's size for `rate` (default 28 = IPv4 + UDP headers), so "1mbit"
   * means IP-level bandwidth as on a real link. Set 0 to shape payload bytes only.
   */
  headerBytes?: number;
  /** Follow the peer's source address from its packets (default true). */
  latch?: boolean;
  /** Kernel receive buffer per socket in bytes (default 1 MiB; capped by net.core.rmem_max). */
  recvBufferBytes?: number;
}

/** Pending deliveries of one direction: a binary min-heap on (atMs, seq) in parallel arrays. */
class DeliveryHeap {
  private at: number[] = [];
  private seq: number[] = [];
  private buf: Buffer[] = [];
  private nextSeq = 0;

  get size(): number {
    return this.at.length;
  }

  peekAt(): number {
    return this.at[0]!;
  }

  push(atMs: number, b: Buffer): void {
    const at = this.at;
    const seq = this.seq;
    const buf = this.buf;
    const s = this.nextSeq++;
    let i = at.length;
    at.push(atMs);
    seq.push(s);
    buf.push(b);
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (at[p]! < atMs || (at[p] === atMs && seq[p]! < s)) break;
      at[i] = at[p]!;
      seq[i] = seq[p]!;
      buf[i] = buf[p]!;
      i = p;
    }
    at[i] = atMs;
    seq[i] = s;
    buf[i] = b;
  }

  /** Remove and return the earliest buffer. */
  pop(): Buffer {
    const at = this.at;
    const seq = this.seq;
    const buf = this.buf;
    const top = buf[0]!;
    const lastAt = at.pop()!;
    const lastSeq = seq.pop()!;
    const lastBuf = buf.pop()!;
    const n = at.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && (at[r]! < at[l]! || (at[r] === at[l] && seq[r]! < seq[l]!)) ? r : l;
        if (at[c]! > lastAt || (at[c] === lastAt && seq[c]! > lastSeq)) break;
        at[i] = at[c]!;
        seq[i] = seq[c]!;
        buf[i] = buf[c]!;
        i = c;
      }
      at[i] = lastAt;
      seq[i] = lastSeq;
      buf[i] = lastBuf;
    }
    return top;
  }

  clear(): void {
    this.at.length = 0;
    this.seq.length = 0;
    this.buf.length = 0;
  }
}

/**
 * How late timed deliveries left the relay (negative = early, see EARLY_TOLERANCE_MS): 0.05 ms bins
 * from −1 ms to +99 ms, anything beyond in the end bins.
 */
class LatenessHistogram {
  private static readonly BIN_MS = 0.05;
  private static readonly FROM_MS = -1;
  private readonly bins = new Uint32Array(2000);
  count = 0;
  maxMs = -Infinity;

  add(lateMs: number): void {
    const i = Math.floor((lateMs - LatenessHistogram.FROM_MS) / LatenessHistogram.BIN_MS);
    this.bins[Math.max(0, Math.min(this.bins.length - 1, i))]!++;
    this.count++;
    if (lateMs > this.maxMs) this.maxMs = lateMs;
  }

  /** Middle of the bin holding quantile q (0–1); 0 when nothing was timed. */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let seen = 0;
    for (let i = 0; i < this.bins.length; i++) {
      seen += this.bins[i]!;
      if (seen >= rank) return Math.min(this.maxMs, LatenessHistogram.FROM_MS + (i + 0.5) * LatenessHistogram.BIN_MS);
    }
    return this.maxMs;
  }
}

/**
 * A timer firing this early (ms) still delivers. libuv timers have 1 ms granularity and fire up to
 * ~1 ms after their due time, so the timer is armed ~1 ms early and delivers anything due within
 * this window: the delivery error is then centred on 0 instead of biased late (+0.5–1 ms measured).
 */
const EARLY_TOLERANCE_MS = 0.5;

/** One direction: engine, pending heap, its timer, the socket it sends from and where to. */
class Pipe {
  readonly engine: LinkEngine;
  readonly counters = zeroCounters();
  readonly heap = new DeliveryHeap();
  readonly lateness = new LatenessHistogram();
  target: Endpoint | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private timerAtMs = Infinity;
  private readonly onTimer = (): void => {
    this.timer = null;
    this.timerAtMs = Infinity;
    this.flush();
  };
  private closed = false;

  /** Per RTP payload type: packets in and packets the model dropped (ground truth for measured loss). */
  readonly rtp = new Map<number, { packetsIn: number; dropped: number }>();

  /**
   * SRTP leaves the RTP header in clear (RFC 3711 §3.1): version 2 and a payload type outside
   * RTCP's 64–95 range (RFC 5761 §4) mark RTP, and the payload type names the stream (VP8 96, Opus 111).
   */
  private countRtp(msg: Buffer, dropped: boolean): void {
    if (msg.length < 12 || msg[0]! >> 6 !== 2) return;
    const pt = msg[1]! & 0x7f;
    if (pt >= 64 && pt <= 95) return;
    let e = this.rtp.get(pt);
    if (!e) this.rtp.set(pt, (e = { packetsIn: 0, dropped: 0 }));
    e.packetsIn++;
    if (dropped) e.dropped++;
  }

  constructor(
    random: Random,
    params: LinkParams,
    private readonly out: Socket,
    private readonly clock: Clock,
    private readonly headerBytes: number,
  ) {
    this.engine = new LinkEngine(random, params);
  }

  handle(msg: Buffer): void {
    const c = this.counters;
    c.packetsIn++;
    c.bytesIn += msg.length;
    if (this.target === null) {
      c.droppedNoTarget++;
      return;
    }
    const now = this.clock.nowMs();
    const wireSize = msg.length + this.headerBytes;
    const d = this.engine.submit(wireSize, now);
    c.droppedLoss += d.lossDrops;
    c.droppedQueue += d.queueDrops;
    this.countRtp(msg, d.count === 0);
    if (d.duplicated) c.duplicated++;
    let queued = false;
    for (let i = 0; i < d.count; i++) {
      const del = d.deliveries[i]!;
      let b = msg;
      if (del.corruptByte >= 0 && msg.length > 0) {
        b = Buffer.from(msg);
        // The engine picks a byte of the wire size; map it onto the payload we can touch.
        const byte = Math.min(msg.length - 1, Math.floor((del.corruptByte * msg.length) / wireSize));
        b[byte] = b[byte]! ^ (1 << del.corruptBit);
        c.corrupted++;
      }
      if (del.atMs <= now && this.heap.size === 0 && !queued) this.send(b);
      else {
        this.heap.push(del.atMs, b);
        queued = true;
      }
    }
    if (queued) {
      if (this.heap.peekAt() <= now + EARLY_TOLERANCE_MS) this.flush();
      else this.arm();
    }
  }

  private send(b: Buffer): void {
    const t = this.target;
    if (t === null || this.closed) return;
    this.counters.delivered++;
    this.counters.bytesDelivered += b.length;
    this.out.send(b, t.port, t.address);
  }

  flush(): void {
    const heap = this.heap;
    const now = this.clock.nowMs();
    const limit = now + EARLY_TOLERANCE_MS;
    while (heap.size > 0 && heap.peekAt() <= limit) {
      this.lateness.add(now - heap.peekAt());
      this.send(heap.pop());
    }
    this.arm();
  }

  private arm(): void {
    if (this.closed) return;
    if (this.heap.size === 0) {
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = null;
      this.timerAtMs = Infinity;
      return;
    }
    const at = this.heap.peekAt();
    if (this.timer !== null && this.timerAtMs <= at) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timerAtMs = at;
    this.timer = setTimeout(this.onTimer, Math.max(0, Math.floor(at - this.clock.nowMs() - EARLY_TOLERANCE_MS)));
  }

  close(): void {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.heap.clear();
  }
}

function bindSocket(host: string, recvBufferBytes: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket({ type: "udp4", recvBufferSize: recvBufferBytes });
    const onError = (e: Error): void => reject(e);
    s.once("error", onError);
    s.bind(0, host, () => {
      s.off("error", onError);
      resolve(s);
    });
  });
}

export class UdpRelay implements ParamsTarget {
  /** Receives from the teacher, sends the up direction to the teacher. */
  readonly teacherFacingPort: number;
  /** Receives from the student, sends the down direction to the student. */
  readonly studentFacingPort: number;
  readonly host: string;
  private readonly down: Pipe;
  private readonly up: Pipe;
  private closing: Promise<void> | null = null;

  /** Bind both sockets and start relaying. */
  static async open(opts: UdpRelayOptions): Promise<UdpRelay> {
    const host = opts.host ?? "127.0.0.1";
    const rcv = opts.recvBufferBytes ?? 1 << 20;
    const teacherFacing = await bindSocket(host, rcv);
    let studentFacing: Socket;
    try {
      studentFacing = await bindSocket(host, rcv);
    } catch (e) {
      teacherFacing.close();
      throw e;
    }
    return new UdpRelay(opts, host, teacherFacing, studentFacing);
  }

  private constructor(
    opts: UdpRelayOptions,
    host: string,
    private readonly teacherFacing: Socket,
    private readonly studentFacing: Socket,
  ) {
    const clock = opts.clock ?? systemClock;
    const headerBytes = opts.headerBytes ?? 28;
    const latch = opts.latch ?? true;
    this.host = host;
    this.teacherFacingPort = teacherFacing.address().port;
    this.studentFacingPort = studentFacing.address().port;
    this.down = new Pipe(opts.random.down, opts.down ?? cleanParams(), studentFacing, clock, headerBytes);
    this.up = new Pipe(opts.random.up, opts.up ?? cleanParams(), teacherFacing, clock, headerBytes);
    const down = this.down;
    const up = this.up;
    teacherFacing.on("message", (msg: Buffer, rinfo: RemoteInfo) => {
      if (latch) latchTarget(up, rinfo);
      down.handle(msg);
    });
    studentFacing.on("message", (msg: Buffer, rinfo: RemoteInfo) => {
      if (latch) latchTarget(down, rinfo);
      up.handle(msg);
    });
    // Send errors (e.g. ICMP port unreachable after a peer left) are counted, never fatal.
    teacherFacing.on("error", () => up.counters.sendErrors++);
    studentFacing.on("error", () => down.counters.sendErrors++);
  }

  /** The real teacher/student endpoints (from the original SDP candidates). */
  setTargets(t: { teacher?: Endpoint; student?: Endpoint }): void {
    if (t.teacher) this.up.target = { address: t.teacher.address, port: t.teacher.port };
    if (t.student) this.down.target = { address: t.student.address, port: t.student.port };
  }

  targets(): { teacher: Endpoint | null; student: Endpoint | null } {
    return { teacher: this.up.target, student: this.down.target };
  }

  /** Change a direction's parameters live (no reconnect); packets already queued keep their times. */
  setParams(direction: Direction, params: LinkParams): void {
    this.pipe(direction).engine.setParams(params);
  }

  params(direction: Direction): LinkParams {
    return this.pipe(direction).engine.params;
  }

  /** A snapshot of a direction's counters. */
  counters(direction: Direction): RelayCounters {
    return { ...this.pipe(direction).counters };
  }

  /** Per RTP payload type of a direction: packets in and dropped by the model (loss or queue). */
  rtpCounters(direction: Direction): Map<number, { packetsIn: number; dropped: number }> {
    return new Map([...this.pipe(direction).rtp].map(([k, v]) => [k, { ...v }]));
  }

  /**
   * The relay's own timing error: how late (ms) copies that waited for their delivery time left
   * (timer and event-loop lateness; p50/p95 to 0.05 ms). A calibration compares against the delay
   * actually applied, which is the profile's plus this.
   */
  lateness(direction: Direction): { count: number; p50Ms: number; p95Ms: number; maxMs: number } {
    const h = this.pipe(direction).lateness;
    return { count: h.count, p50Ms: h.quantile(0.5), p95Ms: h.quantile(0.95), maxMs: h.count ? h.maxMs : 0 };
  }

  /** Packets waiting in the relay for their delivery time. */
  pending(direction: Direction): number {
    return this.pipe(direction).heap.size;
  }

  /** Stop timers, drop what is queued, release both sockets. Idempotent. */
  close(): Promise<void> {
    if (!this.closing) {
      this.down.close();
      this.up.close();
      const closeSocket = (s: Socket): Promise<void> =>
        new Promise((resolve) => {
          try {
            s.close(() => resolve());
          } catch {
            resolve(); // already closed
          }
        });
      this.closing = Promise.all([closeSocket(this.teacherFacing), closeSocket(this.studentFacing)]).then(() => undefined);
    }
    return this.closing;
  }

  private pipe(direction: Direction): Pipe {
    return direction === "down" ? this.down : this.up;
  }
}

/** Remember the latest source of a side's packets as that side's address. */
function latchTarget(pipe: Pipe, rinfo: RemoteInfo): void {
  const t = pipe.target;
  if (t === null) pipe.target = { address: rinfo.address, port: rinfo.port };
  else if (t.port !== rinfo.port || t.address !== rinfo.address) {
    t.address = rinfo.address;
    t.port = rinfo.port;
  }
}
