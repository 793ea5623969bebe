// The AI teacher's side of every student: one werift RTCPeerConnection per student (max-bundle,
// send-only VP8 + Opus), fed by the room's MediaProgram. It meets students only over the network:
// the room server calls join/answer/leave (structurally the signaling TeacherPort).
import type { Clock } from "../clock.js";
import { werift, type RTCPeerConnection, type RTCRtpSender } from "../webrtc/werift.js";
import { loopbackIceConfig, isLoopbackHost, interfaceIceConfig, allowedHost, type IceAddresses } from "../webrtc/loopback.js";
import { filterCandidates, parseExtmap } from "../webrtc/sdp.js";
import { ABS_CAPTURE_TIME_URI, FRAME_ID_URI } from "../media/rtp/header-extensions.js";
import { MediaProgram, type OutPacket } from "./media-program.js";
import { SenderReportLoop, disableWeriftSenderReports } from "./sender-report.js";
import { dlrrPacket, installXrParsing, isXrPacket } from "../webrtc/rtcp-xr.js";

installXrParsing();

export const VP8_PAYLOAD_TYPE = 96;
const LESSON_STREAM_ID = "lesson";
const BROWSER_VIDEO_FEEDBACK = [{ type: "nack" }, { type: "nack", parameter: "pli" }, { type: "rrtr" }];
export const OPUS_PAYLOAD_TYPE = 111;

type ExtIds = { absCaptureTime?: number; frameId?: number };

type Peer = {
  room: string;
  student: string;
  pc: RTCPeerConnection;
  video: RTCRtpSender;
  audio: RTCRtpSender;
  ext: { video: ExtIds; audio: ExtIds };
  unsubscribe?: () => void;
  reports: SenderReportLoop[];
  connectedAtMs?: number;
  joinedAtMs: number;
  packetsSent: number;
  /** Report blocks about the video stream from the student's receiver reports (RTT, RFC 3550 §6.4.1). */
  reportBlocks: { arrivalUnixMs: number; lsr: number; dlsr: number }[];
  /** Which candidate addresses this peer accepts (loopback, or its explicit ICE addresses). */
  keepAddress: (address: string) => boolean;
};

export type TeacherEvents = {
  onPeerState?: (room: string, student: string, state: string) => void;
};

export type TeacherOptions = {
  clock: Clock;
  random: () => number;
  /** Students not on loopback (tc backend: in their own network namespace): the addresses their peer uses. */
  iceAddresses?: (room: string, student: string) => IceAddresses | undefined;
} & TeacherEvents;

export class Teacher {
  private readonly programs = new Map<string, MediaProgram>();
  private readonly peers = new Map<string, Peer>();
  /** Report blocks of peers that left, kept for the run report. */
  private readonly lastBlocks = new Map<string, Peer["reportBlocks"]>();

  constructor(private readonly opts: TeacherOptions) {}

  /**
   * Attach a program (created and started by the caller: the lesson decides what plays): the
   * room's shared one, or — with `student` — that student's own (per-student mode; the encoded
   * clips stay shared, only the queue and RTP state are per student).
   */
  setProgram(room: string, program: MediaProgram, student?: string): void {
    this.programs.set(student === undefined ? room : peerKey(room, student), program);
    for (const p of this.peers.values()) {
      if (p.room === room && (student === undefined || p.student === student) && p.connectedAtMs !== undefined) this.attach(p);
    }
  }

  /** The program a student receives: its own, else the room's. */
  program(room: string, student?: string): MediaProgram | undefined {
    return (student !== undefined ? this.programs.get(peerKey(room, student)) : undefined) ?? this.programs.get(room);
  }

  /** Answers from students go to this handler (set by whoever runs the lesson). */
  onQuizAnswer: ((room: string, student: string, a: { questionId: string; choice: string; sentAtUnixMs: number; receivedAtUnixMs: number }) => void) | null = null;

  quizAnswer(room: string, student: string, a: { questionId: string; choice: string; sentAtUnixMs: number; receivedAtUnixMs: number }): void {
    this.onQuizAnswer?.(room, student, a);
  }

  /** Each RTP packet of a student's voice (third m-line) goes to this handler; arrivalMs on the clock. */
  onVoiceRtp: ((room: string, student: string, p: { timestamp: number; payload: Buffer; arrivalMs: number }) => void) | null = null;

