// The light student's mouth: 20 ms pacing on an absolute schedule, RTP sequence/timestamp/marker
// per RFC 7587/3551 across two talkspurts, and the end-of-speech send instant it reports.
import { describe, it, expect } from "vitest";
import { systemClock } from "../../src/clock.js";
import { VoiceSpeaker, type VoiceRtp } from "../../src/agents/voice-speaker.js";
import { parseScenario } from "../../src/scenario/loader.js";

describe("voice speaker", () => {
  it("sends every 20 ms; seq +1 and timestamp +960 per packet; marker on each talkspurt's first packet; end of speech stamped", async () => {
    const sent: (VoiceRtp & { atMs: number })[] = [];
    const sp = new VoiceSpeaker({ clock: systemClock, random: () => 0.99995, send: (p) => sent.push({ ...p, atMs: systemClock.nowMs() }) });
    const packets = Array.from({ length: 15 }, (_, i) => Buffer.from([0xf8, i]));
    const first = await sp.speak(packets, 9);
    expect(sent).toHaveLength(15);
    const t0 = sent[0]!.atMs;
    for (const [i, p] of sent.entries()) {
      expect(p.atMs - t0).toBeGreaterThanOrEqual(20 * i - 0.5);
      expect(p.atMs - t0).toBeLessThanOrEqual(20 * i + 15); // a late timer, never accumulated
      expect(p.payload[1]).toBe(i);
      expect(p.marker).toBe(i === 0);
      if (i > 0) {
        expect(p.sequenceNumber).toBe((sent[i - 1]!.sequenceNumber + 1) & 0xffff);
        expect(p.timestamp).toBe((sent[i - 1]!.timestamp + 960) >>> 0);
      }
    }
    expect(sent[0]!.sequenceNumber).toBe(65532); // random start, wraps through 0
    expect(first.speechEndSentAtUnixMs - first.startedAtUnixMs).toBeGreaterThanOrEqual(180 - 0.5);
    expect(first.speechEndSentAtUnixMs - first.startedAtUnixMs).toBeLessThanOrEqual(180 + 15);
    await new Promise((r) => setTimeout(r, 200));
    await sp.speak(packets.slice(0, 3), 2);
    const second = sent[15]!;
    expect(second.marker).toBe(true);
    expect(second.sequenceNumber).toBe((sent[14]!.sequenceNumber + 1) & 0xffff);
    // The timestamp ran on through the ~200 ms pause (10 packets' worth, ± timer slop).
    const gapPackets = ((second.timestamp - sent[14]!.timestamp) >>> 0) / 960;
    expect(gapPackets).toBeGreaterThanOrEqual(10);
    expect(gapPackets).toBeLessThanOrEqual(13);
  });

  it("stop() while speaking rejects the answer and sends nothing more", async () => {
    const sent: VoiceRtp[] = [];
    const sp = new VoiceSpeaker({ clock: systemClock, random: () => 0, send: (p) => sent.push(p) });
    const p = sp.speak(Array.from({ length: 50 }, () => Buffer.from([0xf8])), 40);
    setTimeout(() => sp.stop(), 70);
    await expect(p).rejects.toThrow(/stopped while speaking/);
    const n = sent.length;
    expect(n).toBeGreaterThanOrEqual(3);
    expect(n).toBeLessThanOrEqual(6);
    await new Promise((r) => setTimeout(r, 60));
    expect(sent.length).toBe(n);
  });
});

describe("scenario: behaviour click | voice, assessor", () => {
  const yaml = (b: string): string =>
    `name: a\nduration: 2s\nlesson: { clips: [ { name: a, duration: 2s } ] }\nrooms:\n  - id: r\n    students:\n      - { group: g, count: 1, agent: werift, behaviour: ${b} }\n`;
  it("voice defaults correct to 1; errors name the field and the value", () => {
    expect(parseScenario(yaml("{ answer: voice, after: 1s }"), "t.yaml").rooms[0]!.students[0]!.behaviour).toEqual({ answer: "voice", correct: 1, after: 1000 });
    expect(() => parseScenario(yaml("{ answer: shout, after: 1s }"), "t.yaml")).toThrow('t.yaml:7:67: rooms.0.students.0.behaviour.answer: expected answer: click or answer: voice (got "shout")');
    expect(() => parseScenario(yaml("{ answer: voice, after: 1s, correct: 2 }"), "t.yaml")).toThrow(/behaviour\.correct: .*<=1 \(got 2\)/);
    expect(() => parseScenario(yaml("{ answer: voice, after: 1s, loud: 1 }"), "t.yaml")).toThrow(/behaviour\.loud: unknown field "loud"/);
  });

  it("assessor: local (latency model) or http on loopback; anything else is refused naming field and value", () => {
    const withAssessor = (a: string): string => yaml("{ answer: voice, after: 1s }").replace("rooms:", `assessor: ${a}\nrooms:`);
    expect(parseScenario(withAssessor("{ kind: http, url: 'http://127.0.0.1:9/a' }"), "t.yaml").assessor).toEqual({ kind: "http", url: "http://127.0.0.1:9/a", timeout: 5000, retries: 2, backoff: 100 });
    expect(parseScenario(withAssessor("{ kind: local, latency: { distribution: uniform, minMs: 100, maxMs: 300 } }"), "t.yaml").assessor).toEqual({ kind: "local", latency: { distribution: "uniform", minMs: 100, maxMs: 300 } });
    expect(() => parseScenario(withAssessor("{ kind: http, url: 'https://asr.example.com/score' }"), "t.yaml")).toThrow(/assessor\.url: expected an http\(s\) URL on loopback .* \(got "https:\/\/asr\.example\.com\/score"\)/);
    expect(() => parseScenario(withAssessor("{ kind: cloud }"), "t.yaml")).toThrow(/assessor\.kind: expected kind: local or kind: http \(got "cloud"\)/);
  });
});
