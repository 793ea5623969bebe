// A run's browser students (agent: chromium): created from the scenario's groups, joined through
// the Chromium pool, sampled live (`pixel` points once a second), summarised at the end (pixel
// tier). The runner keeps the light students' path as it is and calls this beside it.
import { childRandom } from "../random.js";
import { BrowserPool } from "../agents/browser/browser-pool.js";
import { BrowserStudent } from "../agents/browser/browser-student.js";
import { pageAdapter, type PageAdapter } from "../agents/browser/page-adapter.js";
import { pixelSamplesPerSecond, SentFrameIndex, summarizePixel, type PixelSummary, type SentFrame } from "../metrics/pixel-summary.js";
import { roundTrip } from "../metrics/round-trip.js";
import { percentile } from "../metrics/stats.js";
import type { AnswerReport, StudentReport } from "../report/run-report.js";
import type { Point, Tags } from "../metrics/sample.js";
import type { LinkProfile } from "../netem/profile-loader.js";
import type { UdpRelay } from "../netem/relay.js";
import type { StudentGroup } from "./schema.js";
import type { PreparedUtterance } from "../media/utterance.js";

export type BrowserMember = { room: string; group: string; agent: BrowserStudent; profile?: LinkProfile; relay?: UdpRelay };

export type BrowserStudentsOptions = {
  serverUrl: string;
  seed: number;
  fps: number;
  target?: { url?: string; adapter: string };
  /** The prepared utterance for speaking students (its WAV feeds Chromium's fake microphone). */
  utterance?: () => Promise<PreparedUtterance>;
  log?: (line: string) => void;
};

const JOIN_TIMEOUT_MS = 20_000;

export class BrowserStudents {
  readonly members: BrowserMember[] = [];
  private readonly pool: BrowserPool;
  private readonly adapter: PageAdapter;
  private readonly cursors = new Map<BrowserStudent, { frames: number; markers: number; stats: number }>();
  /** Per member, the teacher's sent frames indexed as they grow (live samples and progress join on it). */
  private readonly sent = new Map<BrowserStudent, SentFrameIndex>();

  private sentIndex(m: BrowserMember, sentFramesOf: (m: BrowserMember) => readonly SentFrame[]): SentFrameIndex {
    let i = this.sent.get(m.agent);
    if (!i) this.sent.set(m.agent, (i = new SentFrameIndex()));
    return i.update(sentFramesOf(m));
  }

  constructor(private readonly opts: BrowserStudentsOptions) {
    this.pool = new BrowserPool({ log: opts.log });
    this.adapter = pageAdapter(opts.target?.adapter ?? "proctor");
  }

  async add(room: string, g: StudentGroup, name: string, profile: LinkProfile | undefined, answerKey: Map<string, string>): Promise<BrowserMember> {
    const b = g.behaviour;
    const u = b?.answer === "voice" && this.opts.utterance ? await this.opts.utterance() : undefined;
    const m: BrowserMember = {
      room,
      group: g.group,
      profile,
      agent: new BrowserStudent({
        adapter: this.adapter,
        serverUrl: this.opts.serverUrl,
        ...(this.opts.target?.url ? { targetUrl: this.opts.target.url } : {}),
        room,
        student: name,
        joinTimeoutMs: JOIN_TIMEOUT_MS,
        voice: u !== undefined,
        nack: g.nack,
        ...(b?.answer === "voice" && u ? { speak: { afterMs: b.after, leadMs: u.leadMs, speechMs: u.speechMs, durationMs: u.durationMs } } : {}),
        ...(b?.answer === "click" ? { behaviour: { afterMs: b.after, correct: b.correct, answerKey, random: childRandom(this.opts.seed, `behaviour:${room}/${name}`) } } : {}),
      }),
    };
    this.members.push(m);
    return m;
  }

  /** Join every member (in parallel); one settled result per member, in order. */
  async joinAll(): Promise<PromiseSettledResult<void>[]> {
    return Promise.allSettled(
      this.members.map(async (m) => {
        // The pool launches Chromium lazily: one process per microphone setting.
        const browser = await this.pool.get(m.agent.voice && this.opts.utterance ? (await this.opts.utterance()).wavPath : undefined);
        await m.agent.join(browser);
      }),
    );
  }

  /** `pixel` points for what each page reported since the last call (the previous stats snapshot is reused so rates span the boundary). */
  samples(sentFramesOf: (m: BrowserMember) => readonly SentFrame[], tagsOf: (m: BrowserMember) => Tags): Point[] {
    const out: Point[] = [];
    for (const m of this.members) {
      const a = m.agent;
      const c = this.cursors.get(a) ?? { frames: 0, markers: 0, stats: 0 };
      const obs = {
        frames: a.frames.slice(c.frames),
        markers: a.markers.slice(c.markers),
        stats: a.stats.slice(Math.max(0, c.stats - 1)),
        errors: [],
      };
      this.cursors.set(a, { frames: a.frames.length, markers: a.markers.length, stats: a.stats.length });
      if (obs.frames.length === 0 && obs.stats.length < 2) continue;
      out.push(...pixelSamplesPerSecond(obs, this.sentIndex(m, sentFramesOf), this.opts.fps, tagsOf(m)));
    }
    return out;
  }

