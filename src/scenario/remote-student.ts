// A light student that runs in a child process (agent-process.ts) — for the tc backend, inside its
// own network namespace — seen through the surface a run reads from an in-process LightStudent.
//
// Clocks: the child stamps every observation with its own systemClock (performance.timeOrigin +
// performance.now(), i.e. wall clock), as this process stamps the teacher's capture times. Two
// processes' time origins can differ by a little, so before joining the proxy measures the offset
// (8 pings over stdin/stdout, the one with the shortest round trip, NTP-style midpoint) and maps
// every child time onto this process's clock: unix = child − offset, monotonic = unix − origin.
import type { ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import type { Clock } from "../clock.js";
import type { AnswerObservation, AudioObservation, FrameObservation, ResultObservation, SenderReportObservation } from "../agents/light-student.js";
import type { NackCounters, StreamCounters, StudentAgent } from "../agents/student-agent.js";
import { parseAgentLine, type AgentCommand, type AgentLine } from "../agents/agent-wire.js";

const CLOCK_PINGS = 8;
const zeroCounters = (): StreamCounters => ({ packetsReceived: 0, packetsExpected: 0, packetsLost: 0, lossFraction: 0, jitterMs: 0, jitterMeanMs: 0, duplicates: 0, bytes: 0 });

export type RemoteStudentOptions = {
  clock: Clock;
  /** Start the child (already told its config); called once, by joinWithRetry. */
  start: () => Promise<ChildProcess>;
  /** Whether the child runs proctor's NACK policy (only decides whether `nack` is null). */
  nack?: boolean;
  /** How long the whole join may take (the child retries inside), ms. */
  joinTimeoutMs: number;
  /** How long a leave may take before the child is killed, ms. Default 5000. */
  leaveTimeoutMs?: number;
  log?: (line: string) => void;
};

export class RemoteStudent implements StudentAgent {
  readonly frames: FrameObservation[] = [];
  readonly audio: AudioObservation[] = [];
  readonly senderReports: SenderReportObservation[] = [];
  readonly answers: AnswerObservation[] = [];
  readonly results: ResultObservation[] = [];
  videoStats: StreamCounters = zeroCounters();
  audioStats: StreamCounters = zeroCounters();
  nack: NackCounters | null;
  framesDropped = 0;
  joinMs: number | undefined;
  joinRetries = 0;
  /** Child clock − this clock (ms), and the round trip it was measured with. */
  clockOffsetMs = 0;
  clockRttMs = NaN;
  /** Child pid (for cleanup checks), once started. */
  pid: number | undefined;
  private child: ChildProcess | null = null;
  private stderrTail = "";
  private readonly waiters = new Set<(l: AgentLine | "exit") => void>();
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    private readonly opts: RemoteStudentOptions,
  ) {
    this.nack = opts.nack === false ? null : { missing: 0, recovered: 0, unrecovered: 0, nacksSent: 0, repairRttMs: NaN };
  }

  async joinWithRetry(): Promise<void> {
    if (this.child) throw new Error(`${this.name}: already started`);
    const child = await this.opts.start();
    this.child = child;
    this.pid = child.pid;
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    child.once("exit", () => this.notify("exit"));
    child.stderr?.on("data", (d: Buffer) => (this.stderrTail = (this.stderrTail + d.toString()).slice(-2000)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      const l = parseAgentLine(line);
      if (l) this.onLine(l);
    });
    const deadline = this.opts.joinTimeoutMs + 5000;
    await this.waitFor((l) => l.t === "ready", 10_000, "start");
    let best = { rtt: Infinity, offset: 0 };
    for (let id = 0; id < CLOCK_PINGS; id++) {
      const t0 = this.unixNow();
      this.command({ cmd: "clock", id });
      const reply = await this.waitFor((l) => l.t === "clock" && l.id === id, 2000, "clock ping");
      const t1 = this.unixNow();
      if (reply.t === "clock" && t1 - t0 < best.rtt) best = { rtt: t1 - t0, offset: reply.unixMs - (t0 + t1) / 2 };
    }
    this.clockOffsetMs = best.offset;
    this.clockRttMs = best.rtt;
    this.opts.log?.(`${this.name}: agent pid ${child.pid}, clock offset ${best.offset.toFixed(2)} ms (round trip ${best.rtt.toFixed(2)} ms), mapped out`);
    this.command({ cmd: "join" });
    const r = await this.waitFor((l) => l.t === "joined" || l.t === "join-failed", deadline, "join");
    if (r.t === "join-failed") throw new Error(r.message);
  }

  async leave(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.command({ cmd: "leave" });
    const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), this.opts.leaveTimeoutMs ?? 5000).unref());
    if ((await Promise.race([this.exited, timeout])) === "timeout") {
      child.kill("SIGKILL");
      await this.exited;
    }
  }

  private unixNow(): number {
    return this.opts.clock.toUnixMs(this.opts.clock.nowMs());
  }

  /** A child time (unix ms on its clock) on this process's unix clock. */
  private unix(childUnixMs: number): number {
    return childUnixMs - this.clockOffsetMs;
  }

  private command(c: AgentCommand): void {
    this.child?.stdin?.write(`${JSON.stringify(c)}\n`);
  }

  private onLine(l: AgentLine): void {
    switch (l.t) {
      case "frame": {
        const completeUnixMs = this.unix(l.f.completeUnixMs);
        this.frames.push({ ...l.f, completeUnixMs, completeMs: completeUnixMs - this.opts.clock.toUnixMs(0) });
        break;
      }
      case "audio":
        this.audio.push({ ...l.a, arrivalUnixMs: this.unix(l.a.arrivalUnixMs) });
        break;
      case "sr":
        this.senderReports.push({ ...l.sr, arrivalUnixMs: this.unix(l.sr.arrivalUnixMs) });
        break;
      case "answer":
        this.answers[l.i] = { ...l.a, sentAtUnixMs: this.unix(l.a.sentAtUnixMs) };
        break;
      case "result":
        this.results.push({ ...l.r, arrivedUnixMs: this.unix(l.r.arrivedUnixMs) });
        break;
      case "stats":
        this.videoStats = l.s.video;
        this.audioStats = l.s.audio;
        if (this.nack) this.nack = l.s.nack;
        this.framesDropped = l.s.framesDropped;
        break;
      case "joined":
        this.joinMs = l.joinMs;
        this.joinRetries = l.joinRetries;
        break;
      case "join-failed":
        this.joinRetries = l.joinRetries;
        break;
      default:
        break;
    }
    this.notify(l);
  }

  private notify(l: AgentLine | "exit"): void {
    for (const w of [...this.waiters]) w(l);
  }

  private waitFor(match: (l: AgentLine) => boolean, timeoutMs: number, what: string): Promise<AgentLine> {
    return new Promise((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(w);
      };
      const fail = (why: string): void => {
        done();
        const err = this.stderrTail.trim();
        reject(new Error(`${this.name}: agent process ${why} during ${what}${err ? `: ${err.split("\n").slice(-5).join(" | ")}` : ""}`));
      };
      const w = (l: AgentLine | "exit"): void => {
        if (l === "exit") fail(`exited (code ${this.child?.exitCode ?? "?"}, signal ${this.child?.signalCode ?? "none"})`);
        else if (match(l)) {
          done();
          resolve(l);
        }
      };
      const timer = setTimeout(() => fail(`sent nothing for ${timeoutMs} ms`), timeoutMs);
      this.waiters.add(w);
      if (this.child && (this.child.exitCode !== null || this.child.signalCode !== null)) w("exit");
    });
  }
}
