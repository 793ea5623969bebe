// Wire-tier pipeline bench (issue 4): what proctor's light-student observation pipeline costs per
// student, in µs of CPU per second of media, beside the bare receive path, in the same run.
//
// No network: a recorded packet stream is replayed in-process, so the figure is the pipeline alone.
//  1. Stream: ~20 s of the bench clip (lib/clip.mjs), built exactly as the streamer's MediaProgram
//     builds it (dist/streamer/media-program.js: Vp8Packetizer payloads, 30 fps video ticks, 20 ms
//     Opus ticks, abs-capture-time + frame-id extensions, random seq/ts/picture-id starts, the clip
//     looped with its last frame flagged), then serialized with werift's RtpPacket (one-byte
//     header extensions, ids 1 and 2). Arrival = capture + 20 ms (+ 0.1 ms per packet of a frame).
//  2. Schedule: one dry run with a real LightStudent fixes the event list — packet arrivals, the
//     student's 10-ms NACK timer, the runner's once-a-second sampling. With loss (30 % random,
//     seeded, audio and video alike) each NACKed packet is retransmitted 20 ms later and lost again
//     with the same 30 %, so the assembler, NackGenerator and receive stats see real repair traffic.
//     The replay is deterministic: every timed run repeats the dry run exactly (checked).
//  3. Timed, alternating in rounds on the same schedule:
//     bare    = werift RtpPacket.deSerialize of every arriving packet (what any receiver pays);
//     proctor = deSerialize + the LightStudent's own per-packet handlers (dist/agents/light-student.js,
//               reached through its non-exported methods onVideoRtp / onAudioRtp / sendNacks: extension
//               decode, SeqUnwrapper, NackGenerator, ReceiveStats, FrameAssembler, observation records;
//               NACKs are built and serialized as werift RTCP but not encrypted or sent) + its NACK
//               timer + the runner's per-second samples (counter snapshot + wireSamplesPerSecond) +
//               the end of the session (flush, summarizeWire), amortised over the media seconds.
//     CPU is process.cpuUsage (user + system, GC threads included) around each batch; the figure is
//     the median over rounds of CPU µs per student per second of media; the ratio is the median of the
//     rounds' own proctor ÷ bare (batches run back to back), which a noisy shared machine disturbs least.
import { createRequire } from "node:module";
import { loadClip } from "../dist/streamer/clip-library.js";
import { Vp8Packetizer, nextPictureId } from "../dist/streamer/vp8-packetizer.js";
import { encodeAbsCaptureTime, encodeFrameId, FRAME_FLAG_LAST_OF_CLIP } from "../dist/media/rtp/header-extensions.js";
import { LightStudent } from "../dist/agents/light-student.js";
import { summarizeWire, wireSamplesPerSecond } from "../dist/metrics/wire-summary.js";
import { ManualClock } from "../dist/clock.js";
import { seededRandom } from "../dist/random.js";
import { cpuSample, cpuBetween, waitForQuiet } from "./lib/cpu.mjs";
import { percentile, round } from "./lib/stats.mjs";
import { cpus } from "node:os";

const werift = createRequire(import.meta.url)("werift");

export const PIPELINE_MEDIA_SECONDS = 20;
export const PIPELINE_LOSS = 0.3;
const ARRIVAL_DELAY_MS = 20;
const PACKET_SPACING_MS = 0.1;
const RTX_RTT_MS = 20;
const NACK_TIMER_MS = 10; // LightStudent's NACK_POLL_MS
const EXT_ABS = 1;
const EXT_FID = 2;
const VIDEO_SSRC = 0x1234_5678;
const AUDIO_SSRC = 0x2345_6789;
const ORIGIN_UNIX_MS = 1_790_000_000_000;
const AUDIO_PACKET_MS = 20;

const EV_PACKET = 0;
const EV_NACK_TIMER = 1;
const EV_SECOND = 2;

