// One direction of an impaired link, as Linux netem's enqueue path decides it (netem_enqueue in
// net/sched/sch_netem.c), but synchronous, pure and seeded: `submit(size, now)` says at once what
// happens to a packet — dropped, or delivered at which time(s), with which bit flipped. The caller
// (the UDP relay) owns timers and sockets; the engine owns no timer and never logs.
//
// Per packet, in netem's order:
//   1. duplicate: with P(dup) the packet counts twice;
//   2. loss: the loss model removes one count (so a duplicated packet that is "lost" still goes
//      once, as in netem); count 0 → dropped (cause "loss");
//   3. corrupt: with P(corrupt) one random bit of one random byte is flipped (in this copy only);
//   4. queue limit: if `limitPackets` packets are already waiting, tail drop (cause "queue"), the
//      duplicate with it;
//   5. delay/reorder: unless picked for reordering (gap/reorder below), send = now + delay sample;
//      with `rate`: send = max(now + delay, last send) + (size + overhead)·8/rate (only while packets
//      are waiting, else now + delay + serialisation), i.e. a FIFO serialiser behind the delay line;
//      with `slot`: the packet leaves in the first slot at or after its send time (see slotRelease).
//      Reorder (netem): when gap > 0, the packet is sent *immediately* (ahead of everything
//      waiting) if at least gap−1 packets were delayed since the last immediate one and a
//      (correlated) draw is ≤ P(reorder). Share of immediate packets: p / (1 + p·(gap−1)).
//   6. the duplicate copy then goes through 2–5 again on its own (netem re-enqueues the clone at the
//      root qdisc with duplication switched off).
// Delivery times: packets leave in send-time order (ties in submission order), so jitter larger
// than the packet spacing reorders, as in netem. A negative delay sample leaves at `now`.
//
// Slot deviation (documented): netem resolves slots at dequeue time; here a slot is resolved when
// the packet is submitted, in submission order. That is exact while send times do not decrease in
// submission order (no jitter reordering), which is how slots are used (aggregation bursts).
//
// Allocation: `submit` returns the engine's one reusable `Decision` object (valid until the next
// call); the waiting queue is a Float64Array min-heap of release times. Nothing is allocated per packet.
import type { Random } from "../random.js";
import { CorrelatedUniform, LossProcess } from "./loss-models.js";
import { DelaySampler, distributionTable, tabledist } from "./delay-models.js";
import { cleanParams, type LinkParams, type SlotParams } from "./params.js";

export type DropCause = "loss" | "queue";

/** One copy of the packet that leaves the link. */
export interface Delivery {
  /** Monotonic ms (same time base as `nowMs` given to submit) when the copy leaves the link. */
  atMs: number;
  /** Index of the byte whose bit is flipped, or −1 if intact. */
  corruptByte: number;
  /** Bit (0–7, value 1 << bit) flipped in `corruptByte`. */
  corruptBit: number;
  /** Sent immediately by the reorder rule (jumped the queue). */
  reordered: boolean;
}

/** What happened to one submitted packet. Reused by the engine: read it before the next submit. */
export interface Decision {
  /** Copies delivered: 0 (dropped), 1, or 2 (duplicated, both survived). `deliveries[0..count)`. */
  count: number;
  readonly deliveries: readonly [Delivery, Delivery];
  /**
   * A second copy was created (the duplicate rule fired and the loss model did not consume it; the
   * copy may still be lost or tail-dropped on its own).
   */
  duplicated: boolean;
  /** Copies dropped by the loss model (0–1). */
  lossDrops: number;
  /** Copies tail-dropped by the queue limit (0–2). */
  queueDrops: number;
}

function newDelivery(): Delivery {
  return { atMs: 0, corruptByte: -1, corruptBit: 0, reordered: false };
}

/** Min-heap of release times (ms) of packets still inside the link. */
class TimeHeap {
  private a = new Float64Array(64);
  size = 0;

