// The teacher's brain for one audience: one per student in per-student mode, one per room in shared
// mode. A pure, synchronous state machine over a validated Lesson: it is told what happened (start,
// a clip ended, an answer arrived, time passed) and returns what to do as a list of actions; a thin
// adapter turns those into MediaProgram calls (`play` → enqueue, `switch` → switchNow) and
// signaling messages (`ask`, `closed`, `result`). It never reads a socket or sets a timer.
//
// Semantics (what the tests pin down):
// - Clips play back to back: the brain queues every `play` up to and including the next question's
//   clip. A question opens when its clip starts (the moment the previous clip ended, or start()),
//   and times out `timeout` after opening. If its clip ends first, `hold` (if given) loops.
// - A decision interrupts: the first clip after it is a `switch` (the program starts it on the next
//   frame tick); later clips are `play`s. A branch names a clip (played, then the script carries on
//   after the question) or a label (the script carries on there). No branch → carry on after it.
// - Per-student mode and `rule: first`: the first valid answer decides. `rule: majority`: decides
//   when every student on the roster has answered, or `window` after the first answer, or at the
//   timeout — correct if strictly more answers are right than wrong; a tie goes to `wrong` (no
//   majority for the right answer: re-teach). No answer at all by the timeout → `timeout`.
// - Voice answers carry a score: right if score ≥ passScore. `on.score` thresholds (highest first)
//   take precedence over correct/wrong; in majority mode they apply to the median score.
// - Late, duplicate, unknown-question, unknown-student, invalid and too-short answers are ignored,
//   each reported as an `ignored` action with its reason.
// - Loops: every jump to a label (goto or branch) counts; beyond the lesson's maxIterations the jump
//   is refused (`loop-limit` action) and the script falls through. `goto { times: n }` jumps n
//   times, then falls through (and re-arms, so nested loops work). So every lesson terminates.
import type { Clock } from "../clock.js";
import type { BranchTarget, Lesson, LessonStep, Question } from "./lesson-loader.js";

export type BrainMode = "per-student" | "shared";

export type LessonBrainOptions = {
  mode: BrainMode;
  clock: Clock;
  /**
   * The audience. per-student: the one student (answers from anyone else are ignored). shared: the
   * roster a majority waits for (optional: without it, majority waits for its window; any student
   * may answer).
   */
  students?: readonly string[];
};

export type DecisionReason = "correct" | "wrong" | "timeout" | "score";

export type IgnoreReason = "unknown-question" | "not-open" | "late" | "duplicate" | "unknown-student" | "invalid" | "too-short";

export type AnswerInput = {
  student: string;
  questionId: string;
  /** Click answer. Exactly one of choice / score. */
  choice?: string;
  /** Voice answer: the assessor's score, 0..1. */
  score?: number;
  /** Voice answer: detected speech length; below the question's minSpeechMs the answer is ignored. */
  speechMs?: number;
  /** When the teacher received the answer (monotonic ms): after the deadline it is late. */
  atMs: number;
};

export type PlayAction = { kind: "play"; clip: string };
export type SwitchAction = {
  kind: "switch";
  clip: string;
  reason: DecisionReason;
  questionId: string;
  /** The score threshold that chose this branch (reason "score"). */
  atLeast?: number;
  decidedAtMs: number;
};
export type AskAction = { kind: "ask"; questionId: string; choices: readonly string[]; voice: boolean; openedAtMs: number; deadlineMs: number };
export type ClosedAction = { kind: "closed"; questionId: string; reason: DecisionReason; decidedAtMs: number; answers: number };
export type ResultAction = {
  kind: "result";
  student: string;
  questionId: string;
  correct: boolean;
  outcome: "correct" | "wrong" | "timeout";
  choice?: string;
  score?: number;
};
export type IgnoredAction = { kind: "ignored"; student: string; questionId: string; reason: IgnoreReason; detail: string };
export type LoopLimitAction = { kind: "loop-limit"; label: string; iterations: number };
export type EndAction = { kind: "end"; reason: "script-end" | "end-step"; atMs: number };

export type BrainAction = PlayAction | SwitchAction | AskAction | ClosedAction | ResultAction | IgnoredAction | LoopLimitAction | EndAction;

type PlaylistEntry = { clip: string; askStep?: number; hold?: boolean };

type Answer = { student: string; correct: boolean; choice?: string; score?: number; atMs: number };

