// The system under test for density: proctor's LightStudent, unchanged, with all its observations
// on (per-frame and per-audio-packet records, receive statistics, sender reports). The bench only
// reads what it recorded: counters at the window's edges, and e2e of the frames completed inside
// the window (completion − capture time from the RTP timestamp, as for every receiver kind).
import { systemClock } from "../../dist/clock.js";
import { LightStudent } from "../../dist/agents/light-student.js";
import { captureUnixMs } from "./rtp-clock.mjs";

export class LightReceiver {
  mapping = null;
  #firstFrame = 0;

  constructor(name, serverUrl, room) {
    this.name = name;
    this.serverUrl = serverUrl;
    this.room = room;
  }

  async join(timeoutMs) {
    this.agent = new LightStudent({ serverUrl: this.serverUrl, room: this.room, student: this.name, clock: systemClock, joinTimeoutMs: timeoutMs });
    await this.agent.join();
    return this.agent.joinMs;
  }

  snapshot() {
    const a = this.agent;
    return {
      vRecv: a.videoStats.packetsReceived,
      vExp: a.videoStats.packetsExpected,
      aRecv: a.audioStats.packetsReceived,
      aExp: a.audioStats.packetsExpected,
      frames: a.frames.length,
    };
  }

  startWindow() {
    this.#firstFrame = this.agent.frames.length;
  }

  endWindow() {
    const out = [];
    const frames = this.agent.frames;
    for (let i = this.#firstFrame; i < frames.length; i++) {
      const f = frames[i];
      if (this.mapping) out.push(f.completeUnixMs - captureUnixMs(this.mapping, f.rtpTimestamp));
    }
    return out;
  }

  async leave() {
    await this.agent?.leave().catch(() => undefined);
  }
}
