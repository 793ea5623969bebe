// The pixel tier's in-page probe: records what a browser student really sees and hears (types in
// ../pixel-observations.ts) and exposes it as window.__proctorProbe for the driver to drain.
// It knows nothing of the student page, so it also measures a third-party classroom page: inject
// hookPeerConnections with evaluateOnNewDocument, load this module, call installProbe and hand it
// the page's media (or let autoWatch find them).
//
// Per presented frame (requestVideoFrameCallback): new VideoFrame(video) + copyTo (0.1 ms at 360p,
// CHROMIUM.md; canvas costs 45× more), the frame code from the luma plane, the flash square's mean
// luma, and the callback metadata as Unix ms (performance.timeOrigin + t).
// Audio: the remote stream → MediaStreamSource → marker-worklet.js (matched filter). The page must
// also play that stream in an <audio> element (muted is fine), or Chromium never pulls its jitter
// buffer and WebAudio hears silence (CHROMIUM.md).
// Audio time mapping: the worklet reports the burst's first sample as a context frame f;
// getOutputTimestamp() pairs a context time c with the performance time p at which the sample at c
// leaves for the output device, so played = timeOrigin + p + (f / sampleRate − c)·1000. Its bias:
// the MediaStreamSource input FIFO is not the <audio> element's path, and an output device's
// latency is whatever the (headless, fake) device reports; the pixel summary removes the
// detectors' combined bias, measured in test/integration/pixel-probe.test.ts.
import { readFrameCode } from "../../media/frame-code.js";
import { flashRect, syncChirp } from "../../media/clip-pattern.js";
import type { AudioMarker, InboundRtpStats, PageObservations, PageProbe, PresentedFrame, StatsSnapshot } from "../pixel-observations.js";
import type { MarkerWorkletOptions } from "./marker-worklet.js";

declare global {
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
  /** Where marker-worklet.js is. Default: next to this module. */
  workletUrl?: string | URL;
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

  let ctx: AudioContext | undefined;
  let workletReady: Promise<void> | undefined;
  async function watchAudio(stream: MediaStream): Promise<() => void> {
    const tracks = stream.getAudioTracks().filter((t) => !watchedTracks.has(t.id));
    if (tracks.length === 0) return () => {};
    for (const t of tracks) watchedTracks.add(t.id);
    ctx ??= new AudioContext();
    const ac = ctx;
    workletReady ??= ac.audioWorklet.addModule(opts.workletUrl ?? new URL("./marker-worklet.js", import.meta.url));
    await workletReady;
    if (ac.state !== "running") await ac.resume().catch((e: unknown) => fail("AudioContext.resume", e));
    const source = ac.createMediaStreamSource(new MediaStream(tracks));
    const processorOptions: MarkerWorkletOptions = {
      template: syncChirp(ac.sampleRate),
      threshold: opts.markerThreshold ?? 0.5,
      refractoryMs: opts.markerRefractoryMs ?? 500,
    };
    const node = new AudioWorkletNode(ac, "proctor-marker", { numberOfInputs: 1, numberOfOutputs: 1, channelCount: 1, channelCountMode: "explicit", processorOptions });
    // A node must lead to the destination to be rendered; a zero gain keeps it silent.
    const mute = ac.createGain();
    mute.gain.value = 0;
    source.connect(node);
    node.connect(mute);
    mute.connect(ac.destination);
    node.port.onmessage = (ev: MessageEvent<{ frame: number; score: number }>) => {
      const { frame, score } = ev.data;
      push(markers, { playedUnixMs: contextToUnixMs(ac, frame / ac.sampleRate), score });
    };
    const stop = (): void => {
      node.port.onmessage = null;
      source.disconnect();
      node.disconnect();
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
      void ctx?.close();
      ctx = undefined;
      workletReady = undefined;
    },
  };
}

/** Context time (s) → Unix ms through the output timestamp pair (see header). */
function contextToUnixMs(ac: AudioContext, contextSec: number): number {
  const ts = ac.getOutputTimestamp();
  if (ts.contextTime !== undefined && ts.performanceTime !== undefined && ts.performanceTime > 0) {
    return performance.timeOrigin + ts.performanceTime + (contextSec - ts.contextTime) * 1000;
  }
  // No output timestamp yet: the current render time, plus the latency the context reports.
  const latency = (ac.baseLatency ?? 0) + (ac.outputLatency ?? 0);
  return performance.timeOrigin + performance.now() + (contextSec - ac.currentTime + latency) * 1000;
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