type OpenQuestion = {
  step: number;
  q: Question;
  openedAtMs: number;
  deadlineMs: number;
  /** majority: when the collection window closes (set by the first answer). */
  windowEndMs?: number;
  answers: Map<string, Answer>;
};

type PendingSwitch = Omit<SwitchAction, "kind" | "clip">;

/** Steps one call may execute without playing anything: far above what jump limits allow. */
const STEP_GUARD = 1_000_000;

export class LessonBrain {
  private cursor = 0;
  private playlist: PlaylistEntry[] = [];
  private open: OpenQuestion | null = null;
  private pendingSwitch: PendingSwitch | null = null;
  private scriptDone: EndAction["reason"] | null = null;
  private state: "new" | "running" | "ended" = "new";
  private readonly jumps = new Map<string, number>();
  private readonly gotoCounts = new Map<number, number>();
  /** Question id → students who answered its last (closed) opening. */
  private readonly closed = new Map<string, Set<string>>();
  private readonly questionIds: ReadonlySet<string>;
  private readonly roster: ReadonlySet<string> | null;

  constructor(
    readonly lesson: Lesson,
    private readonly opts: LessonBrainOptions,
  ) {
    if (opts.mode === "per-student" && opts.students !== undefined && opts.students.length !== 1) {
      throw new Error(`lesson brain: per-student mode takes exactly one student, got ${opts.students.length}`);
    }
    this.roster = opts.students ? new Set(opts.students) : null;
    this.questionIds = new Set(lesson.steps.flatMap((s) => (s.kind === "ask" ? [s.question.id] : [])));
  }

  get ended(): boolean {
    return this.state === "ended";
  }

  /** The open question, if any. */
  get openQuestion(): { questionId: string; openedAtMs: number; deadlineMs: number; answers: number } | null {
    const o = this.open;
    return o ? { questionId: o.q.id, openedAtMs: o.openedAtMs, deadlineMs: o.deadlineMs, answers: o.answers.size } : null;
  }

  /** When onTick next has something to do (a deadline or a majority window), or null. */
  get nextDueMs(): number | null {
    const o = this.open;
    if (!o) return null;
    return o.windowEndMs !== undefined ? Math.min(o.windowEndMs, o.deadlineMs) : o.deadlineMs;
  }

  /** Clips queued and not yet ended, head first (the head is playing). */
  get queuedClips(): readonly string[] {
    return this.playlist.map((e) => e.clip);
  }

  start(nowMs: number): BrainAction[] {
    if (this.state !== "new") throw new Error("lesson brain: start() called twice");
    this.state = "running";
    const out: BrainAction[] = [];
    this.run(nowMs, out);
    return out;
  }

  /**
   * The clip at the head of the queue has played its last frame. `clip`, if given, must name it
   * (a stale notification for another clip is ignored and returns nothing).
   */
  onClipEnded(nowMs: number, clip?: string): BrainAction[] {
    const out: BrainAction[] = [];
    if (this.state !== "running") return out;
    const head = this.playlist[0];
    if (!head || (clip !== undefined && clip !== head.clip)) return out;
    this.playlist.shift();
    this.checkTimers(nowMs, out);
    const o = this.open;
    if (o && this.playlist.length === 0 && o.q.hold !== undefined && (head.askStep === o.step || head.hold)) {
      this.playlist.push({ clip: o.q.hold, hold: true });
      out.push({ kind: "play", clip: o.q.hold });
    }
    const next = this.playlist[0];
    if (next?.askStep !== undefined && this.open === null) this.openAsk(next.askStep, nowMs, out);
    if (this.playlist.length === 0 && this.scriptDone !== null) this.endNow(nowMs, this.scriptDone, out);
    return out;
  }

  /** Deadlines and majority windows that have passed by `nowMs`. */
  onTick(nowMs: number): BrainAction[] {
    const out: BrainAction[] = [];
    if (this.state === "running") this.checkTimers(nowMs, out);
    return out;
  }

