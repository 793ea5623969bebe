// The light student: a werift peer that joins through the room server, receives the teacher's
// VP8 + Opus, and records observations at the wire tier — per frame (completion time, capture time,
// clip and frame index), per audio packet, and every sender report — for src/metrics to turn into
// latency, switch gaps, loss and jitter. It decodes nothing: identity and capture time travel in
// RTP header extensions (abs-capture-time, proctor frame-id).
import type { Clock } from "../clock.js";
import { ntpToUnixMs } from "../clock.js";
import { werift, type RTCPeerConnection, type MediaStreamTrack } from "../webrtc/werift.js";
import { loopbackIceConfig, isLoopbackHost, interfaceIceConfig, allowedHost, type IceAddresses } from "../webrtc/loopback.js";
import { filterCandidates, parseExtmap } from "../webrtc/sdp.js";
import { ABS_CAPTURE_TIME_URI, FRAME_ID_URI, FRAME_FLAG_LAST_OF_CLIP, decodeAbsCaptureTime, decodeFrameId } from "../media/rtp/header-extensions.js";
import { SeqUnwrapper } from "../media/rtp/seq.js";
import { FrameAssembler, type AssembledFrame, type AssemblerFrameId } from "./frame-assembler.js";
import { SignalingClient } from "./signaling-client.js";
import { ReceiveStats } from "../metrics/receive-stats.js";
import { NackGenerator } from "./nack/nack-generator.js";
import { VoiceSpeaker, type VoiceRtp } from "./voice-speaker.js";

export type FrameObservation = {
  rtpTimestamp: number;
  /** Harness monotonic ms when the frame became complete (its last missing packet arrived). */
  completeMs: number;
  completeUnixMs: number;
  captureUnixMs?: number;
  clipId?: number;
  frameIndex?: number;
  lastOfClip: boolean;
  keyframe: boolean;
  firstSeq: number;
  lastSeq: number;
  pictureId?: number;
  packets: number;
  bytes: number;
  /** Completed only thanks to a retransmitted (NACKed) packet. */
  repaired: boolean;
};

export type AudioObservation = {
  extSeq: number;
  rtpTimestamp: number;
  arrivalUnixMs: number;
  captureUnixMs?: number;
  clipId?: number;
  index?: number;
};

export type SenderReportObservation = { kind: "audio" | "video"; ntpUnixMs: number; rtpTimestamp: number; arrivalUnixMs: number };

export type LightStudentOptions = {
  serverUrl: string;
  room: string;
  student: string;
  clock: Clock;
  joinTimeoutMs?: number;
  /** Request lost video packets with RTCP Generic NACK (proctor's policy). Default true. */
  nack?: boolean;
  /** Scripted answers to the teacher's questions (none: the student stays silent). */
  behaviour?: ClickBehaviour | VoiceBehaviour;
  /** Use these addresses instead of loopback (a student inside its own network namespace). */
  ice?: IceAddresses;
};

/**
 * How a scripted student answers a question by click: after `afterMs`, the right choice with
 * probability `correct` (the harness knows the key; the student is a script), else a wrong one
 * spread evenly over the others. `random` is seeded per student.
 */
export type ClickBehaviour = {
  answer?: "click";
  afterMs: number;
  correct: number;
  answerKey: ReadonlyMap<string, string>;
  random: () => number;
};

/**
 * How a scripted student answers by voice: `afterMs` after a question opens it speaks the prepared
 * utterance (media/utterance.ts) on the third m-line; the answer is sent when its speech ends.
 */
export type VoiceBehaviour = {
  answer: "voice";
  afterMs: number;
  utterance: { packets: readonly Buffer[]; lastSpeechPacket: number };
  random: () => number;
};

/** A click (`choice`) or a voice answer (`kind: "voice"`; `sentAtUnixMs` = end of speech sent). */
export type AnswerObservation = {
  questionId: string;
  kind?: "click" | "voice";
  choice?: string;
  sentAtUnixMs: number;
  ackMs?: number;
  speechStartedAtUnixMs?: number;
  error?: string;
};
export type ResultObservation = {
  questionId: string;
  correct: boolean;
  score?: number;
  clip: string;
  reason: string;
  decidedAtUnixMs: number;
  receivedAtUnixMs?: number;
  assessedAtUnixMs?: number;
  detectedAtUnixMs?: number;
  arrivedUnixMs: number;
};

/** How often the NACK policy is polled (ms). */
const NACK_POLL_MS = 10;

