// What a run reads from a student agent, whichever way it runs: a LightStudent in this process, or
// one in a child process (the tc backend puts each student in its own network namespace) seen
// through a proxy. Observation times are on the run's clock (unix ms, and monotonic `completeMs`).
import type { ReceiveCounters } from "../metrics/receive-stats.js";
import type { AnswerObservation, AudioObservation, FrameObservation, ResultObservation, SenderReportObservation } from "./light-student.js";

/** Receive counters of one RTP stream (RFC 3550 loss and jitter). */
export type StreamCounters = ReceiveCounters;

/** proctor's NACK policy counters. */
export interface NackCounters {
  readonly missing: number;
  readonly recovered: number;
  readonly unrecovered: number;
  readonly nacksSent: number;
  readonly repairRttMs: number;
}

export interface StudentAgent {
  readonly name: string;
  readonly frames: readonly FrameObservation[];
  readonly audio: readonly AudioObservation[];
  readonly senderReports: readonly SenderReportObservation[];
  readonly answers: readonly AnswerObservation[];
  readonly results: readonly ResultObservation[];
  readonly videoStats: StreamCounters;
  readonly audioStats: StreamCounters;
  readonly nack: NackCounters | null;
  readonly framesDropped: number;
  readonly joinMs: number | undefined;
  readonly joinRetries: number;
  joinWithRetry(retries?: number): Promise<void>;
  leave(): Promise<void>;
}
