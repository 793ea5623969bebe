// The light student's NACK policy (RFC 4585 §6.2.1 Generic NACK), RTT-aware and bounded.
// werift's own receiver re-sends each NACK every 5 ms up to 10 times (WERIFT.md), flooding the
// teacher; this one waits a short reorder window before the first request, then retries only
// after ~1.5 × the measured repair time, and gives a packet up after `giveUpMs`.
//
// Pure and synchronous: `onPacket` at each video packet, `poll(now)` from a timer returns the
// sequence numbers to request now. Counters separate what the network lost (first transmission
// missing: `missing`) from what stayed lost after repair (`unrecovered`), so loss is measured
// before repair, as netem injected it.

export type NackOptions = {
  /** Wait this long after a gap is seen before the first NACK (reordering tolerance). Default 5 ms. */
  reorderWindowMs?: number;
  /** …unless this many newer packets have already arrived (then ask at once). Default 2. */
  reorderWindowPackets?: number;
  /** Lower bound of the retry interval. Default 20 ms. */
  minRetryMs?: number;
  /** Stop asking after this many requests for one packet. Default 10. */
  maxRetries?: number;
  /** Give a packet up this long after it was first missed. Default 1000 ms. */
  giveUpMs?: number;
  /** Track at most this many missing packets (oldest dropped first). Default 1024. */
  maxPending?: number;
};

type Pending = { firstMissMs: number; lastSentMs: number; sent: number };

export class NackGenerator {
  private readonly pending = new Map<number, Pending>();
  private maxExt = -1;
  private rttMs = 20;
  /** Packets seen missing for longer than the reorder window (first transmission lost). */
  missing = 0;
  /** Missing packets that arrived after a NACK. */
  recovered = 0;
  /** Missing packets given up. */
  unrecovered = 0;
  nacksSent = 0;
  private readonly o: Required<NackOptions>;

  constructor(opts: NackOptions = {}) {
    this.o = { reorderWindowMs: 5, reorderWindowPackets: 2, minRetryMs: 20, maxRetries: 10, giveUpMs: 1000, maxPending: 1024, ...opts };
  }

  /** Smoothed repair round trip (NACK sent → packet arrived), ms. */
  get repairRttMs(): number {
    return this.rttMs;
  }

  /** A video packet arrived (extended sequence number); true when it is a repaired (NACKed) one. */
  onPacket(extSeq: number, nowMs: number): boolean {
    if (this.maxExt < 0) {
      this.maxExt = extSeq;
      return false;
    }
    if (extSeq > this.maxExt) {
      for (let s = Math.max(this.maxExt + 1, extSeq - this.o.maxPending); s < extSeq; s++) {
        this.pending.set(s, { firstMissMs: nowMs, lastSentMs: -Infinity, sent: 0 });
      }
      this.maxExt = extSeq;
      this.trim();
      return false;
    }
    const p = this.pending.get(extSeq);
    if (!p) return false; // duplicate or already given up
    this.pending.delete(extSeq);
    if (p.sent > 0) {
      this.missing++;
      this.recovered++;
      const rtt = nowMs - p.lastSentMs;
      if (rtt >= 0) this.rttMs += (rtt - this.rttMs) / 8;
      return true;
    }
    return false; // arrived before any NACK: reordered, not lost
  }

  /** Missing packets being asked for now. */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Sequence numbers (extended) to request now; also gives up old ones. */
  poll(nowMs: number): number[] {
    const out: number[] = [];
    if (this.pending.size === 0) return out;
    const retryMs = Math.max(this.o.minRetryMs, 1.5 * this.rttMs);
    for (const [seq, p] of this.pending) {
      if (nowMs - p.firstMissMs >= this.o.giveUpMs || p.sent >= this.o.maxRetries) {
        this.pending.delete(seq);
        this.missing++;
        this.unrecovered++;
        continue;
      }
      if (p.sent === 0 && nowMs - p.firstMissMs < this.o.reorderWindowMs && this.maxExt - seq <= this.o.reorderWindowPackets) continue;
      if (nowMs - p.lastSentMs < retryMs) continue;
      p.lastSentMs = nowMs;
      p.sent++;
      out.push(seq);
    }
    if (out.length > 0) this.nacksSent++;
    return out;
  }

  /** Give up everything still pending (end of stream). */
  flush(): void {
    this.missing += this.pending.size;
    this.unrecovered += this.pending.size;
    this.pending.clear();
  }

  private trim(): void {
    if (this.pending.size <= this.o.maxPending) return;
    for (const seq of this.pending.keys()) {
      this.pending.delete(seq);
      this.missing++;
      this.unrecovered++;
      if (this.pending.size <= this.o.maxPending) break;
    }
  }
}