// ─── the stream ──────────────────────────────────────────────────────────────────────────────────

/** ~`seconds` of the clip as the streamer sends it: serialized RTP packets in arrival order. */
export function buildStream(clip, seconds = PIPELINE_MEDIA_SECONDS) {
  const r = seededRandom(20_261_123);
  let videoSeq = Math.floor(r() * 0x10000);
  let audioSeq = Math.floor(r() * 0x10000);
  const videoTsBase = Math.floor(r() * 0x100000000);
  const audioTsBase = Math.floor(r() * 0x100000000);
  let pictureId = Math.floor(r() * 0x8000);
  const packetizer = new Vp8Packetizer();
  const t0 = 1_000; // monotonic ms of video tick 0
  const packets = []; // { buf, video, arrivalMs, seq }
  const sentFrameCaptureUnixMs = [];
  const frameMs = 1000 / clip.fps;
  const nFrames = Math.round((seconds * 1000) / frameMs);
  for (let k = 0; k < nFrames; k++) {
    const index = k % clip.frames.length;
    const captureMs = t0 + k * frameMs;
    const timestamp = (videoTsBase + Math.round((k * 90_000) / clip.fps)) >>> 0;
    const abs = encodeAbsCaptureTime(ORIGIN_UNIX_MS + captureMs);
    const fid = encodeFrameId({ clipId: clip.clipId, index, flags: index === clip.frames.length - 1 ? FRAME_FLAG_LAST_OF_CLIP : 0 });
    const payloads = packetizer.packetize(clip.frames[index].data, pictureId);
    pictureId = nextPictureId(pictureId);
    sentFrameCaptureUnixMs.push(ORIGIN_UNIX_MS + captureMs);
    payloads.forEach((payload, i) => {
      const marker = i === payloads.length - 1;
      packets.push({ buf: serialize(96, VIDEO_SSRC, videoSeq, timestamp, marker, abs, fid, payload), video: true, seq: videoSeq, arrivalMs: captureMs + ARRIVAL_DELAY_MS + i * PACKET_SPACING_MS });
      videoSeq = (videoSeq + 1) & 0xffff;
    });
  }
  const nAudio = Math.round((seconds * 1000) / AUDIO_PACKET_MS);
  for (let j = 0; j < nAudio; j++) {
    const index = j % clip.audio.length;
    const captureMs = t0 + j * AUDIO_PACKET_MS;
    const timestamp = (audioTsBase + j * 960) >>> 0;
    const abs = encodeAbsCaptureTime(ORIGIN_UNIX_MS + captureMs);
    const fid = encodeFrameId({ clipId: clip.clipId, index, flags: 0 });
    packets.push({ buf: serialize(111, AUDIO_SSRC, audioSeq, timestamp, false, abs, fid, clip.audio[index]), video: false, seq: audioSeq, arrivalMs: captureMs + ARRIVAL_DELAY_MS });
    audioSeq = (audioSeq + 1) & 0xffff;
  }
  packets.sort((a, b) => a.arrivalMs - b.arrivalMs);
  const videoPackets = packets.filter((p) => p.video).length;
  return {
    packets,
    seconds: nFrames / clip.fps,
    t0,
    fps: clip.fps,
    videoTsBase,
    audioTsBase,
    sentFrameCaptureUnixMs,
    videoPackets,
    audioPackets: packets.length - videoPackets,
    bytes: packets.reduce((n, p) => n + p.buf.length, 0),
  };
}

function serialize(payloadType, ssrc, sequenceNumber, timestamp, marker, abs, fid, payload) {
  const header = new werift.RtpHeader({
    payloadType,
    ssrc,
    sequenceNumber,
    timestamp,
    marker,
    extension: true,
    extensions: [
      { id: EXT_ABS, payload: abs },
      { id: EXT_FID, payload: fid },
    ],
  });
  return new werift.RtpPacket(header, payload).serialize();
}

