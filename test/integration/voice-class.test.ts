// Voice answers end to end (issue #5): light students speak the prepared utterance as Opus RTP on
// the offer's third m-line; the teacher decodes it (libopus), finds the speech (VAD), has the
// LocalAssessor score it and branches — checked by the clip id in the frames each student got.
import { describe, it, expect } from "vitest";
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { decodeWav } from "../../src/streamer/assessor-audio.js";
import { runYaml, student, LESSON_CLIP, clipsSeen } from "../helpers/class-run.js";

const LESSON = "test/fixtures/lessons/quick-voice.yaml";
const RIGHT = LESSON_CLIP.right;
const WRONG = LESSON_CLIP.wrong;
const FRAME_MS = 1000 / 30;

describe("voice answers in a class", () => {
  it("per-student room: click right, click wrong, speak clearly, mumble → right, wrong, right, wrong; round trips add up", async () => {
    const r = await runYaml(`
name: voice-per-student
seed: 5
duration: 9s
lesson: ${LESSON}
rooms:
  - id: r
    mode: per-student
    students:
      - { group: right, count: 1, agent: werift, behaviour: { answer: click, correct: 1, after: 700ms } }
      - { group: wrong, count: 1, agent: werift, behaviour: { answer: click, correct: 0, after: 900ms } }
      - { group: speaker, count: 1, agent: werift, behaviour: { answer: voice, after: 300ms } }
      - { group: mumbler, count: 1, agent: werift, behaviour: { answer: voice, correct: 0, after: 900ms } }
`);
    expect(r.report.errors).toEqual([]);
    const lp = readFileSync(join(r.runDir, "metrics.lp"), "utf8").split("\n");
    for (const l of lp.filter((x) => x.includes("kind=voice_answer"))) console.log(`voice_answer ${l.replace(/^event,[^ ]*student=(\S+) /, "$1 ")}`);
    const expected: Record<string, number> = { right: RIGHT, wrong: WRONG, speaker: RIGHT, mumbler: WRONG };
    for (const [name, clip] of Object.entries(expected)) {
      const seen = clipsSeen(student(r, name).agent.frames);
      expect(seen.has(clip), `${name} got clip ${clip}`).toBe(true);
      expect(seen.has(clip === RIGHT ? WRONG : RIGHT), `${name} did not get the other branch`).toBe(false);
    }
    const checks: (() => void)[] = [];
    for (const name of Object.keys(expected)) {
      const s = student(r, name);
      const rep = r.report.students.find((x) => x.student === name)!;
      const ans = rep.answers!;
      expect(ans).toHaveLength(1);
      const a = ans[0]!;
      const rt = a.roundTrip!;
      const oneWay = s.summary.latencyMs.p50;
      console.log(
        `${name}: ${a.kind} ${a.choice ?? `score ${a.score}`} → ${a.clip} (${a.reason}); round trip ${rt.totalMs.toFixed(1)} ms = uplink ${rt.uplinkMs.toFixed(1)} + assessment ${rt.assessmentMs.toFixed(1)}${rt.endOfSpeechMs !== undefined ? ` (end-of-speech wait ${rt.endOfSpeechMs.toFixed(1)})` : ""} + decision ${rt.decisionMs.toFixed(1)} + downlink ${rt.downlinkMs.toFixed(1)}; one-way ${oneWay.toFixed(1)} ms`,
      );
      checks.push(() => {
        expect(Math.abs(rt.uplinkMs + rt.assessmentMs + rt.decisionMs + rt.downlinkMs - rt.totalMs)).toBeLessThanOrEqual(2);
        expect(rt.uplinkMs).toBeGreaterThanOrEqual(0);
        // Voice: sent and received are the same RTP packet (the last one carrying speech).
        if (a.kind === "voice") expect(rt.uplinkMs, `${name} uplink`).toBeLessThanOrEqual(oneWay + 5);
        // The response starts on the next frame tick after the decision, then crosses the network.
        expect(rt.downlinkMs, `${name} downlink`).toBeLessThanOrEqual(FRAME_MS + oneWay + 5);
      });
    }
    for (const c of checks) c();
    const speaker = r.report.students.find((x) => x.student === "speaker")!.answers![0]!;
    expect(speaker.kind).toBe("voice");
    expect(speaker.score).toBeGreaterThanOrEqual(0.9);
    expect(speaker.reason).toBe("correct");
    // The VAD waits its 200 ms hangover before it calls the speech over.
    expect(speaker.roundTrip!.endOfSpeechMs!).toBeGreaterThanOrEqual(150);
    expect(speaker.roundTrip!.endOfSpeechMs!).toBeLessThanOrEqual(300);
    const mumbler = r.report.students.find((x) => x.student === "mumbler")!.answers![0]!;
    expect(mumbler.score).toBeLessThan(0.6);
    expect(mumbler.reason).toBe("wrong");
  });

  it("through loss-30 both ways, voice answers are assessed or time out as the lesson says, with recorded events — the run ends on time", async () => {
    const t0 = Date.now();
    const r = await runYaml(`
name: voice-loss-30
seed: 6
duration: 8s
lesson: ${LESSON}
rooms:
  - id: r
    mode: per-student
    students:
      - { group: lossy, count: 3, agent: werift, netem: loss-30, behaviour: { answer: voice, after: 300ms } }
`);
    const wallMs = Date.now() - t0;
    console.log(`loss-30 voice run: ${wallMs} ms wall; errors ${JSON.stringify(r.report.errors)}`);
    expect(wallMs).toBeLessThan(45_000);
    const lp = readFileSync(join(r.runDir, "metrics.lp"), "utf8").split("\n");
    for (const s of r.students) {
      const res = s.agent.results;
      const voiceEvents = lp.filter((l) => l.startsWith("event,") && l.includes("kind=voice_answer") && l.includes(`student=${s.student} `));
      const answerEvents = lp.filter((l) => l.startsWith("event,") && l.includes("kind=answer") && l.includes(`student=${s.student} `));
      console.log(`${s.student}: joined ${s.summary.joinMs?.toFixed(0)} ms; results ${JSON.stringify(res.map((x) => ({ reason: x.reason, score: x.score, clip: x.clip })))}; voice events ${voiceEvents.length}`);
      for (const e of voiceEvents) console.log(`  ${e.replace(/^event,[^ ]+ /, "")}`);
      if (s.summary.joinMs === undefined) continue; // a join that failed through the loss is its own recorded error
      expect(res).toHaveLength(1);
      expect(answerEvents).toHaveLength(1);
      const x = res[0]!;
      if (x.reason === "timeout") {
        expect(clipsSeen(s.agent.frames).has(WRONG)).toBe(true); // the lesson's timeout branch
      } else {
        expect(x.score).toBeDefined();
        expect(voiceEvents.some((l) => l.includes('outcome="assessed"'))).toBe(true);
        expect(clipsSeen(s.agent.frames).has(x.correct ? RIGHT : WRONG)).toBe(true);
      }
    }
  });

  it("scenario assessor: http on loopback — the teacher POSTs the contract, the service's score decides (0.2 → wrong)", async () => {
    const bodies: Record<string, unknown>[] = [];
    const srv = createServer((req, res) => {
      let body = "";
      req.on("data", (c: Buffer) => (body += c.toString())).on("end", () => {
        bodies.push(JSON.parse(body) as Record<string, unknown>);
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ score: 0.2, transcript: "hmm", assessor: "test-stub v1" }));
      });
    });
    await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
    try {
      const r = await runYaml(`
name: voice-http-assessor
seed: 7
duration: 6s
lesson: ${LESSON}
assessor: { kind: http, url: "http://127.0.0.1:${(srv.address() as AddressInfo).port}/assess", timeout: 2s }
rooms:
  - id: r
    mode: per-student
    students:
      - { group: speaker, count: 1, agent: werift, behaviour: { answer: voice, after: 300ms } }
`);
      expect(r.report.errors).toEqual([]);
      expect(bodies).toHaveLength(1);
      const b = bodies[0] as { version: number; questionId: string; student: string; lessonId: string; speech: { startMs: number; endMs: number }; expectedSpeechMs: unknown; audio: { format: string; base64: string } };
      expect(b).toMatchObject({ version: 1, lessonId: "quick-voice", questionId: "q1", student: "speaker", expectedSpeechMs: { min: 300, max: 4000 } });
      expect(Math.abs(b.speech.endMs - b.speech.startMs - 1200)).toBeLessThanOrEqual(40);
      const wav = decodeWav(Buffer.from(b.audio.base64, "base64"));
      expect(wav.sampleRate).toBe(48000);
      expect((wav.pcm.length / 48000) * 1000).toBeGreaterThanOrEqual(b.speech.endMs);
      const a = r.report.students[0]!.answers![0]!;
      expect(a).toMatchObject({ kind: "voice", score: 0.2, reason: "wrong", clip: "wrong" });
      expect(clipsSeen(student(r, "speaker").agent.frames).has(WRONG)).toBe(true);
    } finally {
      srv.close();
    }
  });
});