  push(t: number): void {
    if (this.size === this.a.length) {
      const b = new Float64Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    const a = this.a;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (a[parent]! <= t) break;
      a[i] = a[parent]!;
      i = parent;
    }
    a[i] = t;
  }

  /** Remove every entry ≤ t. */
  popUntil(t: number): void {
    const a = this.a;
    while (this.size > 0 && a[0]! <= t) {
      const last = a[--this.size]!;
      let i = 0;
      const n = this.size;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && a[r]! < a[l]! ? r : l;
        if (a[c]! >= last) break;
        a[i] = a[c]!;
        i = c;
      }
      if (n > 0) a[i] = last;
    }
  }

  clear(): void {
    this.size = 0;
  }
}

export class LinkEngine {
  private p: LinkParams;
  private readonly loss: LossProcess;
  private readonly delay: DelaySampler;
  private readonly dupRandom: CorrelatedUniform;
  private readonly corruptRandom: CorrelatedUniform;
  private readonly reorderRandom: CorrelatedUniform;
  private readonly queue = new TimeHeap();
  private readonly decision: Decision;
  /** netem q->counter: packets delayed since the last reordered one. */
  private reorderCounter = 0;
  /** Latest pre-slot send time handed out (the rate serialiser's "last send"). */
  private lastSendMs = -Infinity;
  private slotNextMs = -Infinity;
  private slotPacketsLeft = 0;
  private slotBytesLeft = 0;
  private lastReleaseMs = -Infinity;
  private slotTable: Int16Array | null = null;

  constructor(private readonly random: Random, params: LinkParams = cleanParams()) {
    this.loss = new LossProcess(random);
    this.delay = new DelaySampler(random);
    this.dupRandom = new CorrelatedUniform(random);
    this.corruptRandom = new CorrelatedUniform(random);
    this.reorderRandom = new CorrelatedUniform(random);
    this.decision = { count: 0, deliveries: [newDelivery(), newDelivery()], duplicated: false, lossDrops: 0, queueDrops: 0 };
    this.p = params;
    this.setParams(params);
  }

  get params(): LinkParams {
    return this.p;
  }

  /**
   * Change parameters live (netem_change, i.e. `tc qdisc change`): correlation sources and the
   * loss-model state restart, the slot schedule restarts; packets already inside keep their times.
   */
  setParams(p: LinkParams): void {
    this.p = p;
    this.loss.setModel(p.loss);
    this.delay.set(p.delayMs, p.jitterMs, p.delayCorrelation, p.distribution);
    this.dupRandom.reset(p.duplicate.correlation);
    this.corruptRandom.reset(p.corrupt.correlation);
    this.reorderRandom.reset(p.reorder.correlation);
    this.slotNextMs = -Infinity;
    this.lastReleaseMs = -Infinity;
    this.slotPacketsLeft = p.slot ? p.slot.packets : 0;
    this.slotBytesLeft = p.slot ? p.slot.bytes : 0;
    this.slotTable = p.slot?.kind === "distribution" ? distributionTable(p.slot.distribution) : null;
  }

  /** Packets inside the link (waiting for their release time) at `nowMs`. */
  queueLength(nowMs: number): number {
    this.queue.popUntil(nowMs);
    return this.queue.size;
  }

  /** Decide one packet of `sizeBytes` (wire size, used by `rate`) arriving at `nowMs`. */
  submit(sizeBytes: number, nowMs: number): Decision {
    const d = this.decision;
    d.count = 0;
    d.duplicated = false;
    d.lossDrops = 0;
    d.queueDrops = 0;
    this.queue.popUntil(nowMs);
    const p = this.p;

    let count = 1;
    if (this.dupRandom.event(p.duplicate.probability)) count++;
    if (this.loss.lose()) count--;
    if (count === 0) {
      d.lossDrops = 1;
      return d;
    }
    d.duplicated = count > 1;
    if (!this.enqueue(sizeBytes, nowMs)) {
      d.queueDrops = count; // netem drops the clone along with the original
      return d;
    }
    if (d.duplicated) {
      // The clone re-enters the qdisc with duplication off: its own loss, corrupt, limit, delay.
      if (this.loss.lose()) d.lossDrops++;
      else if (!this.enqueue(sizeBytes, nowMs)) d.queueDrops++;
    }
    return d;
  }

