// The timeline of one run: generate/load media, start the room server and the AI teacher, join
// the students, play the lesson, collect observations, write the report and judge the budgets.
// Everything runs in this process on loopback.
import { mkdir } from "node:fs/promises";
import { join, resolve } from "node:path";
import { randomBytes } from "node:crypto";
import { systemClock, type Clock } from "../clock.js";
import { childRandom } from "../random.js";
import { generateClip, type GeneratedClip } from "../media/clip-generator.js";
import { openPreparedClip } from "../media/prepared-clip.js";
import { ClipLibrary, loadClip } from "../streamer/clip-library.js";
import { MediaProgram } from "../streamer/media-program.js";
import { Teacher } from "../streamer/teacher.js";
import { createRoomServer } from "../signaling/server.js";
import { LightStudent } from "../agents/light-student.js";
import { BrowserStudents } from "./browser-students.js";
import { registerStudentPage } from "../signaling/student-page-routes.js";
import type { StudentAgent } from "../agents/student-agent.js";
import { TcStudents } from "./tc-students.js";
import { summarizeWire, wireSamplesPerSecond, type WireSummary, type CounterSnapshot } from "../metrics/wire-summary.js";
import { LineProtocolFileSink } from "../metrics/file-sink.js";
import { SinkFanout } from "../metrics/sink-fanout.js";
import { runSummaryPoints } from "../metrics/run-points.js";
import { percentile } from "../metrics/stats.js";
import { receiveCounters } from "../metrics/receive-stats.js";
import { roundTrip } from "../metrics/round-trip.js";
import { rttSamplesMs } from "../metrics/rtt.js";
import { LessonDriver } from "../streamer/lesson-driver.js";
import { prepareUtterance, readUtterancePackets } from "../media/utterance.js";
import { VoiceAnswers } from "../streamer/voice-answers.js";
import { warmUpOpusDecoder } from "../media/opus-decoder.js";
import { HttpAssessor } from "../streamer/http-assessor.js";
import type { LatencyModel } from "../streamer/local-assessor.js";
import type { Lesson as LessonScript } from "../streamer/lesson-loader.js";
import type { AnswerReport } from "../report/run-report.js";
import { LiveBuffer, registerLiveView } from "../signaling/live-routes.js";
import { InfluxSink } from "../metrics/influx-sink.js";
import type { InfluxTarget } from "../metrics/influx-target.js";
import type { Sink } from "../metrics/sample.js";
import type { Point, Tags } from "../metrics/sample.js";
import { evaluateBudgets } from "../report/evaluate.js";
import { parseBudget, type BudgetExpr } from "../report/budget.js";
import { writeRunReport, REPORT_SCHEMA_VERSION, type RunReport, type StudentReport } from "../report/run-report.js";
import { writeHtmlReport } from "../report/html-report.js";
import { writeJUnit } from "../report/junit.js";
import type { Scenario } from "./schema.js";
import { groupKey, type LoadedScenario } from "./loader.js";
import { RelayBackend } from "../netem/relay-backend.js";
import type { LinkProfile } from "../netem/profile-loader.js";
import type { TimelineEvent } from "../netem/timeline.js";
import type { UdpRelay } from "../netem/relay.js";

export type RunOptions = {
  scenarioFile: string;
  /** Folder that receives `<run-id>/`; default ./reports. */
  reportsDir?: string;
  /** Media cache; default $PROCTOR_CACHE_DIR or ./.cache/media. */
  cacheDir?: string;
  runId?: string;
  clock?: Clock;
  /** Progress lines (plain text). */
  log?: (line: string) => void;
  /** Extra hooks for tests and calibration. */
  hooks?: {
    /** Called once the lesson has started, with the room programs (e.g. to force a switch). */
    onLessonStarted?: (ctx: { programs: Map<string, MediaProgram>; library: ClipLibrary }) => void | Promise<void>;
  };
  /** About once a second during the lesson: per-student key figures (live display). */
  onProgress?: (p: RunProgress) => void;
  /** Stop the lesson early (Ctrl-C): the run still writes its report and flushes its sinks. */
  signal?: AbortSignal;
  /** Also write every point to this InfluxDB (live, batched, spooled while it is away). */
  influx?: InfluxTarget;
  /** Calibration: sender reports claim audio captured this many ms later than it was (per room id, or all rooms). */
  audioTimestampSkewMs?: number | Record<string, number>;
  /** Impairment backend: the userspace relay (default), or tc (each student in its own network namespace; root). */
  netem?: "relay" | "tc";
};

