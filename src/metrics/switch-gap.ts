// Clip-switch gap (DESIGN.md "Metrics"): the time between the last frame of clip A and the first
// frame of clip B at the receiver, minus one nominal frame interval — 0 means seamless.
//
//   gap = (t(B first) − t(A last)) − 1000 / fps          ms
//
// At the wire tier t is the frame's completion time (arrival); `captureGapMs` gives the same
// difference on the sender's capture clock, i.e. what the streamer scheduled (a held switch shows
// there too), so a reader can tell a streamer gap from a network one.

export type SwitchFrame = { rtpTimestamp: number; completeMs: number; captureUnixMs?: number; clipId?: number; frameIndex?: number };

export type SwitchGap = {
  fromClip: number;
  toClip: number;
  /** Frame index of the last frame of A / first of B that were received. */
  fromFrame: number;
  toFrame: number;
  gapMs: number;
  captureGapMs?: number;
  /** When the first frame of B was complete (monotonic ms). */
  atMs: number;
};

/** Boundaries between consecutive received frames (in RTP timestamp order) whose clip id changes. */
export function switchGaps(frames: readonly SwitchFrame[], fps: number): SwitchGap[] {
  const interval = 1000 / fps;
  const ordered = [...frames].filter((f) => f.clipId !== undefined).sort((a, b) => tsOrder(a.rtpTimestamp, b.rtpTimestamp));
  const gaps: SwitchGap[] = [];
  for (let i = 1; i < ordered.length; i++) {
    const a = ordered[i - 1]!;
    const b = ordered[i]!;
    if (a.clipId === b.clipId) continue;
    gaps.push({
      fromClip: a.clipId!,
      toClip: b.clipId!,
      fromFrame: a.frameIndex ?? -1,
      toFrame: b.frameIndex ?? -1,
      gapMs: b.completeMs - a.completeMs - interval,
      captureGapMs:
        a.captureUnixMs !== undefined && b.captureUnixMs !== undefined ? b.captureUnixMs - a.captureUnixMs - interval : undefined,
      atMs: b.completeMs,
    });
  }
  return gaps;
}

/** Order two 32-bit RTP timestamps (wrap-aware: the shorter way round wins). */
function tsOrder(a: number, b: number): number {
  const d = (a - b) >>> 0;
  if (d === 0) return 0;
  return d < 0x80000000 ? 1 : -1;
}
