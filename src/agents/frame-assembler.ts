// VP8 frame assembler for the light (werift) student: groups received RTP packets into frames and
// says when each frame is complete — the "wire tier" instant a frame could be decoded. Our own
// because werift's jitter buffer is quadratic under loss. It keeps no payload bytes: a frame is
// known by its RTP timestamp, its sequence-number span, its size and the key-frame bit.
//
// Completeness (RFC 7741 §4.4): a frame is complete when we hold its first packet (S=1, PID=0), its
// last packet (RTP marker bit) and every sequence number between them. Packets may arrive reordered
// or duplicated; duplicates are recognised by extended sequence number (a window of the last 8192
// sequence numbers) and ignored.
//
// Emission: `onFrame` fires when a frame completes, so frames come out in completion order (a later
// frame may come out before an earlier one still missing packets). Playout order is a later stage.
//
// Giving up (`onDrop`), judged at each packet's arrival time (and on `poll`):
//   "incomplete" — a pending frame is dropped when a newer frame (by RTP timestamp) has completed
//                  and more than `maxWaitMs` has passed since its first packet; or when more than
//                  `maxFramesInFlight` frames are pending (the one whose first packet came first
//                  goes); or on `flush()`. Timeouts are checked in first-packet order, so a frame
//                  waiting behind an older-arriving frame that may not be dropped yet waits with it.
//   "late"       — the first packet of an unknown frame arrives after the assembler moved past it:
//                  its timestamp is older than a frame finished (emitted or dropped) more than
//                  `maxWaitMs` ago. Reported once; its further packets are counted as late packets.
// Packets of frames already emitted or dropped (within that window) are counted as late packets.
// Memory of finished frames is bounded, so a straggler arriving more than `maxWaitMs` after its
// frame was given up (and after newer frames finished) is reported "late" once more; a duplicate of
// an emitted frame is caught by the sequence-number window before that.
//
// Cost per packet is O(1) amortised: one Map lookup, an intrusive list for first-arrival order, a
// ring for duplicates and one for recently finished frames; at most `maxFramesInFlight` pending
// frames and 4 × that many finished records. Per packet nothing is allocated (one object per
// frame); nothing is logged.

import { SeqUnwrapper, TimestampUnwrapper } from "../media/rtp/seq.js";
import {
  isVp8KeyframeAt,
  newVp8DescriptorFields,
  readVp8Descriptor,
} from "../media/rtp/vp8-descriptor.js";

export interface AssemblerFrameId {
  clipId: number;
  index: number;
  flags: number;
}

/** One received RTP packet of the VP8 stream (already parsed by the transport). */
export interface AssemblerPacket {
  seq: number;
  timestamp: number;
  marker: boolean;
  /** RTP payload: VP8 descriptor + VP8 data. Only read during `push`, never retained. */
  payload: Buffer;
  /** Receive time on the harness clock (ms). */
  arrivalMs: number;
  /** From abs-capture-time, when the packet carries it. */
  captureUnixMs?: number;
  /** From the frame-id extension, when the packet carries it. */
  frameId?: AssemblerFrameId;
}

export interface AssembledFrame {
  rtpTimestamp: number;
  /** 16-bit sequence number of the first (S=1, PID=0) packet. */
  firstSeq: number;
  /** 16-bit sequence number of the marker packet. */
  lastSeq: number;
  packets: number;
  /** VP8 data bytes (payloads minus descriptors). */
  bytes: number;
  keyframe: boolean;
  pictureId?: number;
  firstArrivalMs: number;
  /** Arrival time of the packet that completed the frame. */
  completeMs: number;
  captureUnixMs?: number;
  frameId?: AssemblerFrameId;
}

export type DropReason = "incomplete" | "late";

export interface DroppedFrame {
  rtpTimestamp: number;
  reason: DropReason;
}

export interface FrameAssemblerOptions {
  onFrame: (f: AssembledFrame) => void;
  onDrop?: (info: DroppedFrame) => void;
  /** Patience for a frame missing packets once a newer frame completed; default 500 ms. */
  maxWaitMs?: number;
  /** Most frames pending at once; default 64. */
  maxFramesInFlight?: number;
}

export interface FrameAssemblerStats {
  packetsReceived: number;
  duplicates: number;
  /** Packets whose VP8 descriptor could not be parsed (ignored). */
  malformedPackets: number;
  /** Packets of frames already emitted or given up. */
  latePackets: number;
  framesEmitted: number;
  framesDropped: number;
  framesDroppedIncomplete: number;
  framesDroppedLate: number;
  /** Frames pending now. */
  pendingFrames: number;
}

class PendingFrame {
  prev: PendingFrame | null = null;
  next: PendingFrame | null = null;
  hasStart = false;
  startSeq = 0;
  hasMarker = false;
  markerSeq = 0;
  minSeq = Infinity;
  maxSeq = -Infinity;
  packets = 0;
  bytes = 0;
  keyframe = false;
  pictureId = -1;
  captureUnixMs = NaN;
  hasFrameId = false;
  clipId = 0;
  frameIndex = 0;
  frameFlags = 0;
  constructor(
    readonly rtpTimestamp: number,
    readonly extTs: number,
    readonly firstArrivalMs: number,
  ) {}
}

