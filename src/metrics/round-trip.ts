// Assessment round trip (DESIGN.md "Metrics"): from the student sending its answer to the first
// frame of the response clip at that student, with its parts, all on the common clock (ms):
//   uplink     = server received − student sent
//   assessment = assessed − received           (0 for a click: judging a choice is immediate;
//                                               voice: the VAD's end-of-speech wait + the assessor)
//   decision   = decided − assessed
//   downlink   = first response frame complete at the student − decided
//   total      = first response frame − sent   (= the sum of the parts)
// Voice: "sent" is when the packet carrying the end of speech left the student, "received" when it
// reached the teacher; endOfSpeechMs = detected − received is reported as a share of assessment.

export type RoundTripInput = {
  sentAtUnixMs: number;
  receivedAtUnixMs?: number;
  assessedAtUnixMs?: number;
  /** Voice: when the VAD confirmed the end of speech. */
  detectedAtUnixMs?: number;
  decidedAtUnixMs: number;
  /** Clip id of the response clip (as carried in the frame-id extension). */
  responseClipId: number;
};

export type RoundTrip = {
  totalMs: number;
  uplinkMs: number;
  assessmentMs: number;
  decisionMs: number;
  downlinkMs: number;
  firstFrameUnixMs: number;
  /** Voice: detected − received (part of assessmentMs). */
  endOfSpeechMs?: number;
};

/** The round trip of one answer, or undefined when no frame of the response clip arrived. */
export function roundTrip(
  a: RoundTripInput,
  frames: readonly { completeUnixMs: number; clipId?: number; frameIndex?: number }[],
): RoundTrip | undefined {
  let first = Infinity;
  for (const f of frames) {
    if (f.clipId === a.responseClipId && f.completeUnixMs >= a.decidedAtUnixMs && f.completeUnixMs < first) first = f.completeUnixMs;
  }
  if (!Number.isFinite(first)) return undefined;
  const received = a.receivedAtUnixMs ?? a.decidedAtUnixMs;
  const assessed = a.assessedAtUnixMs ?? received;
  return {
    totalMs: first - a.sentAtUnixMs,
    uplinkMs: received - a.sentAtUnixMs,
    assessmentMs: assessed - received,
    decisionMs: a.decidedAtUnixMs - assessed,
    downlinkMs: first - a.decidedAtUnixMs,
    firstFrameUnixMs: first,
    ...(a.detectedAtUnixMs !== undefined ? { endOfSpeechMs: a.detectedAtUnixMs - received } : {}),
  };
}
