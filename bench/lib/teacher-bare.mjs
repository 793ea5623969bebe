// The fan-out baseline: a bare werift sender. Same room server (signaling only), same loopback ICE
// config, same codecs (VP8 pt 96 without rtcp-fb, Opus pt 111), same clip bytes — but none of
// proctor's streamer: no MediaProgram / playback queue, no header extensions, no own sender
// reports. Per tick it does what a werift user would: build an RtpPacket per peer and hand it to
// `sender.sendRtp` (werift mutates the packet, so one per peer), and werift's stock SR loop runs.
// The VP8 payloads are cut once at start-up (werift has no VP8 packetizer); pacing is a plain
// drift-free timer, so the baseline reaches 30 fps for the same reasons the streamer does.
import { createRequire } from "node:module";
import { loadClip } from "../../dist/streamer/clip-library.js";
import { Vp8Packetizer } from "../../dist/streamer/vp8-packetizer.js";
import { createRoomServer } from "../../dist/signaling/server.js";
import { loopbackIceConfig, isLoopbackHost } from "../../dist/webrtc/loopback.js";
import { filterCandidates } from "../../dist/webrtc/sdp.js";
import { startTicker } from "./ticker.mjs";
import { BENCH_ROOM } from "./teacher-proctor.mjs";

const werift = createRequire(import.meta.url)("werift");

const VP8_PT = 96;
const OPUS_PT = 111;
const AUDIO_PACKET_MS = 20;
const VIDEO_TS_BASE = 0x1234_5678;
const AUDIO_TS_BASE = 0x0abc_def0;

export async function createBareTeacher({ generated, fps }) {
  const clip = await loadClip(generated);
  const packetizer = new Vp8Packetizer();
  const framePayloads = clip.frames.map((f, i) => packetizer.packetize(f.data, i & 0x7fff));
  const peers = new Map();
  const live = []; // connected peers, iterated per tick

  const port = {
    async join(room, student) {
      const key = `${room}\u0000${student}`;
      peers.get(key)?.pc.close().catch(() => undefined);
      const pc = new werift.RTCPeerConnection({
        ...loopbackIceConfig(),
        codecs: {
          video: [new werift.RTCRtpCodecParameters({ mimeType: "video/VP8", clockRate: 90000, payloadType: VP8_PT, rtcpFeedback: [] })],
          audio: [new werift.RTCRtpCodecParameters({ mimeType: "audio/opus", clockRate: 48000, channels: 2, payloadType: OPUS_PT })],
        },
      });
      const video = pc.addTransceiver("video", { direction: "sendonly" }).sender;
      const audio = pc.addTransceiver("audio", { direction: "sendonly" }).sender;
      const peer = { pc, video, audio, connected: false };
      peers.set(key, peer);
      pc.connectionStateChange.subscribe((state) => {
        if (state === "connected" && !peer.connected) {
          peer.connected = true;
          live.push(peer);
        }
        if (state === "failed" || state === "closed") drop(peer);
      });
      await pc.setLocalDescription(await pc.createOffer());
      return { sdp: filterCandidates(pc.localDescription.sdp, (a) => isLoopbackHost(a)) };
    },
    async answer(room, student, sdp) {
      const peer = peers.get(`${room}\u0000${student}`);
      if (!peer) throw new Error(`bare teacher: answer from ${student}, which has not joined`);
      await peer.pc.setRemoteDescription({ type: "answer", sdp: filterCandidates(sdp, (a) => isLoopbackHost(a)) });
    },
    leave(room, student) {
      const key = `${room}\u0000${student}`;
      const peer = peers.get(key);
      if (!peer) return;
      peers.delete(key);
      drop(peer);
      peer.pc.close().catch(() => undefined);
    },
  };
  function drop(peer) {
    const i = live.indexOf(peer);
    if (i >= 0) live.splice(i, 1);
  }

  const server = await createRoomServer({ teacher: port });
  const res = await fetch(`${server.url}/rooms`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ id: BENCH_ROOM, mode: "shared" }),
  });
  if (!res.ok) throw new Error(`creating room: HTTP ${res.status} ${await res.text()}`);

  let videoSeq = 1000;
  let audioSeq = 2000;
  let framesSent = 0;
  let audioPacketsSent = 0;
  let packetsSent = 0;
  const noop = () => undefined;
  const stops = [];

  const onVideoTick = (k) => {
    const payloads = framePayloads[k % framePayloads.length];
    const timestamp = (VIDEO_TS_BASE + k * (90000 / fps)) >>> 0;
    const last = payloads.length - 1;
    for (const peer of live) {
      for (let i = 0; i <= last; i++) {
        const header = new werift.RtpHeader({ payloadType: VP8_PT, sequenceNumber: (videoSeq + i) & 0xffff, timestamp, marker: i === last });
        peer.video.sendRtp(new werift.RtpPacket(header, payloads[i])).catch(noop);
      }
      packetsSent += payloads.length;
    }
    videoSeq = (videoSeq + payloads.length) & 0xffff;
    framesSent++;
  };
  const onAudioTick = (j) => {
    const payload = clip.audio[j % clip.audio.length];
    const timestamp = (AUDIO_TS_BASE + j * 960) >>> 0;
    for (const peer of live) {
      const header = new werift.RtpHeader({ payloadType: OPUS_PT, sequenceNumber: audioSeq, timestamp, marker: false });
      peer.audio.sendRtp(new werift.RtpPacket(header, payload)).catch(noop);
    }
    packetsSent += live.length;
    audioSeq = (audioSeq + 1) & 0xffff;
    audioPacketsSent++;
  };

  return {
    url: server.url,
    start() {
      const t0 = performance.now();
      stops.push(startTicker(1000 / fps, t0, onVideoTick), startTicker(AUDIO_PACKET_MS, t0, onAudioTick));
      return { t0UnixMs: performance.timeOrigin + t0, videoTsBase: VIDEO_TS_BASE };
    },
    stats() {
      return { peers: peers.size, connected: live.length, framesSent, audioPacketsSent, packetsSent, maxPacingLatenessMs: null };
    },
    async close() {
      for (const s of stops) s();
      for (const [key, peer] of peers) {
        peers.delete(key);
        await peer.pc.close().catch(() => undefined);
      }
      await server.close();
    },
  };
}
