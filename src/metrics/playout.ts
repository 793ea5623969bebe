// Emulated video playout: which frames a receiver's jitter buffer and VP8 decoder would present,
// and when — so freezes and presentation-time latency can be measured at the wire tier.
//
// Input: complete frames in completion order (as a frame assembler emits them). Model:
//
// (a) Decode dependency (VP8, RFC 7741 / RFC 6386 §9.7: an inter frame predicts from the previous
//     frame). In RTP-timestamp order, a frame is decodable iff it is a key frame, or the frame just
//     before it is present, decodable and adjacent to it. Adjacency ("no frame missing between
//     them") is judged by the VP8 15-bit PictureID when both frames carry one (next = prev + 1 mod
//     2^15), else by RTP sequence numbers (first seq = previous last seq + 1 mod 2^16), else assumed.
//     A missing frame breaks the chain until the next key frame. (Assumes a single-layer VP8
//     stream, every inter frame referencing the last frame — no temporal layers.)
//
// (b) Target delay (in the spirit of libwebrtc's VCMTiming: render time = first-frame base + RTP
//     time offset + target delay, target = max(minimum playout delay, jitter estimate)). With
//     transit_i = completeMs_i − rtpMs_i (rtpMs = unwrapped RTP time / clock rate, so transit has an
//     arbitrary constant offset) over the last W completed frames (W = 300 ≈ 10 s at 30 fps,
//     counted in completion order up to and including the frame in question):
//       base        = min(transit)                  — the fastest recent frame
//       jitter      = mean(transit) + k·σ(transit) − base     (k = 2)
//       target      = max(minPlayoutMs, jitter)
//       renderMs_i  = rtpMs_i + base + target
//     libwebrtc estimates jitter with a Kalman filter over frame size and delay variation; mean + 2σ
//     of the delay above the fastest frame is a simpler, documented stand-in (≈ 97.7 % of a normal
//     delay distribution arrives in time). Decode time and libwebrtc's 10 ms render delay are not
//     modelled (add them through minPlayoutMs if wanted). Frames that needed a retransmitted packet
//     (`repaired`) are left out of the window, as libwebrtc's estimator leaves them out.
//
// (c) Presentation. A decodable frame is ready at max(completeMs, renderMs); it is presented at
//     max(ready, previous presentation) — the decoder runs in RTP order. A frame is *late* (not
//     presented) if the next key frame after it would be ready no later than it: the decoder then
//     skips ahead to that key frame, and the frames between (which depend on the late one) are
//     dropped too. Output is in presentation order, presentMs on the completeMs clock.
//
// Units: ms (harness monotonic clock of completeMs; presentUnixMs on the Unix clock when the input
// has completeUnixMs). Cost: O(n log n) for the sort by RTP time, the rest O(n) (a monotonic deque
// for the window minimum, running sums for mean and σ).

import { TimestampUnwrapper, seqDiff } from "../media/rtp/seq.js";

export type PlayoutFrame = {
  rtpTimestamp: number;
  /** When the frame became complete (ms, monotonic). */
  completeMs: number;
  keyframe: boolean;
  completeUnixMs?: number;
  captureUnixMs?: number;
  /** 16-bit sequence numbers of the frame's first and last packet. */
  firstSeq?: number;
  lastSeq?: number;
  /** VP8 15-bit PictureID. */
  pictureId?: number;
  /** The frame needed a retransmitted (NACKed) packet: kept out of the jitter estimate, as libwebrtc does. */
  repaired?: boolean;
};

export type PresentedFrame = {
  rtpTimestamp: number;
  keyframe: boolean;
  completeMs: number;
  /** When the jitter buffer would release it: rtp time + base + target delay. */
  renderMs: number;
  presentMs: number;
  /** presentMs − completeMs: time spent waiting in the buffer. */
  bufferMs: number;
  /** Target delay in force for this frame (ms). */
  targetDelayMs: number;
  presentUnixMs?: number;
  captureUnixMs?: number;
};

export type PlayoutOptions = {
  /** RTP clock rate of the video stream (Hz). Default 90 000. */
  clockRate?: number;
  /** Minimum target delay (ms), like a playout-delay floor. Default 0. */
  minPlayoutMs?: number;
  /** Frames in the jitter window. Default 300. */
  windowFrames?: number;
  /** σ multiplier in the jitter estimate. Default 2. */
  jitterSigmas?: number;
};

export type PlayoutResult = {
  presented: PresentedFrame[];
  /** Distinct frames in the input (duplicates by RTP timestamp removed). */
  frames: number;
  /** Frames decoded and presented. */
  decoded: number;
  /** Frames whose reference chain was broken (a missing frame before them, no key frame since). */
  notDecodable: number;
  /** Decodable frames skipped because a later key frame was ready first (and the frames depending on them). */
  late: number;
  duplicates: number;
};

type Work = {
  f: PlayoutFrame;
  rtpUnwrapped: number;
  targetMs: number;
  renderMs: number;
  readyMs: number;
  decodable: boolean;
};

