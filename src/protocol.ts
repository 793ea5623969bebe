// Shared wire types of the room server: one zod schema per WebSocket message, discriminated on
// `type`, plus the HTTP request/response bodies of the join flow. The server, the light agents and
// the browser page all parse with these, so a message that one side accepts the other side can send.
//
// Every parse failure becomes a `ProtocolError` that names the field path and the offending value
// (`field "sdp": expected string, got number (42)`), never a thrown exception: one bad message must
// not affect anything else on the connection.
//
// Signaling is non-trickle by default (the SDP carries its candidates, RFC 8829 §4.1.10 "complete"
// descriptions), which is what lets the netem relay put itself in the path by rewriting SDP.

import { z } from "zod";

/** Size limits. An SDP with a handful of candidates is ~2–6 KiB; 64 KiB leaves ample room. */
export const LIMITS = {
  sdpChars: 64 * 1024,
  chatChars: 2000,
  idChars: 64,
  candidateChars: 4096,
  /** A whole raw frame; anything larger is refused before JSON.parse. */
  frameChars: 128 * 1024,
} as const;

/** Room and student ids: URL-safe, short. */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

const Id = z.string().regex(ID_PATTERN, "must match ^[A-Za-z0-9_-]{1,64}$");
const MsgId = z.string().min(1).max(LIMITS.idChars);
const Sdp = z.string().min(1).max(LIMITS.sdpChars);

// ---- client → server ---------------------------------------------------------------------------

export const AnswerMessage = z.object({ type: z.literal("answer"), sdp: Sdp });
export type AnswerMessage = z.infer<typeof AnswerMessage>;

/** Trickle ICE candidate (RFC 8838). `null` = end of candidates. Accepted, not required. */
export const CandidateMessage = z.object({
  type: z.literal("candidate"),
  candidate: z.string().max(LIMITS.candidateChars).nullable(),
  sdpMid: z.string().max(LIMITS.idChars).optional(),
});
export type CandidateMessage = z.infer<typeof CandidateMessage>;

export const ClientChatMessage = z.object({
  type: z.literal("chat"),
  id: MsgId,
  text: z.string().min(1).max(LIMITS.chatChars),
});
export type ClientChatMessage = z.infer<typeof ClientChatMessage>;

export const PingMessage = z.object({ type: z.literal("ping"), id: MsgId });
export type PingMessage = z.infer<typeof PingMessage>;

export const LeaveMessage = z.object({ type: z.literal("leave") });
export type LeaveMessage = z.infer<typeof LeaveMessage>;

/** A student's answer to an open question (click). `sentAtUnixMs`: when the student sent it. */
export const QuizAnswerMessage = z.object({
  type: z.literal("quiz-answer"),
  id: MsgId,
  questionId: z.string().min(1).max(LIMITS.idChars),
  choice: z.string().min(1).max(LIMITS.idChars),
  sentAtUnixMs: z.number().finite(),
});
export type QuizAnswerMessage = z.infer<typeof QuizAnswerMessage>;

export const RaiseHandMessage = z.object({ type: z.literal("raise-hand"), id: MsgId });
export type RaiseHandMessage = z.infer<typeof RaiseHandMessage>;

export const ClientMessage = z.discriminatedUnion("type", [
  AnswerMessage,
  CandidateMessage,
  ClientChatMessage,
  PingMessage,
  LeaveMessage,
  QuizAnswerMessage,
  RaiseHandMessage,
]);
export type ClientMessage = z.infer<typeof ClientMessage>;

// ---- server → client ---------------------------------------------------------------------------

export const WelcomeMessage = z.object({
  type: z.literal("welcome"),
  room: z.string(),
  student: z.string(),
  /** Students already connected to the room, this one excluded. */
  peers: z.array(z.string()),
});
export type WelcomeMessage = z.infer<typeof WelcomeMessage>;

export const OfferMessage = z.object({ type: z.literal("offer"), sdp: Sdp });
export type OfferMessage = z.infer<typeof OfferMessage>;

export const PresenceMessage = z.object({
  type: z.literal("presence"),
  student: z.string(),
  state: z.enum(["joined", "left"]),
});
export type PresenceMessage = z.infer<typeof PresenceMessage>;

export const ServerChatMessage = z.object({
  type: z.literal("chat"),
  id: MsgId,
  from: z.string(),
  text: z.string().max(LIMITS.chatChars),
});
export type ServerChatMessage = z.infer<typeof ServerChatMessage>;

/** Acknowledges a client message that carried an `id` (chat). */
export const AckMessage = z.object({ type: z.literal("ack"), id: MsgId });
export type AckMessage = z.infer<typeof AckMessage>;

export const PongMessage = z.object({ type: z.literal("pong"), id: MsgId });
export type PongMessage = z.infer<typeof PongMessage>;

