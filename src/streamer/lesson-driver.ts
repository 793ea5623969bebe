// Runs one audience's lesson (a student in per-student mode, a room in shared mode): feeds the
// pure LessonBrain with clip ends, answers and time, and carries out its actions on the audience's
// MediaProgram (enqueue / switch on the next frame tick) and toward the students (questions,
// assessment results) through an injected `notify` — the streamer never talks to sockets itself.
//
// Voice answers: the teacher's VoiceListener hands each heard utterance to onVoice. It answers
// the question open when its end of speech was received (a voice question: `ask.voice`); speech
// shorter than voice.minSpeechMs goes to the brain unassessed (ignored as too short); otherwise the
// assessor scores it, and the score reaches the brain as the answer received at the end of speech.
// An assessment that finishes after the question closed (timeout) is ignored as late; an assessor
// error leaves the question to its timeout. Every outcome is reported through onVoice.
import type { Clock } from "../clock.js";
import type { ClipLibrary } from "./clip-library.js";
import type { MediaProgram, SentFrame } from "./media-program.js";
import { LessonBrain, type BrainAction, type BrainMode } from "./lesson-brain.js";
import type { Lesson, Question } from "./lesson-loader.js";
import type { Assessor, AssessResult } from "./assessor.js";
import type { HeardUtterance } from "./voice-listener.js";

/** A heard utterance (voice-listener.ts); instants on the driver's clock. */
export type VoiceInput = Pick<HeardUtterance, "pcm" | "sampleRate" | "speech" | "speechMs" | "receivedAtMs" | "detectedAtMs">;

/** What became of one heard utterance. */
export type VoiceOutcome = {
  student: string;
  questionId?: string;
  outcome: "assessed" | "not-asked" | "too-short" | "assessor-error" | "ignored";
  speechMs: number;
  score?: number;
  assessor?: string;
  assessmentMs?: number;
  detail?: string;
};

export type LessonNotice =
  | { type: "question"; questionId: string; choices: string[]; voice: boolean; deadlineUnixMs: number; askedAtUnixMs: number }
  | {
      type: "assessment-result";
      questionId: string;
      correct: boolean;
      score?: number;
      clip: string;
      reason: string;
      receivedAtUnixMs?: number;
      detectedAtUnixMs?: number;
      assessedAtUnixMs?: number;
      decidedAtUnixMs: number;
    };

export type LessonDriverOptions = {
  mode: BrainMode;
  clock: Clock;
  /** Who this audience is (one student in per-student mode; the room's roster in shared mode). */
  students: readonly string[];
  /** Send a notice to one student. */
  notify: (student: string, notice: LessonNotice) => void;
  /** Every action, for events and tests. */
  onAction?: (a: BrainAction) => void;
  /** Scores spoken answers (required for voice questions to be answered). */
  assessor?: Assessor;
  /** What became of each heard utterance. */
  onVoice?: (o: VoiceOutcome) => void;
};

const TICK_MS = 20;

export class LessonDriver {
  readonly brain: LessonBrain;
  private timer: NodeJS.Timeout | null = null;
  /** Server receive time of each answer (unix ms), by student and question, for the results. */
  private readonly received = new Map<string, number>();
  /** Voice answers: end-of-speech detection and assessment instants (unix ms). */
  private readonly voiceTimes = new Map<string, { detectedAtUnixMs: number; assessedAtUnixMs: number }>();
  private readonly inFlight = new Set<AbortController>();
  readonly actions: BrainAction[] = [];

  constructor(
    lesson: Lesson,
    private readonly library: ClipLibrary,
    private readonly program: MediaProgram,
    private readonly opts: LessonDriverOptions,
  ) {
    this.brain = new LessonBrain(lesson, { mode: opts.mode, clock: opts.clock, students: opts.students });
  }