export type RunProgress = {
  elapsedMs: number;
  durationMs: number;
  scenario: string;
  students: { room: string; student: string; frames: number; latencyP95Ms: number; lossPct: number }[];
};

export type RunResult = {
  report: RunReport;
  runDir: string;
  exitCode: 0 | 1 | 2;
  students: { room: string; student: string; agent: StudentAgent; summary: WireSummary; relay?: UdpRelay; profile?: string }[];
  sentFrames: Map<string, { captureUnixMs: number; clipId: number; frameIndex: number; rtpTimestamp: number }[]>;
  /** Browser students (their pixel summaries are in report.students). */
  browsers: { room: string; student: string; relay?: UdpRelay; profile?: string }[];
};

const VERSION = "0.1.0";
/** The mumbled answer: the utterance at −45 dBFS over −59 dBFS room tone (LocalAssessor ≈ 0.5, below a 0.6 pass). */
const MUMBLE = { speechDb: -45, roomToneDb: -59 } as const;
/**
 * Bound on one join attempt (signaling + ICE + DTLS); a failed attempt is retried twice. 4.5 s so a
 * student that needs one retry still joins within 10 s (#3): with 5 s, a fresh-clone run had a
 * retried student join in 10 003 ms, its second attempt using nearly its whole bound.
 */
const JOIN_ATTEMPT_MS = 4500;

