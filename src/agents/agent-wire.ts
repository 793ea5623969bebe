// The line protocol between a run and a student agent in a child process (agent-process.ts).
// Parent → child, on stdin, one JSON object a line: {cmd:"clock",id} (answered at once with the
// child's unix time, to measure the two clocks' offset), {cmd:"join"}, {cmd:"leave"}.
// Child → parent, on stdout, one JSON object a line, `t` naming the kind; every time in it is the
// child's clock (systemClock: performance.timeOrigin + performance.now()).
import { z } from "zod";
import type { AnswerObservation, AudioObservation, FrameObservation, ResultObservation, SenderReportObservation } from "./light-student.js";
import type { NackCounters, StreamCounters } from "./student-agent.js";

export const AgentConfig = z.object({
  serverUrl: z.string().url(),
  room: z.string().min(1),
  student: z.string().min(1),
  joinTimeoutMs: z.number().int().positive(),
  joinRetries: z.number().int().min(0).default(2),
  nack: z.boolean().optional(),
  /** The peer's ICE addresses: bind `local`, accept candidates on `allowed` only. */
  ice: z.object({ local: z.string().min(1), allowed: z.array(z.string().min(1)).min(1) }).optional(),
  behaviour: z
    .object({
      afterMs: z.number().min(0),
      correct: z.number().min(0).max(1),
      answerKey: z.array(z.tuple([z.string(), z.string()])),
      /** childRandom(seed, label): the same stream an in-process student would draw. */
      seed: z.number().int(),
      label: z.string(),
    })
    .optional(),
  /** How often counters are sent (ms). */
  statsEveryMs: z.number().int().positive().default(250),
});
export type AgentConfig = z.input<typeof AgentConfig>;

export type AgentStats = { video: StreamCounters; audio: StreamCounters; nack: NackCounters | null; framesDropped: number };

export type AgentLine =
  | { t: "ready"; pid: number }
  | { t: "clock"; id: number; unixMs: number }
  | { t: "frame"; f: FrameObservation }
  | { t: "audio"; a: AudioObservation }
  | { t: "sr"; sr: SenderReportObservation }
  | { t: "answer"; i: number; a: AnswerObservation }
  | { t: "result"; r: ResultObservation }
  | { t: "stats"; s: AgentStats }
  | { t: "joined"; joinMs: number | undefined; joinRetries: number }
  | { t: "join-failed"; message: string; joinRetries: number }
  | { t: "left" }
  | { t: "error"; message: string };

export type AgentCommand = { cmd: "clock"; id: number } | { cmd: "join" } | { cmd: "leave" };

const KINDS = new Set(["ready", "clock", "frame", "audio", "sr", "answer", "result", "stats", "joined", "join-failed", "left", "error"]);

/** Parse one child line; null for anything that is not one of ours (a stray log line). */
export function parseAgentLine(line: string): AgentLine | null {
  if (!line.startsWith("{")) return null;
  try {
    const v = JSON.parse(line) as { t?: unknown };
    return typeof v.t === "string" && KINDS.has(v.t) ? (v as AgentLine) : null;
  } catch {
    return null;
  }
}
