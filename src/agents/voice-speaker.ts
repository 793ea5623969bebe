// A light student's mouth: sends a prepared utterance's Opus packets as RTP, one every 20 ms on an
// absolute schedule (t0 + 20 i, so timer lateness does not accumulate), and records when its last
// packet of speech left — the "send" instant of a voice answer's round trip (DESIGN.md: "from the
// student sending its answer (click or end of speech)").
//
// RTP (RFC 7587 / RFC 3551): sequence numbers continue across talkspurts; the timestamp advances
// with wall time between talkspurts (nothing is sent in between, as with DTX); the marker bit is set
// on the first packet of each talkspurt.
import type { Clock } from "../clock.js";

export type VoiceRtp = { sequenceNumber: number; timestamp: number; marker: boolean; payload: Buffer };

export type SpokenUtterance = {
  startedAtUnixMs: number;
  /** When the packet carrying the last speech left (the answer's send time). */
  speechEndSentAtUnixMs: number;
  packetsSent: number;
};

export type VoiceSpeakerOptions = {
  clock: Clock;
  send: (p: VoiceRtp) => void;
  random: () => number;
};

const PACKET_MS = 20;
const PACKET_SAMPLES = 960;

export class VoiceSpeaker {
  private seq: number;
  private ts: number;
  private lastEndMs: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private speaking = false;
  private abort: (() => void) | null = null;

  constructor(private readonly opts: VoiceSpeakerOptions) {
    this.seq = Math.floor(opts.random() * 65536);
    this.ts = Math.floor(opts.random() * 2 ** 32);
  }

  get busy(): boolean {
    return this.speaking;
  }

  /** Send `packets` at 20 ms pacing; `lastSpeechPacket` indexes the last packet carrying speech. */
  speak(packets: readonly Buffer[], lastSpeechPacket: number): Promise<SpokenUtterance> {
    if (this.speaking) return Promise.reject(new Error("voice speaker: already speaking"));
    if (packets.length === 0) return Promise.reject(new Error("voice speaker: no packets to send"));
    if (!(lastSpeechPacket >= 0 && lastSpeechPacket < packets.length)) {
      return Promise.reject(new Error(`voice speaker: lastSpeechPacket = ${lastSpeechPacket} is outside 0..${packets.length - 1}`));
    }
    const { clock } = this.opts;
    const t0 = clock.nowMs();
    if (this.lastEndMs !== null) {
      // The timestamp runs on through the pause (at least one packet's worth).
      this.ts = (this.ts + Math.max(1, Math.round((t0 - this.lastEndMs) / PACKET_MS)) * PACKET_SAMPLES) >>> 0;
    }
    this.speaking = true;
    let i = 0;
    let speechEndSentAtUnixMs = Number.NaN;
    return new Promise((resolve, reject) => {
      this.abort = () => {
        this.speaking = false;
        reject(new Error("voice speaker: stopped while speaking"));
      };
      const step = (): void => {
        this.timer = null;
        if (this.stopped) return this.abort?.();
        // Catch up on any packet whose slot has passed (a late timer), then wait for the next slot.
        while (i < packets.length && clock.nowMs() >= t0 + i * PACKET_MS) {
          this.opts.send({ sequenceNumber: this.seq, timestamp: this.ts, marker: i === 0, payload: packets[i]! });
          if (i === lastSpeechPacket) speechEndSentAtUnixMs = clock.toUnixMs(clock.nowMs());
          this.seq = (this.seq + 1) & 0xffff;
          this.ts = (this.ts + PACKET_SAMPLES) >>> 0;
          i++;
        }
        if (i < packets.length) {
          this.timer = setTimeout(step, Math.max(0, t0 + i * PACKET_MS - clock.nowMs()));
          return;
        }
        this.lastEndMs = clock.nowMs();
        this.speaking = false;
        this.abort = null;
        resolve({ startedAtUnixMs: clock.toUnixMs(t0), speechEndSentAtUnixMs, packetsSent: packets.length });
      };
      step();
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.abort?.();
    this.abort = null;
  }
}