export const ErrorMessage = z.object({
  type: z.literal("error"),
  code: z.string(),
  message: z.string(),
  field: z.string().optional(),
  value: z.unknown().optional(),
  /** The `id` of the client message this error answers, when that message had one. */
  id: z.string().optional(),
});
export type ErrorMessage = z.infer<typeof ErrorMessage>;

/** The teacher opened a question. */
export const QuestionMessage = z.object({
  type: z.literal("question"),
  questionId: z.string(),
  choices: z.array(z.string()),
  /** The question takes spoken answers: Opus on the offer's third m-line (video, audio, voice). */
  voice: z.boolean().optional(),
  deadlineUnixMs: z.number(),
  askedAtUnixMs: z.number(),
});
export type QuestionMessage = z.infer<typeof QuestionMessage>;

/** The teacher judged an answer (or the question timed out) and decided what plays next. */
export const AssessmentResultMessage = z.object({
  type: z.literal("assessment-result"),
  questionId: z.string(),
  correct: z.boolean(),
  score: z.number().optional(),
  /** The clip that answers it (starts on the next frame tick after decidedAtUnixMs). */
  clip: z.string(),
  reason: z.string(),
  /** Voice: arrival of the packet that carried the end of speech (else: the click's arrival). */
  receivedAtUnixMs: z.number().optional(),
  /** Voice: when the teacher's VAD confirmed the end of speech (its hangover elapsed). */
  detectedAtUnixMs: z.number().optional(),
  assessedAtUnixMs: z.number().optional(),
  decidedAtUnixMs: z.number(),
});
export type AssessmentResultMessage = z.infer<typeof AssessmentResultMessage>;

/** A student raised a hand (relayed to the room). */
export const HandMessage = z.object({ type: z.literal("hand"), from: z.string() });
export type HandMessage = z.infer<typeof HandMessage>;

export const ServerMessage = z.discriminatedUnion("type", [
  QuestionMessage,
  AssessmentResultMessage,
  HandMessage,
  WelcomeMessage,
  OfferMessage,
  PresenceMessage,
  ServerChatMessage,
  AckMessage,
  PongMessage,
  ErrorMessage,
]);
export type ServerMessage = z.infer<typeof ServerMessage>;

// ---- HTTP bodies -------------------------------------------------------------------------------

export const RoomMode = z.enum(["per-student", "shared"]);
export type RoomMode = z.infer<typeof RoomMode>;

export const CreateRoomRequest = z.object({ id: Id.optional(), mode: RoomMode.optional() });
export type CreateRoomRequest = z.infer<typeof CreateRoomRequest>;

export const CreateRoomResponse = z.object({ id: z.string(), mode: RoomMode });
export type CreateRoomResponse = z.infer<typeof CreateRoomResponse>;

export const JoinRequest = z.object({ student: Id, agent: z.string().min(1).max(LIMITS.idChars).optional() });
export type JoinRequest = z.infer<typeof JoinRequest>;

export const JoinResponse = z.object({ token: z.string().min(1), ws: z.string().min(1) });
export type JoinResponse = z.infer<typeof JoinResponse>;

/** Body of every non-2xx HTTP reply. */
export const HttpErrorBody = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    field: z.string().optional(),
    value: z.unknown().optional(),
  }),
});
export type HttpErrorBody = z.infer<typeof HttpErrorBody>;

// ---- parsing -----------------------------------------------------------------------------------

export interface ProtocolError {
  /** "bad-json" | "too-large" | "bad-message" (not an object) | "bad-type" (unknown/missing type) | "bad-field" */
  code: string;
  message: string;
  field?: string;
  value?: unknown;
}

export type ParseResult<T> = { ok: true; msg: T } | { ok: false; error: ProtocolError };

/** Parse one client→server frame. */
export function parseClientMessage(raw: string): ParseResult<ClientMessage> {
  return parseFrame(ClientMessage, raw);
}

/** Parse one server→client frame. */
export function parseServerMessage(raw: string): ParseResult<ServerMessage> {
  return parseFrame(ServerMessage, raw);
}

/** Serialise a message for the wire. Typed so only valid shapes compile. */
export function encodeMessage(msg: ClientMessage | ServerMessage): string {
  return JSON.stringify(msg);
}