/** Media packets per second of one student's stream (both kinds), for the relay bench. */
export async function mediaPacketRate(generated) {
  const s = buildStream(await loadClip(generated), 6);
  return s.packets.length / s.seconds;
}

// ─── the light student, driven without a network ─────────────────────────────────────────────────

/** A LightStudent wired for replay: manual clock, extension ids, a peer stub that serializes NACKs. */
function newStudent(stream) {
  const clock = new ManualClock(0, ORIGIN_UNIX_MS);
  const s = new LightStudent({ serverUrl: "ws://replay.invalid", room: "bench", student: "s1", clock });
  for (const m of ["onVideoRtp", "onAudioRtp", "sendNacks"]) {
    if (typeof s[m] !== "function") throw new Error(`pipeline bench: LightStudent.${m} is gone; update bench/pipeline.mjs to the light student's new per-packet entry points`);
  }
  s.ext = { video: { abs: EXT_ABS, fid: EXT_FID }, audio: { abs: EXT_ABS, fid: EXT_FID } };
  // sendNacks looks the video receiver up and hands it werift RTCP: serialize it (SRTCP and the socket are left out).
  const receiver = { dtlsTransport: { sendRtcp: async (pkts) => { for (const p of pkts) p.serialize(); } } };
  s.pc = { getTransceivers: () => [{ kind: "video", receiver }] };
  return { s, clock, snapshots: [], cursor: 0, points: 0, stream };
}

function dispatch(st, type, idx, t) {
  st.clock.set(t);
  const s = st.s;
  if (type === EV_PACKET) {
    const p = st.stream.packets[idx];
    const rtp = werift.RtpPacket.deSerialize(p.buf);
    if (p.video) s.onVideoRtp(rtp);
    else s.onAudioRtp(rtp);
  } else if (type === EV_NACK_TIMER) {
    s.sendNacks();
  } else {
    second(st, t);
  }
}

/** The runner's once-a-second work for one student (src/scenario/runner.ts takeSnapshots/emitSamples) + its sender reports. */
function second(st, t) {
  const s = st.s;
  const unixMs = st.clock.toUnixMs(t);
  const stream = st.stream;
  const dt = t - stream.t0;
  s.senderReports.push({ kind: "video", ntpUnixMs: unixMs - ARRIVAL_DELAY_MS, rtpTimestamp: (stream.videoTsBase + Math.round((dt - ARRIVAL_DELAY_MS) * 90)) >>> 0, arrivalUnixMs: unixMs });
  s.senderReports.push({ kind: "audio", ntpUnixMs: unixMs - ARRIVAL_DELAY_MS, rtpTimestamp: (stream.audioTsBase + Math.round((dt - ARRIVAL_DELAY_MS) * 48)) >>> 0, arrivalUnixMs: unixMs });
  st.snapshots.push({
    unixMs,
    videoExpected: s.videoStats.packetsExpected,
    videoReceived: s.videoStats.packetsReceived,
    audioExpected: s.audioStats.packetsExpected,
    audioReceived: s.audioStats.packetsReceived,
    jitterMs: s.videoStats.jitterMs,
  });
  emitSamples(st, Math.floor(unixMs / 1000) * 1000);
}

const TAGS = { run: "bench", scenario: "pipeline", room: "bench", student: "s1", agent: "werift", profile: "none" };

function emitSamples(st, untilUnixMs) {
  const frames = st.s.frames;
  const from = st.cursor;
  let to = from;
  while (to < frames.length && frames[to].completeUnixMs < untilUnixMs) to++;
  st.cursor = to;
  st.points += wireSamplesPerSecond(frames.slice(from, to), st.snapshots, TAGS).length;
}

