// The teacher's ear for one student: the Opus RTP the student sends on the voice m-line → a real
// Opus decoder → the energy VAD (vad.ts), and each utterance, once its end is detected, handed on
// with the audio around it — for the lesson driver to give to the assessor.
//
// The stream is laid out by RTP timestamp (48 kHz): a gap (lost packets, or the sender pausing
// between talkspurts) becomes digital silence, at most `maxGapMs` of it; a packet older than what
// has been laid out already (late, duplicate) is dropped. If the student stops sending while the
// VAD is inside speech (its last packets lost), `tick` lays out silence after `stallMs`, so the
// end of speech is still found — the hangover then elapses in wall time, never waits forever. A
// tick that comes late (a blocked event loop) decides nothing: packets may be queued unread.
//
// "Received" for the round trip is the arrival of the packet that carried the last loud frame
// (the end of speech as the teacher heard it); "detected" is when the VAD's hangover confirmed it.
// Synchronous and timer-free; the owner calls push() per packet and tick() every ~20 ms.
import { VoiceActivityDetector, type SpeechSegment, type VadOptions } from "./vad.js";

export type VoicePacket = { timestamp: number; payload: Buffer; arrivalMs: number };

export type HeardUtterance = {
  /** The speech with up to `contextMs` of audio before it and what followed until detection. */
  pcm: Int16Array;
  sampleRate: number;
  /** Where the VAD found the speech, ms from the first sample of `pcm`. */
  speech: { startMs: number; endMs: number };
  speechMs: number;
  /** Arrival (clock ms) of the packet carrying the last loud frame. */
  receivedAtMs: number;
  /** When the VAD declared the end (clock ms). */
  detectedAtMs: number;
  energyDb: number;
  snrDb: number;
  /** Packets missing inside `pcm` (laid out as silence). */
  lostPackets: number;
};

export interface PcmDecoder {
  decode(packet: Buffer): Int16Array;
  close(): void;
}

export type VoiceListenerOptions = {
  decoder: PcmDecoder;
  onUtterance: (u: HeardUtterance) => void;
  vad?: VadOptions;
  /** Audio kept (ms): bounds an utterance's length. Default 10 000. */
  keepMs?: number;
  /** Audio before the speech handed on with it (ms). Default 300. */
  contextMs?: number;
  /** Longest silence laid out for a gap (ms). Default 1000. */
  maxGapMs?: number;
  /** No packet for this long inside speech: lay out silence (ms). Default 150. */
  stallMs?: number;
};

const RATE = 48_000;
const FRAME = 960; // 20 ms: one Opus packet, one VAD frame

export class VoiceListener {
  readonly stats = { packets: 0, lostPackets: 0, latePackets: 0, decodeErrors: 0, utterances: 0 };
  private readonly vad: VoiceActivityDetector;
  private readonly ring: Int16Array;
  /** Arrival time of each laid-out frame (by frame index mod capacity); NaN for laid-out silence. */
  private readonly arrivals: Float64Array;
  private readonly lostFrame: Uint8Array;
  private pos = 0; // samples laid out
  private nextTs: number | null = null;
  private lastProgressMs = 0;
  private lastTickMs: number | null = null;
  private readonly o: Required<Omit<VoiceListenerOptions, "vad" | "decoder" | "onUtterance">>;

  constructor(private readonly opts: VoiceListenerOptions) {
    this.o = { keepMs: opts.keepMs ?? 10_000, contextMs: opts.contextMs ?? 300, maxGapMs: opts.maxGapMs ?? 1000, stallMs: opts.stallMs ?? 150 };
    this.vad = new VoiceActivityDetector({ ...opts.vad, sampleRate: RATE, frameMs: 20 });
    const frames = Math.ceil(this.o.keepMs / 20);
    this.ring = new Int16Array(frames * FRAME);
    this.arrivals = new Float64Array(frames);
    this.lostFrame = new Uint8Array(frames);
  }

