// The density baseline: a bare werift student using werift's own receive helpers, as werift's
// examples wire them — RtpSourceCallback → JitterBufferCallback → DepacketizeCallback("vp8", frame
// ends at the marker bit) for video, the same chain with "opus" for audio. werift is loaded only
// through its CommonJS copy (WERIFT.md: the ESM bundle duplicates its classes). The bench adds a
// sequence counter per packet (loss) and, in the window, e2e per depacketized frame; nothing else.
import { createRequire } from "node:module";
import { joinPeer } from "./peer-join.mjs";
import { SeqCounter } from "./seq-counter.mjs";
import { captureUnixMs, nowUnixMs } from "./rtp-clock.mjs";

const { RtpSourceCallback, JitterBufferCallback, DepacketizeCallback } = createRequire(import.meta.url)("werift/nonstandard");

export class BareReceiver {
  video = new SeqCounter();
  audio = new SeqCounter();
  frames = 0;
  audioFrames = 0;
  e2e = [];
  recording = false;
  mapping = null;
  #pc = null;
  #signaling = null;

  constructor(name, serverUrl, room) {
    this.name = name;
    this.serverUrl = serverUrl;
    this.room = room;
  }

  async join(timeoutMs) {
    const { pc, signaling, joinMs } = await joinPeer({
      serverUrl: this.serverUrl,
      room: this.room,
      student: this.name,
      timeoutMs,
      onTrack: (track) => {
        const video = track.kind === "video";
        const source = new RtpSourceCallback();
        const jitter = new JitterBufferCallback(video ? 90000 : 48000);
        const depacketizer = video
          ? new DepacketizeCallback("vp8", { isFinalPacketInSequence: (h) => h.marker })
          : new DepacketizeCallback("opus");
        source.pipe(jitter.input);
        jitter.pipe(depacketizer.input);
        const counter = video ? this.video : this.audio;
        if (video) {
          depacketizer.pipe((o) => {
            if (!o.frame) return;
            this.frames++;
            if (this.recording && this.mapping) this.e2e.push(nowUnixMs() - captureUnixMs(this.mapping, o.frame.timestamp));
          });
        } else {
          depacketizer.pipe((o) => {
            if (o.frame) this.audioFrames++;
          });
        }
        track.onReceiveRtp.subscribe((rtp) => {
          counter.push(rtp.header.sequenceNumber);
          source.input(rtp);
        });
      },
    });
    this.#pc = pc;
    this.#signaling = signaling;
    return joinMs;
  }

  snapshot() {
    return { vRecv: this.video.received, vExp: this.video.expected, aRecv: this.audio.received, aExp: this.audio.expected, frames: this.frames };
  }

  startWindow() {
    this.e2e = [];
    this.recording = true;
  }

  endWindow() {
    this.recording = false;
    return this.e2e;
  }

  async leave() {
    await this.#signaling?.close().catch(() => undefined);
    await this.#pc?.close().catch(() => undefined);
  }
}