/** Emulated playout of `frames` (completion order). Pure; see the header for the model. */
export function emulatePlayout(frames: readonly PlayoutFrame[], opts: PlayoutOptions = {}): PlayoutResult {
  const clockRate = opts.clockRate ?? 90_000;
  const minPlayoutMs = opts.minPlayoutMs ?? 0;
  const windowFrames = Math.max(1, opts.windowFrames ?? 300);
  const k = opts.jitterSigmas ?? 2;

  // Pass 1, completion order: unwrap RTP time, drop duplicates, run the jitter window.
  const unwrapper = new TimestampUnwrapper();
  const seen = new Set<number>();
  const work: Work[] = [];
  let duplicates = 0;
  const transits = new Float64Array(windowFrames);
  let wCount = 0;
  let wNext = 0;
  let sum = 0;
  let sumSq = 0;
  let ref = NaN; // transit of the first frame: keeps the running sums small (no cancellation)
  const minDeque: number[] = []; // indices into `work`, transit increasing
  let dequeHead = 0;
  const transitOf: number[] = [];
  for (const f of frames) {
    const rtpUnwrapped = unwrapper.unwrap(f.rtpTimestamp >>> 0);
    if (seen.has(rtpUnwrapped)) {
      duplicates++;
      continue;
    }
    seen.add(rtpUnwrapped);
    const idx = work.length;
    const transit = f.completeMs - (rtpUnwrapped / clockRate) * 1000;
    if (Number.isNaN(ref)) ref = transit;
    const x = transit - ref;
    transitOf.push(x);
    // A repaired frame's delay is the repair, not network jitter: it does not move the target
    // (libwebrtc's jitter estimator skips frames with retransmitted packets the same way).
    const inWindow = !f.repaired || wCount === 0;
    if (inWindow) {
      if (wCount === windowFrames) {
        const old = transits[wNext]!;
        sum -= old;
        sumSq -= old * old;
      } else wCount++;
      transits[wNext] = x;
      wNext = (wNext + 1) % windowFrames;
      sum += x;
      sumSq += x * x;
      // Sliding-window minimum over the last `windowFrames` indices.
      while (minDeque.length > dequeHead && transitOf[minDeque[minDeque.length - 1]!]! >= x) minDeque.pop();
      minDeque.push(idx);
    }
    while (dequeHead < minDeque.length && minDeque[dequeHead]! <= idx - windowFrames) dequeHead++;
    if (dequeHead > 1024 && dequeHead * 2 > minDeque.length) {
      minDeque.splice(0, dequeHead);
      dequeHead = 0;
    }
    const base = dequeHead < minDeque.length ? transitOf[minDeque[dequeHead]!]! : x;
    const mean = sum / wCount;
    const sigma = Math.sqrt(Math.max(0, sumSq / wCount - mean * mean));
    const target = Math.max(minPlayoutMs, mean + k * sigma - base);
    const renderMs = (rtpUnwrapped / clockRate) * 1000 + ref + base + target;
    work.push({
      f,
      rtpUnwrapped,
      targetMs: target,
      renderMs,
      readyMs: Math.max(f.completeMs, renderMs),
      decodable: false,
    });
  }

  // Pass 2, RTP order: the decode chain.
  const ordered = work.slice().sort((a, b) => a.rtpUnwrapped - b.rtpUnwrapped);
  let notDecodable = 0;
  for (let i = 0; i < ordered.length; i++) {
    const w = ordered[i]!;
    const prev = i > 0 ? ordered[i - 1]! : undefined;
    w.decodable = w.f.keyframe || (prev !== undefined && prev.decodable && adjacent(prev.f, w.f));
    if (!w.decodable) notDecodable++;
  }

  // Next key frame at or after each position (for the skip-ahead rule).
  const nextKey = new Int32Array(ordered.length + 1).fill(-1);
  for (let i = ordered.length - 1; i >= 0; i--) nextKey[i] = ordered[i]!.f.keyframe ? i : nextKey[i + 1]!;

  // Pass 3: present in RTP order; skip to a later key frame that is ready first.
  const presented: PresentedFrame[] = [];
  let late = 0;
  let lastPresent = -Infinity;
  let i = 0;
  while (i < ordered.length) {
    const w = ordered[i]!;
    if (!w.decodable) {
      i++;
      continue;
    }
    if (!w.f.keyframe) {
      const kIdx = nextKey[i + 1]!;
      if (kIdx >= 0 && ordered[kIdx]!.readyMs <= w.readyMs) {
        // The decoder jumps to the key frame: w and every decodable frame before it are dropped.
        for (let j = i; j < kIdx; j++) if (ordered[j]!.decodable) late++;
        i = kIdx;
        continue;
      }
    }
    const presentMs = Math.max(w.readyMs, lastPresent);
    lastPresent = presentMs;
    const p: PresentedFrame = {
      rtpTimestamp: w.f.rtpTimestamp,
      keyframe: w.f.keyframe,
      completeMs: w.f.completeMs,
      renderMs: w.renderMs,
      presentMs,
      bufferMs: presentMs - w.f.completeMs,
      targetDelayMs: w.targetMs,
    };
    if (w.f.completeUnixMs !== undefined) p.presentUnixMs = w.f.completeUnixMs + (presentMs - w.f.completeMs);
    if (w.f.captureUnixMs !== undefined) p.captureUnixMs = w.f.captureUnixMs;
    presented.push(p);
    i++;
  }

  return { presented, frames: work.length, decoded: presented.length, notDecodable, late, duplicates };
}

/** True when no frame is missing between `a` and the next frame `b` (see header, rule (a)). */
function adjacent(a: PlayoutFrame, b: PlayoutFrame): boolean {
  if (a.pictureId !== undefined && b.pictureId !== undefined) return ((a.pictureId + 1) & 0x7fff) === (b.pictureId & 0x7fff);
  if (a.lastSeq !== undefined && b.firstSeq !== undefined) return seqDiff(b.firstSeq, a.lastSeq) === 1;
  return true;
}
