// Video freezes and pauses from presented-frame times — the W3C webrtc-stats rule (freezeCount,
// totalFreezesDuration, pauseCount, totalPausesDuration of RTCInboundRtpStreamStats) as libwebrtc
// implements it in VideoQualityObserver::OnRenderedFrame (video/video_quality_observer2.cc):
//
//   for each interval δ between two consecutive presented frames (ms):
//     pause   if δ > 5000 ms                      — counted as a pause, not a freeze, and kept out
//                                                    of the average (libwebrtc: the stream was marked
//                                                    inactive, no packet for 5 s)
//     else    add δ to the moving window of the last 30 intervals (kAvgInterframeDelaysWindowSizeFrames),
//             and once the window holds ≥ 5 intervals (kMinFrameSamplesToDetectFreeze):
//               avg = mean of the window — *including δ itself* (libwebrtc adds the sample first,
//                     then tests it against GetAverageRoundedDown())
//               freeze if δ ≥ max(3 · avg, avg + 150 ms)     (kMinIncreaseForFreezeMs = 150)
//   freeze duration = δ (the whole interval);  total frozen = Σ freeze durations
//   freeze ratio    = total frozen / session time   (session = last − first presented frame unless given)
//
// Units: ms; ratio 0..1. Differences from libwebrtc, on purpose: times are not truncated to whole
// ms and the average is not rounded down (libwebrtc's integer ms shift the threshold by < 1 ms).
// At 30 fps the threshold against a steady 33.3 ms history is 33.3 + 150 = 183.3 ms; because δ is
// in its own average, the interval needed is slightly larger (188.5 ms with 29 such intervals
// before it). O(n), one pass.

export const FREEZE_MIN_INTERVALS = 5;
export const FREEZE_WINDOW_INTERVALS = 30;
export const FREEZE_MIN_INCREASE_MS = 150;
export const PAUSE_MIN_MS = 5000;

export type Freeze = { startMs: number; durationMs: number };

export type FreezeReport = {
  freezes: Freeze[];
  freezeCount: number;
  totalFreezeMs: number;
  /** Total frozen time / session time (0 when the session is empty). */
  freezeRatio: number;
  pauses: Freeze[];
  pauseCount: number;
  totalPauseMs: number;
  /** The session time the ratio is taken over (ms). */
  sessionMs: number;
  framesPresented: number;
};

/** The freeze threshold for an average inter-frame interval: max(3·avg, avg + 150 ms). */
export function freezeThresholdMs(avgIntervalMs: number): number {
  return Math.max(3 * avgIntervalMs, avgIntervalMs + FREEZE_MIN_INCREASE_MS);
}

/**
 * Freezes and pauses over presented-frame times (ms, any monotonic clock, in presentation order).
 * `sessionMs` overrides the session time used for the ratio (default: last − first frame).
 */
export function detectFreezes(presentMs: readonly number[], opts: { sessionMs?: number } = {}): FreezeReport {
  const freezes: Freeze[] = [];
  const pauses: Freeze[] = [];
  const window = new Float64Array(FREEZE_WINDOW_INTERVALS);
  let windowSize = 0;
  let windowNext = 0;
  let windowSum = 0;
  let totalFreezeMs = 0;
  let totalPauseMs = 0;
  for (let i = 1; i < presentMs.length; i++) {
    const prev = presentMs[i - 1]!;
    const interval = presentMs[i]! - prev;
    if (interval > PAUSE_MIN_MS) {
      pauses.push({ startMs: prev, durationMs: interval });
      totalPauseMs += interval;
      continue;
    }
    // Moving window of the last 30 intervals, the new one included before the test.
    if (windowSize === FREEZE_WINDOW_INTERVALS) windowSum -= window[windowNext]!;
    else windowSize++;
    window[windowNext] = interval;
    windowSum += interval;
    windowNext = (windowNext + 1) % FREEZE_WINDOW_INTERVALS;
    if (windowSize < FREEZE_MIN_INTERVALS) continue;
    if (interval >= freezeThresholdMs(windowSum / windowSize)) {
      freezes.push({ startMs: prev, durationMs: interval });
      totalFreezeMs += interval;
    }
  }
  const n = presentMs.length;
  const span = n >= 2 ? presentMs[n - 1]! - presentMs[0]! : 0;
  const sessionMs = opts.sessionMs ?? span;
  return {
    freezes,
    freezeCount: freezes.length,
    totalFreezeMs,
    freezeRatio: sessionMs > 0 ? totalFreezeMs / sessionMs : 0,
    pauses,
    pauseCount: pauses.length,
    totalPauseMs,
    sessionMs,
    framesPresented: n,
  };
}
