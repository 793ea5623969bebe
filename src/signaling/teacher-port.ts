// The room server's one dependency on the teacher, as a port: the runner wires an implementation
// (the AI-teacher streamer) in. The server never imports the streamer and agents never do either:
// teacher and students meet only over the network, as real ones do.
//
// Call order per (room, student) is strict: join, then at most one answer per offer, then leave.
// The server serialises these calls per student, also across a quick reconnect of the same id.

export interface TeacherPort {
  /** A student's WebSocket is ready: create the teacher's peer connection and return its SDP offer (non-trickle: candidates inside). */
  join(room: string, student: string, info: { agent: string }): Promise<{ sdp: string }>;
  /** The student's SDP answer. */
  answer(room: string, student: string, sdp: string): Promise<void>;
  /** The student left or its socket closed. */
  leave(room: string, student: string): void;
  /** A student answered a question (optional: a teacher without lessons ignores answers). */
  quizAnswer?(room: string, student: string, answer: { questionId: string; choice: string; sentAtUnixMs: number; receivedAtUnixMs: number }): void;
}

/** Optional hook: rewrite SDP on its way through the server (the netem relay puts itself in the media path this way). direction "offer" = teacher→student SDP, "answer" = student→teacher. */
export type SdpRewriter = (
  ctx: { room: string; student: string; direction: "offer" | "answer" },
  sdp: string,
) => string | Promise<string>;