const DEDUPE_WINDOW = 8192; // power of two
const DEDUPE_MASK = DEDUPE_WINDOW - 1;

export class FrameAssembler {
  private readonly onFrame: (f: AssembledFrame) => void;
  private readonly onDrop: ((info: DroppedFrame) => void) | undefined;
  private readonly maxWaitMs: number;
  private readonly maxFramesInFlight: number;

  private readonly seqUnwrapper = new SeqUnwrapper();
  private readonly tsUnwrapper = new TimestampUnwrapper();
  private readonly desc = newVp8DescriptorFields();
  /** seen[extSeq & mask] === (extSeq | 0) ⇔ extSeq already received. Starts with values that map elsewhere. */
  private readonly seen = new Int32Array(DEDUPE_WINDOW);

  private readonly pending = new Map<number, PendingFrame>();
  private head: PendingFrame | null = null; // earliest first packet
  private tail: PendingFrame | null = null;

  // Recently finished frames, in finishing order (a ring), plus a set for lookup by RTP timestamp.
  private readonly finCapacity: number;
  private readonly finTs: Float64Array;
  private readonly finExtTs: Float64Array;
  private readonly finAtMs: Float64Array;
  private finHead = 0;
  private finCount = 0;
  private readonly finished = new Set<number>();
  /** Frames with an unwrapped timestamp below this are "late" when first seen. */
  private horizonExtTs = -Infinity;
  private newestCompletedExtTs = -Infinity;
  private nowMs = -Infinity;

  private readonly counters: Omit<FrameAssemblerStats, "pendingFrames"> = {
    packetsReceived: 0,
    duplicates: 0,
    malformedPackets: 0,
    latePackets: 0,
    framesEmitted: 0,
    framesDropped: 0,
    framesDroppedIncomplete: 0,
    framesDroppedLate: 0,
  };

  constructor(opts: FrameAssemblerOptions) {
    const maxWaitMs = opts.maxWaitMs ?? 500;
    const maxFrames = opts.maxFramesInFlight ?? 64;
    if (!(maxWaitMs >= 0) || !Number.isFinite(maxWaitMs)) {
      throw new RangeError(`FrameAssembler: maxWaitMs must be a finite number ≥ 0, got ${maxWaitMs}`);
    }
    if (!Number.isInteger(maxFrames) || maxFrames < 1) {
      throw new RangeError(`FrameAssembler: maxFramesInFlight must be an integer ≥ 1, got ${maxFrames}`);
    }
    this.onFrame = opts.onFrame;
    this.onDrop = opts.onDrop;
    this.maxWaitMs = maxWaitMs;
    this.maxFramesInFlight = maxFrames;
    this.finCapacity = 4 * maxFrames;
    this.finTs = new Float64Array(this.finCapacity);
    this.finExtTs = new Float64Array(this.finCapacity);
    this.finAtMs = new Float64Array(this.finCapacity);
    for (let i = 0; i < DEDUPE_WINDOW; i++) this.seen[i] = i + 1;
  }

  /** Feeds one received packet. Called once per VP8 RTP packet; O(1) amortised. */
  push(p: AssemblerPacket): void {
    const c = this.counters;
    c.packetsReceived++;
    if (p.arrivalMs > this.nowMs) this.nowMs = p.arrivalMs;

    const extSeq = this.seqUnwrapper.unwrap(p.seq);
    const slot = extSeq & DEDUPE_MASK;
    if (this.seen[slot] === (extSeq | 0)) {
      c.duplicates++;
      return;
    }
    this.seen[slot] = extSeq | 0;

    const d = this.desc;
    try {
      readVp8Descriptor(p.payload, d);
    } catch {
      c.malformedPackets++;
      return;
    }

    this.expireFinished();
    const ts = p.timestamp >>> 0;
    let f = this.pending.get(ts);
    if (f === undefined) {
      if (this.finished.has(ts)) {
        c.latePackets++;
        this.sweep();
        return;
      }
      const extTs = this.tsUnwrapper.unwrap(ts);
      if (extTs <= this.horizonExtTs) {
        if (extTs < this.horizonExtTs) {
          // A frame never seen before, older than frames finished more than maxWaitMs ago.
          this.recordFinished(ts, extTs);
          c.framesDropped++;
          c.framesDroppedLate++;
          this.onDrop?.({ rtpTimestamp: ts, reason: "late" });
        }
        c.latePackets++;
        this.sweep();
        return;
      }
      f = new PendingFrame(ts, extTs, p.arrivalMs);
      this.pending.set(ts, f);
      this.append(f);
    }

    // Add the packet to its frame.
    if (d.start && d.partitionId === 0) {
      f.hasStart = true;
      f.startSeq = extSeq;
      f.keyframe = isVp8KeyframeAt(p.payload, d.headerLength);
    }
    if (p.marker) {
      f.hasMarker = true;
      f.markerSeq = extSeq;
    }
    if (extSeq < f.minSeq) f.minSeq = extSeq;
    if (extSeq > f.maxSeq) f.maxSeq = extSeq;
    f.packets++;
    f.bytes += p.payload.length - d.headerLength;
    if (f.pictureId < 0 && d.pictureId >= 0) f.pictureId = d.pictureId;
    if (p.captureUnixMs !== undefined && Number.isNaN(f.captureUnixMs)) f.captureUnixMs = p.captureUnixMs;
    if (p.frameId !== undefined && !f.hasFrameId) {
      f.hasFrameId = true;
      f.clipId = p.frameId.clipId;
      f.frameIndex = p.frameId.index;
      f.frameFlags = p.frameId.flags;
    }

    if (
      f.hasStart &&
      f.hasMarker &&
      f.minSeq === f.startSeq &&
      f.maxSeq === f.markerSeq &&
      f.packets === f.markerSeq - f.startSeq + 1
    ) {
      this.complete(f, p.arrivalMs);
    } else if (this.pending.size > this.maxFramesInFlight && this.head !== null) {
      this.drop(this.head, "incomplete");
    }
    this.sweep();
  }