export class LightStudent {
  readonly frames: FrameObservation[] = [];
  readonly audio: AudioObservation[] = [];
  readonly senderReports: SenderReportObservation[] = [];
  readonly answers: AnswerObservation[] = [];
  readonly results: ResultObservation[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  readonly videoStats = new ReceiveStats(90_000);
  readonly audioStats = new ReceiveStats(48_000);
  framesDropped = 0;
  joinStartedMs = 0;
  /** Join attempts that failed (timed out or errored) and were retried. */
  joinRetries = 0;
  /** Why each failed attempt failed. */
  readonly joinErrors: string[] = [];
  connectedMs?: number;
  private pc: RTCPeerConnection | null = null;
  private signaling: SignalingClient | null = null;
  private readonly assembler: FrameAssembler;
  private readonly videoSeq = new SeqUnwrapper();
  private readonly audioSeq = new SeqUnwrapper();
  private ext = { video: { abs: -1, fid: -1 }, audio: { abs: -1, fid: -1 } };
  readonly nack: NackGenerator | null;
  private nackTimer: NodeJS.Timeout | null = null;
  private speaker: VoiceSpeaker | null = null;
  private videoSsrc = -1;
  /** Per 16-bit sequence number: 1 when that packet arrived as a repair (reset when the slot is reused). */
  private readonly repairedSeq = new Uint8Array(65536);

  constructor(private readonly opts: LightStudentOptions) {
    this.assembler = new FrameAssembler({
      onFrame: (f) => this.onFrame(f),
      onDrop: () => this.framesDropped++,
    });
    this.nack = opts.nack === false ? null : new NackGenerator();
  }

  get name(): string {
    return this.opts.student;
  }

  /** Join, negotiate, and resolve once media is connected (bounded by joinTimeoutMs). */
  /**
   * Join with a bound on each attempt and up to `retries` fresh attempts (new signaling session,
   * new peer connection); join time counts from the first attempt. Every failure is recorded.
   */
  async joinWithRetry(retries = 2): Promise<void> {
    const firstStart = this.opts.clock.nowMs();
    for (let attempt = 0; ; attempt++) {
      try {
        await this.join();
        this.joinStartedMs = firstStart;
        return;
      } catch (e) {
        this.joinErrors.push((e as Error).message);
        await this.teardown();
        if (attempt >= retries) throw new Error(`${this.opts.room}/${this.opts.student}: join failed after ${attempt + 1} attempt(s): ${this.joinErrors.join("; ")}`);
        this.joinRetries++;
      }
    }
  }

  async join(): Promise<void> {
    const { clock, serverUrl, room, student } = this.opts;
    const timeoutMs = this.opts.joinTimeoutMs ?? 10_000;
    this.joinStartedMs = clock.nowMs();
    const signaling = await SignalingClient.join(serverUrl, room, student, "werift", { joinTimeoutMs: timeoutMs, clock });
    this.signaling = signaling;
    signaling.onQuestion((q) => this.onQuestion(q.questionId, q.choices, q.voice));
    signaling.onResult((r) => this.results.push({ ...r, arrivedUnixMs: clock.toUnixMs(clock.nowMs()) }));
    const offer = await signaling.waitForOffer(timeoutMs);
    const ids = parseExtmap(offer);
    this.ext = {
      video: { abs: ids.video.get(ABS_CAPTURE_TIME_URI) ?? -1, fid: ids.video.get(FRAME_ID_URI) ?? -1 },
      audio: { abs: ids.audio.get(ABS_CAPTURE_TIME_URI) ?? -1, fid: ids.audio.get(FRAME_ID_URI) ?? -1 },
    };
    const ice = this.opts.ice;
    const keep = ice ? allowedHost(ice.allowed) : isLoopbackHost;
    const pc = new werift.RTCPeerConnection({
      ...(ice ? interfaceIceConfig(ice.local, ice.allowed) : loopbackIceConfig()),
      codecs: {
        video: [new werift.RTCRtpCodecParameters({ mimeType: "video/VP8", clockRate: 90000, rtcpFeedback: [] })],
        audio: [new werift.RTCRtpCodecParameters({ mimeType: "audio/opus", clockRate: 48000, channels: 2 })],
      },
      headerExtensions: {
        video: [new werift.RTCRtpHeaderExtensionParameters({ uri: ABS_CAPTURE_TIME_URI }), new werift.RTCRtpHeaderExtensionParameters({ uri: FRAME_ID_URI })],
        audio: [new werift.RTCRtpHeaderExtensionParameters({ uri: ABS_CAPTURE_TIME_URI }), new werift.RTCRtpHeaderExtensionParameters({ uri: FRAME_ID_URI })],
      },
    });
    this.pc = pc;
    pc.onTrack.subscribe((track) => this.onTrack(track));
    const connected = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${room}/${student}: not connected within ${timeoutMs} ms (state ${pc.connectionState})`)), timeoutMs);
      pc.connectionStateChange.subscribe((s) => {
        if (s === "connected") {
          clearTimeout(timer);
          this.connectedMs = clock.nowMs();
          resolve();
        } else if (s === "failed") {
          clearTimeout(timer);
          reject(new Error(`${room}/${student}: connection failed`));
        }
      });
    });
    await pc.setRemoteDescription({ type: "offer", sdp: filterCandidates(offer, (a) => keep(a)) });
    if (this.opts.behaviour?.answer === "voice") this.speaker = this.openVoice(pc);
    await pc.setLocalDescription(await pc.createAnswer());
    const answer = pc.localDescription?.sdp;
    if (!answer) throw new Error(`${room}/${student}: no local answer`);
    signaling.sendAnswer(filterCandidates(answer, (a) => keep(a)));
    await connected;
  }

  /** Join time (signaling start → media connected), ms. */
  get joinMs(): number | undefined {
    return this.connectedMs === undefined ? undefined : this.connectedMs - this.joinStartedMs;
  }

  /** Drop the signaling session and peer connection of a failed attempt. */
  private async teardown(): Promise<void> {
    if (this.nackTimer) clearInterval(this.nackTimer);
    this.nackTimer = null;
    await this.signaling?.close().catch(() => undefined);
    await this.pc?.close().catch(() => undefined);
    this.signaling = null;
    this.pc = null;
  }

  /** Send on the offer's third m-line (video, audio, voice), which the teacher receives. */
  private openVoice(pc: RTCPeerConnection): VoiceSpeaker {
    const t = pc.getTransceivers().filter((x) => x.kind === "audio")[1];
    if (!t) throw new Error(`${this.opts.room}/${this.opts.student}: the teacher's offer has no voice m-line (third m-line, audio)`);
    t.setDirection("sendonly");
    t.addTrack(new werift.MediaStreamTrack({ kind: "audio" }));
    const b = this.opts.behaviour as VoiceBehaviour;
    return new VoiceSpeaker({
      clock: this.opts.clock,
      random: b.random,
      send: (p: VoiceRtp) => {
        const header = new werift.RtpHeader({ sequenceNumber: p.sequenceNumber, timestamp: p.timestamp, marker: p.marker });
        t.sender.sendRtp(new werift.RtpPacket(header, p.payload)).catch(() => undefined);
      },
    });
  }

  private onQuestion(questionId: string, choices: readonly string[], voice?: boolean): void {
    const b = this.opts.behaviour;
    if (b?.answer === "voice") return this.speakAnswer(questionId, b, voice);
    if (!b || choices.length === 0) return;
    const right = b.answerKey.get(questionId);
    const wrong = choices.filter((c) => c !== right);
    const choice = right !== undefined && (b.random() < b.correct || wrong.length === 0) ? right : (wrong[Math.floor(b.random() * wrong.length)] ?? choices[0]!);
    const t = setTimeout(() => {
      this.timers.delete(t);
      const { clock } = this.opts;
      const obs: AnswerObservation = { questionId, kind: "click", choice, sentAtUnixMs: clock.toUnixMs(clock.nowMs()) };
      this.answers.push(obs);
      this.signaling
        ?.sendQuizAnswer(questionId, choice, obs.sentAtUnixMs)
        .then((a) => (obs.ackMs = a.ackMs))
        .catch((e: Error) => (obs.error = e.message));
    }, b.afterMs);
    this.timers.add(t);
  }

  private speakAnswer(questionId: string, b: VoiceBehaviour, voice: boolean | undefined): void {
    if (voice === false || !this.speaker) return;
    const speaker = this.speaker;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (speaker.busy) return;
      speaker
        .speak(b.utterance.packets, b.utterance.lastSpeechPacket)
        .then((s) => this.answers.push({ questionId, kind: "voice", sentAtUnixMs: s.speechEndSentAtUnixMs, speechStartedAtUnixMs: s.startedAtUnixMs }))
        .catch(() => undefined); // stopped by leave()
    }, b.afterMs);
    this.timers.add(t);
  }

  async leave(): Promise<void> {
    this.speaker?.stop();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.nackTimer) clearInterval(this.nackTimer);
    this.nackTimer = null;
    this.nack?.flush();
    this.assembler.flush();
    await this.signaling?.close().catch(() => undefined);
    await this.pc?.close().catch(() => undefined);
    this.pc = null;
  }

  private onTrack(track: MediaStreamTrack): void {
    const kind = track.kind === "video" ? "video" : "audio";
    track.onReceiveRtcp.subscribe((packet) => {
      if (packet.type !== werift.RtcpSrPacket.type) return;
      const sr = packet as InstanceType<typeof werift.RtcpSrPacket>;
      this.senderReports.push({
        kind,
        ntpUnixMs: ntpToUnixMs(sr.senderInfo.ntpTimestamp),
        rtpTimestamp: sr.senderInfo.rtpTimestamp,
        arrivalUnixMs: this.opts.clock.toUnixMs(this.opts.clock.nowMs()),
      });
    });
    if (kind === "video") {
      track.onReceiveRtp.subscribe((rtp) => this.onVideoRtp(rtp));
      if (this.nack && !this.nackTimer) this.nackTimer = setInterval(() => this.sendNacks(), NACK_POLL_MS);
    }
    else track.onReceiveRtp.subscribe((rtp) => this.onAudioRtp(rtp));
  }

  private onVideoRtp(rtp: InstanceType<typeof werift.RtpPacket>): void {
    const now = this.opts.clock.nowMs();
    const h = rtp.header;
    const ext = readExtensions(h.extensions, this.ext.video.abs, this.ext.video.fid);
    const extSeq = this.videoSeq.unwrap(h.sequenceNumber);
    this.videoSsrc = h.ssrc;
    const repaired = this.nack?.onPacket(extSeq, now) ?? false;
    this.repairedSeq[h.sequenceNumber] = repaired ? 1 : 0;
    this.videoStats.push(extSeq, h.timestamp, now, rtp.payload.length, !repaired);
    // Ask at once when a packet reveals a gap beyond the reorder window (the timer covers the rest).
    if (this.nack && this.nack.pendingCount > 0) this.sendNacks();
    this.assembler.push({
      seq: h.sequenceNumber,
      timestamp: h.timestamp,
      marker: h.marker,
      payload: rtp.payload,
      arrivalMs: now,
      captureUnixMs: ext.captureUnixMs,
      frameId: ext.frameId,
    });
  }

  private sendNacks(): void {
    const nack = this.nack;
    if (!nack || nack.pendingCount === 0 || this.videoSsrc < 0 || !this.pc) return;
    const seqs = nack.poll(this.opts.clock.nowMs());
    if (seqs.length === 0) return;
    const receiver = this.pc.getTransceivers().find((t) => t.kind === "video")?.receiver;
    if (!receiver) return;
    const feedback = new werift.GenericNack({ senderSsrc: 1, mediaSourceSsrc: this.videoSsrc, lost: seqs.map((s) => s & 0xffff) });
    receiver.dtlsTransport.sendRtcp([new werift.RtcpTransportLayerFeedback({ feedback })]).catch(() => undefined);
  }

  private onAudioRtp(rtp: InstanceType<typeof werift.RtpPacket>): void {
    const { clock } = this.opts;
    const now = clock.nowMs();
    const h = rtp.header;
    const ext = readExtensions(h.extensions, this.ext.audio.abs, this.ext.audio.fid);
    const extSeq = this.audioSeq.unwrap(h.sequenceNumber);
    this.audioStats.push(extSeq, h.timestamp, now, rtp.payload.length);
    this.audio.push({
      extSeq,
      rtpTimestamp: h.timestamp,
      arrivalUnixMs: clock.toUnixMs(now),
      captureUnixMs: ext.captureUnixMs,
      clipId: ext.frameId?.clipId,
      index: ext.frameId?.index,
    });
  }

  private onFrame(f: AssembledFrame): void {
    this.frames.push({
      rtpTimestamp: f.rtpTimestamp,
      completeMs: f.completeMs,
      completeUnixMs: this.opts.clock.toUnixMs(f.completeMs),
      captureUnixMs: f.captureUnixMs,
      clipId: f.frameId?.clipId,
      frameIndex: f.frameId?.index,
      lastOfClip: ((f.frameId?.flags ?? 0) & FRAME_FLAG_LAST_OF_CLIP) !== 0,
      keyframe: f.keyframe,
      firstSeq: f.firstSeq,
      lastSeq: f.lastSeq,
      pictureId: f.pictureId,
      packets: f.packets,
      bytes: f.bytes,
      repaired: this.anyRepaired(f.firstSeq, f.lastSeq),
    });
  }

  private anyRepaired(firstSeq: number, lastSeq: number): boolean {
    for (let s = firstSeq; ; s = (s + 1) & 0xffff) {
      if (this.repairedSeq[s] === 1) return true;
      if (s === lastSeq) return false;
    }
  }
}

function readExtensions(
  exts: readonly { id: number; payload: Buffer }[],
  absId: number,
  fidId: number,
): { captureUnixMs?: number; frameId?: AssemblerFrameId } {
  let captureUnixMs: number | undefined;
  let frameId: AssemblerFrameId | undefined;
  for (const e of exts) {
    if (e.id === absId) captureUnixMs = decodeAbsCaptureTime(e.payload).captureUnixMs;
    else if (e.id === fidId) {
      const d = decodeFrameId(e.payload);
      frameId = { clipId: d.clipId, index: d.index, flags: d.flags };
    }
  }
  return { captureUnixMs, frameId };
}
