// The assessor contract: the teacher hands a student's spoken answer (audio + where the speech is)
// to an assessor and branches on the score it returns. Two implementations: HttpAssessor
// (http-assessor.ts: any third-party service speaking the JSON contract in docs/assessor.md) and
// LocalAssessor (local-assessor.ts: built in, measures duration/energy/SNR, no speech recognition).
// This file holds the shared types, the wire schemas (zod) and the error type.
import { z } from "zod";
import { encodeWavBase64 } from "./assessor-audio.js";

/** Audio of the answer: raw PCM (mono, 16-bit) or a WAV file, base64-encoded. */
export type AssessAudio = { sampleRate: number; pcm: Int16Array } | { format: "wav"; base64: string };

export type AssessRequest = {
  lessonId: string;
  questionId: string;
  student: string;
  audio: AssessAudio;
  /** Where the VAD found the speech, in ms from the first sample of `audio`. */
  speech: { startMs: number; endMs: number };
  /** The utterance length the lesson expects (voice.minSpeechMs / maxSpeechMs), if known. */
  expectedSpeechMs?: { min: number; max: number };
};

export type AssessResult = {
  /** 0 (wrong / nothing said) .. 1 (right). */
  score: number;
  transcript?: string;
  /** Wall time the assessment took, retries included (ms). */
  latencyMs: number;
  /** Who scored it: the service's own name, or a description of the built-in measure. */
  assessor: string;
  /** What a measuring assessor measured (LocalAssessor). */
  measures?: { durationMs: number; levelDb: number; noiseFloorDb: number; snrDb: number };
};

export interface Assessor {
  /** Score one answer. Rejects with AssessorError; `signal` aborts it (code "aborted"). */
  assess(req: AssessRequest, signal: AbortSignal): Promise<AssessResult>;
}

export type AssessorErrorCode = "timeout" | "http" | "network" | "bad-response" | "bad-request" | "aborted";

export class AssessorError extends Error {
  readonly code = "PRX_ERR_ASSESSOR";
  constructor(
    readonly kind: AssessorErrorCode,
    message: string,
    readonly attempts = 0,
  ) {
    super(message);
    this.name = "AssessorError";
  }
}

/** Version of the JSON contract (docs/assessor.md); sent as `version` in every request. */
export const ASSESSOR_CONTRACT_VERSION = 1;

/** The request body POSTed to an HTTP assessor. */
export const AssessWireRequest = z.strictObject({
  version: z.literal(ASSESSOR_CONTRACT_VERSION),
  lessonId: z.string(),
  questionId: z.string(),
  student: z.string(),
  audio: z.strictObject({ format: z.literal("wav"), base64: z.string().min(1) }),
  speech: z.strictObject({ startMs: z.number().min(0), endMs: z.number().min(0) }),
  expectedSpeechMs: z.strictObject({ min: z.number().min(0), max: z.number().min(0) }).optional(),
});
export type AssessWireRequest = z.infer<typeof AssessWireRequest>;

/** The response body an HTTP assessor returns with status 2xx (unknown fields are ignored). */
export const AssessWireResponse = z.object({
  score: z.number({ error: "expected a number in 0..1" }).min(0, "expected a number in 0..1").max(1, "expected a number in 0..1"),
  transcript: z.string({ error: "expected a string" }).optional(),
  assessor: z.string({ error: "expected a string" }).min(1).optional(),
});
export type AssessWireResponse = z.infer<typeof AssessWireResponse>;

/** The JSON body for a request (PCM is wrapped as a WAV file). */
export function toWireRequest(req: AssessRequest): AssessWireRequest {
  const base64 = "pcm" in req.audio ? encodeWavBase64(req.audio.pcm, req.audio.sampleRate) : req.audio.base64;
  return {
    version: ASSESSOR_CONTRACT_VERSION,
    lessonId: req.lessonId,
    questionId: req.questionId,
    student: req.student,
    audio: { format: "wav", base64 },
    speech: { startMs: req.speech.startMs, endMs: req.speech.endMs },
    ...(req.expectedSpeechMs ? { expectedSpeechMs: { ...req.expectedSpeechMs } } : {}),
  };
}

/** Check a response body; every problem names the field and the value it had. */
export function parseWireResponse(body: unknown): { ok: true; value: AssessWireResponse } | { ok: false; problems: string[] } {
  const r = AssessWireResponse.safeParse(body);
  if (r.success) return { ok: true, value: r.data };
  return {
    ok: false,
    problems: r.error.issues.map((i) => {
      const field = i.path.map(String).join(".") || "(body)";
      const value = i.path.reduce<unknown>((cur, k) => (cur !== null && typeof cur === "object" ? (cur as Record<PropertyKey, unknown>)[k] : undefined), body);
      return `field "${field}": ${i.message}, got ${value === undefined ? "nothing" : JSON.stringify(value)}`;
    }),
  };
}
