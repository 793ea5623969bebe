// The fan-out bench's receiver: as cheap as a werift receiver can be, so the students' side is not
// what limits a fan-out run. Per packet it counts sequence numbers (loss); a video frame is counted
// when its marker packet arrives, and during the measurement window its e2e latency (arrival −
// capture time from the RTP timestamp, rtp-clock.mjs) is kept. Same receiver for both teachers.
import { joinPeer } from "./peer-join.mjs";
import { SeqCounter } from "./seq-counter.mjs";
import { captureUnixMs, nowUnixMs } from "./rtp-clock.mjs";

export class ProbeReceiver {
  video = new SeqCounter();
  audio = new SeqCounter();
  frames = 0;
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
        if (track.kind === "video") {
          track.onReceiveRtp.subscribe((rtp) => {
            const h = rtp.header;
            this.video.push(h.sequenceNumber);
            if (h.marker) {
              this.frames++;
              if (this.recording && this.mapping) this.e2e.push(nowUnixMs() - captureUnixMs(this.mapping, h.timestamp));
            }
          });
        } else {
          track.onReceiveRtp.subscribe((rtp) => this.audio.push(rtp.header.sequenceNumber));
        }
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