/** The end of a session: the student leaves (flushes), the runner's final samples and summary. */
function endOfSession(st) {
  const a = st.s;
  a.nack.flush();
  a.assembler.flush();
  emitSamples(st, Infinity);
  const streamStats = (x) => ({ packetsReceived: x.packetsReceived, packetsExpected: x.packetsExpected, packetsLost: x.packetsLost, lossFraction: x.lossFraction, jitterMs: x.jitterMs, jitterMeanMs: x.jitterMeanMs, duplicates: x.duplicates });
  return summarizeWire({
    frames: a.frames,
    audio: a.audio,
    senderReports: a.senderReports,
    video: {
      ...streamStats(a.videoStats),
      ...(a.videoStats.packetsExpected > 0 ? { lossBeforeRepair: a.nack.missing / a.videoStats.packetsExpected, repaired: a.nack.recovered, nacksSent: a.nack.nacksSent, repairRttMs: a.nack.repairRttMs } : {}),
    },
    audioStats: streamStats(a.audioStats),
    fps: st.stream.fps,
    sentFrameCaptureUnixMs: st.stream.sentFrameCaptureUnixMs,
    framesDropped: a.framesDropped,
  });
}

// ─── the schedule (dry run) ──────────────────────────────────────────────────────────────────────

/**
 * Run the stream once through a real student, deciding loss (first transmissions and
 * retransmissions) with seeded draws, and record every event in order.
 */
export function buildSchedule(stream, loss) {
  const lossDraw = seededRandom(4242);
  const rtxDraw = seededRandom(4343);
  const st = newStudent(stream);
  const nack = st.s.nack;
  const poll = nack.poll.bind(nack);
  const videoIndexBySeq = new Map(stream.packets.map((p, i) => [p, i]).filter(([p]) => p.video).map(([p, i]) => [p.seq, i]));
  const rtx = []; // FIFO of { t, idx } (t non-decreasing: now + constant)
  let rtxHead = 0;
  let retransmitted = 0;
  nack.poll = (now) => {
    const seqs = poll(now);
    for (const ext of seqs) {
      const idx = videoIndexBySeq.get(ext & 0xffff);
      retransmitted++;
      if (idx !== undefined && !(loss > 0 && rtxDraw() < loss)) rtx.push({ t: now + RTX_RTT_MS, idx });
    }
    return seqs;
  };
  const arrivals = stream.packets.map((p, i) => ({ t: p.arrivalMs, idx: i })).filter(() => !(loss > 0 && lossDraw() < loss));
  const types = [];
  const times = [];
  const idxs = [];
  const record = (type, t, idx) => {
    types.push(type);
    times.push(t);
    idxs.push(idx);
    dispatch(st, type, idx, t);
  };
  const end = stream.packets[stream.packets.length - 1].arrivalMs + 1;
  let nextNack = stream.t0 + NACK_TIMER_MS;
  let nextSecond = Math.ceil(st.clock.toUnixMs(stream.t0) / 1000) * 1000 + 5 - ORIGIN_UNIX_MS; // mono time of unix second + 5 ms
  let i = 0;
  for (;;) {
    const tPkt = i < arrivals.length ? arrivals[i].t : Infinity;
    const tRtx = rtxHead < rtx.length ? rtx[rtxHead].t : Infinity;
    const t = Math.min(tPkt, tRtx, nextNack, nextSecond);
    if (t > end && tRtx === Infinity) break;
    if (t === tPkt) record(EV_PACKET, t, arrivals[i++].idx);
    else if (t === tRtx) record(EV_PACKET, t, rtx[rtxHead++].idx);
    else if (t === nextNack) {
      record(EV_NACK_TIMER, t, -1);
      nextNack += NACK_TIMER_MS;
    } else {
      record(EV_SECOND, t, -1);
      nextSecond += 1000;
    }
  }
  nack.poll = poll;
  const summary = endOfSession(st);
  const packetEvents = types.filter((x) => x === EV_PACKET).length;
  return {
    types: Uint8Array.from(types),
    times: Float64Array.from(times),
    idxs: Int32Array.from(idxs),
    packetIdxs: Int32Array.from(idxs.filter((x, k) => types[k] === EV_PACKET)),
    outcome: outcomeOf(st, summary, { packetsArrived: packetEvents, retransmissionsRequested: retransmitted, retransmissionsArrived: rtxHead }),
  };
}

