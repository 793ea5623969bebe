// The reference browser student: joins a proctor room like a light student does (POST
// /rooms/:room/join, then the room WebSocket; the teacher offers, the page answers non-trickle),
// plays the teacher's video in a <video> and its audio in an <audio> element (Chromium pulls its
// audio jitter buffer only for a playing element, CHROMIUM.md), and lets the pixel probe measure
// both. What the driver needs (state, questions, results) is on `window.__proctorStudent`; the
// driver, not the page, decides when and what to answer.
//
// Query: room, student (required); voice=1 sends the microphone (Chromium's fake capture fed from
// the prepared utterance) on the teacher's voice m-line whenever speak() is called; probe=0 plays
// without the pixel probe (plain playback, for the browsers bench's cost comparison); nack=0
// answers without NACK (loss unrepaired).

type Question = { questionId: string; choices: string[]; deadlineUnixMs: number; askedAtUnixMs: number; receivedAtUnixMs: number };
type Result = { questionId: string; correct: boolean; score?: number; clip: string; reason: string; receivedAtUnixMs?: number; assessedAtUnixMs?: number; decidedAtUnixMs: number; arrivedAtUnixMs: number };

export type StudentState = {
  room: string;
  student: string;
  state: "joining" | "signaling" | "connecting" | "connected" | "failed" | "left";
  joinStartedUnixMs: number;
  connectedUnixMs?: number;
  iceState?: string;
  questions: Question[];
  results: Result[];
  answers: { questionId: string; choice: string; sentAtUnixMs: number; ackedUnixMs?: number }[];
  errors: string[];
  pc?: RTCPeerConnection;
  answer(questionId: string, choice: string): void;
  /** Send the microphone for `ms` (voice answer); resolves with when it started (page clock). */
  speak(ms: number): Promise<number>;
  leave(): void;
};

declare global {
  interface Window {
    __proctorStudent?: StudentState;
  }
}

import { hookPeerConnections, installProbe } from "./probe.js";

const now = (): number => performance.timeOrigin + performance.now();
let msgNo = 0;