  onAnswer(a: AnswerInput): BrainAction[] {
    const out: BrainAction[] = [];
    if (this.state === "running") this.checkTimers(a.atMs, out);
    const ignore = (reason: IgnoreReason, detail: string): BrainAction[] => {
      out.push({ kind: "ignored", student: a.student, questionId: a.questionId, reason, detail });
      return out;
    };
    if (!this.questionIds.has(a.questionId)) return ignore("unknown-question", `lesson "${this.lesson.name}" has no question "${a.questionId}"`);
    if (this.roster && !this.roster.has(a.student)) return ignore("unknown-student", `"${a.student}" is not in this audience (${[...this.roster].join(", ")})`);
    const o = this.open;
    if (!o || o.q.id !== a.questionId) {
      const answered = this.closed.get(a.questionId);
      if (answered?.has(a.student)) return ignore("duplicate", "already answered; the question has closed");
      if (answered) return ignore("late", "the question has closed");
      return ignore("not-open", this.state === "ended" ? "the lesson has ended" : "the question is not open yet");
    }
    if (a.atMs > o.deadlineMs) return ignore("late", `received at ${a.atMs} ms, deadline ${o.deadlineMs} ms`);
    if (o.answers.has(a.student)) return ignore("duplicate", "already answered this question");
    const q = o.q;
    let correct: boolean;
    if ((a.choice === undefined) === (a.score === undefined)) return ignore("invalid", "an answer carries exactly one of choice or score");
    if (a.choice !== undefined) {
      if (q.choices.length === 0) return ignore("invalid", "this question takes spoken answers only");
      if (!q.choices.includes(a.choice)) return ignore("invalid", `choice "${a.choice}" is not one of ${q.choices.join(", ")}`);
      correct = a.choice === q.answer;
    } else {
      const score = a.score as number;
      if (!q.voice) return ignore("invalid", "this question takes click answers only");
      if (!Number.isFinite(score) || score < 0 || score > 1) return ignore("invalid", `score must be within 0..1, got ${score}`);
      if (a.speechMs !== undefined && a.speechMs < q.voice.minSpeechMs) return ignore("too-short", `speech lasted ${a.speechMs} ms, the question needs ${q.voice.minSpeechMs} ms`);
      correct = score >= q.voice.passScore;
    }
    const answer: Answer = { student: a.student, correct, atMs: a.atMs, ...(a.choice !== undefined ? { choice: a.choice } : {}), ...(a.score !== undefined ? { score: a.score } : {}) };
    o.answers.set(a.student, answer);
    out.push({
      kind: "result",
      student: a.student,
      questionId: q.id,
      correct,
      outcome: correct ? "correct" : "wrong",
      ...(answer.choice !== undefined ? { choice: answer.choice } : {}),
      ...(answer.score !== undefined ? { score: answer.score } : {}),
    });
    const majority = this.opts.mode === "shared" && q.shared.rule === "majority";
    if (!majority) {
      this.decideOnAnswers(o, [answer], out);
      return out;
    }
    if (o.windowEndMs === undefined) o.windowEndMs = Math.min(a.atMs + q.shared.windowMs, o.deadlineMs);
    if (this.roster && [...this.roster].every((s) => o.answers.has(s))) this.decideOnAnswers(o, [...o.answers.values()], out);
    return out;
  }

  // ── internals ──────────────────────────────────────────────────────────────────────────────

  private checkTimers(nowMs: number, out: BrainAction[]): void {
    const o = this.open;
    if (!o) return;
    if (o.windowEndMs !== undefined && nowMs >= o.windowEndMs) return this.decideOnAnswers(o, [...o.answers.values()], out);
    if (nowMs < o.deadlineMs) return;
    if (o.answers.size > 0) return this.decideOnAnswers(o, [...o.answers.values()], out);
    this.decide(o, "timeout", o.q.on.timeout, undefined, out);
  }

  private decideOnAnswers(o: OpenQuestion, answers: readonly Answer[], out: BrainAction[]): void {
    const q = o.q;
    const scores = answers.flatMap((x) => (x.score !== undefined ? [x.score] : []));
    const score = median(scores);
    if (score !== undefined) {
      const branch = q.on.score.find((b) => score >= b.atLeast);
      if (branch) return this.decide(o, "score", branch.then, branch.atLeast, out);
    }
    const right = answers.filter((x) => x.correct).length;
    const correct = right > answers.length - right;
    this.decide(o, correct ? "correct" : "wrong", correct ? q.on.correct : q.on.wrong, undefined, out);
  }