function outcomeOf(st, summary, extra = {}) {
  const a = st.s;
  return {
    ...extra,
    framesSent: st.stream.sentFrameCaptureUnixMs.length,
    framesComplete: a.frames.length,
    framesDropped: a.framesDropped,
    framesRepaired: a.frames.filter((f) => f.repaired).length,
    audioPackets: a.audio.length,
    videoLossBeforeRepair: round(summary.video.lossBeforeRepair ?? 0, 4),
    videoResidualLoss: round(summary.video.lossFraction, 4),
    nackBatches: a.nack.nacksSent,
    nackRecovered: a.nack.recovered,
    wirePoints: st.points,
    freezes: summary.freezes.count,
    latencyP50Ms: round(summary.latencyMs.p50, 2),
  };
}

// ─── timing ──────────────────────────────────────────────────────────────────────────────────────

let sink = 0; // keeps the bare path's work observable

function runBare(stream, sched, k) {
  const bufs = stream.packets;
  const idxs = sched.packetIdxs;
  for (let r = 0; r < k; r++) {
    for (let j = 0; j < idxs.length; j++) sink += werift.RtpPacket.deSerialize(bufs[idxs[j]].buf).payload.length;
  }
}

/** Replay the schedule through `students` (fresh, made before the CPU sample); returns CPU of the two parts. */
function runProctor(students, sched) {
  const { types, times, idxs } = sched;
  const c0 = cpuSample();
  for (const st of students) for (let j = 0; j < types.length; j++) dispatch(st, types[j], idxs[j], times[j]);
  const c1 = cpuSample();
  const summaries = students.map((st) => endOfSession(st));
  const c2 = cpuSample();
  sink += summaries.length;
  return { liveMs: cpuBetween(c0, c1).cpuMs, endMs: cpuBetween(c1, c2).cpuMs, summaries };
}

function timeBare(stream, sched, k) {
  const c0 = cpuSample();
  runBare(stream, sched, k);
  return cpuBetween(c0, cpuSample()).cpuMs;
}

