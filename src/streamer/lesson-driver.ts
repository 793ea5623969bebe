// Runs one audience's lesson (a student in per-student mode, a room in shared mode): feeds the
// pure LessonBrain with clip ends, answers and time, and carries out its actions on the audience's
// MediaProgram (enqueue / switch on the next frame tick) and toward the students (questions,
// assessment results) through an injected `notify` — the streamer never talks to sockets itself.
import type { Clock } from "../clock.js";
import type { ClipLibrary } from "./clip-library.js";
import type { MediaProgram, SentFrame } from "./media-program.js";
import { LessonBrain, type BrainAction, type BrainMode } from "./lesson-brain.js";
import type { Lesson } from "./lesson-loader.js";

export type LessonNotice =
  | { type: "question"; questionId: string; choices: string[]; deadlineUnixMs: number; askedAtUnixMs: number }
  | {
      type: "assessment-result";
      questionId: string;
      correct: boolean;
      score?: number;
      clip: string;
      reason: string;
      receivedAtUnixMs?: number;
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
};

const TICK_MS = 20;

export class LessonDriver {
  readonly brain: LessonBrain;
  private timer: NodeJS.Timeout | null = null;
  /** Server receive time of each answer (unix ms), by student and question, for the results. */
  private readonly received = new Map<string, number>();
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
              deadlineUnixMs: clock.toUnixMs(a.deadlineMs),
              askedAtUnixMs: clock.toUnixMs(a.openedAtMs),
            });
          }
          break;
        case "result": {
          const sw = switches.find((x) => x.questionId === a.questionId);
          if (!sw) break;
          const receivedAt = this.received.get(`${a.student}\u0000${a.questionId}`);
          this.opts.notify(a.student, {
            type: "assessment-result",
            questionId: a.questionId,
            correct: a.correct,
            ...(a.score !== undefined ? { score: a.score } : {}),
            clip: sw.clip,
            reason: sw.reason,
            ...(receivedAt !== undefined ? { receivedAtUnixMs: receivedAt, assessedAtUnixMs: receivedAt } : {}),
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
