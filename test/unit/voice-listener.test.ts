// The teacher's ear: the prepared utterance's real Opus packets, decoded with libopus, laid out by
// RTP timestamp, VAD'd. Known arrival times are injected and recovered as the answer's "received"
// (the packet carrying the last loud frame) and "detected" (hangover elapsed) instants.
import { describe, it, expect, beforeAll } from "vitest";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { prepareUtterance, readUtterancePackets } from "../../src/media/utterance.js";
import { OpusDecoder } from "../../src/media/opus-decoder.js";
import { VoiceListener, type HeardUtterance } from "../../src/streamer/voice-listener.js";

let packets: Buffer[] = [];
let lastSpeech = 0;

beforeAll(async () => {
  const u = await prepareUtterance(mkdtempSync(join(tmpdir(), "proctor-vl-")));
  ({ packets, lastSpeechPacket: lastSpeech } = await readUtterancePackets(u));
});

function listener(): { l: VoiceListener; heard: HeardUtterance[] } {
  const heard: HeardUtterance[] = [];
  return { l: new VoiceListener({ decoder: new OpusDecoder(), onUtterance: (u) => heard.push(u) }), heard };
}

describe("voice listener", () => {
  it("clean stream: one utterance of 1200 ms; received = arrival of the last speech packet, detected 200 ms (hangover) later", () => {
    const { l, heard } = listener();
    const ts0 = 4_000_000_000; // wraps past 2^32 inside the utterance
    const arrival = (i: number): number => 1000 + 20 * i + 3; // 3 ms one-way
    packets.forEach((p, i) => l.push({ timestamp: (ts0 + 960 * i) >>> 0, payload: p, arrivalMs: arrival(i) }));
    l.close();
    expect(heard).toHaveLength(1);
    const u = heard[0]!;
    expect(u.speechMs).toBe(1200);
    expect(u.receivedAtMs).toBe(arrival(lastSpeech));
    expect(u.detectedAtMs).toBe(arrival(lastSpeech + 10));
    expect(u.speech.startMs).toBe(300); // contextMs before the speech
    expect(u.pcm.length).toBe(((300 + 1200 + 200) * 48000) / 1000);
    expect(u.lostPackets).toBe(0);
    expect(u.snrDb).toBeGreaterThan(30);
  });

  it("every third packet lost (33 %): still one utterance, 1200 ± 40 ms, the losses counted", () => {
    const { l, heard } = listener();
    packets.forEach((p, i) => {
      if (i % 3 !== 2) l.push({ timestamp: 960 * i, payload: p, arrivalMs: 20 * i });
    });
    expect(heard).toHaveLength(1);
    expect(Math.abs(heard[0]!.speechMs - 1200)).toBeLessThanOrEqual(40);
    expect(heard[0]!.lostPackets).toBeGreaterThan(20);
    expect(l.stats.lostPackets).toBe(36); // packets 2, 5, … 107
  });

  it("sender stops right after its speech (tail lost): tick lays out silence and the end is found, bounded", () => {
    const { l, heard } = listener();
    for (let i = 0; i <= lastSpeech; i++) l.push({ timestamp: 960 * i, payload: packets[i]!, arrivalMs: 20 * i });
    const lastArrival = 20 * lastSpeech;
    for (let t = lastArrival + 20; t <= lastArrival + 140; t += 20) l.tick(t);
    expect(heard).toHaveLength(0); // not stalled yet (150 ms)
    l.tick(lastArrival + 400); // late tick (blocked loop): decides nothing
    expect(heard).toHaveLength(0);
    l.tick(lastArrival + 420);
    expect(heard).toHaveLength(1);
    expect(heard[0]!.receivedAtMs).toBe(lastArrival);
    expect(heard[0]!.detectedAtMs).toBe(lastArrival + 420);
    // Packets that arrive after the silence was laid out are late and dropped.
    l.push({ timestamp: 960 * (lastSpeech + 1), payload: packets[lastSpeech + 1]!, arrivalMs: lastArrival + 430 });
    expect(l.stats.latePackets).toBe(1);
  });

  it("two talkspurts 10 s apart (RTP timestamp jumps): two utterances, the second dated by its own packets", () => {
    const { l, heard } = listener();
    packets.forEach((p, i) => l.push({ timestamp: 960 * i, payload: p, arrivalMs: 20 * i }));
    const base = 960 * (packets.length + 500);
    packets.forEach((p, i) => l.push({ timestamp: base + 960 * i, payload: p, arrivalMs: 12_000 + 20 * i }));
    expect(heard).toHaveLength(2);
    expect(heard[1]!.receivedAtMs).toBe(12_000 + 20 * lastSpeech);
    expect(heard[1]!.speechMs).toBe(1200);
  });
});