  private decide(o: OpenQuestion, reason: DecisionReason, target: BranchTarget | undefined, atLeast: number | undefined, out: BrainAction[]): void {
    const decidedAtMs = this.opts.clock.nowMs();
    this.open = null;
    this.closed.set(o.q.id, new Set(o.answers.keys()));
    if (reason === "timeout") {
      for (const s of this.roster ?? []) {
        if (!o.answers.has(s)) out.push({ kind: "result", student: s, questionId: o.q.id, correct: false, outcome: "timeout" });
      }
    }
    out.push({ kind: "closed", questionId: o.q.id, reason, decidedAtMs, answers: o.answers.size });
    this.pendingSwitch = { reason, questionId: o.q.id, decidedAtMs, ...(atLeast !== undefined ? { atLeast } : {}) };
    this.cursor = o.step + 1;
    if (target && "clip" in target) this.emitClip(target.clip, undefined, decidedAtMs, out);
    else if (target && "label" in target) this.jump(target.label, out);
    this.run(decidedAtMs, out);
  }

  /** Execute steps from the cursor until a question blocks or the script ends. */
  private run(nowMs: number, out: BrainAction[]): void {
    const steps = this.lesson.steps;
    for (let guard = 0; guard < STEP_GUARD; guard++) {
      const step: LessonStep | undefined = steps[this.cursor];
      if (!step) return this.finish(nowMs, "script-end", out);
      switch (step.kind) {
        case "mark":
          this.cursor++;
          break;
        case "end":
          this.cursor = steps.length;
          return this.finish(nowMs, "end-step", out);
        case "play":
          this.emitClip(step.clip, undefined, nowMs, out);
          this.cursor++;
          break;
        case "goto": {
          const at = this.cursor;
          const used = this.gotoCounts.get(at) ?? 0;
          if (step.times !== undefined && used >= step.times) {
            this.gotoCounts.set(at, 0); // re-arm for the next pass of an enclosing loop
            this.cursor++;
          } else if (this.jump(step.to, out)) {
            this.gotoCounts.set(at, used + 1);
          } else {
            this.cursor++;
          }
          break;
        }
        case "ask":
          this.emitClip(step.question.clip, this.cursor, nowMs, out);
          this.cursor++;
          return;
      }
    }
    throw new Error(`lesson brain: "${this.lesson.name}" ran ${STEP_GUARD} steps without playing a clip`);
  }

  private emitClip(clip: string, askStep: number | undefined, nowMs: number, out: BrainAction[]): void {
    const entry: PlaylistEntry = askStep !== undefined ? { clip, askStep } : { clip };
    const sw = this.pendingSwitch;
    if (sw) {
      this.pendingSwitch = null;
      this.playlist = [entry];
      out.push({ kind: "switch", clip, ...sw });
    } else {
      this.playlist.push(entry);
      out.push({ kind: "play", clip });
    }
    // The clip starts now (next tick) if nothing plays before it.
    if (askStep !== undefined && this.playlist.length === 1) this.openAsk(askStep, sw ? sw.decidedAtMs : nowMs, out);
  }

  private openAsk(step: number, nowMs: number, out: BrainAction[]): void {
    const s = this.lesson.steps[step];
    if (s?.kind !== "ask") return;
    const q = s.question;
    const o: OpenQuestion = { step, q, openedAtMs: nowMs, deadlineMs: nowMs + q.timeoutMs, answers: new Map() };
    this.open = o;
    out.push({ kind: "ask", questionId: q.id, choices: q.choices, voice: q.voice !== undefined, openedAtMs: o.openedAtMs, deadlineMs: o.deadlineMs });
  }

  /** Move the cursor to `label` unless it has been jumped to maxIterations times already. */
  private jump(label: string, out: BrainAction[]): boolean {
    const n = (this.jumps.get(label) ?? 0) + 1;
    if (n > this.lesson.maxIterations) {
      out.push({ kind: "loop-limit", label, iterations: this.lesson.maxIterations });
      return false;
    }
    const at = this.lesson.labels.get(label);
    if (at === undefined) throw new Error(`lesson brain: unknown label "${label}" (the loader checks this)`);
    this.jumps.set(label, n);
    this.cursor = at;
    return true;
  }

  private finish(nowMs: number, reason: EndAction["reason"], out: BrainAction[]): void {
    this.scriptDone = reason;
    // A decision that leads straight to the end interrupts what was playing: end now.
    if (this.pendingSwitch) {
      this.pendingSwitch = null;
      this.playlist = [];
    }
    if (this.playlist.length === 0) this.endNow(nowMs, reason, out);
  }

  private endNow(nowMs: number, reason: EndAction["reason"], out: BrainAction[]): void {
    if (this.state === "ended") return;
    this.state = "ended";
    this.open = null;
    out.push({ kind: "end", reason, atMs: nowMs });
  }
}

function median(xs: readonly number[]): number | undefined {
  if (xs.length === 0) return undefined;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid] : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