export async function startStudent(params: URLSearchParams): Promise<StudentState> {
  // The pixel probe: every pc this page makes is polled (getStats), every playing <video>/<audio>
  // with a MediaStream is measured (frame codes, flashes, audio markers).
  const pcs = hookPeerConnections();
  const probe = params.get("probe") === "0" ? undefined : installProbe();
  probe?.autoWatch();
  probe?.pollStats(pcs);
  const room = params.get("room") ?? "";
  const student = params.get("student") ?? "";
  const status = document.getElementById("status");
  const say = (s: string): void => {
    if (status) status.textContent = s;
  };
  let ws: WebSocket | undefined;
  let voiceSender: RTCRtpSender | undefined;
  const st: StudentState = {
    room,
    student,
    state: "joining",
    joinStartedUnixMs: now(),
    questions: [],
    results: [],
    answers: [],
    errors: [],
    answer(questionId, choice) {
      const sentAtUnixMs = now();
      const id = `a${++msgNo}`;
      st.answers.push({ questionId, choice, sentAtUnixMs });
      ws?.send(JSON.stringify({ type: "quiz-answer", id, questionId, choice, sentAtUnixMs }));
    },
    async speak(ms) {
      if (!voiceSender) throw new Error("speak: this student has no voice line (join with voice=1)");
      // A fresh capture each time: Chromium's fake microphone plays its file from the start when a
      // capture opens (%noloop: once), so the utterance starts now, not at some loop phase.
      const mic = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false } });
      const track = mic.getAudioTracks()[0];
      if (!track) throw new Error("speak: getUserMedia gave no audio track");
      await voiceSender.replaceTrack(track);
      const startedAt = now();
      await new Promise((r) => setTimeout(r, ms));
      await voiceSender.replaceTrack(null);
      track.stop();
      return startedAt;
    },
    leave() {
      st.state = "left";
      probe?.stop();
      try {
        ws?.send(JSON.stringify({ type: "leave" }));
      } catch {
        // socket already gone
      }
      ws?.close();
      st.pc?.close();
    },
  };
  window.__proctorStudent = st;
  if (!room || !student) {
    st.state = "failed";
    st.errors.push(`query must name room and student, got "${location.search}"`);
    say(st.errors[0]!);
    return st;
  }
  try {
    const res = await fetch(`/rooms/${encodeURIComponent(room)}/join`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ student, agent: "chromium" }),
    });
    const body = (await res.json()) as { token?: string; ws?: string; error?: { message?: string } };
    if (!res.ok || !body.ws) throw new Error(`join: HTTP ${res.status} ${body.error?.message ?? ""}`);
    st.state = "signaling";
    // Same authority as the page: the browser resolves nothing but localhost (host-resolver rules).
    const wsUrl = new URL(body.ws);
    wsUrl.host = location.host;
    ws = new WebSocket(wsUrl);
    ws.onmessage = (ev) => {
      let msg: { type?: string; [k: string]: unknown };
      try {
        msg = JSON.parse(String(ev.data)) as typeof msg;
      } catch {
        st.errors.push(`bad server message: ${String(ev.data).slice(0, 80)}`);
        return;
      }
      if (msg.type === "offer" && typeof msg.sdp === "string") onOffer(msg.sdp).catch((e: Error) => fail(`answering the offer: ${e.message}`));
      else if (msg.type === "question") st.questions.push({ ...(msg as unknown as Omit<Question, "receivedAtUnixMs">), receivedAtUnixMs: now() });
      else if (msg.type === "assessment-result") st.results.push({ ...(msg as unknown as Omit<Result, "arrivedAtUnixMs">), arrivedAtUnixMs: now() });
      else if (msg.type === "ack") {
        const a = st.answers.find((x, i) => `a${i + 1}` === msg.id);
        if (a) a.ackedUnixMs = now();
      } else if (msg.type === "error") st.errors.push(`server: ${String(msg.message)}`);
    };
    ws.onclose = () => {
      if (st.state !== "left" && st.state !== "failed") st.errors.push("room WebSocket closed");
    };
  } catch (e) {
    fail((e as Error).message);
  }
  return st;

  function fail(m: string): void {
    st.state = "failed";
    st.errors.push(m);
    say(`failed: ${m}`);
  }

  async function onOffer(sdp: string): Promise<void> {
    st.state = "connecting";
    const pc = new RTCPeerConnection({ iceServers: [], bundlePolicy: "max-bundle" });
    st.pc = pc;
    const remote = new MediaStream();
    pc.ontrack = (ev) => {
      if (ev.transceiver.direction === "sendonly") return;
      remote.addTrack(ev.track);
      const video = document.getElementById("video") as HTMLVideoElement;
      const audio = document.getElementById("audio") as HTMLAudioElement;
      if (ev.track.kind === "video") video.srcObject = new MediaStream([ev.track]);
      else audio.srcObject = new MediaStream([ev.track]);
      video.play().catch(() => undefined);
      audio.play().catch(() => undefined);
    };
    pc.oniceconnectionstatechange = () => {
      st.iceState = pc.iceConnectionState;
    };
    pc.onconnectionstatechange = () => {
      if (pc.connectionState === "connected" && st.connectedUnixMs === undefined) {
        st.connectedUnixMs = now();
        st.state = "connected";
        say(`connected ${student}@${room}`);
      }
      if (pc.connectionState === "failed") fail("peer connection failed");
    };
    // nack=0: answer without generic NACK (the group's `nack: false`), so loss stays unrepaired and
    // the browser measures the network's own loss, as a light student with nack off does.
    const offer = params.get("nack") === "0" ? sdp.replace(/^a=rtcp-fb:\d+ nack\r\n/gm, "") : sdp;
    await pc.setRemoteDescription({ type: "offer", sdp: offer });
    // The teacher's third m-line (audio it receives) carries a voice answer.
    const voice = pc.getTransceivers().find((t, i) => i >= 2 && t.receiver.track.kind === "audio");
    if (voice) {
      if (params.get("voice") === "1") {
        // Negotiated now, silent (no track) until speak() attaches a capture.
        voice.direction = "sendonly";
        voiceSender = voice.sender;
      } else voice.direction = "inactive";
    }
    await pc.setLocalDescription(await pc.createAnswer());
    await gatheringDone(pc, 3000);
    ws?.send(JSON.stringify({ type: "answer", sdp: loopbackCandidates(pc.localDescription?.sdp ?? "") }));
  }
}

/**
 * Chromium gathers on its default interface only (not loopback), with each UDP socket bound to
 * any address. Announce those sockets at 127.0.0.1 and drop every other candidate, so the teacher
 * (or the student's netem relay) reaches this page over loopback and nothing else.
 */
export function loopbackCandidates(sdp: string): string {
  return sdp
    .split("\r\n")
    .flatMap((line) => {
      if (!line.startsWith("a=candidate:")) return [line];
      const f = line.split(" ");
      // candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> …
      if (f[2]?.toLowerCase() !== "udp" || f[7] !== "host" || !/^\d+\.\d+\.\d+\.\d+$/.test(f[4] ?? "")) return [];
      f[4] = "127.0.0.1";
      return [f.join(" ")];
    })
    .join("\r\n");
}

function gatheringDone(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(resolve, timeoutMs);
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") {
        clearTimeout(t);
        resolve();
      }
    });
  });
}