  async join(room: string, student: string, info: { agent: string }): Promise<{ sdp: string }> {
    const key = peerKey(room, student);
    this.peers.get(key)?.pc.close().catch(() => undefined);
    const exts = [
      new werift.RTCRtpHeaderExtensionParameters({ uri: ABS_CAPTURE_TIME_URI }),
      new werift.RTCRtpHeaderExtensionParameters({ uri: FRAME_ID_URI }),
    ];
    const ice = this.opts.iceAddresses?.(room, student);
    const keepAddress = ice ? allowedHost(ice.allowed) : isLoopbackHost;
    const pc = new werift.RTCPeerConnection({
      ...(ice ? interfaceIceConfig(ice.local, ice.allowed) : loopbackIceConfig()),
      codecs: {
        video: [
          new werift.RTCRtpCodecParameters({
            mimeType: "video/VP8",
            clockRate: 90000,
            payloadType: VP8_PAYLOAD_TYPE,
            // werift's receiver turns any "nack*" feedback (even "nack pli") into its own
            // aggressive NACK loop (WERIFT.md), so light students get none (they NACK by their own
            // generator). Browsers get NACK/PLI, and RRTR so they learn an RTT (captureTime).
            rtcpFeedback: info.agent === "chromium" ? BROWSER_VIDEO_FEEDBACK.map((f) => new werift.RTCRtcpFeedback(f)) : [],
          }),
        ],
        audio: [
          new werift.RTCRtpCodecParameters({ mimeType: "audio/opus", clockRate: 48000, channels: 2, payloadType: OPUS_PAYLOAD_TYPE }),
        ],
      },
      headerExtensions: { video: exts, audio: exts },
    });
    const video = pc.addTransceiver("video", { direction: "sendonly" }).sender;
    const audio = pc.addTransceiver("audio", { direction: "sendonly" }).sender;
    // Third m-line (video, audio, voice): the student's spoken answers. A student that does not
    // speak answers it inactive; one that does sends Opus on it (voice-listener.ts hears it).
    pc.addTransceiver("audio", { direction: "recvonly" }).onTrack.subscribe((track) =>
      track.onReceiveRtp.subscribe((rtp) => this.onVoiceRtp?.(room, student, { timestamp: rtp.header.timestamp, payload: rtp.payload, arrivalMs: this.opts.clock.nowMs() })),
    );
    // One media stream id for both tracks (a=msid): browsers lip-sync only tracks of one stream.
    video.streamId = LESSON_STREAM_ID;
    audio.streamId = LESSON_STREAM_ID;
    disableWeriftSenderReports(video);
    disableWeriftSenderReports(audio);
    const peer: Peer = { room, student, pc, video, audio, ext: { video: {}, audio: {} }, reports: [], joinedAtMs: this.opts.clock.nowMs(), packetsSent: 0, reportBlocks: [], keepAddress };
    video.onRtcp.subscribe((packet) => {
      if (packet.type !== werift.RtcpRrPacket.type && packet.type !== werift.RtcpSrPacket.type) return;
      const arrivalUnixMs = this.opts.clock.toUnixMs(this.opts.clock.nowMs());
      for (const b of (packet as InstanceType<typeof werift.RtcpRrPacket>).reports) {
        if (b.ssrc === video.ssrc && b.lsr !== 0) peer.reportBlocks.push({ arrivalUnixMs, lsr: b.lsr, dlsr: b.dlsr });
      }
    });
    this.peers.set(key, peer);
    pc.connectionStateChange.subscribe((state) => {
      this.opts.onPeerState?.(room, student, state);
      if (state === "connected" && peer.connectedAtMs === undefined) {
        peer.connectedAtMs = this.opts.clock.nowMs();
        this.answerXr(peer);
        this.attach(peer);
      }
      if (state === "failed" || state === "closed") this.detach(peer);
    });
    await pc.setLocalDescription(await pc.createOffer());
    const sdp = pc.localDescription?.sdp;
    if (!sdp) throw new Error(`teacher: no local description for ${room}/${student}`);
    return { sdp: filterCandidates(sdp, (addr) => keepAddress(addr)) };
  }

  async answer(room: string, student: string, sdp: string): Promise<void> {
    const peer = this.peers.get(peerKey(room, student));
    if (!peer) throw new Error(`teacher: answer from ${room}/${student}, which has not joined`);
    const ids = parseExtmap(sdp);
    peer.ext.video = { absCaptureTime: ids.video.get(ABS_CAPTURE_TIME_URI), frameId: ids.video.get(FRAME_ID_URI) };
    peer.ext.audio = { absCaptureTime: ids.audio.get(ABS_CAPTURE_TIME_URI), frameId: ids.audio.get(FRAME_ID_URI) };
    await peer.pc.setRemoteDescription({ type: "answer", sdp: filterCandidates(sdp, (addr) => peer.keepAddress(addr)) });
  }

