// Audio concealment estimate at the wire tier — what a receiver's audio jitter buffer (NetEq) would
// have to conceal, from the audio packets a light student saw. The pixel tier reads the real thing
// from getStats (Δ concealedSamples / Δ totalSamplesReceived, webrtc-stats).
//
// One packet carries one Opus frame of `frameMs` (20 ms, proctor's ptime). Over the expected range
// of extended sequence numbers (first … highest received):
//   a frame is concealed  if its packet never arrived (lost), or
//                         if its first copy arrived after its playout deadline:
//                            arrivalUnixMs > captureUnixMs + playoutDelayMs
//                         (capture from abs-capture-time; a packet without a capture time cannot be
//                          judged late and counts as on time);
//   concealment ratio   = concealed / expected                      (0..1)
//   interruption        = a run of consecutive concealed frames lasting ≥ 150 ms, the run lasting
//                         frames × frameMs — so with 20 ms frames a run needs ≥ 8 frames (160 ms);
//                         7 frames (140 ms) is not one. libwebrtc NetEq: StatisticsCalculator::
//                         EndExpandEvent counts an interruption when an expand event is ≥ 150 ms
//                         (kInterruptionLenMs), webrtc-stats interruptionCount /
//                         totalInterruptionDuration.
//
// `playoutDelayMs` is the capture-to-playout delay the receiver runs at (network delay + jitter
// buffer); it is a parameter, not estimated here. Units: ms, ratio 0..1. O(n log n) (a sort by seq).

export const INTERRUPTION_MIN_MS = 150;

export type ConcealmentPacket = { extSeq: number; arrivalUnixMs: number; captureUnixMs?: number };

export type ConcealmentOptions = {
  /** Capture-to-playout delay (ms): a packet arriving later than capture + this is concealed. */
  playoutDelayMs: number;
  /** Audio per packet (ms). Default 20. */
  frameMs?: number;
};

export type Interruption = { startSeq: number; frames: number; durationMs: number };

export type ConcealmentReport = {
  expectedFrames: number;
  lostFrames: number;
  lateFrames: number;
  concealedFrames: number;
  /** concealed / expected (0 when nothing was expected). */
  concealmentRatio: number;
  interruptions: Interruption[];
  interruptionCount: number;
  totalInterruptionMs: number;
};

/** Concealment estimate over one audio stream's packets (any order; duplicates allowed). */
export function estimateConcealment(packets: readonly ConcealmentPacket[], opts: ConcealmentOptions): ConcealmentReport {
  const frameMs = opts.frameMs ?? 20;
  const minRunFrames = Math.ceil(INTERRUPTION_MIN_MS / frameMs - 1e-9);
  // First copy per seq (earliest arrival), then walk the seq range in order.
  const sorted = packets.slice().sort((a, b) => a.extSeq - b.extSeq || a.arrivalUnixMs - b.arrivalUnixMs);
  const empty: ConcealmentReport = {
    expectedFrames: 0,
    lostFrames: 0,
    lateFrames: 0,
    concealedFrames: 0,
    concealmentRatio: 0,
    interruptions: [],
    interruptionCount: 0,
    totalInterruptionMs: 0,
  };
  if (sorted.length === 0) return empty;
  const first = sorted[0]!.extSeq;
  const last = sorted[sorted.length - 1]!.extSeq;
  const expected = last - first + 1;
  let lost = 0;
  let lateCount = 0;
  const interruptions: Interruption[] = [];
  let runStart = -1;
  let runLen = 0;
  const closeRun = (): void => {
    if (runLen >= minRunFrames) interruptions.push({ startSeq: runStart, frames: runLen, durationMs: runLen * frameMs });
    runLen = 0;
  };
  let i = 0;
  for (let seq = first; seq <= last; seq++) {
    let concealed: boolean;
    if (i < sorted.length && sorted[i]!.extSeq === seq) {
      const p = sorted[i]!;
      const isLate = p.captureUnixMs !== undefined && p.arrivalUnixMs > p.captureUnixMs + opts.playoutDelayMs;
      if (isLate) lateCount++;
      concealed = isLate;
      while (i < sorted.length && sorted[i]!.extSeq === seq) i++; // skip duplicates (later copies)
    } else {
      lost++;
      concealed = true;
    }
    if (concealed) {
      if (runLen === 0) runStart = seq;
      runLen++;
    } else if (runLen > 0) closeRun();
  }
  if (runLen > 0) closeRun();
  const concealedFrames = lost + lateCount;
  let totalInterruptionMs = 0;
  for (const r of interruptions) totalInterruptionMs += r.durationMs;
  return {
    expectedFrames: expected,
    lostFrames: lost,
    lateFrames: lateCount,
    concealedFrames,
    concealmentRatio: concealedFrames / expected,
    interruptions,
    interruptionCount: interruptions.length,
    totalInterruptionMs,
  };
}
