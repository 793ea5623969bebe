// One stream of lesson media (a room in shared mode; a student in per-student mode later): a
// playback queue driven by two pacers (video frame ticks, 20 ms audio ticks) that share one origin,
// turned into RTP packets whose sequence numbers, timestamps and VP8 picture ids stay continuous
// across clips. Packets are built once here and fanned out by the teacher to every subscribed peer.
//
// Timing model: video tick k is "captured" at t0 + k/fps and carries RTP timestamp
// tsBase + k·90000/fps; audio tick j at t0 + 20j carries aBase + 960j. So the RTP↔wall-clock
// mapping is exact and `rtpTimestampAt` gives sender reports the pair for any instant.
import type { Clock } from "../clock.js";
import { Pacer } from "./pacer.js";
import { PlaybackQueue, type SwitchOptions } from "./playback-queue.js";
import { AUDIO_PACKET_MS, type LoadedClip } from "./clip-library.js";
import { Vp8Packetizer, nextPictureId } from "./vp8-packetizer.js";
import { encodeAbsCaptureTime, encodeFrameId, FRAME_FLAG_LAST_OF_CLIP } from "../media/rtp/header-extensions.js";

export const VIDEO_CLOCK_HZ = 90_000;
export const AUDIO_CLOCK_HZ = 48_000;

export type OutPacket = {
  sequenceNumber: number;
  timestamp: number;
  marker: boolean;
  payload: Buffer;
  /** abs-capture-time extension payload (shared by all peers). */
  absCaptureTime: Buffer;
  /** proctor frame-id extension payload. */
  frameId: Buffer;
};

export type SentFrame = { tick: number; captureMs: number; clipId: number; frameIndex: number; rtpTimestamp: number; packets: number; lastOfClip: boolean };

export type ProgramListener = (kind: "video" | "audio", packets: readonly OutPacket[]) => void;

export type MediaProgramOptions = {
  fps: number;
  clock: Clock;
  /** Seeded random source for initial seq/timestamp/picture-id (RFC 3550 §5.1: random starts). */
  random: () => number;
  /** Calibration hook: sender reports map audio RTP time this many ms later than the truth (+ = audio claimed captured later). */
  audioTimestampSkewMs?: number;
  onFrameSent?: (f: SentFrame) => void;
};

export class MediaProgram {
  readonly queue = new PlaybackQueue();
  private readonly listeners = new Set<ProgramListener>();
  private readonly packetizer = new Vp8Packetizer();
  private videoPacer: Pacer | null = null;
  private audioPacer: Pacer | null = null;
  private t0Ms = 0;
  private videoSeq: number;
  private audioSeq: number;
  private readonly videoTsBase: number;
  private readonly audioTsBase: number;
  private pictureId: number;
  private readonly frameIntervalMs: number;
  framesSent = 0;
  audioPacketsSent = 0;
  /** A switch waiting for the next video tick, and clips enqueued after it (they play after it). */
  private pendingSwitch: { clip: LoadedClip; opts: SwitchOptions; then: LoadedClip[] } | null = null;

  constructor(private readonly opts: MediaProgramOptions) {
    const r = opts.random;
    this.videoSeq = Math.floor(r() * 0x10000);
    this.audioSeq = Math.floor(r() * 0x10000);
    this.videoTsBase = Math.floor(r() * 0x100000000);
    this.audioTsBase = Math.floor(r() * 0x100000000);
    this.pictureId = Math.floor(r() * 0x8000);
    this.frameIntervalMs = 1000 / opts.fps;
  }

  get startedAtMs(): number {
    return this.t0Ms;
  }

  /** Has media started flowing (so an RTP↔NTP pair exists)? */
  get started(): boolean {
    return this.videoPacer !== null;
  }

  subscribe(l: ProgramListener): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  start(): void {
    if (this.videoPacer) return;
    this.t0Ms = this.opts.clock.nowMs();
    this.videoPacer = new Pacer(this.opts.clock, this.frameIntervalMs, this.t0Ms, this.onVideoTick);
    this.audioPacer = new Pacer(this.opts.clock, AUDIO_PACKET_MS, this.t0Ms, this.onAudioTick);
    // Tick 0 is due at t0 exactly; by the time the pacers read the clock it is already (slightly) past.
    this.videoPacer.start(0);
    this.audioPacer.start(0);
  }

  stop(): void {
    this.videoPacer?.stop();
    this.audioPacer?.stop();
  }

  /** Play `clip` after everything queued — after a pending switch too. */
  enqueue(clip: LoadedClip): void {
    if (this.pendingSwitch) this.pendingSwitch.then.push(clip);
    else this.queue.enqueue(clip);
  }

  /** Interrupt: `clip` starts on the next video tick (after `holdTicks` empty ticks). */
  switchNow(clip: LoadedClip, opts: SwitchOptions = {}): void {
    this.pendingSwitch = { clip, opts, then: [] };
  }