  start(): void {
    this.apply(this.brain.start(this.opts.clock.nowMs()));
    this.timer = setInterval(() => this.apply(this.brain.onTick(this.opts.clock.nowMs())), TICK_MS);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const ac of this.inFlight) ac.abort();
    this.inFlight.clear();
  }

  /** A student's utterance was heard (see the header for how it becomes an answer). */
  onVoice(student: string, v: VoiceInput): void {
    const { clock } = this.opts;
    const report = (o: Omit<VoiceOutcome, "student" | "speechMs">): void => this.opts.onVoice?.({ student, speechMs: v.speechMs, ...o });
    const open = this.brain.openQuestion;
    const q = open ? this.question(open.questionId) : undefined;
    if (!open || !q?.voice) return report({ outcome: "not-asked", detail: open ? `question "${open.questionId}" takes click answers only` : "no question is open" });
    const questionId = q.id;
    const key = `${student}\u0000${questionId}`;
    // The answer counts as received when its end of speech arrived.
    const atMs = v.receivedAtMs;
    if (v.speechMs < q.voice.minSpeechMs) {
      this.apply(this.brain.onAnswer({ student, questionId, score: 0, speechMs: v.speechMs, atMs }));
      return report({ questionId, outcome: "too-short", detail: `${v.speechMs} ms < voice.minSpeechMs ${q.voice.minSpeechMs} ms` });
    }
    if (!this.opts.assessor) return report({ questionId, outcome: "assessor-error", detail: "no assessor configured" });
    const ac = new AbortController();
    this.inFlight.add(ac);
    const t0 = clock.nowMs();
    this.opts.assessor
      .assess(
        {
          lessonId: this.brain.lesson.name,
          questionId,
          student,
          audio: { sampleRate: v.sampleRate, pcm: v.pcm },
          speech: v.speech,
          expectedSpeechMs: { min: q.voice.minSpeechMs, max: q.voice.maxSpeechMs },
        },
        ac.signal,
      )
      .then(
        (r: AssessResult) => {
          if (ac.signal.aborted) return;
          this.received.set(key, clock.toUnixMs(v.receivedAtMs));
          this.voiceTimes.set(key, { detectedAtUnixMs: clock.toUnixMs(v.detectedAtMs), assessedAtUnixMs: clock.toUnixMs(clock.nowMs()) });
          const actions = this.brain.onAnswer({ student, questionId, score: r.score, speechMs: v.speechMs, atMs });
          const ignored = actions.find((a): a is Extract<BrainAction, { kind: "ignored" }> => a.kind === "ignored" && a.student === student);
          report({ questionId, outcome: ignored ? "ignored" : "assessed", score: r.score, assessor: r.assessor, assessmentMs: clock.nowMs() - t0, ...(ignored ? { detail: `${ignored.reason}: ${ignored.detail}` } : {}) });
          this.apply(actions);
        },
        (e: Error) => {
          if (!ac.signal.aborted) report({ questionId, outcome: "assessor-error", assessmentMs: clock.nowMs() - t0, detail: e.message });
        },
      )
      .finally(() => this.inFlight.delete(ac));
  }

  private question(id: string): Question | undefined {
    for (const s of this.brain.lesson.steps) if (s.kind === "ask" && s.question.id === id) return s.question;
    return undefined;
  }

  /** Feed every frame the audience's program sent (the brain learns when a clip ended). */
  onFrameSent(f: SentFrame): void {
    if (!f.lastOfClip) return;
    const clip = this.library.list().find((c) => c.clipId === f.clipId);
    this.apply(this.brain.onClipEnded(this.opts.clock.nowMs(), clip?.name));
  }

  /** A click answer arrived at the server (`receivedAtUnixMs` stamped there). */
  onAnswer(student: string, a: { questionId: string; choice: string; receivedAtUnixMs: number }): void {
    this.received.set(`${student}\u0000${a.questionId}`, a.receivedAtUnixMs);
    this.apply(this.brain.onAnswer({ student, questionId: a.questionId, choice: a.choice, atMs: this.opts.clock.nowMs() }));
  }

  private apply(actions: readonly BrainAction[]): void {
    const { clock } = this.opts;
    const switches = actions.filter((a): a is Extract<BrainAction, { kind: "switch" }> => a.kind === "switch");
    for (const a of actions) {
      this.actions.push(a);
      this.opts.onAction?.(a);
      switch (a.kind) {
        case "play":
          this.program.enqueue(this.library.get(a.clip));
          break;
        case "switch":
          this.program.switchNow(this.library.get(a.clip));
          break;
        case "ask":
          for (const s of this.opts.students) {
            this.opts.notify(s, {
              type: "question",
              questionId: a.questionId,
              choices: [...a.choices],
              voice: a.voice,
              deadlineUnixMs: clock.toUnixMs(a.deadlineMs),
              askedAtUnixMs: clock.toUnixMs(a.openedAtMs),
            });
          }
          break;
        case "result": {
          const sw = switches.find((x) => x.questionId === a.questionId);
          if (!sw) break;
          const receivedAt = this.received.get(`${a.student}\u0000${a.questionId}`);
          const voice = this.voiceTimes.get(`${a.student}\u0000${a.questionId}`);
          this.opts.notify(a.student, {
            type: "assessment-result",
            questionId: a.questionId,
            correct: a.correct,
            ...(a.score !== undefined ? { score: a.score } : {}),
            clip: sw.clip,
            reason: sw.reason,
            ...(receivedAt !== undefined ? { receivedAtUnixMs: receivedAt, assessedAtUnixMs: voice?.assessedAtUnixMs ?? receivedAt } : {}),
            ...(voice ? { detectedAtUnixMs: voice.detectedAtUnixMs } : {}),
            decidedAtUnixMs: clock.toUnixMs(sw.decidedAtMs),
          });
          break;
        }
        default:
          break;
      }
    }
  }
}