export async function runScenario(scenario: Scenario | LoadedScenario, opts: RunOptions): Promise<RunResult> {
  const profiles = "profiles" in scenario ? scenario.profiles : new Map<string, LinkProfile>();
  const clock = opts.clock ?? systemClock;
  const log = opts.log ?? (() => undefined);
  const runId = opts.runId ?? makeRunId(scenario.name);
  const runDir = resolve(opts.reportsDir ?? "reports", runId);
  await mkdir(runDir, { recursive: true });
  const cacheDir = resolve(opts.cacheDir ?? process.env.PROCTOR_CACHE_DIR ?? ".cache/media");
  const startedAt = new Date().toISOString();
  const t0 = clock.nowMs();
  const errors: string[] = [];
  const baseTags: Tags = { run: runId, scenario: scenario.name, ...(process.env.PROCTOR_BUILD ? { build: process.env.PROCTOR_BUILD } : {}) };
  const sinks: Sink[] = [new LineProtocolFileSink(join(runDir, "metrics.lp"))];
  if (opts.influx) sinks.push(new InfluxSink(opts.influx, { dir: runDir, log: (m) => log(`influx: ${m}`) }));
  const live = new LiveBuffer();
  sinks.push(live);
  const sink = new SinkFanout(sinks, log);
  const event = (name: string, tags: Tags, fields: Point["fields"], atUnixMs = clock.toUnixMs(clock.nowMs())): void =>
    sink.write([{ measurement: "event", tags: { ...baseTags, ...tags, kind: name }, fields, timeUnixMs: atUnixMs }]);

  // 1. Media: encode once, cached by content hash. A lesson script names its clips (ids 1..N in
  // declaration order); inline clips play back to back.
  const { media } = scenario;
  const script: LessonScript | undefined = "script" in scenario ? scenario.script : undefined;
  // A prepared clip folder (proctor media prepare) plays as it is: no duration, no encode.
  const clipDefs: { name: string; clipId: number; durationMs: number; preparedDir?: string; markerAudioOffsetMs?: number | readonly number[] }[] = script
    ? script.clips.map((c) =>
        c.source.kind === "prepared" ? { name: c.name, clipId: c.clipId, durationMs: NaN, preparedDir: c.source.dir } : { name: c.name, clipId: c.clipId, durationMs: c.source.durationMs },
      )
    : typeof scenario.lesson === "string"
      ? []
      : scenario.lesson.clips.map((c, i) => ({ name: c.name, clipId: i + 1, durationMs: c.duration, markerAudioOffsetMs: c.markerAudioOffsetMs }));
  if (clipDefs.length === 0) throw new Error(`lesson "${String(scenario.lesson)}" was not loaded (use loadScenario/parseScenario)`);
  const generated: GeneratedClip[] = [];
  for (const c of clipDefs) {
    if (c.preparedDir !== undefined) {
      const g = await openPreparedClip(c.preparedDir, { name: c.name, clipId: c.clipId, width: media.width, height: media.height, fps: media.fps });
      log(`media: clip ${c.name} (id ${c.clipId}, ${g.spec.durationMs} ms) prepared in ${c.preparedDir}`);
      generated.push(g);
      continue;
    }
    const g = await generateClip(
      { name: c.name, clipId: c.clipId, durationMs: c.durationMs, width: media.width, height: media.height, fps: media.fps, videoKbps: media.videoKbps, markerAudioOffsetMs: c.markerAudioOffsetMs },
      { cacheDir, onProgress: (m) => log(`media: ${m}`) },
    );
    log(`media: clip ${c.name} (id ${c.clipId}, ${c.durationMs} ms) ${g.cached ? "from cache" : "encoded"}`);
    generated.push(g);
  }
  const library = new ClipLibrary();
  for (const g of generated) library.add(await loadClip(g));
  // Voice answers: the prepared utterance (and its mumbled variant), made once and cached.
  const speaks = scenario.rooms.some((r) => r.students.some((g) => g.behaviour?.answer === "voice"));
  const utterances = speaks
    ? { clear: await readUtterancePackets(await prepareUtterance(cacheDir)), mumble: await readUtterancePackets(await prepareUtterance(cacheDir, MUMBLE)) }
    : undefined;
  if (utterances) warmUpOpusDecoder(utterances.clear.packets);

  // 2. Teacher + room server.
  // tc: every student runs in its own network namespace (checked against the kernel before anything starts).
  const tc = opts.netem === "tc" ? await TcStudents.open({ clock, profiles: profiles.values(), log }) : null;
  const teacher = new Teacher({ clock, random: childRandom(scenario.seed, "teacher"), ...(tc ? { iceAddresses: tc.iceFor } : {}) });
  // Impairment: students whose group names a netem profile get their own relay in the media path.
  const impaired = new Map<string, LinkProfile>();
  const relays = new RelayBackend({ seed: scenario.seed, clock });
  const linkKey = (room: string, student: string): string => `${room}/${student}`;
  const server = await createRoomServer({
    teacher,
    rewriteSdp: (ctx, sdp) => (impaired.has(linkKey(ctx.room, ctx.student)) ? relays.rewriteSdp(ctx, sdp) : sdp),
    routes: (app) => {
      registerLiveView(app, live, { title: `proctor — ${scenario.name}` });
      registerStudentPage(app);
    },
    ...(tc ? { isAlias: tc.isAlias } : {}),
  });
  tc?.attach(server.url);
  log(`live view: ${server.url}/live`);
  const browsers = new BrowserStudents({
    serverUrl: server.url,
    seed: scenario.seed,
    fps: media.fps,
    target: scenario.target,
    utterance: () => prepareUtterance(cacheDir),
    log,
  });
  const netemEvent = (room: string, student: string, profile: string) => (e: TimelineEvent): void =>
    // `dir` is a tag: a step setting both directions makes two points at the same instant, which
    // InfluxDB would merge into one if they shared a series (found by the outage test).
    event("netem_step", { room, student, profile, dir: e.direction }, { step: e.stepIndex, direction: e.direction === "down" ? 0 : 1, at_ms: e.stepAtMs, delay_ms: e.params.delayMs, jitter_ms: e.params.jitterMs, loss_pct: lossPercent(e) }, clock.toUnixMs(e.atMs));
  log(`room server on ${server.url}`);
  /** Programs by audience: the room id (shared) or room/student (per-student). */
  const programs = new Map<string, MediaProgram>();
  const drivers = new Map<string, LessonDriver>();
  const audienceKey = (room: string, student: string): string => `${room}/${student}`;
  const programOf = (room: string, student: string): string => (programs.has(audienceKey(room, student)) ? audienceKey(room, student) : room);
  teacher.onQuizAnswer = (room, student, a) => drivers.get(programOf(room, student))?.onAnswer(student, a);
  const voice = new VoiceAnswers({
    clock,
    random: childRandom(scenario.seed, "assessor"),
    ...assessorOptions(scenario.assessor, clock),
    driverOf: (room, student) => drivers.get(programOf(room, student)),
    onOutcome: (room, o) =>
      event("voice_answer", { room, student: o.student }, { outcome: o.outcome, speech_ms: o.speechMs, score: o.score ?? NaN, assessment_ms: o.assessmentMs ?? NaN, ...(o.questionId ? { question: o.questionId } : {}), ...(o.detail ? { detail: o.detail } : {}) }),
  });
  teacher.onVoiceRtp = (room, student, p) => voice.onRtp(room, student, p);
  const sentFrames: RunResult["sentFrames"] = new Map();
  const students: { room: string; group: string; agent: StudentAgent; profile?: LinkProfile; relay?: UdpRelay }[] = [];
  const timelines: { stop(): void }[] = [];
  let exitCode: 0 | 1 | 2 = 0;
  const snapshots = new Map<StudentAgent, CounterSnapshot[]>();
  let sampler: NodeJS.Timeout | undefined;
  let finalSamples: () => void = () => undefined;

  try {
    for (const room of scenario.rooms) {
      const res = await fetch(`${server.url}/rooms`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ id: room.id, mode: room.mode }),
      });
      if (!res.ok) throw new Error(`creating room ${room.id}: HTTP ${res.status} ${await res.text()}`);
      const names: { group: (typeof room.students)[number]; name: string }[] = [];
      for (const g of room.students) for (let i = 0; i < g.count; i++) names.push({ group: g, name: g.count === 1 ? g.group : `${g.group}-${i + 1}` });
      // Audiences: one per student in per-student mode (own queue, branches, RTP state; encoded
      // clips shared), else the whole room. Inline clip lists always play shared.
      const perStudent = script !== undefined && room.mode === "per-student";
      const audiences = perStudent ? names.map((n) => ({ key: audienceKey(room.id, n.name), members: [n.name] })) : [{ key: room.id, members: names.map((n) => n.name) }];
      for (const aud of audiences) {
        const sent: RunResult["sentFrames"] extends Map<string, infer V> ? V : never = [];
        sentFrames.set(aud.key, sent);
        let driver: LessonDriver | undefined;
        const program = new MediaProgram({
          fps: media.fps,
          clock,
          random: childRandom(scenario.seed, `program:${aud.key}`),
          audioTimestampSkewMs: typeof opts.audioTimestampSkewMs === "number" ? opts.audioTimestampSkewMs : opts.audioTimestampSkewMs?.[room.id],
          onFrameSent: (f) => {
            sent.push({ captureUnixMs: clock.toUnixMs(f.captureMs), clipId: f.clipId, frameIndex: f.frameIndex, rtpTimestamp: f.rtpTimestamp });
            if (f.frameIndex === 0) event("clip_start", { room: room.id, ...(perStudent ? { student: aud.members[0] } : {}) }, { clip_id: f.clipId }, clock.toUnixMs(f.captureMs));
            driver?.onFrameSent(f);
          },
        });
        programs.set(aud.key, program);
        teacher.setProgram(room.id, program, perStudent ? aud.members[0] : undefined);
        if (script) {
          driver = new LessonDriver(script, library, program, {
            mode: perStudent ? "per-student" : "shared",
            clock,
            students: aud.members,
            notify: (student, notice) => {
              server.sendTo(room.id, student, notice);
            },
            onAction: (a) => {
              if (a.kind === "switch") event("answer", { room: room.id, ...(perStudent ? { student: aud.members[0] } : {}) }, { reason: a.reason, to_clip: library.get(a.clip).clipId }, clock.toUnixMs(a.decidedAtMs));
            },
            assessor: voice.assessor,
            onVoice: (o) => voice.outcome(room.id, o),
          });
          drivers.set(aud.key, driver);
        }
      }
      const answerKey = new Map<string, string>();
      for (const st of script?.steps ?? []) if (st.kind === "ask" && st.question.answer !== undefined) answerKey.set(st.question.id, st.question.answer);
      for (const { group: g, name } of names) {
        const profile = profiles.get(groupKey(room.id, g.group));
        if (g.agent === "chromium") {
          if (tc) throw new Error(`group "${g.group}": browser students run with --netem relay only (tc runs light students in namespaces)`);
          await browsers.add(room.id, g, name, profile, answerKey);
          continue;
        }
        const random = childRandom(scenario.seed, `behaviour:${room.id}/${name}`);
        const behaviour =
          g.behaviour?.answer === "voice" && utterances
            ? { answer: "voice" as const, afterMs: g.behaviour.after, utterance: random() < g.behaviour.correct ? utterances.clear : utterances.mumble, random }
            : g.behaviour
              ? { afterMs: g.behaviour.after, correct: g.behaviour.correct, answerKey, random }
              : undefined;
        students.push({
          room: room.id,
          group: g.group,
          profile,
          agent: tc
            ? tc.student({ room: room.id, student: name, nack: g.nack, joinTimeoutMs: JOIN_ATTEMPT_MS, profile, voice: g.behaviour?.answer === "voice", behaviour: g.behaviour && { afterMs: g.behaviour.after, correct: g.behaviour.correct, answerKey: [...answerKey], seed: scenario.seed, label: `behaviour:${room.id}/${name}` } })
            : new LightStudent({ serverUrl: server.url, room: room.id, student: name, clock, nack: g.nack, joinTimeoutMs: JOIN_ATTEMPT_MS, behaviour }),
        });
      }
    }

    // Profile time 0 is the lesson start; the step(s) at 0 s are already in force while the student
    // joins, so a profile that is lossy from 0 s makes the student join through that loss.
    // Browser links stay clean until the lesson starts: Chromium's DTLS retransmits on a 1 s
    // doubling backoff, so its join through 30 % loss can take tens of seconds.
    const links = [...students.map((s) => ({ s, atJoin: true })), ...browsers.members.map((s) => ({ s, atJoin: false }))];
    for (const { s, atJoin } of links) {
      if (!s.profile || tc) continue; // tc: the link starts with the namespace, at join
      impaired.set(linkKey(s.room, s.agent.name), s.profile);
      s.relay = await relays.relayFor(s.room, s.agent.name);
      if (!atJoin) continue;
      for (const step of s.profile.steps) {
        if (step.atMs > 0) break;
        if (step.down) s.relay.setParams("down", step.down);
        if (step.up) s.relay.setParams("up", step.up);
      }
    }

    // 3. Students join (all before the lesson starts, so everyone sees clip 1 from its first frame).
    log(`joining ${students.length + browsers.members.length} student(s)`);
    const browserJoins = browsers.joinAll();
    const joins = await Promise.allSettled(students.map((s) => s.agent.joinWithRetry()));
    joins.forEach((j, i) => {
      const s = students[i]!;
      if (j.status === "rejected") errors.push(`${s.room}/${s.agent.name}: join failed: ${(j.reason as Error).message}`);
      else event("join", { room: s.room, student: s.agent.name, agent: "werift" }, { join_ms: s.agent.joinMs ?? NaN, retries: s.agent.joinRetries });
    });
    (await browserJoins).forEach((j, i) => {
      const m = browsers.members[i]!;
      if (j.status === "rejected") errors.push(`${m.room}/${m.agent.name}: join failed: ${(j.reason as Error).message}`);
      else event("join", { room: m.room, student: m.agent.name, agent: "chromium" }, { join_ms: m.agent.joinMs ?? NaN, retries: m.agent.joinRetries });
    });
    if (errors.length === students.length + browsers.members.length) throw new Error(`no student could join:\n${errors.join("\n")}`);

    // 4. The lesson: a script's driver decides what plays; inline clips play back to back.
    for (const [key, program] of programs) {
      const driver = drivers.get(key);
      if (!driver && typeof scenario.lesson !== "string") for (const c of scenario.lesson.clips) program.enqueue(library.get(c.name));
      program.start();
      driver?.start();
    }
    log(`lesson started on ${programs.size} program(s): ${script ? `script "${script.name}"` : clipDefs.map((c) => c.name).join(" → ")}`);
    for (const s of [...students, ...browsers.members]) {
      // Step times count from the room's media clock origin exactly (frame tick 0).
      const origin = programs.get(programOf(s.room, s.agent.name))?.startedAtMs;
      if (s.profile && tc) timelines.push(tc.applyProfile(s.room, s.agent.name, s.profile, netemEvent(s.room, s.agent.name, s.profile.name), origin));
      else if (s.profile) timelines.push(await relays.applyProfile(s.room, s.agent.name, s.profile, netemEvent(s.room, s.agent.name, s.profile.name), origin));
    }
    await opts.hooks?.onLessonStarted?.({ programs, library });
    const lessonStart = clock.nowMs();
    let lastProgress = lessonStart;
    const endAt = lessonStart + scenario.duration;
    // Live samples: just after each wall-clock second, snapshot the receive counters and write one
    // `wire` point per student for the second that just ended (so InfluxDB sees the class live).
    const cursors = new Map<StudentAgent, number>();
    const emitSamples = (untilUnixMs: number): void => {
      sink.write(
        browsers.samples(
          (m) => sentFrames.get(programOf(m.room, m.agent.name)) ?? [],
          (m) => ({ ...baseTags, room: m.room, student: m.agent.name, agent: "chromium", profile: m.profile?.name ?? "none" }),
        ),
      );
      for (const s of students) {
        const a = s.agent;
        const from = cursors.get(a) ?? 0;
        let to = from;
        while (to < a.frames.length && a.frames[to]!.completeUnixMs < untilUnixMs) to++;
        cursors.set(a, to);
        const tags: Tags = { ...baseTags, room: s.room, student: a.name, agent: "werift", profile: s.profile?.name ?? "none" };
        sink.write(wireSamplesPerSecond(a.frames.slice(from, to), (snapshots.get(a) ?? []).slice(-2), tags));
      }
    };
    const takeSnapshots = (): void => {
      const unixMs = clock.toUnixMs(clock.nowMs());
      for (const s of students) {
        const a = s.agent;
        let list = snapshots.get(a);
        if (!list) snapshots.set(a, (list = []));
        list.push({
          unixMs,
          videoExpected: a.videoStats.packetsExpected,
          videoReceived: a.videoStats.packetsReceived,
          audioExpected: a.audioStats.packetsExpected,
          audioReceived: a.audioStats.packetsReceived,
          jitterMs: a.videoStats.jitterMs,
        });
      }
      emitSamples(Math.floor(unixMs / 1000) * 1000);
    };
    finalSamples = () => emitSamples(Infinity);
    const armSampler = (): void => {
      const unixMs = clock.toUnixMs(clock.nowMs());
      sampler = setTimeout(() => {
        takeSnapshots();
        armSampler();
      }, 1000 - (unixMs % 1000) + 5);
    };
    takeSnapshots();
    armSampler();
    while (clock.nowMs() < endAt && !opts.signal?.aborted) {
      await sleep(Math.min(250, endAt - clock.nowMs()));
      if (clock.nowMs() - lastProgress < 1000 && clock.nowMs() < endAt) continue;
      lastProgress = clock.nowMs();
      const elapsed = (clock.nowMs() - lessonStart) / 1000;
      const frames = students.reduce((n, s) => n + s.agent.frames.length, 0) + browsers.members.reduce((n, m) => n + m.agent.frames.length, 0);
      log(`t=${elapsed.toFixed(0)}s/${(scenario.duration / 1000).toFixed(0)}s frames received ${frames}`);
      opts.onProgress?.({
        elapsedMs: clock.nowMs() - lessonStart,
        durationMs: scenario.duration,
        scenario: scenario.name,
        students: students.map((s) => ({
          room: s.room,
          student: s.agent.name,
          frames: s.agent.frames.length,
          latencyP95Ms: recentLatencyP95(s.agent.frames, clock.toUnixMs(clock.nowMs()) - 1000),
          lossPct:
            (s.agent.nack && s.agent.videoStats.packetsExpected > 0 ? s.agent.nack.missing / s.agent.videoStats.packetsExpected : s.agent.videoStats.lossFraction) * 100,
        })).concat(browsers.progress(clock.toUnixMs(clock.nowMs()) - 1000, (m) => sentFrames.get(programOf(m.room, m.agent.name)) ?? [])),
      });
    }
    if (opts.signal?.aborted) {
      errors.push(`interrupted after ${((clock.nowMs() - lessonStart) / 1000).toFixed(1)} s of ${scenario.duration / 1000} s`);
      exitCode = 2;
    }
  } catch (e) {
    errors.push(`run broke: ${(e as Error).message}`);
    exitCode = 2;
  } finally {
    if (sampler) clearTimeout(sampler);
    voice.close();
    for (const d of drivers.values()) d.stop();
    for (const p of programs.values()) p.stop();
    await Promise.allSettled(students.map((s) => s.agent.leave()));
    await browsers.leaveAll();
    for (const t of timelines) t.stop();
    await teacher.close();
    await server.close();
    await relays.close();
    await tc?.close();
  }

  // 5. Metrics, samples, report, budgets.
  finalSamples();
  const studentReports: StudentReport[] = [];
  const results: RunResult["students"] = [];
  for (const s of students) {
    const a = s.agent;
    const sent = sentFrames.get(programOf(s.room, a.name)) ?? [];
    const summary = summarizeWire({
      frames: a.frames,
      audio: a.audio,
      senderReports: a.senderReports,
      video: {
        ...streamStats(a.videoStats),
        ...(a.nack && a.videoStats.packetsExpected > 0
          ? { lossBeforeRepair: a.nack.missing / a.videoStats.packetsExpected, repaired: a.nack.recovered, nacksSent: a.nack.nacksSent, repairRttMs: a.nack.repairRttMs }
          : {}),
      },
      audioStats: streamStats(a.audioStats),
      fps: media.fps,
      sentFrameCaptureUnixMs: sent.map((f) => f.captureUnixMs),
      framesDropped: a.framesDropped,
      joinMs: a.joinMs,
      joinRetries: a.joinRetries,
      rttSamplesMs: rttSamplesMs(teacher.reportBlocks(s.room, a.name)),
    });
    const tags: Tags = { ...baseTags, room: s.room, student: a.name, agent: "werift", profile: s.profile?.name ?? "none" };
    for (const f of summary.freezes.list) {
      sink.write([{ measurement: "event", tags: { ...tags, kind: "freeze" }, fields: { duration_ms: f.durationMs }, timeUnixMs: clock.toUnixMs(f.startMs) }]);
    }
    for (const g of summary.switchGaps) {
      sink.write([{ measurement: "event", tags: { ...tags, kind: "clip_switch" }, fields: { from_clip: g.fromClip, to_clip: g.toClip, gap_ms: g.gapMs }, timeUnixMs: clock.toUnixMs(g.atMs) }]);
    }
    const answers: AnswerReport[] = a.answers.map((ans) => {
      const r = a.results.find((x) => x.questionId === ans.questionId);
      const clipId = r ? library.list().find((c) => c.name === r.clip)?.clipId : undefined;
      const rt =
        r && clipId !== undefined
          ? roundTrip({ sentAtUnixMs: ans.sentAtUnixMs, receivedAtUnixMs: r.receivedAtUnixMs, assessedAtUnixMs: r.assessedAtUnixMs, detectedAtUnixMs: r.detectedAtUnixMs, decidedAtUnixMs: r.decidedAtUnixMs, responseClipId: clipId }, a.frames)
          : undefined;
      return { ...ans, ...(r ? { correct: r.correct, clip: r.clip, reason: r.reason, ...(r.score !== undefined ? { score: r.score } : {}) } : {}), ...(rt ? { roundTrip: rt } : {}) };
    });
    studentReports.push({ room: s.room, student: a.name, group: s.group, agent: "werift", profile: s.profile?.name, wire: summary, ...(answers.length ? { answers } : {}) });
    results.push({ room: s.room, student: a.name, agent: a, summary, relay: s.relay, profile: s.profile?.name });
  }
  const pixel = browsers.members.map((m) =>
    browsers.report(m, sentFrames.get(programOf(m.room, m.agent.name)) ?? [], (clip) => library.list().find((c) => c.name === clip)?.clipId),
  );
  for (const [i, p] of pixel.entries()) {
    const tags: Tags = { ...baseTags, room: p.report.room, student: p.report.student, agent: "chromium", profile: p.report.profile ?? "none" };
    for (const f of p.summary.freezes.list) sink.write([{ measurement: "event", tags: { ...tags, kind: "freeze" }, fields: { duration_ms: f.durationMs }, timeUnixMs: f.startMs }]);
    for (const g of p.summary.switchGaps) sink.write([{ measurement: "event", tags: { ...tags, kind: "clip_switch" }, fields: { from_clip: g.fromClip, to_clip: g.toClip, gap_ms: g.gapMs }, timeUnixMs: g.atMs }]);
    studentReports.push(p.report);
    if (browsers.members[i]!.agent.frames.length === 0) errors.push(`${p.report.room}/${p.report.student}: the browser presented no frame`);
  }
  const values: Record<string, number[]> = {
    latency_ms: results.flatMap((r) => r.agent.frames.filter((f) => f.captureUnixMs !== undefined).map((f) => f.completeUnixMs - f.captureUnixMs!)),
    audio_latency_ms: results.flatMap((r) => r.agent.audio.filter((p) => p.captureUnixMs !== undefined).map((p) => p.arrivalUnixMs - p.captureUnixMs!)),
    switch_gap_ms: results.flatMap((r) => r.summary.switchGaps.map((g) => g.gapMs)),
    loss: results.map((r) => r.summary.video.lossBeforeRepair ?? r.summary.video.lossFraction),
    residual_loss: results.map((r) => r.summary.video.lossFraction),
    frames_received_ratio: results.map((r) => r.summary.framesReceivedRatio),
    join_ms: results.flatMap((r) => (r.summary.joinMs === undefined ? [] : [r.summary.joinMs])),
    rtt_ms: results.flatMap((r) => (r.summary.rttMs && Number.isFinite(r.summary.rttMs.p50) ? [r.summary.rttMs.p50] : [])),
    assessment_rtt_ms: studentReports.flatMap((r) => (r.answers ?? []).flatMap((x) => (x.roundTrip ? [x.roundTrip.totalMs] : []))),
    lipsync_ms: results.flatMap((r) => (r.summary.avSync ? [r.summary.avSync.offsetMs] : [])),
    freeze_count: results.map((r) => r.summary.freezes.count),
    freeze_ratio: results.map((r) => r.summary.freezes.ratio),
    audio_concealment: results.map((r) => r.summary.audioConcealment.concealmentRatio),
    mos_audio: results.map((r) => r.summary.mos.audio),
    mos_video: results.map((r) => r.summary.mos.video),
  };
  for (const p of pixel) for (const [k, v] of Object.entries(p.values)) (values[k] ??= []).push(...v);
  // No budgets declared: the product targets, for the metrics this run produced (a class without a
  // lesson has no round trips to judge).
  const budgets =
    Object.keys(scenario.budgets).length > 0
      ? scenario.budgets
      : Object.fromEntries(Object.entries(defaultBudgets(media.fps)).filter(([m]) => (values[m]?.length ?? 0) > 0));
  const verdicts = evaluateBudgets(budgets, values);
  if (exitCode === 0 && verdicts.some((v) => !v.pass)) exitCode = 1;
  if (exitCode === 0 && errors.length > 0) exitCode = 2;
  const report: RunReport = {
    schemaVersion: REPORT_SCHEMA_VERSION,
    tool: { name: "proctor", version: VERSION },
    run: { id: runId, scenario: scenario.name, seed: scenario.seed, startedAt, durationMs: clock.nowMs() - t0, scenarioFile: opts.scenarioFile },
    media: {
      ...media,
      clips: generated.map((g) => ({ name: g.spec.name, clipId: g.spec.clipId, durationMs: g.spec.durationMs, hash: g.hash })),
    },
    streamer: {
      framesSent: [...programs.values()].reduce((n, p) => n + p.framesSent, 0),
      audioPacketsSent: [...programs.values()].reduce((n, p) => n + p.audioPacketsSent, 0),
      maxPacingLatenessMs: Math.max(0, ...[...programs.values()].map((p) => p.maxPacingLatenessMs)),
    },
    students: studentReports,
    budgets: verdicts,
    status: exitCode === 0 ? "passed" : exitCode === 1 ? "failed" : "broken",
    errors,
  };
  sink.write(runSummaryPoints(report, baseTags, values));
  await sink.close();
  report.sinks = sink.statsBySink();
  if (sink.failures.length > 0) report.errors.push(...sink.failures);
  await writeRunReport(join(runDir, "report.json"), report);
  try {
    await writeHtmlReport(runDir, report);
    await writeJUnit(join(runDir, "junit.xml"), [report]);
  } catch (e) {
    // A report writer failing must not hide the run's result; say so and keep report.json.
    log(`report writers failed: ${(e as Error).message}`);
  }
  return { report, runDir, exitCode, students: results, sentFrames, browsers: browsers.members.map((m) => ({ room: m.room, student: m.agent.name, relay: m.relay, profile: m.profile?.name })) };
}