function parseFrame<T>(schema: z.ZodType<T>, raw: string): ParseResult<T> {
  if (raw.length > LIMITS.frameChars) {
    return fail({
      code: "too-large",
      message: `message too large: ${raw.length} characters, at most ${LIMITS.frameChars}`,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    return fail({
      code: "bad-json",
      message: `invalid JSON: ${err instanceof Error ? err.message : String(err)}`,
      value: preview(raw),
    });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail({
      code: "bad-message",
      message: `message must be a JSON object, got ${describeValue(value)}`,
      value: previewValue(value),
    });
  }
  return parseValue(schema, value);
}

/**
 * Validate an already-decoded value (an HTTP body, a parsed frame). The error names the first
 * failing field and its value; the message lists every problem found.
 */
export function parseValue<T>(schema: z.ZodType<T>, value: unknown): ParseResult<T> {
  const r = schema.safeParse(value, { reportInput: true });
  if (r.success) return { ok: true, msg: r.data };
  return { ok: false, error: describeIssues(r.error.issues, value) };
}

function fail<T>(error: ProtocolError): ParseResult<T> {
  return { ok: false, error };
}

function describeIssues(issues: readonly z.core.$ZodIssue[], root: unknown): ProtocolError {
  const first = issues[0];
  if (!first) return { code: "bad-message", message: "invalid message" };
  const parts = issues.map((i) => describeIssue(i, root));
  const firstPart = parts[0]!;
  const message = parts.length === 1 ? firstPart.text : parts.map((p) => p.text).join("; ");
  const err: ProtocolError = { code: firstPart.code, message };
  if (firstPart.field !== undefined) err.field = firstPart.field;
  if (firstPart.hasValue) err.value = previewValue(firstPart.value);
  return err;
}

interface IssueText {
  code: string;
  field: string | undefined;
  value: unknown;
  hasValue: boolean;
  text: string;
}

function describeIssue(issue: z.core.$ZodIssue, root: unknown): IssueText {
  const field = issue.path.length > 0 ? formatPath(issue.path) : undefined;
  // The input at the failing path: zod reports it with reportInput; for a discriminator miss it
  // reports the whole object, so read the discriminator itself.
  let value: unknown = issue.input;
  let hasValue = "input" in issue;
  if (issue.code === "invalid_union" && issue.path.length === 1 && issue.path[0] === "type") {
    value = typeof root === "object" && root !== null ? (root as Record<string, unknown>)["type"] : undefined;
    hasValue = true;
    const options = (issue as { options?: unknown[] }).options ?? [];
    const expected = options.map((o) => JSON.stringify(o)).join(" | ");
    return {
      code: "bad-type",
      field: "type",
      value,
      hasValue,
      text:
        value === undefined
          ? `field "type": missing; expected one of ${expected}`
          : `field "type": unknown message type ${describeValue(value)}; expected one of ${expected}`,
    };
  }
  const where = field === undefined ? "message" : `field "${field}"`;
  let what: string;
  switch (issue.code) {
    case "invalid_type":
      what =
        value === undefined
          ? `missing (expected ${issue.expected})`
          : `expected ${issue.expected}, got ${describeValue(value)}`;
      break;
    case "too_big":
      what =
        typeof value === "string"
          ? `too long: at most ${String(issue.maximum)} characters, got ${value.length}`
          : Array.isArray(value)
            ? `too many items: at most ${String(issue.maximum)}, got ${value.length}`
            : `too big: at most ${String(issue.maximum)}, got ${describeValue(value)}`;
      break;
    case "too_small":
      what =
        typeof value === "string"
          ? value.length === 0
            ? "must not be empty"
            : `too short: at least ${String(issue.minimum)} characters, got ${value.length}`
          : `too small: at least ${String(issue.minimum)}, got ${describeValue(value)}`;
      break;
    case "invalid_value":
      what = `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(" | ")}, got ${describeValue(value)}`;
      break;
    case "invalid_format":
      what = `${issue.message}, got ${describeValue(value)}`;
      break;
    default:
      what = hasValue ? `${issue.message}, got ${describeValue(value)}` : issue.message;
  }
  return { code: "bad-field", field, value, hasValue, text: `${where}: ${what}` };
}

/** ["peers", 0, "id"] → "peers[0].id" */
function formatPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const p of path) {
    if (typeof p === "number") out += `[${p}]`;
    else out += out === "" ? String(p) : `.${String(p)}`;
  }
  return out;
}

/** "number (42)", "string ("abc")", "null", "array" — short, for messages. */
function describeValue(v: unknown): string {
  if (v === null) return "null";
  if (v === undefined) return "undefined";
  if (Array.isArray(v)) return `array (${preview(JSON.stringify(v))})`;
  const t = typeof v;
  if (t === "object") return `object (${preview(JSON.stringify(v))})`;
  if (t === "string") return `string (${JSON.stringify(preview(v as string))})`;
  return `${t} (${String(v)})`;
}

const PREVIEW_CHARS = 200;

function preview(s: string): string {
  return s.length > PREVIEW_CHARS ? `${s.slice(0, PREVIEW_CHARS)}…` : s;
}

/** The value echoed back in an error: long strings are cut so an error never carries a 64 KiB SDP. */
function previewValue(v: unknown): unknown {
  if (typeof v === "string") return preview(v);
  if (typeof v === "object" && v !== null) {
    const json = JSON.stringify(v);
    return json.length > PREVIEW_CHARS ? preview(json) : v;
  }
  return v;
}