async function measureCondition({ clip, stream, loss, rounds, batchMs, log }) {
  const sched = buildSchedule(stream, loss);
  // Determinism: a replay of the schedule reproduces the dry run.
  const check = newStudent(stream);
  const { summaries } = runProctor([check], sched);
  const again = outcomeOf(check, summaries[0], { packetsArrived: sched.packetIdxs.length, retransmissionsRequested: sched.outcome.retransmissionsRequested, retransmissionsArrived: sched.outcome.retransmissionsArrived });
  if (JSON.stringify(again) !== JSON.stringify(sched.outcome)) throw new Error(`pipeline bench: the replay did not reproduce the dry run:\n${JSON.stringify(sched.outcome)}\n${JSON.stringify(again)}`);

  // Warm-up (JIT) and batch sizing: ~batchMs of CPU per batch.
  const tw = performance.now();
  let nWarm = 0;
  while (performance.now() - tw < 1_000) {
    runBare(stream, sched, 4);
    runProctor([newStudent(stream), newStudent(stream)], sched);
    nWarm++;
  }
  // Least of three probes: a probe disturbed by another tenant would only shrink the batches.
  let perBare = Infinity;
  let perProctor = Infinity;
  for (let i = 0; i < 3; i++) {
    perBare = Math.min(perBare, timeBare(stream, sched, 8) / 8);
    const p = runProctor(Array.from({ length: 4 }, () => newStudent(stream)), sched);
    perProctor = Math.min(perProctor, (p.liveMs + p.endMs) / 4);
  }
  const kBare = Math.max(4, Math.round(batchMs / Math.max(0.01, perBare)));
  const kProctor = Math.max(2, Math.round(batchMs / Math.max(0.01, perProctor)));

  const mediaS = stream.seconds;
  const bare = [];
  const live = [];
  const end = [];
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? ["bare", "proctor"] : ["proctor", "bare"];
    for (const which of order) {
      if (which === "bare") bare.push((timeBare(stream, sched, kBare) * 1000) / (kBare * mediaS));
      else {
        const fresh = Array.from({ length: kProctor }, () => newStudent(stream));
        const m = runProctor(fresh, sched);
        live.push((m.liveMs * 1000) / (kProctor * mediaS));
        end.push((m.endMs * 1000) / (kProctor * mediaS));
      }
    }
  }
  const total = live.map((v, i) => v + end[i]);
  const med = (a) => percentile(a, 50);
  const bareUs = med(bare);
  const proctorUs = med(total);
  // Each round's two batches ran back to back: their ratio cancels slow drifts of a shared machine.
  const pairedRatio = med(total.map((v, i) => v / bare[i]));
  const pktPerS = sched.packetIdxs.length / mediaS;
  log(`pipeline: loss ${loss * 100} %: ${rounds} rounds of ${kBare} bare / ${kProctor} proctor replays of ${mediaS.toFixed(1)} s`);
  return {
    loss,
    mediaSeconds: round(mediaS, 2),
    packetsPerSecond: round(pktPerS, 1),
    events: sched.types.length,
    outcome: sched.outcome,
    batches: { bare: kBare, proctor: kProctor, rounds, warmups: nWarm },
    usPerMediaSecond: {
      bare: round(bareUs, 1),
      proctor: round(proctorUs, 1),
      /** proctor − bare: what the observation pipeline adds. */
      added: round(proctorUs - bareUs, 1),
      proctorLive: round(med(live), 1),
      proctorEndOfSession: round(med(end), 1),
    },
    usPerPacket: { bare: round(bareUs / pktPerS, 3), proctor: round(med(live) / pktPerS, 3) },
    /** Median over rounds of proctor ÷ bare within the round (paired). */
    ratio: round(pairedRatio, 2),
    /** Light students one core could observe if this pipeline were all they did (10⁶ µs / proctor µs per s). */
    pipelineOnlyStudentsPerCore: round(1e6 / proctorUs, 0),
    spread: {
      bareMin: round(Math.min(...bare), 1),
      bareMax: round(Math.max(...bare), 1),
      proctorMin: round(Math.min(...total), 1),
      proctorMax: round(Math.max(...total), 1),
    },
  };
}

/** Run the pipeline bench on the bench clip (a GeneratedClip). */
export async function runPipeline({ generated, rounds = 16, batchMs = 200, losses = [0, PIPELINE_LOSS], log = () => undefined }) {
  const clip = await loadClip(generated);
  const stream = buildStream(clip);
  log(
    `pipeline: ${stream.seconds.toFixed(1)} s of "${clip.name}" as RTP: ${stream.videoPackets} video + ${stream.audioPackets} audio packets ` +
      `(${(stream.packets.length / stream.seconds).toFixed(1)} pkt/s, ${((stream.bytes * 8) / stream.seconds / 1000).toFixed(0)} kbps on the wire)`,
  );
  const q = await waitForQuiet({ maxBusyCores: 0.35, cores: cpus().length, maxWaitMs: 5_000, sampleMs: 500 });
  if (!q.quiet) log(`pipeline: machine busy (${q.busyCores?.toFixed(2)} cores) after 5 s; measuring anyway (medians over rounds)`);
  const conditions = [];
  for (const loss of losses) conditions.push(await measureCondition({ clip, stream, loss, rounds, batchMs, log }));
  const clean = conditions.find((c) => c.loss === 0) ?? conditions[0];
  const lossy = conditions.find((c) => c.loss > 0) ?? null;
  return {
    name: "pipeline",
    title: "Wire-tier pipeline (light student's observation pipeline vs bare deSerialize; CPU µs per student per second of media)",
    layout: "in-process replay of a recorded RTP stream (no network); bare and proctor batches alternate on the same schedule",
    stream: { clip: clip.name, seconds: round(stream.seconds, 2), videoPackets: stream.videoPackets, audioPackets: stream.audioPackets, wireKbps: round((stream.bytes * 8) / stream.seconds / 1000, 0) },
    machineBusyCoresAtStart: round(q.busyCores, 2),
    conditions,
    figures: {
      unit: "CPU µs per student per second of media",
      bare: clean.usPerMediaSecond.bare,
      proctor: clean.usPerMediaSecond.proctor,
      ratio: clean.ratio,
      lossBare: lossy?.usPerMediaSecond.bare ?? null,
      lossProctor: lossy?.usPerMediaSecond.proctor ?? null,
      lossRatio: lossy?.ratio ?? null,
      loss: lossy?.loss ?? null,
    },
  };
}

