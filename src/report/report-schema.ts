// The published shape of report.json (schemas/report.schema.json, JSON Schema draft 2020-12).
//
// RunReport (run-report.ts) is a TypeScript type; this file restates it as a zod schema of the
// *JSON* form — JSON.stringify writes NaN and ±Infinity as null, so every plain number may be null
// (a summary over no samples is all NaN) — and derives the JSON Schema from it. A compile-time check
// below fails `tsc` when RunReport and this schema drift apart, so a field added to the report
// cannot ship without its schema. `parseReportJson` validates a report read back from disk (e.g. a
// baseline).
import { z } from "zod";
import { REPORT_SCHEMA_VERSION, type RunReport } from "./run-report.js";

/** A JSON number: NaN and ±Infinity were written as null. */
const num = z.number().nullable();
const ms = (what: string) => num.describe(`${what} (ms)`);

const Summary = z
  .object({ count: num, min: num, max: num, mean: num, p50: num, p95: num, p99: num })
  .describe("Summary statistics over samples (R-7 percentiles); null when there were no samples.");

const SwitchGap = z.object({
  fromClip: num,
  toClip: num,
  fromFrame: num,
  toFrame: num,
  gapMs: ms("time from clip A's last frame to clip B's first, minus one frame interval; 0 = seamless"),
  captureGapMs: ms("the same on the sender's capture clock").optional(),
  atMs: ms("when B's first frame was complete, monotonic clock"),
});

const Freeze = z.object({ startMs: ms("freeze start, monotonic clock"), durationMs: ms("freeze duration") });

const StreamStats = z.object({
  packetsReceived: num,
  packetsExpected: num,
  packetsLost: num,
  lossFraction: num.describe("residual loss after any repair, 0–1 (RFC 3550 counting)"),
  jitterMs: ms("RFC 3550 interarrival jitter at the end of the run"),
  jitterMeanMs: ms("time-average of the running RFC 3550 jitter").optional(),
  duplicates: num,
  lossBeforeRepair: num.describe("share of packets whose first transmission never arrived, 0–1").optional(),
  repaired: num.optional(),
  nacksSent: num.optional(),
  repairRttMs: ms("RTT used by the NACK repair policy").optional(),
});

const WireSummary = z.object({
  framesReceived: num,
  framesExpected: num,
  framesReceivedRatio: num,
  framesDropped: num,
  latencyMs: Summary.describe("wire e2e video latency: frame complete − capture (ms)"),
  audioLatencyMs: Summary.describe("wire e2e audio latency: packet arrival − capture (ms)"),
  switchGaps: z.array(SwitchGap),
  presentedSwitchGaps: z.array(SwitchGap),
  playout: z.object({ presented: num, notDecodable: num, late: num, targetDelayMs: num, presentedLatencyMs: Summary, fps: num }),
  freezes: z.object({ count: num, totalMs: num, ratio: num, pauses: num, list: z.array(Freeze) }),
  avSync: z
    .object({
      offsetMs: ms("lip-sync offset: video − audio presentation of the same instant; positive = audio leads"),
      videoSrErrorMs: num,
      audioSrErrorMs: num,
      videoSamples: num,
      audioSamples: num,
    })
    .optional(),
  audioConcealment: z.object({
    expectedFrames: num,
    lostFrames: num,
    lateFrames: num,
    concealedFrames: num,
    concealmentRatio: num,
    interruptionCount: num,
    totalInterruptionMs: num,
    playoutDelayMs: num,
  }),
  mos: z.object({ audioR: num, audio: num, video: num }).describe("E-model (G.107) audio and G.1070 video estimates"),
  video: StreamStats,
  audio: StreamStats,
  bitrateKbps: num,
  rttMs: Summary.optional(),
  joinMs: num.optional(),
  joinRetries: num.optional(),
});

const PixelStreamStats = z.object({
  packetsReceived: num,
  packetsLost: num,
  lossFraction: num.describe("webrtc-stats packetsLost / (received + lost), 0–1"),
  jitterMs: ms("webrtc-stats jitter, mean over the snapshots"),
  bitrateKbps: num,
  nackCount: num.optional(),
  pliCount: num.optional(),
});

const PixelSummary = z
  .object({
    framesPresented: num,
    framesCoded: num,
    codeReadRatio: num,
    framesJoined: num,
    latencyMs: Summary.describe("pixel e2e video latency: frame presented − capture (ms)"),
    captureTimeLatencyMs: Summary.describe("presented − Chromium's own captureTime estimate (ms), a cross-check"),
    receiveToPresentMs: Summary,
    networkLatencyMs: Summary.describe("capture → frame received in Chromium (rVFC receiveTime, repairs included): the network part, as the wire tier measures latency"),
    fps: num,
    freezes: z.object({ count: num, totalMs: num, ratio: num, pauses: num, list: z.array(Freeze) }),
    statsFreezes: z.object({ count: num, totalMs: num }).optional(),
    switchGaps: z.array(SwitchGap),
    lipSync: z.object({
      pairs: z.array(
        z.object({ flashUnixMs: num, markerUnixMs: num, offsetMs: num, playoutOffsetMs: num.optional(), clipId: num.optional(), frameIndex: num.optional(), score: num }),
      ),
      offsetMs: Summary.describe("per marker: flash presented − burst played − detector bias; positive = audio leads"),
      biasMs: num,
      flashes: num,
      markers: num,
    }),
    playoutLipSyncMs: Summary.describe("getStats estimatedPlayoutTimestamp audio − video (ms)"),
    video: PixelStreamStats.extend({ framesDecoded: num.optional(), framesDropped: num.optional(), jitterBufferMs: num.optional() }).optional(),
    audio: PixelStreamStats.extend({
      concealmentRatio: num,
      concealmentEvents: num.optional(),
      interruptionCount: num.optional(),
      totalInterruptionMs: num.optional(),
      jitterBufferMs: num.optional(),
      outputDelayMs: num.optional().describe("the audio output device's reported playout delay (media-playout), after the hand-off lip-sync is read at"),
    }).optional(),
    rttMs: Summary,
    uplink: z
      .object({ kind: z.string(), packetsSent: num, packetsLost: num.optional(), lossFraction: num.optional(), jitterMs: num.optional(), rttMs: num.optional() })
      .optional()
      .describe("what the page sent (voice answers): outbound-rtp + the teacher's receiver reports (remote-inbound-rtp)"),
    mos: z.object({ audioR: num, audio: num, video: num }),
    readMs: Summary,
    errors: z.array(z.string()),
  })
  .describe("browser student (pixel tier): what real Chromium presented and played");

