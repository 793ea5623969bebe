// The teacher's voice-answer path for a whole run: one VoiceListener (Opus decoder + VAD) per
// student that sends on the voice m-line, created on its first packet; a 20 ms tick so a stalled
// stream still ends its speech; every heard utterance goes to the lesson driver of that student's
// audience, which attributes it to the open question and has `assessor` score it.
import type { Clock } from "../clock.js";
import type { Random } from "../random.js";
import { OpusDecoder } from "../media/opus-decoder.js";
import type { Assessor } from "./assessor.js";
import { LocalAssessor, type LatencyModel } from "./local-assessor.js";
import type { LessonDriver, VoiceOutcome } from "./lesson-driver.js";
import { VoiceListener, type VoicePacket } from "./voice-listener.js";

export type VoiceAnswersOptions = {
  clock: Clock;
  random: Random;
  /** The driver that runs this student's lesson (per-student or shared audience). */
  driverOf: (room: string, student: string) => LessonDriver | undefined;
  onOutcome?: (room: string, o: VoiceOutcome) => void;
  /** Default: the built-in LocalAssessor with `latency` (default fixed 0 ms). */
  assessor?: Assessor;
  latency?: LatencyModel;
};

const TICK_MS = 20;

export class VoiceAnswers {
  readonly assessor: Assessor;
  private readonly listeners = new Map<string, VoiceListener>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly opts: VoiceAnswersOptions) {
    this.assessor = opts.assessor ?? new LocalAssessor({ random: opts.random, clock: opts.clock, ...(opts.latency ? { latency: opts.latency } : {}) });
  }

  /** One RTP packet from a student's voice m-line. */
  onRtp(room: string, student: string, p: VoicePacket): void {
    const key = `${room}\u0000${student}`;
    let l = this.listeners.get(key);
    if (!l) {
      l = new VoiceListener({
        decoder: new OpusDecoder(),
        onUtterance: (u) => {
          const driver = this.opts.driverOf(room, student);
          if (driver) driver.onVoice(student, u);
          else this.opts.onOutcome?.(room, { student, outcome: "not-asked", speechMs: u.speechMs, detail: "no lesson runs for this student" });
        },
      });
      this.listeners.set(key, l);
      this.timer ??= setInterval(() => {
        const now = this.opts.clock.nowMs();
        for (const x of this.listeners.values()) x.tick(now);
      }, TICK_MS);
    }
    l.push(p);
  }

  /** Forward a driver's outcome with its room (the driver knows only students). */
  outcome(room: string, o: VoiceOutcome): void {
    this.opts.onOutcome?.(room, o);
  }

  /** Listener counters by room/student (packets, lost, late, utterances). */
  stats(): Map<string, VoiceListener["stats"]> {
    return new Map([...this.listeners].map(([k, l]) => [k.replace("\u0000", "/"), l.stats]));
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const l of this.listeners.values()) l.close();
    this.listeners.clear();
  }
}