  /** Live figures per member (frames presented so far, latency p95 and video loss over the last second). */
  progress(sinceUnixMs: number, sentFramesOf: (m: BrowserMember) => readonly SentFrame[]): { room: string; student: string; frames: number; latencyP95Ms: number; lossPct: number }[] {
    return this.members.map((m) => {
      const a = m.agent;
      const sent = this.sentIndex(m, sentFramesOf);
      const lat: number[] = [];
      for (let i = a.frames.length - 1; i >= 0 && a.frames[i]!.presentedUnixMs >= sinceUnixMs; i--) {
        const cap = sent.captureOf(a.frames[i]!);
        if (cap !== undefined) lat.push(a.frames[i]!.presentedUnixMs - cap);
      }
      const [s0, s1] = [a.stats[0]?.video, a.stats[a.stats.length - 1]?.video];
      const lost = s0 && s1 ? s1.packetsLost - s0.packetsLost : 0;
      const got = s0 && s1 ? s1.packetsReceived - s0.packetsReceived : 0;
      return {
        room: m.room,
        student: `${a.name} (chromium)`,
        frames: a.frames.length,
        latencyP95Ms: lat.length ? percentile(lat.sort((x, y) => x - y), 95) : NaN,
        lossPct: got + lost > 0 ? (lost / (got + lost)) * 100 : 0,
      };
    });
  }

  async leaveAll(): Promise<void> {
    await Promise.allSettled(this.members.map((m) => m.agent.leave()));
    await this.pool.close();
  }

  /**
   * The pixel-tier report of one member, with its answers' round trips (first presented frame of
   * the response clip), and its contribution to the run's budget values.
   */
  report(m: BrowserMember, sentFrames: readonly SentFrame[], clipIdOf: (clip: string) => number | undefined): { report: StudentReport; summary: PixelSummary; values: Record<string, number[]> } {
    const a = m.agent;
    const summary = summarizePixel({ observations: { frames: a.frames, markers: a.markers, stats: a.stats, errors: a.errors }, sentFrames, fps: this.opts.fps });
    const presented = a.frames.map((f) => ({ completeUnixMs: f.presentedUnixMs, clipId: f.clipId, frameIndex: f.frameIndex }));
    const answers: AnswerReport[] = a.answers.map((ans) => {
      const r = a.results.find((x) => x.questionId === ans.questionId);
      const clipId = r ? clipIdOf(r.clip) : undefined;
      const rt = r && clipId !== undefined ? roundTrip({ ...r, sentAtUnixMs: ans.sentAtUnixMs, responseClipId: clipId }, presented) : undefined;
      if (r && ans.kind === "voice" && ans.speechStartedAtUnixMs !== undefined && r.receivedAtUnixMs !== undefined && r.receivedAtUnixMs < ans.speechStartedAtUnixMs) {
        // The teacher heard speech before this student spoke: its answer came from elsewhere.
        a.errors.push(`voice ${ans.questionId}: assessed before the utterance started`);
      }
      return { ...ans, ...(r ? { correct: r.correct, clip: r.clip, reason: r.reason, ...(r.score !== undefined ? { score: r.score } : {}) } : {}), ...(rt ? { roundTrip: rt } : {}) };
    });
    const index = new SentFrameIndex().update(sentFrames);
    const latencies = a.frames.flatMap((f) => {
      const cap = index.captureOf(f);
      return cap === undefined ? [] : [f.presentedUnixMs - cap];
    });
    const finite = (v: number | undefined): number[] => (v !== undefined && Number.isFinite(v) ? [v] : []);
    const values: Record<string, number[]> = {
      latency_ms: latencies,
      switch_gap_ms: summary.switchGaps.map((g) => g.gapMs),
      loss: finite(summary.video?.lossFraction),
      join_ms: finite(a.joinMs),
      rtt_ms: finite(summary.rttMs.p50),
      assessment_rtt_ms: answers.flatMap((x) => (x.roundTrip ? [x.roundTrip.totalMs] : [])),
      lipsync_ms: finite(summary.lipSync.offsetMs.p50),
      freeze_count: [summary.freezes.count],
      freeze_ratio: [summary.freezes.ratio],
      audio_concealment: finite(summary.audio?.concealmentRatio),
      mos_audio: finite(summary.mos.audio),
      mos_video: finite(summary.mos.video),
    };
    const report: StudentReport = {
      room: m.room,
      student: a.name,
      group: m.group,
      agent: "chromium",
      profile: m.profile?.name,
      pixel: summary,
      ...(answers.length ? { answers } : {}),
      ...(a.errors.length ? { error: a.errors.slice(0, 5).join("; ") } : {}),
    };
    return { report, summary, values };
  }
}
