// Per-stream RTP receive statistics, RFC 3550 Appendix A.3 (loss) and §6.4.1 / A.8 (jitter).
//
//   expected = highest extended seq − first extended seq + 1
//   lost     = expected − received        (duplicates not counted as received)
//   loss     = lost / expected            (fraction, 0..1)
//   D(i-1,i) = (R_i − R_{i-1}) − (S_i − S_{i-1})   in RTP timestamp units
//   J       += (|D| − J) / 16              reported in ms (J / clockRate · 1000)
//
// O(1) per packet; the caller supplies extended sequence numbers (SeqUnwrapper).

/** Receive counters of one RTP stream, as a plain value (what a snapshot or a child process reports). */
export type ReceiveCounters = {
  readonly packetsReceived: number;
  readonly packetsExpected: number;
  readonly packetsLost: number;
  readonly lossFraction: number;
  readonly jitterMs: number;
  readonly jitterMeanMs: number;
  readonly duplicates: number;
  /** RTP payload bytes received. */
  readonly bytes: number;
};

/** A plain copy of the counters (ReceiveStats keeps most of them as getters, which JSON does not see). */
export function receiveCounters(s: ReceiveCounters): ReceiveCounters {
  return {
    packetsReceived: s.packetsReceived,
    packetsExpected: s.packetsExpected,
    packetsLost: s.packetsLost,
    lossFraction: s.lossFraction,
    jitterMs: s.jitterMs,
    jitterMeanMs: s.jitterMeanMs,
    duplicates: s.duplicates,
    bytes: s.bytes,
  };
}

export class ReceiveStats {
  private firstExt = -1;
  private maxExt = -1;
  private received = 0;
  private jitterUnits = 0;
  private lastTransit = NaN;
  private readonly seen = new Uint8Array(4096);
  private jitterSum = 0;
  private jitterUpdates = 0;
  duplicates = 0;
  bytes = 0;

  constructor(private readonly clockRate: number) {}

  /**
   * One packet: extended sequence number, RTP timestamp (uint32), arrival (ms), payload size.
   * `inJitter` false leaves a retransmitted packet out of the jitter estimate (as libwebrtc does).
   */
  push(extSeq: number, rtpTimestamp: number, arrivalMs: number, size: number, inJitter = true): void {
    // Duplicate detection over a 4096-packet window (the seq-indexed bit is cleared as seqs advance).
    const slot = extSeq & 4095;
    if (this.firstExt >= 0 && extSeq <= this.maxExt && this.maxExt - extSeq < 4096 && this.seen[slot] === 1) {
      this.duplicates++;
      return;
    }
    if (this.firstExt < 0) {
      this.firstExt = extSeq;
      this.maxExt = extSeq;
    } else if (extSeq > this.maxExt) {
      for (let s = Math.max(this.maxExt + 1, extSeq - 4095); s < extSeq; s++) this.seen[s & 4095] = 0;
      this.maxExt = extSeq;
    } else if (extSeq < this.firstExt) {
      this.firstExt = extSeq;
    }
    this.seen[slot] = 1;
    this.received++;
    this.bytes += size;
    if (!inJitter) return;
    // Interarrival jitter in timestamp units; transit uses arrival in the same units (RFC 3550 A.8).
    const transit = (arrivalMs * this.clockRate) / 1000 - rtpTimestamp;
    if (!Number.isNaN(this.lastTransit)) {
      let d = transit - this.lastTransit;
      // RTP timestamps wrap at 2^32: bring d back to the nearest representative.
      if (d > 2 ** 31) d -= 2 ** 32;
      else if (d < -(2 ** 31)) d += 2 ** 32;
      this.jitterUnits += (Math.abs(d) - this.jitterUnits) / 16;
      this.jitterSum += this.jitterUnits;
      this.jitterUpdates++;
    }
    this.lastTransit = transit;
  }

  get packetsReceived(): number {
    return this.received;
  }

  get packetsExpected(): number {
    return this.firstExt < 0 ? 0 : this.maxExt - this.firstExt + 1;
  }

  get packetsLost(): number {
    return Math.max(0, this.packetsExpected - this.received);
  }

  /** Loss fraction 0..1 over the whole stream so far. */
  get lossFraction(): number {
    const e = this.packetsExpected;
    return e === 0 ? 0 : this.packetsLost / e;
  }

  get jitterMs(): number {
    return (this.jitterUnits / this.clockRate) * 1000;
  }

  /** Mean of the running jitter estimate over every update (steadier than its last value), ms. */
  get jitterMeanMs(): number {
    return this.jitterUpdates === 0 ? 0 : (this.jitterSum / this.jitterUpdates / this.clockRate) * 1000;
  }
}