  /** Steps 3–5 for one copy; fills the next delivery slot. False = tail drop. */
  private enqueue(sizeBytes: number, nowMs: number): boolean {
    const p = this.p;
    const d = this.decision;
    let corruptByte = -1;
    let corruptBit = 0;
    if (this.corruptRandom.event(p.corrupt.probability) && sizeBytes > 0) {
      corruptByte = Math.floor(this.random() * sizeBytes);
      corruptBit = Math.floor(this.random() * 8);
    }
    if (this.queue.size >= p.limitPackets) return false;

    const out = d.deliveries[d.count]!;
    d.count++;
    out.corruptByte = corruptByte;
    out.corruptBit = corruptBit;
    const gap = p.reorder.gap;
    if (gap === 0 || this.reorderCounter < gap - 1 || !this.reorderRandom.event(p.reorder.probability)) {
      let delay = this.delay.sample();
      let t0 = nowMs;
      if (p.rate) {
        if (this.queue.size > 0 && this.lastSendMs > nowMs + delay) {
          t0 = this.lastSendMs;
          delay = 0;
        }
        delay += this.serialisationMs(sizeBytes);
      }
      const send = t0 + delay;
      if (send > this.lastSendMs) this.lastSendMs = send;
      const release = p.slot ? this.slotRelease(p.slot, send, sizeBytes, nowMs) : send;
      this.reorderCounter++;
      out.reordered = false;
      out.atMs = release > nowMs ? release : nowMs;
      if (release > nowMs) this.queue.push(release);
    } else {
      this.reorderCounter = 0;
      out.reordered = true;
      out.atMs = nowMs;
    }
    return true;
  }

  /** packet_time_ns(): serialisation time of one packet at `rate`, in ms. */
  private serialisationMs(sizeBytes: number): number {
    const r = this.p.rate!;
    let len = sizeBytes + r.packetOverheadBytes;
    if (r.cellSizeBytes > 0) {
      const cells = Math.ceil(len / r.cellSizeBytes);
      len = cells * (r.cellSizeBytes + r.cellOverheadBytes);
    }
    return (Math.max(0, len) * 8 * 1000) / r.bitsPerSecond;
  }

  private drawSlot(slot: SlotParams, fromMs: number): void {
    const next =
      slot.kind === "range"
        ? slot.minMs + this.random() * (slot.maxMs - slot.minMs)
        : tabledist(slot.delayMs, slot.jitterMs, this.random(), this.slotTable);
    this.slotNextMs = fromMs + next;
    this.slotPacketsLeft = slot.packets;
    this.slotBytesLeft = slot.bytes;
  }

  /**
   * netem's slot gate (netem_dequeue/get_slot_next): a slot is an instant; it releases packets whose
   * send time is ≤ the slot time, at most `packets`/`bytes` of them. A head packet due after the
   * current slot makes netem draw the next slot from "now" — here the moment the packet can first be
   * head of the queue (max(submit time, previous release)), and again at its send time if that slot
   * still comes too early.
   */
  private slotRelease(slot: SlotParams, sendMs: number, sizeBytes: number, nowMs: number): number {
    if (this.slotNextMs < sendMs) {
      this.drawSlot(slot, Math.max(nowMs, this.lastReleaseMs));
      if (this.slotNextMs < sendMs) this.drawSlot(slot, sendMs);
    }
    const release = this.slotNextMs;
    this.slotPacketsLeft--;
    this.slotBytesLeft -= sizeBytes;
    if (this.slotPacketsLeft <= 0 || this.slotBytesLeft <= 0) this.drawSlot(slot, release);
    this.lastReleaseMs = release;
    return release;
  }
}