  /** Largest timer lateness seen by the video pacer (ms). */
  get maxPacingLatenessMs(): number {
    return this.videoPacer?.maxLatenessMs ?? 0;
  }

  /** RTP timestamp (uint32) of `kind` at monotonic instant `monoMs`: the pair a sender report carries. */
  rtpTimestampAt(kind: "video" | "audio", monoMs: number): number {
    const dt = monoMs - this.t0Ms;
    if (kind === "video") return (this.videoTsBase + Math.round((dt * VIDEO_CLOCK_HZ) / 1000)) >>> 0;
    const skew = this.opts.audioTimestampSkewMs ?? 0;
    return (this.audioTsBase + Math.round(((dt - skew) * AUDIO_CLOCK_HZ) / 1000)) >>> 0;
  }

  private readonly onVideoTick = (tick: number, dueMs: number): void => {
    if (this.pendingSwitch) {
      this.queue.switchNow(this.pendingSwitch.clip, this.pendingSwitch.opts);
      for (const c of this.pendingSwitch.then) this.queue.enqueue(c);
      this.pendingSwitch = null;
    }
    const f = this.queue.nextFrame(dueMs);
    if (!f) return;
    const frame = f.clip.frames[f.frameIndex]!;
    // Rounded like rtpTimestampAt, so the two agree when 90000/fps is not an integer (e.g. 14 fps).
    const timestamp = (this.videoTsBase + Math.round((tick * VIDEO_CLOCK_HZ) / this.opts.fps)) >>> 0;
    const captureUnixMs = this.opts.clock.toUnixMs(dueMs);
    const absCaptureTime = encodeAbsCaptureTime(captureUnixMs);
    const frameId = encodeFrameId({ clipId: f.clip.clipId, index: f.frameIndex, flags: f.lastOfClip ? FRAME_FLAG_LAST_OF_CLIP : 0 });
    const payloads = this.packetizer.packetize(frame.data, this.pictureId);
    this.pictureId = nextPictureId(this.pictureId);
    const packets: OutPacket[] = new Array(payloads.length);
    for (let i = 0; i < payloads.length; i++) {
      packets[i] = {
        sequenceNumber: this.videoSeq,
        timestamp,
        marker: i === payloads.length - 1,
        payload: payloads[i]!,
        absCaptureTime,
        frameId,
      };
      this.videoSeq = (this.videoSeq + 1) & 0xffff;
    }
    this.framesSent++;
    this.opts.onFrameSent?.({ tick, captureMs: dueMs, clipId: f.clip.clipId, frameIndex: f.frameIndex, rtpTimestamp: timestamp, packets: packets.length, lastOfClip: f.lastOfClip });
    for (const l of this.listeners) l("video", packets);
  };

  /**
   * Audio packet i of a clip goes out on the audio tick nearest its frame-0 tick + 20i, so packet 0
   * may be due up to half a packet *before* the video tick that starts the clip has fired (or, on
   * an exact tie, before the timer order lets it fire). Without this look-ahead that packet was
   * skipped at about half of all clip boundaries (a 20 ms audio hole).
   */
  private upcomingAudio(dueMs: number): { clip: LoadedClip; index: number } | null {
    const video = this.videoPacer;
    if (!video) return null;
    const startMs = video.dueMs(video.pendingTick);
    if (startMs - dueMs > AUDIO_PACKET_MS / 2) return null;
    const sw = this.pendingSwitch;
    const clip = sw ? ((sw.opts.holdTicks ?? 0) >= 1 ? null : sw.clip) : this.queue.startsNext;
    // 0 normally; more if the video tick is overdue (a stalled event loop fires audio first).
    const index = Math.max(0, Math.round((dueMs - startMs) / AUDIO_PACKET_MS));
    return clip && index < clip.audio.length ? { clip, index } : null;
  }

  private readonly onAudioTick = (tick: number, dueMs: number): void => {
    const a = this.upcomingAudio(dueMs) ?? this.queue.audioAt(dueMs, AUDIO_PACKET_MS);
    if (!a) return;
    const timestamp = (this.audioTsBase + tick * ((AUDIO_CLOCK_HZ * AUDIO_PACKET_MS) / 1000)) >>> 0;
    const packet: OutPacket = {
      sequenceNumber: this.audioSeq,
      timestamp,
      marker: false,
      payload: a.clip.audio[a.index]!,
      absCaptureTime: encodeAbsCaptureTime(this.opts.clock.toUnixMs(dueMs)),
      frameId: encodeFrameId({ clipId: a.clip.clipId, index: a.index, flags: 0 }),
    };
    this.audioSeq = (this.audioSeq + 1) & 0xffff;
    this.audioPacketsSent++;
    const one = [packet];
    for (const l of this.listeners) l("audio", one);
  };
}
