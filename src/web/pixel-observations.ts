// What a browser student's page records (the pixel tier's raw observations) and hands to Node.
// Types only, no imports: compiled both for Node (tsconfig.json) and for the page
// (tsconfig.web.json). Metrics are computed in Node from these (src/metrics/pixel-summary.ts), so
// each metric keeps one home. Times are Unix ms on the page's clock (performance.timeOrigin +
// DOMHighResTimeStamp); the driver measures the page-clock offset and corrects them.

/** One presented frame, from requestVideoFrameCallback. */
export type PresentedFrame = {
  /** metadata.presentationTime → Unix ms: when the compositor was handed the frame. */
  presentedUnixMs: number;
  /** metadata.expectedDisplayTime → Unix ms: when it is expected to be visible. */
  expectedDisplayUnixMs: number;
  /** metadata.receiveTime → Unix ms (last packet of the frame received), when present. */
  receiveUnixMs?: number;
  /** metadata.captureTime → Unix ms (the browser's estimate of the sender's capture time), when present. */
  captureUnixMs?: number;
  /** metadata.rtpTimestamp (the teacher's RTP timestamp, 90 kHz). */
  rtpTimestamp?: number;
  /** metadata.presentedFrames (counter; gaps = frames the compositor never showed). */
  presentedFrames: number;
  /** The frame code read from the pixels; absent when the read was rejected (damaged frame). */
  clipId?: number;
  frameIndex?: number;
  /** Mean luma of the sync flash square's inner half (0..255); > 128 = flash on. */
  flashLuma?: number;
  /** Time spent reading pixels and decoding the code (ms), for the probe's own cost. */
  readMs: number;
};

/** One sync-marker burst found in the audio actually played (matched filter on the remote track's AudioData). */
export type AudioMarker = {
  /** When the <audio> element handed the burst's first sample to the output device, Unix ms (its AudioData chunk's timestamp + offset). */
  playedUnixMs: number;
  /** Normalised matched-filter peak (0..1): how sure the detector is. */
  score: number;
};

/** A getStats() reduction, once a second: the fields proctor uses, by report type. */
export type StatsSnapshot = {
  atUnixMs: number;
  video?: InboundRtpStats;
  audio?: InboundRtpStats;
  /** candidate-pair currentRoundTripTime (s → ms). */
  rttMs?: number;
  /**
   * media-playout (webrtc-stats RTCAudioPlayoutStats): Σ over played samples of each one's delay
   * from leaving the jitter buffer to the output device playing it (s), and how many samples.
   */
  audioPlayout?: { totalPlayoutDelay: number; totalSamplesCount: number };
  /**
   * What the page sends (a voice answer): outbound-rtp packets sent and, from the teacher's receiver
   * reports, remote-inbound-rtp loss, jitter (s) and round-trip time (s → ms). The busiest sender.
   */
  uplink?: { kind: string; packetsSent: number; packetsLost?: number; fractionLost?: number; jitter?: number; roundTripTimeMs?: number };
  /** remote-outbound-rtp roundTripTime (needs RTCP XR), ms, per kind. */
  remoteOutbound?: { video?: { roundTripTimeMs?: number }; audio?: { roundTripTimeMs?: number } };
};

/** The subset of RTCInboundRtpStreamStats read (webrtc-stats names, units as the spec). */
export type InboundRtpStats = {
  packetsReceived: number;
  packetsLost: number;
  bytesReceived: number;
  /** Seconds (RFC 3550 interarrival jitter). */
  jitter?: number;
  nackCount?: number;
  pliCount?: number;
  framesDecoded?: number;
  framesDropped?: number;
  framesPerSecond?: number;
  freezeCount?: number;
  totalFreezesDuration?: number;
  jitterBufferDelay?: number;
  jitterBufferEmittedCount?: number;
  jitterBufferTargetDelay?: number;
  jitterBufferMinimumDelay?: number;
  /** Audio: concealment (webrtc-stats). */
  totalSamplesReceived?: number;
  concealedSamples?: number;
  concealmentEvents?: number;
  /** Audio: concealment runs ≥ 150 ms and their total (s), where Chromium reports them. */
  interruptionCount?: number;
  totalInterruptionDuration?: number;
  /** Unix ms (the spec's NTP-ms converted) of the last played sample/frame, for lip-sync cross-check. */
  estimatedPlayoutTimestamp?: number;
};

/** Everything drained from the page since the last drain. */
export type PageObservations = {
  frames: PresentedFrame[];
  markers: AudioMarker[];
  stats: StatsSnapshot[];
  /** Anything that went wrong in the page (join failed, probe error), as text. */
  errors: string[];
};

/** Shape of the probe the page exposes as `window.__proctorProbe`. */
export type PageProbe = {
  /** Take and clear what was recorded since the last call. */
  drain(): PageObservations;
  /** performance.timeOrigin + performance.now(), for the driver's clock-offset measurement. */
  nowUnixMs(): number;
};
