// The bench's own receive-side clock for end-to-end latency: every teacher (proctor or bare) tells
// the orchestrator when its video tick 0 was captured (Unix ms) and the RTP timestamp it carried;
// tick k then carries base + k·90000/fps. A receiver maps a frame's RTP timestamp back to its
// capture time with that, so e2e is measured the same way for every variant, with or without
// header extensions on the wire (DESIGN.md "e2e latency", wire tier).

const VIDEO_CLOCK_KHZ = 90;

/** Capture time (Unix ms) of the video frame with RTP timestamp `ts`, given the teacher's mapping. */
export function captureUnixMs(mapping, ts) {
  // uint32 difference: frames at or after tick 0 only (the stream starts there).
  return mapping.t0UnixMs + ((ts - mapping.videoTsBase) >>> 0) / VIDEO_CLOCK_KHZ;
}

/** Unix ms now, on the same basis as the teachers' (performance.timeOrigin + performance.now()). */
export function nowUnixMs() {
  return performance.timeOrigin + performance.now();
}
