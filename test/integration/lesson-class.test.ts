// The AI teacher teaches: a scripted lesson asks a question, students answer by click (or stay
// silent), and each gets the branch clip the lesson says — checked by the clip id in the frames
// the student actually received. Round trips are measured with their parts.
import { describe, it, expect } from "vitest";
import { runYaml, student, LESSON_CLIP, clipsSeen } from "../helpers/class-run.js";

const LESSON = "test/fixtures/lessons/quick.yaml";
const RIGHT = LESSON_CLIP.right;
const WRONG = LESSON_CLIP.wrong;
const OUTRO = LESSON_CLIP.outro;
const FRAME_MS = 1000 / 30;

describe("lesson engine in a class", () => {
  it("per-student room: right click → right clip, wrong click → wrong clip, silence → timeout branch; round trips add up", async () => {
    const r = await runYaml(`
name: lesson-per-student
seed: 8
duration: 10s
lesson: ${LESSON}
rooms:
  - id: r
    mode: per-student
    students:
      - { group: right, count: 1, agent: werift, behaviour: { answer: click, correct: 1, after: 700ms } }
      - { group: wrong, count: 1, agent: werift, behaviour: { answer: click, correct: 0, after: 900ms } }
      - { group: silent, count: 1, agent: werift }
budgets:
  assessment_rtt_ms: ["p95 <= 1500"]
`);
    expect(r.report.errors).toEqual([]);
    const right = student(r, "right");
    const wrong = student(r, "wrong");
    const silent = student(r, "silent");
    expect(clipsSeen(right.agent.frames).has(RIGHT)).toBe(true);
    expect(clipsSeen(right.agent.frames).has(WRONG)).toBe(false);
    expect(clipsSeen(wrong.agent.frames).has(WRONG)).toBe(true);
    expect(clipsSeen(wrong.agent.frames).has(RIGHT)).toBe(false);
    expect(clipsSeen(silent.agent.frames).has(WRONG)).toBe(true);
    expect(silent.agent.results.map((x) => x.reason)).toEqual(["timeout"]);
    // After the branch clip the script goes on: the outro reaches every student.
    for (const s of [right, wrong, silent]) expect(clipsSeen(s.agent.frames).has(OUTRO), s.student).toBe(true);

    for (const s of [right, wrong]) {
      const rep = r.report.students.find((x) => x.student === s.student)!;
      const ans = rep.answers!;
      expect(ans).toHaveLength(1);
      const rt = ans[0]!.roundTrip!;
      const oneWay = s.summary.latencyMs.p50;
      console.log(`${s.student}: answer ${ans[0]!.choice} → ${ans[0]!.clip} (${ans[0]!.reason}); round trip ${rt.totalMs.toFixed(1)} ms = uplink ${rt.uplinkMs.toFixed(1)} + assessment ${rt.assessmentMs.toFixed(1)} + decision ${rt.decisionMs.toFixed(1)} + downlink ${rt.downlinkMs.toFixed(1)}; one-way ${oneWay.toFixed(1)} ms`);
      expect(Math.abs(rt.uplinkMs + rt.assessmentMs + rt.decisionMs + rt.downlinkMs - rt.totalMs)).toBeLessThanOrEqual(2);
      expect(rt.uplinkMs).toBeGreaterThanOrEqual(0);
      // The response starts on the next frame tick after the decision, then crosses the network.
      expect(rt.downlinkMs).toBeLessThanOrEqual(FRAME_MS + oneWay + 5);
    }
    expect(r.report.budgets.find((b) => b.metric === "assessment_rtt_ms")?.pass).toBe(true);
  });

  it("shared room, rule first: the first answer (right) decides the branch for everyone", async () => {
    const r = await runYaml(`
name: lesson-shared
seed: 9
duration: 7s
lesson: ${LESSON}
rooms:
  - id: r
    mode: shared
    students:
      - { group: fast, count: 1, agent: werift, behaviour: { answer: click, correct: 1, after: 300ms } }
      - { group: slow, count: 1, agent: werift, behaviour: { answer: click, correct: 0, after: 1500ms } }
`);
    expect(r.report.errors).toEqual([]);
    for (const s of r.students) {
      expect(clipsSeen(s.agent.frames).has(RIGHT)).toBe(true);
      expect(clipsSeen(s.agent.frames).has(WRONG)).toBe(false);
    }
  });
});
