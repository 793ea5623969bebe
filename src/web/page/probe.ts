// The pixel tier's in-page probe: records what a browser student really sees and hears (types in
// ../pixel-observations.ts) and exposes it as window.__proctorProbe for the driver to drain.
// It knows nothing of the student page, so it also measures a third-party classroom page: inject
// hookPeerConnections with evaluateOnNewDocument, load this module, call installProbe and hand it
// the page's media (or let autoWatch find them).
//
// Per presented frame (requestVideoFrameCallback): new VideoFrame(video) + copyTo (0.1 ms at 360p,
// CHROMIUM.md; canvas costs 45× more), the frame code from the luma plane, the flash square's mean
// luma, and the callback metadata as Unix ms (performance.timeOrigin + t).
// Audio: each remote audio track → MediaStreamTrackProcessor → marker-detector.ts (matched filter),
// on this thread (2.0 % of a core, measured: 202 ms per 10 s; it also runs in third-party pages,
// where a worker from our origin could not). The page must also play that stream in an <audio> element (muted is fine): the track's
// sinks, this one included, are fed only as Chromium's jitter buffer is pulled for playout
// (CHROMIUM.md). Each AudioData chunk's timestamp is that pull, on this document's performance
// clock (measured: it trails performance.now() at delivery by ≈ 0.2 ms), so a burst's time is its
// chunk's timestamp + its offset in the chunk: what the <audio> element hands to the output device.
// The AudioWorklet tap used before read a WebAudio input FIFO instead, whose delay was a different
// constant in every window (−356…+169 ms for the same in-sync stream).
import { readFrameCode } from "../../media/frame-code.js";
import { flashRect, syncChirp } from "../../media/clip-pattern.js";
import type { AudioMarker, InboundRtpStats, PageObservations, PageProbe, PresentedFrame, StatsSnapshot } from "../pixel-observations.js";
import { MarkerDetector } from "./marker-detector.js";

declare global {
  // Chromium's MediaStreamTrackProcessor (W3C mediacapture-transform), not in TypeScript's lib DOM.
  // eslint-disable-next-line no-var
  var MediaStreamTrackProcessor: { new (init: { track: MediaStreamTrack; maxBufferSize?: number }): { readonly readable: ReadableStream<AudioData> } };
  interface Window {
    __proctorProbe?: Probe;
    __proctorPeerConnections?: RTCPeerConnection[];
  }
}

export type ProbeOptions = {
  /** getStats period for pollStats/autoWatch (ms). Default 1000. */
  statsPeriodMs?: number;
  /** Normalised matched-filter score a burst must reach (0..1). Default 0.5. */
  markerThreshold?: number;
  /** Peaks closer than this to a reported burst are ignored (ms). Default 500 (markers are 1 s apart). */
  markerRefractoryMs?: number;
  /** Records kept between two drains before the oldest are dropped (and an error noted). Default 50 000. */
  maxPending?: number;
};

export type Probe = PageProbe & {
  /** Record every presented frame of this element. Returns a stop function. Idempotent per element. */
  watchVideo(video: HTMLVideoElement): () => void;
  /** Find sync markers in this stream's audio (the page must also play it in an <audio> element). */
  watchAudio(stream: MediaStream): Promise<() => void>;
  /**
   * getStats every periodMs on each pc (the array is re-read each time, so pcs added later count).
   * Default: the hooked pcs. One poller per array: asking again for the same array returns its stop.
   */
  pollStats(pcs?: RTCPeerConnection[], periodMs?: number): () => void;
  /** Watch every <video>/<audio> with a MediaStream srcObject under root, now and as they appear. */
  autoWatch(root?: ParentNode, periodMs?: number): () => void;
  /** Stop everything (frame callbacks, audio, stats). */
  stop(): void;
};

/** Seconds between 1900-01-01 (NTP epoch) and 1970-01-01, as ms. */
const NTP_UNIX_OFFSET_MS = 2208988800000;

/**
 * Wrap window.RTCPeerConnection so every pc the page creates is listed (for getStats). Self-contained
 * (no outer references) so `page.evaluateOnNewDocument(hookPeerConnections)` can inject it before a
 * third-party page's own scripts run. Idempotent: returns the live list.
 */