const StudentReport = z.object({
  room: z.string(),
  student: z.string(),
  group: z.string(),
  agent: z.string(),
  profile: z.string().optional(),
  wire: WireSummary.optional().describe("light students (werift)"),
  pixel: PixelSummary.optional().describe("browser students (chromium)"),
  answers: z
    .array(
      z.object({
        questionId: z.string(),
        kind: z.enum(["click", "voice"]).optional(),
        choice: z.string().optional().describe("click answers"),
        sentAtUnixMs: num.describe("click: sent; voice: the packet carrying the end of speech left the student"),
        ackMs: num.optional(),
        speechStartedAtUnixMs: num.optional(),
        error: z.string().optional(),
        correct: z.boolean().optional(),
        score: num.optional().describe("voice answers: the assessor's score, 0..1"),
        clip: z.string().optional(),
        reason: z.string().optional(),
        roundTrip: z
          .object({
            totalMs: num,
            uplinkMs: num,
            assessmentMs: num,
            decisionMs: num,
            downlinkMs: num,
            firstFrameUnixMs: num,
            endOfSpeechMs: num.optional().describe("voice: the VAD's wait to confirm the end of speech, included in assessmentMs"),
          })
          .optional(),
      }),
    )
    .optional(),
  error: z.string().optional(),
});

const Verdict = z.object({
  metric: z.string(),
  expression: z.string().describe('the budget as written, e.g. "p95 <= 400"'),
  measured: num.describe("the statistic's value; null when the metric had no data"),
  limit: num,
  op: z.string(),
  pass: z.boolean(),
  note: z.string().optional(),
});

export const RunReportJson = z
  .object({
    schemaVersion: z.literal(REPORT_SCHEMA_VERSION),
    tool: z.object({ name: z.literal("proctor"), version: z.string() }),
    run: z.object({
      id: z.string(),
      scenario: z.string(),
      seed: num,
      startedAt: z.string().describe("ISO 8601"),
      durationMs: num,
      scenarioFile: z.string(),
    }),
    media: z.object({
      width: num,
      height: num,
      fps: num,
      videoKbps: num,
      clips: z.array(z.object({ name: z.string(), clipId: num, durationMs: num, hash: z.string() })),
    }),
    streamer: z.object({ framesSent: num, audioPacketsSent: num, maxPacingLatenessMs: num }),
    students: z.array(StudentReport),
    budgets: z.array(Verdict),
    status: z.enum(["passed", "failed", "broken"]),
    sinks: z.record(z.string(), z.record(z.string(), z.union([z.number(), z.string(), z.null()]))).optional(),
    errors: z.array(z.string()),
  })
  .describe("proctor report.json: the result of one run");

/** RunReport as it reads back from JSON: numbers may be null (NaN/±Infinity), literals stay. */
export type Jsonified<T> = T extends number
  ? number extends T
    ? number | null
    : T
  : T extends string | boolean | null | undefined
    ? T
    : T extends readonly (infer U)[]
      ? Jsonified<U>[]
      : T extends object
        ? { -readonly [K in keyof T]: Jsonified<T[K]> }
        : T;

export type RunReportJsonValue = z.output<typeof RunReportJson>;

// Drift check (compile time): each direction must type-check, so RunReport and the schema agree.
function _schemaCoversType(r: Jsonified<RunReport>): RunReportJsonValue {
  return r;
}
function _typeCoversSchema(r: RunReportJsonValue): Jsonified<RunReport> {
  return r;
}
void _schemaCoversType;
void _typeCoversSchema;

/** The JSON Schema document for report.json. */
export function reportJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(RunReportJson, { target: "draft-2020-12", io: "output" }) as Record<string, unknown>;
  return { $schema: schema.$schema, title: "proctor report.json", ...schema };
}

export class ReportSchemaError extends Error {}

/** Validate a parsed report.json; errors name the path and say what was expected. */
export function parseReportJson(value: unknown, source = "report.json"): RunReportJsonValue {
  const r = RunReportJson.safeParse(value);
  if (r.success) return r.data;
  const lines = r.error.issues.slice(0, 10).map((i) => `  ${i.path.join(".") || "(root)"}: ${i.message}`);
  throw new ReportSchemaError(`${source} does not match report schema v${REPORT_SCHEMA_VERSION}:\n${lines.join("\n")}`);
}
