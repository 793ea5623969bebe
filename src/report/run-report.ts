// report.json: the versioned, machine-readable result of one run.
import { writeFile } from "node:fs/promises";
import type { WireSummary } from "../metrics/wire-summary.js";
import type { PixelSummary } from "../metrics/pixel-summary.js";
import type { Verdict } from "./evaluate.js";

export const REPORT_SCHEMA_VERSION = 1;

import type { RoundTrip } from "../metrics/round-trip.js";

/**
 * One answer — a click (`choice`) or a voice answer (`kind: "voice"`, `score`; sent = end of speech)
 * — what the teacher decided, and the round trip.
 */
export type AnswerReport = {
  questionId: string;
  kind?: "click" | "voice";
  choice?: string;
  sentAtUnixMs: number;
  ackMs?: number;
  speechStartedAtUnixMs?: number;
  error?: string;
  correct?: boolean;
  score?: number;
  clip?: string;
  reason?: string;
  roundTrip?: RoundTrip;
};

/** One student: light students (werift) carry the wire tier, browser students (chromium) the pixel tier. */
export type StudentReport = { room: string; student: string; group: string; agent: string; profile?: string; wire?: WireSummary; pixel?: PixelSummary; answers?: AnswerReport[]; error?: string };

export type RunReport = {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  tool: { name: "proctor"; version: string };
  run: { id: string; scenario: string; seed: number; startedAt: string; durationMs: number; scenarioFile: string };
  media: { width: number; height: number; fps: number; videoKbps: number; clips: { name: string; clipId: number; durationMs: number; hash: string }[] };
  streamer: { framesSent: number; audioPacketsSent: number; maxPacingLatenessMs: number };
  students: StudentReport[];
  budgets: Verdict[];
  status: "passed" | "failed" | "broken";
  /** Counters of sinks that keep them (e.g. influx: written, spooled, replayed, dropped). */
  sinks?: Record<string, Readonly<Record<string, number | string | null>>>;
  errors: string[];
};

export async function writeRunReport(path: string, report: RunReport): Promise<void> {
  await writeFile(path, JSON.stringify(report, null, 2) + "\n");
}