  push(p: VoicePacket): void {
    this.stats.packets++;
    if (this.nextTs === null) this.nextTs = p.timestamp >>> 0;
    const delta = ((p.timestamp >>> 0) - this.nextTs) | 0;
    if (delta < 0) {
      this.stats.latePackets++;
      return;
    }
    const gapFrames = Math.min(Math.round(delta / FRAME), Math.round(this.o.maxGapMs / 20));
    if (gapFrames > 0) {
      this.stats.lostPackets += gapFrames;
      this.layOutSilence(gapFrames, p.arrivalMs);
    }
    let pcm: Int16Array;
    try {
      pcm = this.opts.decoder.decode(p.payload);
    } catch {
      this.stats.decodeErrors++;
      pcm = new Int16Array(FRAME);
    }
    this.nextTs = ((p.timestamp >>> 0) + pcm.length) >>> 0;
    this.layOut(pcm, p.arrivalMs, false);
  }

  /** Lay out silence when the sender went quiet inside speech (see header). */
  tick(nowMs: number): void {
    // A late tick means the event loop was blocked: packets may be waiting in the socket, so
    // decide on the next tick, after they have been read.
    const late = this.lastTickMs !== null && nowMs - this.lastTickMs > 3 * 20;
    this.lastTickMs = nowMs;
    if (late || !this.vad.inSpeech || this.nextTs === null) return;
    const idle = nowMs - this.lastProgressMs;
    if (idle < this.o.stallMs) return;
    const frames = Math.floor(idle / 20);
    this.stats.lostPackets += frames;
    this.nextTs = (this.nextTs + frames * FRAME) >>> 0;
    this.layOutSilence(frames, nowMs);
  }

  close(): void {
    this.opts.decoder.close();
  }

  private layOutSilence(frames: number, atMs: number): void {
    const z = new Int16Array(FRAME);
    for (let i = 0; i < frames; i++) this.layOut(z, atMs, true);
  }

  private layOut(pcm: Int16Array, arrivalMs: number, lost: boolean): void {
    const cap = this.ring.length;
    const frames = this.arrivals.length;
    for (let i = 0; i < pcm.length; i++) this.ring[(this.pos + i) % cap] = pcm[i] as number;
    for (let f = Math.floor(this.pos / FRAME); f <= Math.floor((this.pos + pcm.length - 1) / FRAME); f++) {
      this.arrivals[f % frames] = lost ? Number.NaN : arrivalMs;
      this.lostFrame[f % frames] = lost ? 1 : 0;
    }
    this.pos += pcm.length;
    this.lastProgressMs = arrivalMs;
    for (const seg of this.vad.push(pcm)) this.emit(seg, arrivalMs);
  }

  private emit(seg: SpeechSegment, detectedAtMs: number): void {
    const frames = this.arrivals.length;
    const keptFrom = Math.max(0, this.pos - this.ring.length);
    const from = Math.max(keptFrom, Math.floor(((seg.startMs - this.o.contextMs) * RATE) / 1000 / FRAME) * FRAME);
    const pcm = new Int16Array(this.pos - from);
    for (let i = 0; i < pcm.length; i++) pcm[i] = this.ring[(from + i) % this.ring.length] as number;
    let lostPackets = 0;
    for (let f = from / FRAME; f < this.pos / FRAME; f++) lostPackets += this.lostFrame[f % frames] as number;
    const lastLoud = Math.round(seg.endMs / 20) - 1;
    const fromMs = (from * 1000) / RATE;
    this.stats.utterances++;
    this.opts.onUtterance({
      pcm,
      sampleRate: RATE,
      speech: { startMs: Math.max(0, seg.startMs - fromMs), endMs: seg.endMs - fromMs },
      speechMs: seg.endMs - seg.startMs,
      receivedAtMs: this.arrivals[lastLoud % frames] as number,
      detectedAtMs,
      energyDb: seg.energyDb,
      snrDb: seg.snrDb,
      lostPackets,
    });
  }
}