/**
 * The product targets, judged when a scenario declares no budgets of its own: latency p95 ≤ 400 ms,
 * lip-sync within −100..+25 ms (positive = audio leads), clip-switch gap ≤ one frame interval,
 * assessment round trip p95 ≤ 1500 ms, audio concealment ≤ 5 %.
 */
export function defaultBudgets(fps: number): Record<string, BudgetExpr[]> {
  const b = (exprs: string[]): BudgetExpr[] => exprs.map(parseBudget);
  return {
    latency_ms: b(["p95 <= 400"]),
    lipsync_ms: b(["p95 >= -100", "p95 <= 25"]),
    switch_gap_ms: b([`max <= ${(1000 / fps).toFixed(1)}`]),
    assessment_rtt_ms: b(["p95 <= 1500"]),
    audio_concealment: b(["ratio <= 0.05"]),
  };
}

/** The scenario's assessor: an HttpAssessor, or the LocalAssessor's latency model (VoiceAnswers builds it). */
function assessorOptions(a: Scenario["assessor"], clock: Clock): { assessor?: HttpAssessor; latency?: LatencyModel } {
  if (!a) return {};
  if (a.kind === "http") return { assessor: new HttpAssessor({ url: a.url, timeoutMs: a.timeout, retries: a.retries, backoffMs: a.backoff, clock }) };
  return a.latency ? { latency: a.latency } : {};
}

/** p95 of the latency of frames completed since `sinceUnixMs` (frames are appended in completion order). */
function recentLatencyP95(frames: readonly { completeUnixMs: number; captureUnixMs?: number }[], sinceUnixMs: number): number {
  const v: number[] = [];
  for (let i = frames.length - 1; i >= 0 && frames[i]!.completeUnixMs >= sinceUnixMs; i--) {
    const f = frames[i]!;
    if (f.captureUnixMs !== undefined) v.push(f.completeUnixMs - f.captureUnixMs);
  }
  return v.length ? percentile(v.sort((a, b) => a - b), 95) : NaN;
}

function lossPercent(e: TimelineEvent): number {
  const l = e.params.loss;
  return l.kind === "none" ? 0 : l.kind === "random" ? l.probability * 100 : NaN;
}

function streamStats(s: StudentAgent["videoStats"]): WireSummary["video"] {
  const { bytes: _bytes, ...counters } = receiveCounters(s);
  return counters;
}

function makeRunId(scenario: string): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, "0");
  return `${scenario}-${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}-${randomBytes(2).toString("hex")}`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}