export function hookPeerConnections(): RTCPeerConnection[] {
  const w = window;
  if (w.__proctorPeerConnections) return w.__proctorPeerConnections;
  const list: RTCPeerConnection[] = [];
  w.__proctorPeerConnections = list;
  const Native = w.RTCPeerConnection;
  if (typeof Native !== "function") return list;
  class Hooked extends Native {
    constructor(...args: ConstructorParameters<typeof RTCPeerConnection>) {
      super(...args);
      list.push(this);
    }
  }
  Object.defineProperty(Hooked, "name", { value: "RTCPeerConnection" });
  w.RTCPeerConnection = Hooked;
  return list;
}

/** Install (once) the probe and expose it as window.__proctorProbe. */
export function installProbe(opts: ProbeOptions = {}): Probe {
  if (window.__proctorProbe) return window.__proctorProbe;
  const probe = createProbe(opts);
  window.__proctorProbe = probe;
  return probe;
}

function unixMs(t: number): number {
  return performance.timeOrigin + t;
}

function createProbe(opts: ProbeOptions): Probe {
  const maxPending = opts.maxPending ?? 50_000;
  let frames: PresentedFrame[] = [];
  let markers: AudioMarker[] = [];
  let stats: StatsSnapshot[] = [];
  let errors: string[] = [];
  const stops = new Set<() => void>();
  const watchedVideos = new WeakSet<HTMLVideoElement>();
  const watchedTracks = new Set<string>();
  let overflowNoted = false;

  const push = <T>(list: T[], item: T): void => {
    if (list.length >= maxPending) {
      list.shift();
      if (!overflowNoted) {
        overflowNoted = true;
        errors.push(`probe: more than ${maxPending} records between drains; oldest dropped`);
      }
    }
    list.push(item);
  };
  const fail = (what: string, e: unknown): void => {
    if (errors.length < 100) errors.push(`probe: ${what}: ${e instanceof Error ? e.message : String(e)}`);
  };

  const luma = new LumaReader();

  function watchVideo(video: HTMLVideoElement): () => void {
    if (watchedVideos.has(video)) return () => {};
    watchedVideos.add(video);
    let stopped = false;
    let handle = 0;
    const onFrame = (_now: number, meta: VideoFrameCallbackMetadata): void => {
      if (stopped) return;
      handle = video.requestVideoFrameCallback(onFrame);
      const t0 = performance.now();
      const rec: PresentedFrame = {
        presentedUnixMs: unixMs(meta.presentationTime),
        expectedDisplayUnixMs: unixMs(meta.expectedDisplayTime),
        presentedFrames: meta.presentedFrames,
        readMs: 0,
      };
      if (meta.receiveTime !== undefined) rec.receiveUnixMs = unixMs(meta.receiveTime);
      if (meta.captureTime !== undefined) rec.captureUnixMs = unixMs(meta.captureTime);
      if (meta.rtpTimestamp !== undefined) rec.rtpTimestamp = meta.rtpTimestamp;
      let vf: VideoFrame;
      try {
        vf = new VideoFrame(video);
      } catch (e) {
        rec.readMs = performance.now() - t0;
        push(frames, rec);
        fail("VideoFrame(video)", e);
        return;
      }
      luma
        .read(vf)
        .then((plane) => {
          if (plane) {
            const code = readFrameCode(plane.y, plane.width, plane.height);
            if (code) {
              rec.clipId = code.clipId;
              rec.frameIndex = code.frameIndex;
            }
            rec.flashLuma = flashMean(plane.y, plane.width, plane.height);
          }
        })
        .catch((e: unknown) => fail("VideoFrame.copyTo", e))
        .finally(() => {
          vf.close();
          rec.readMs = performance.now() - t0;
          push(frames, rec);
        });
    };
    handle = video.requestVideoFrameCallback(onFrame);
    const stop = (): void => {
      stopped = true;
      video.cancelVideoFrameCallback(handle);
      stops.delete(stop);
    };
    stops.add(stop);
    return stop;
  }

  async function watchAudio(stream: MediaStream): Promise<() => void> {
    const tracks = stream.getAudioTracks().filter((t) => !watchedTracks.has(t.id));
    if (tracks.length === 0) return () => {};
    if (typeof MediaStreamTrackProcessor !== "function") {
      fail("watchAudio", new Error("MediaStreamTrackProcessor is not available: no sync markers"));
      return () => {};
    }
    const stopsHere = tracks.map((t) => {
      watchedTracks.add(t.id);
      return tapAudio(t, opts, (m) => push(markers, m), fail);
    });
    const stop = (): void => {
      for (const s of stopsHere) s();
      stops.delete(stop);
    };
    stops.add(stop);
    return stop;
  }

  // One poller per pc list: autoWatch() polls the hooked list, and a page may ask for it again.
  const pollers = new Map<RTCPeerConnection[], () => void>();
  function pollStats(pcs: RTCPeerConnection[] = hookPeerConnections(), periodMs = opts.statsPeriodMs ?? 1000): () => void {
    const running = pollers.get(pcs);
    if (running) return running;
    let busy = false;
    const tick = async (): Promise<void> => {
      if (busy) return;
      busy = true;
      try {
        const reports: RTCStatsReport[] = [];
        for (const pc of pcs) {
          if (pc.connectionState === "closed") continue;
          reports.push(await pc.getStats());
        }
        const snap = reduceStats(reports, performance.timeOrigin + performance.now());
        if (snap) push(stats, snap);
      } catch (e) {
        fail("getStats", e);
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(() => void tick(), periodMs);
    const stop = (): void => {
      clearInterval(timer);
      stops.delete(stop);
      pollers.delete(pcs);
    };
    stops.add(stop);
    pollers.set(pcs, stop);
    return stop;
  }

  function autoWatch(root: ParentNode = document, periodMs = 500): () => void {
    const scan = (): void => {
      for (const el of Array.from(root.querySelectorAll("video, audio"))) {
        const src = (el as HTMLMediaElement).srcObject;
        if (!(src instanceof MediaStream)) continue;
        if (el instanceof HTMLVideoElement && src.getVideoTracks().length > 0) watchVideo(el);
        if (src.getAudioTracks().some((t) => !watchedTracks.has(t.id))) watchAudio(src).catch((e: unknown) => fail("watchAudio", e));
      }
    };
    scan();
    const timer = setInterval(scan, periodMs);
    const stopStats = pollStats();
    const stop = (): void => {
      clearInterval(timer);
      stopStats();
      stops.delete(stop);
    };
    stops.add(stop);
    return stop;
  }

  return {
    drain(): PageObservations {
      const out = { frames, markers, stats, errors };
      frames = [];
      markers = [];
      stats = [];
      errors = [];
      overflowNoted = false;
      return out;
    },
    nowUnixMs: () => performance.timeOrigin + performance.now(),
    watchVideo,
    watchAudio,
    pollStats,
    autoWatch,
    stop(): void {
      for (const s of [...stops]) s();
    },
  };
}

/** Samples of AudioData chunks kept to time a marker found up to this long after its chunk. */
const CHUNKS_KEPT = 64;

/**
 * Read a remote audio track as it is played (see header) and report each sync burst's first sample
 * as the moment it was handed to the output device: its chunk's timestamp + its offset in the chunk.
 */
function tapAudio(track: MediaStreamTrack, opts: ProbeOptions, onMarker: (m: AudioMarker) => void, fail: (what: string, e: unknown) => void): () => void {
  const reader = new MediaStreamTrackProcessor({ track }).readable.getReader();
  let stopped = false;
  let detector: MarkerDetector | undefined;
  let rate = 0;
  let buf = new Float32Array(0);
  // Ring of (first sample index, timestamp ms) per chunk.
  const starts = new Float64Array(CHUNKS_KEPT);
  const times = new Float64Array(CHUNKS_KEPT);
  let chunks = 0;
  const timeOf = (frame: number): number | undefined => {
    for (let k = chunks - 1; k >= Math.max(0, chunks - CHUNKS_KEPT); k--) {
      const i = k % CHUNKS_KEPT;
      if (starts[i]! <= frame) return times[i]! + ((frame - starts[i]!) * 1000) / rate;
    }
    return undefined;
  };
  const found = (frame: number, score: number): void => {
    const t = timeOf(frame);
    if (t !== undefined) onMarker({ playedUnixMs: unixMs(t), score });
  };
  const loop = async (): Promise<void> => {
    while (!stopped) {
      const { value: data, done } = await reader.read();
      if (done || !data) return;
      try {
        if (!detector || data.sampleRate !== rate) {
          rate = data.sampleRate;
          detector = new MarkerDetector({
            template: syncChirp(rate),
            threshold: opts.markerThreshold ?? 0.5,
            refractoryFrames: Math.round(((opts.markerRefractoryMs ?? 500) * rate) / 1000),
          });
          chunks = 0;
        }
        const n = data.numberOfFrames;
        if (buf.length !== n) buf = new Float32Array(n);
        data.copyTo(buf, { planeIndex: 0, format: "f32-planar" });
        const i = chunks % CHUNKS_KEPT;
        starts[i] = detector.pushed;
        times[i] = data.timestamp / 1000;
        chunks++;
        detector.push(buf, found);
      } finally {
        data.close();
      }
    }
  };
  loop().catch((e: unknown) => {
    if (!stopped) fail("audio tap", e);
  });
  return () => {
    stopped = true;
    reader.cancel().catch(() => {});
  };
}

/** Mean luma of the flash square's inner half (clip-pattern.ts flashRect). */
function flashMean(y: Uint8Array, width: number, height: number): number | undefined {
  const r = flashRect(width, height);
  if (r.x < 0 || r.y < 0) return undefined;
  const q = r.size / 4;
  const x0 = r.x + q;
  const y0 = r.y + q;
  const side = r.size / 2;
  let sum = 0;
  for (let row = y0; row < y0 + side; row++) {
    const start = row * width + x0;
    for (let x = start; x < start + side; x++) sum += y[x] ?? 0;
  }
  return sum / (side * side);
}

/** Copies a VideoFrame's luma into a tightly packed plane (stride = width), reusing buffers. */
class LumaReader {
  private raw = new Uint8Array(0);
  private y = new Uint8Array(0);
  private busy = false;

  async read(frame: VideoFrame): Promise<{ y: Uint8Array; width: number; height: number } | null> {
    const width = frame.visibleRect?.width ?? frame.displayWidth;
    const height = frame.visibleRect?.height ?? frame.displayHeight;
    const format = frame.format;
    if (!format || width === 0 || height === 0) return null;
    // Two reads can overlap only if a copy outlives a frame interval; then use fresh buffers.
    const shared = !this.busy;
    this.busy = true;
    try {
      const size = frame.allocationSize();
      let raw = shared ? this.raw : new Uint8Array(size);
      if (raw.length < size) raw = this.raw = new Uint8Array(size);
      const layout = await frame.copyTo(raw);
      let y = shared ? this.y : new Uint8Array(width * height);
      if (y.length !== width * height) y = new Uint8Array(width * height);
      if (shared) this.y = y;
      const p0 = layout[0];
      if (!p0) return null;
      if (format === "I420" || format === "I420A" || format === "I422" || format === "I444" || format === "NV12") {
        if (p0.stride === width) y.set(raw.subarray(p0.offset, p0.offset + width * height));
        else for (let row = 0; row < height; row++) y.set(raw.subarray(p0.offset + row * p0.stride, p0.offset + row * p0.stride + width), row * width);
      } else {
        // Packed RGB(A)/BGR(A): BT.601 video-range luma, the scale the frame code was drawn in.
        const bgr = format === "BGRA" || format === "BGRX";
        for (let row = 0; row < height; row++) {
          let s = p0.offset + row * p0.stride;
          let d = row * width;
          for (let x = 0; x < width; x++, s += 4, d++) {
            const r = raw[bgr ? s + 2 : s]!;
            const g = raw[s + 1]!;
            const b = raw[bgr ? s : s + 2]!;
            y[d] = (16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255 + 0.5) | 0;
          }
        }
      }
      return { y, width, height };
    } finally {
      if (shared) this.busy = false;
    }
  }
}

/** One StatsSnapshot from the reports of every pc (the busiest stream of each kind wins). */
function reduceStats(reports: RTCStatsReport[], atUnixMs: number): StatsSnapshot | undefined {
  const snap: StatsSnapshot = { atUnixMs };
  let videoBytes = -1;
  let audioBytes = -1;
  for (const report of reports) {
    const byId = new Map<string, Record<string, unknown>>();
    report.forEach((s: Record<string, unknown>) => byId.set(String(s.id), s));
    let pairId: string | undefined;
    for (const s of byId.values()) {
      if (s.type === "transport" && typeof s.selectedCandidatePairId === "string") pairId = s.selectedCandidatePairId;
    }
    for (const s of byId.values()) {
      if (s.type === "inbound-rtp") {
        const inb = inbound(s);
        if (s.kind === "video" && inb.bytesReceived > videoBytes) {
          videoBytes = inb.bytesReceived;
          snap.video = inb;
        } else if (s.kind === "audio" && inb.bytesReceived > audioBytes) {
          audioBytes = inb.bytesReceived;
          snap.audio = inb;
        }
      } else if (s.type === "candidate-pair") {
        const selected = pairId !== undefined ? s.id === pairId : s.nominated === true && s.state === "succeeded";
        const rtt = num(s.currentRoundTripTime);
        if (selected && rtt !== undefined) snap.rttMs = rtt * 1000;
      } else if (s.type === "outbound-rtp" && (s.kind === "audio" || s.kind === "video")) {
        const sent = num(s.packetsSent) ?? 0;
        if (sent > (snap.uplink?.packetsSent ?? -1)) {
          const remote = typeof s.remoteId === "string" ? byId.get(s.remoteId) : undefined;
          const rtt = num(remote?.roundTripTime);
          snap.uplink = {
            kind: String(s.kind),
            packetsSent: sent,
            ...(num(remote?.packetsLost) !== undefined ? { packetsLost: num(remote?.packetsLost) } : {}),
            ...(num(remote?.fractionLost) !== undefined ? { fractionLost: num(remote?.fractionLost) } : {}),
            ...(num(remote?.jitter) !== undefined ? { jitter: num(remote?.jitter) } : {}),
            ...(rtt !== undefined ? { roundTripTimeMs: rtt * 1000 } : {}),
          };
        }
      } else if (s.type === "media-playout" && s.kind === "audio") {
        const delay = num(s.totalPlayoutDelay);
        const count = num(s.totalSamplesCount);
        if (delay !== undefined && count !== undefined && count > (snap.audioPlayout?.totalSamplesCount ?? 0)) snap.audioPlayout = { totalPlayoutDelay: delay, totalSamplesCount: count };
      } else if (s.type === "remote-outbound-rtp") {
        const rtt = num(s.roundTripTime);
        if (rtt !== undefined && (s.kind === "video" || s.kind === "audio")) {
          snap.remoteOutbound ??= {};
          snap.remoteOutbound[s.kind] = { roundTripTimeMs: rtt * 1000 };
        }
      }
    }
  }
  if (!snap.video && !snap.audio && snap.rttMs === undefined) return undefined;
  return snap;
}

function num(v: unknown): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

function inbound(s: Record<string, unknown>): InboundRtpStats {
  const out: InboundRtpStats = {
    packetsReceived: num(s.packetsReceived) ?? 0,
    packetsLost: num(s.packetsLost) ?? 0,
    bytesReceived: num(s.bytesReceived) ?? 0,
  };
  const keys = [
    "jitter",
    "nackCount",
    "pliCount",
    "framesDecoded",
    "framesDropped",
    "framesPerSecond",
    "freezeCount",
    "totalFreezesDuration",
    "jitterBufferDelay",
    "jitterBufferEmittedCount",
    "jitterBufferTargetDelay",
    "jitterBufferMinimumDelay",
    "totalSamplesReceived",
    "concealedSamples",
    "concealmentEvents",
    "interruptionCount",
    "totalInterruptionDuration",
  ] as const;
  for (const k of keys) {
    const v = num(s[k]);
    if (v !== undefined) out[k] = v;
  }
  const playout = num(s.estimatedPlayoutTimestamp);
  if (playout !== undefined && playout > 0) out.estimatedPlayoutTimestamp = playout - NTP_UNIX_OFFSET_MS;
  return out;
}
