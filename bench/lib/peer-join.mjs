// Joining the room as a werift student, for the bench's own receivers (probe, bare-werift): the
// same sequence LightStudent.join uses (src/agents/light-student.ts) — POST join + room WebSocket
// (proctor's SignalingClient), wait for the teacher's offer, answer, wait for "connected" — with
// loopback-only ICE and candidates, so nothing leaves 127.0.0.1.
import { createRequire } from "node:module";
import { SignalingClient } from "../../dist/agents/signaling-client.js";
import { loopbackIceConfig, isLoopbackHost } from "../../dist/webrtc/loopback.js";
import { filterCandidates } from "../../dist/webrtc/sdp.js";
import { ABS_CAPTURE_TIME_URI, FRAME_ID_URI } from "../../dist/media/rtp/header-extensions.js";

export const werift = createRequire(import.meta.url)("werift");

/** A receive-only peer with LightStudent's codecs and header extensions (so every receiver kind negotiates the same wire format). */
export function newReceiverPc() {
  const exts = () => [
    new werift.RTCRtpHeaderExtensionParameters({ uri: ABS_CAPTURE_TIME_URI }),
    new werift.RTCRtpHeaderExtensionParameters({ uri: FRAME_ID_URI }),
  ];
  return new werift.RTCPeerConnection({
    ...loopbackIceConfig(),
    codecs: {
      video: [new werift.RTCRtpCodecParameters({ mimeType: "video/VP8", clockRate: 90000, rtcpFeedback: [] })],
      audio: [new werift.RTCRtpCodecParameters({ mimeType: "audio/opus", clockRate: 48000, channels: 2 })],
    },
    headerExtensions: { video: exts(), audio: exts() },
  });
}

/** Join `room` as `student`; `onTrack` is subscribed before the offer is applied. Resolves when connected. */
export async function joinPeer({ serverUrl, room, student, timeoutMs, onTrack }) {
  const t0 = performance.now();
  const signaling = await SignalingClient.join(serverUrl, room, student, "werift", { joinTimeoutMs: timeoutMs });
  try {
    const offer = await signaling.waitForOffer(timeoutMs);
    const pc = newReceiverPc();
    pc.onTrack.subscribe(onTrack);
    const connected = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${student}: not connected within ${timeoutMs} ms (state ${pc.connectionState})`)), timeoutMs);
      pc.connectionStateChange.subscribe((s) => {
        if (s === "connected") {
          clearTimeout(timer);
          resolve();
        } else if (s === "failed") {
          clearTimeout(timer);
          reject(new Error(`${student}: connection failed`));
        }
      });
    });
    await pc.setRemoteDescription({ type: "offer", sdp: filterCandidates(offer, (a) => isLoopbackHost(a)) });
    await pc.setLocalDescription(await pc.createAnswer());
    signaling.sendAnswer(filterCandidates(pc.localDescription.sdp, (a) => isLoopbackHost(a)));
    await connected;
    return { pc, signaling, joinMs: performance.now() - t0 };
  } catch (err) {
    await signaling.close().catch(() => undefined);
    throw err;
  }
}