  leave(room: string, student: string): void {
    const key = peerKey(room, student);
    const peer = this.peers.get(key);
    if (!peer) return;
    this.peers.delete(key);
    this.lastBlocks.set(key, peer.reportBlocks);
    this.detach(peer);
    peer.pc.close().catch(() => undefined);
  }

  /** Per-student sending figures (for the run report). */
  peerStats(): { room: string; student: string; packetsSent: number; connectMs?: number }[] {
    return [...this.peers.values()].map((p) => ({
      room: p.room,
      student: p.student,
      packetsSent: p.packetsSent,
      connectMs: p.connectedAtMs === undefined ? undefined : p.connectedAtMs - p.joinedAtMs,
    }));
  }

  /** Receiver-report timing of a student's video stream, for RTT (A − LSR − DLSR). */
  reportBlocks(room: string, student: string): readonly { arrivalUnixMs: number; lsr: number; dlsr: number }[] {
    return this.peers.get(peerKey(room, student))?.reportBlocks ?? this.lastBlocks.get(peerKey(room, student)) ?? [];
  }

  async close(): Promise<void> {
    for (const p of [...this.peers.values()]) this.leave(p.room, p.student);
    for (const prog of this.programs.values()) prog.stop();
  }

  private attach(peer: Peer): void {
    const program = this.program(peer.room, peer.student);
    if (!program || peer.unsubscribe) return;
    const { clock, random } = this.opts;
    peer.reports = [
      new SenderReportLoop(peer.video, { rtpTimestampAt: (t) => program.rtpTimestampAt("video", t), ready: () => program.started && peer.packetsSent > 0 }, clock, random),
      new SenderReportLoop(peer.audio, { rtpTimestampAt: (t) => program.rtpTimestampAt("audio", t), ready: () => program.started && peer.packetsSent > 0 }, clock, random),
    ];
    for (const r of peer.reports) r.start(50 + random() * 100);
    peer.unsubscribe = program.subscribe((kind, packets) => {
      const sender = kind === "video" ? peer.video : peer.audio;
      const ids = kind === "video" ? peer.ext.video : peer.ext.audio;
      for (const p of packets) {
        // werift's sender mutates the packet it is given: each peer gets its own header object.
        sender.sendRtp(toRtpPacket(p, ids)).catch(() => undefined);
      }
      peer.packetsSent += packets.length;
    });
  }

  /** Answer every RRTR (RFC 3611) from the student with a DLRR at once (delay ≈ 0). */
  private answerXr(peer: Peer): void {
    const transport = (peer.video as unknown as { dtlsTransport?: { onRtcp: { subscribe(f: (p: unknown) => void): unknown }; sendRtcp(p: { serialize(): Buffer }[]): Promise<unknown> } }).dtlsTransport;
    if (!transport) return;
    transport.onRtcp.subscribe((p) => {
      if (!isXrPacket(p)) return;
      const receivedMs = this.opts.clock.nowMs();
      for (const r of p.rrtr) {
        const buf = dlrrPacket(peer.video.ssrc, p.ssrc, r, this.opts.clock.nowMs() - receivedMs);
        transport.sendRtcp([{ serialize: () => buf }]).catch(() => undefined);
      }
    });
  }

  private detach(peer: Peer): void {
    peer.unsubscribe?.();
    peer.unsubscribe = undefined;
    for (const r of peer.reports) r.stop();
    peer.reports = [];
  }
}

function peerKey(room: string, student: string): string {
  return `${room}\u0000${student}`;
}

function toRtpPacket(p: OutPacket, ids: ExtIds): InstanceType<typeof werift.RtpPacket> {
  const extensions: { id: number; payload: Buffer }[] = [];
  if (ids.absCaptureTime !== undefined) extensions.push({ id: ids.absCaptureTime, payload: p.absCaptureTime });
  if (ids.frameId !== undefined) extensions.push({ id: ids.frameId, payload: p.frameId });
  const header = new werift.RtpHeader({
    sequenceNumber: p.sequenceNumber,
    timestamp: p.timestamp,
    marker: p.marker,
    extension: extensions.length > 0,
    extensions,
  });
  return new werift.RtpPacket(header, p.payload);
}
