// Classroom messaging over the room server (real fastify, real WebSocket clients): a quiz answer
// reaches the teacher with the server's receive stamp and is acknowledged; a raised hand is relayed
// to the others and acknowledged; questions and results sent by the teacher side arrive; a bad
// answer is refused naming the field, and the socket stays usable.
import { afterEach, describe, expect, it } from "vitest";
import { SignalingClient } from "../../src/agents/signaling-client.js";
import { createRoomServer, type RoomServer } from "../../src/signaling/server.js";
import type { TeacherPort } from "../../src/signaling/teacher-port.js";

type Answer = { room: string; student: string; questionId: string; choice: string; sentAtUnixMs: number; receivedAtUnixMs: number };

let server: RoomServer | undefined;
const clients: SignalingClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await server?.close();
  server = undefined;
});

async function setup(): Promise<{ answers: Answer[]; join: (s: string) => Promise<SignalingClient> }> {
  const answers: Answer[] = [];
  const teacher: TeacherPort = {
    join: async () => ({ sdp: "v=0\r\n" }),
    answer: async () => undefined,
    leave: () => undefined,
    quizAnswer: (room, student, a) => answers.push({ room, student, ...a }),
  };
  server = await createRoomServer({ teacher });
  await fetch(`${server.url}/rooms`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ id: "r" }) });
  const url = server.url;
  return {
    answers,
    join: async (s) => {
      const c = await SignalingClient.join(url, "r", s, "test");
      clients.push(c);
      return c;
    },
  };
}

describe("classroom messages", () => {
  it("quiz answers reach the teacher stamped on arrival, and are acknowledged", async () => {
    const { answers, join } = await setup();
    const a = await join("ann");
    const sentAt = performance.timeOrigin + performance.now();
    const ack = await a.sendQuizAnswer("q1", "B", sentAt);
    expect(ack.ackMs).toBeGreaterThanOrEqual(0);
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatchObject({ room: "r", student: "ann", questionId: "q1", choice: "B", sentAtUnixMs: sentAt });
    expect(answers[0]!.receivedAtUnixMs).toBeGreaterThanOrEqual(sentAt);
    expect(answers[0]!.receivedAtUnixMs - sentAt).toBeLessThan(1000);
  });

  it("a raised hand is relayed to the others and acknowledged", async () => {
    const { join } = await setup();
    const a = await join("ann");
    const b = await join("bob");
    const seen = new Promise<string>((resolve) => b.onHand(resolve));
    await a.raiseHand();
    expect(await seen).toBe("ann");
  });

  it("questions and assessment results from the teacher side arrive at that student only", async () => {
    const { join } = await setup();
    const a = await join("ann");
    const b = await join("bob");
    const q = new Promise((resolve) => a.onQuestion(resolve));
    const r = new Promise((resolve) => a.onResult(resolve));
    let bobGot = 0;
    b.onQuestion(() => bobGot++);
    expect(server!.sendTo("r", "ann", { type: "question", questionId: "q1", choices: ["A", "B"], deadlineUnixMs: 2, askedAtUnixMs: 1 })).toBe(true);
    expect(server!.sendTo("r", "ann", { type: "assessment-result", questionId: "q1", correct: true, clip: "right", reason: "correct", decidedAtUnixMs: 3 })).toBe(true);
    expect(server!.sendTo("r", "nobody", { type: "hand", from: "x" })).toBe(false);
    expect(await q).toMatchObject({ questionId: "q1", choices: ["A", "B"] });
    expect(await r).toMatchObject({ questionId: "q1", correct: true, clip: "right" });
    await b.ping();
    expect(bobGot).toBe(0);
  });

  it("a malformed answer is refused naming the field; the socket stays usable", async () => {
    const { answers, join } = await setup();
    const a = await join("ann");
    await expect(a.sendQuizAnswer("q1", "B", Number.NaN)).rejects.toThrow(/sentAtUnixMs/);
    expect(answers).toHaveLength(0);
    expect(await a.ping()).toBeGreaterThanOrEqual(0);
  });
});