/** Print the pipeline bench's table. */
export function printPipeline(r, log = console.log) {
  log(`\n== ${r.title} ==\n   layout: ${r.layout}`);
  log(`   stream: ${r.stream.seconds} s of "${r.stream.clip}", ${r.stream.videoPackets} video + ${r.stream.audioPackets} audio packets, ${r.stream.wireKbps} kbps`);
  const head = ["loss", "pkt/s in", "bare µs/s", "proctor µs/s", "  live", "  end", "ratio", "bare µs/pkt", "proctor µs/pkt", "frames ok/sent", "dropped", "repaired", "NACK batches", "spread bare", "spread proctor"];
  const rows = r.conditions.map((c) => [
    `${(c.loss * 100).toFixed(0)} %`,
    c.packetsPerSecond.toFixed(1),
    c.usPerMediaSecond.bare.toFixed(1),
    c.usPerMediaSecond.proctor.toFixed(1),
    c.usPerMediaSecond.proctorLive.toFixed(1),
    c.usPerMediaSecond.proctorEndOfSession.toFixed(1),
    c.ratio.toFixed(2),
    c.usPerPacket.bare.toFixed(3),
    c.usPerPacket.proctor.toFixed(3),
    `${c.outcome.framesComplete}/${c.outcome.framesSent}`,
    String(c.outcome.framesDropped),
    String(c.outcome.framesRepaired),
    String(c.outcome.nackBatches),
    `${c.spread.bareMin}–${c.spread.bareMax}`,
    `${c.spread.proctorMin}–${c.spread.proctorMax}`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i].length)));
  const line = (cells) => "   " + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
  log(line(head));
  for (const x of rows) log(line(x));
  log(`   µs/s = CPU µs per student per second of media (median over rounds); live = per-packet handlers + NACK timer + per-second samples;`);
  log(`   end = flush + final samples + summarizeWire, amortised over the ${r.stream.seconds} s; proctor µs/pkt = live / packets; spread = min–max over rounds;`);
  log(`   ratio = median of each round's proctor ÷ bare (back-to-back batches), steadier on a shared machine than the ratio of the medians.`);
  log(pipelineSummary(r));
}

/** The pipeline bench's figure lines (also used in the run's summary). */
export function pipelineSummary(r) {
  const f = r.figures;
  const c = r.conditions.find((x) => x.loss === 0) ?? r.conditions[0];
  return [
    `-> ${f.unit}: proctor ${f.proctor} vs bare ${f.bare} (×${f.ratio}); ≈ ${c.pipelineOnlyStudentsPerCore} students per core for the pipeline alone`,
    f.loss === null ? null : `   with ${f.loss * 100} % random loss (NACK repair traffic included): proctor ${f.lossProctor} vs bare ${f.lossBare} (×${f.lossRatio})`,
  ]
    .filter(Boolean)
    .join("\n");
}