  /** Applies the time-based rules at `nowMs` without a packet (for an adapter's timer). */
  poll(nowMs: number): void {
    if (nowMs > this.nowMs) this.nowMs = nowMs;
    this.expireFinished();
    this.sweep();
  }

  /** Gives up every pending frame ("incomplete"), e.g. at the end of a session. */
  flush(): void {
    while (this.head !== null) this.drop(this.head, "incomplete");
  }

  /** A snapshot of the counters. */
  stats(): FrameAssemblerStats {
    return { ...this.counters, pendingFrames: this.pending.size };
  }

  private complete(f: PendingFrame, completeMs: number): void {
    this.remove(f);
    this.recordFinished(f.rtpTimestamp, f.extTs);
    if (f.extTs > this.newestCompletedExtTs) this.newestCompletedExtTs = f.extTs;
    this.counters.framesEmitted++;
    const out: AssembledFrame = {
      rtpTimestamp: f.rtpTimestamp,
      firstSeq: f.startSeq & 0xffff,
      lastSeq: f.markerSeq & 0xffff,
      packets: f.packets,
      bytes: f.bytes,
      keyframe: f.keyframe,
      firstArrivalMs: f.firstArrivalMs,
      completeMs,
    };
    if (f.pictureId >= 0) out.pictureId = f.pictureId;
    if (!Number.isNaN(f.captureUnixMs)) out.captureUnixMs = f.captureUnixMs;
    if (f.hasFrameId) out.frameId = { clipId: f.clipId, index: f.frameIndex, flags: f.frameFlags };
    this.onFrame(out);
  }

  private drop(f: PendingFrame, reason: DropReason): void {
    this.remove(f);
    this.recordFinished(f.rtpTimestamp, f.extTs);
    const c = this.counters;
    c.framesDropped++;
    if (reason === "incomplete") c.framesDroppedIncomplete++;
    else c.framesDroppedLate++;
    this.onDrop?.({ rtpTimestamp: f.rtpTimestamp, reason });
  }

  /** Drops timed-out frames, oldest first packet first; stops at the first one that must still wait. */
  private sweep(): void {
    let f = this.head;
    while (f !== null && this.nowMs - f.firstArrivalMs > this.maxWaitMs) {
      if (!(f.extTs < this.newestCompletedExtTs)) return;
      const next = f.next;
      this.drop(f, "incomplete");
      f = next;
    }
  }

  private append(f: PendingFrame): void {
    f.prev = this.tail;
    f.next = null;
    if (this.tail !== null) this.tail.next = f;
    else this.head = f;
    this.tail = f;
  }

  private remove(f: PendingFrame): void {
    this.pending.delete(f.rtpTimestamp);
    if (f.prev !== null) f.prev.next = f.next;
    else this.head = f.next;
    if (f.next !== null) f.next.prev = f.prev;
    else this.tail = f.prev;
    f.prev = null;
    f.next = null;
  }

  private recordFinished(ts: number, extTs: number): void {
    if (this.finCount === this.finCapacity) this.popFinished();
    const i = (this.finHead + this.finCount) % this.finCapacity;
    this.finTs[i] = ts;
    this.finExtTs[i] = extTs;
    this.finAtMs[i] = this.nowMs;
    this.finCount++;
    this.finished.add(ts);
  }

  private popFinished(): void {
    const i = this.finHead;
    const extTs = this.finExtTs[i] ?? -Infinity;
    if (extTs > this.horizonExtTs) this.horizonExtTs = extTs;
    this.finished.delete(this.finTs[i] ?? -1);
    this.finHead = (i + 1) % this.finCapacity;
    this.finCount--;
  }

  /** Forgets frames finished more than maxWaitMs ago, moving the "late" horizon past them. */
  private expireFinished(): void {
    while (this.finCount > 0 && this.nowMs - (this.finAtMs[this.finHead] ?? Infinity) > this.maxWaitMs) {
      this.popFinished();
    }
  }
}
