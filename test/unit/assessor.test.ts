import { afterEach, describe, expect, it } from "vitest";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { ManualClock } from "../../src/clock.js";
import { seededRandom } from "../../src/random.js";
import { AssessorError, AssessWireRequest, type AssessRequest } from "../../src/streamer/assessor.js";
import { decodeWav, encodeWav } from "../../src/streamer/assessor-audio.js";
import { HttpAssessor } from "../../src/streamer/http-assessor.js";
import { drawLatency, LOCAL_ASSESSOR_NAME, LocalAssessor, type LatencyModel } from "../../src/streamer/local-assessor.js";
import { detectSpeech } from "../../src/streamer/vad.js";

const SR = 48_000;

/** 3 s of background noise (peak `noise`) with a tone (peak `amp`) in [fromMs, toMs). */
function utterance(opts: { noise: number; amp: number; fromMs: number; toMs: number; seed?: number }): Int16Array {
  const rnd = seededRandom(opts.seed ?? 5);
  const pcm = new Int16Array(3 * SR);
  for (let i = 0; i < pcm.length; i++) {
    const t = (i * 1000) / SR;
    const voice = t >= opts.fromMs && t < opts.toMs ? opts.amp * Math.sin((2 * Math.PI * 220 * i) / SR) * (0.6 + 0.4 * Math.sin((2 * Math.PI * 4 * i) / SR)) : 0;
    pcm[i] = Math.round(((rnd() * 2 - 1) * opts.noise + voice) * 32767);
  }
  return pcm;
}

function request(pcm: Int16Array, speech: { startMs: number; endMs: number }): AssessRequest {
  return { lessonId: "demo", questionId: "q1", student: "s1", audio: { sampleRate: SR, pcm }, speech };
}

describe("assessor audio (WAV)", () => {
  it("round-trips PCM through a canonical WAV file", () => {
    const pcm = Int16Array.from([0, 1, -1, 32767, -32768, 1234]);
    const wav = encodeWav(pcm, 16_000);
    expect(wav.length).toBe(44 + 12);
    expect(wav.toString("ascii", 0, 4)).toBe("RIFF");
    expect(wav.readUInt32LE(24)).toBe(16_000);
    const back = decodeWav(wav);
    expect(back.sampleRate).toBe(16_000);
    expect([...back.pcm]).toEqual([...pcm]);
    expect(() => decodeWav(Buffer.from("not a wav file"))).toThrow(/not a RIFF\/WAVE file/);
  });
});

describe("HttpAssessor against a real HTTP server on 127.0.0.1", () => {
  let server: Server | null = null;
  afterEach(async () => {
    if (!server) return;
    server.closeAllConnections();
    await new Promise((r) => server!.close(r));
    server = null;
  });

  async function serve(handler: (req: IncomingMessage, body: string, res: ServerResponse, n: number) => void): Promise<{ url: string; calls: () => number }> {
    let n = 0;
    server = createServer((req, res) => {
      let body = "";
      req.setEncoding("utf8");
      req.on("data", (c: string) => (body += c));
      req.on("end", () => handler(req, body, res, ++n));
    });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/assess`, calls: () => n };
  }

  const json = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(typeof body === "string" ? body : JSON.stringify(body));
  };

  it("POSTs the documented JSON contract and returns the score", async () => {
    let seen: { method?: string; auth?: string; body?: unknown } = {};
    const { url } = await serve((req, body, res) => {
      seen = { method: req.method, auth: req.headers.authorization, body: JSON.parse(body) };
      json(res, 200, { score: 0.82, transcript: "bee", assessor: "acme-speech v3", extra: "ignored" });
    });
    const pcm = utterance({ noise: 0.01, amp: 0.3, fromMs: 500, toMs: 1500 });
    const a = new HttpAssessor({ url, timeoutMs: 2000, retries: 0, headers: { authorization: "Bearer t0k" } });
    const r = await a.assess({ ...request(pcm, { startMs: 500, endMs: 1500 }), expectedSpeechMs: { min: 300, max: 4000 } }, new AbortController().signal);
    expect(r).toMatchObject({ score: 0.82, transcript: "bee", assessor: "acme-speech v3" });
    expect(r.latencyMs).toBeGreaterThan(0);
    expect(seen.method).toBe("POST");
    expect(seen.auth).toBe("Bearer t0k");
    const wire = AssessWireRequest.parse(seen.body); // the body the service got is the documented one
    expect(wire).toMatchObject({ version: 1, lessonId: "demo", questionId: "q1", student: "s1", speech: { startMs: 500, endMs: 1500 }, expectedSpeechMs: { min: 300, max: 4000 } });
    const audio = decodeWav(Buffer.from(wire.audio.base64, "base64"));
    expect(audio.sampleRate).toBe(SR);
    expect([...audio.pcm.subarray(0, 100)]).toEqual([...pcm.subarray(0, 100)]);
    expect(audio.pcm.length).toBe(pcm.length);
  });

  it("retries a 500 with backoff and then succeeds", async () => {
    const times: number[] = [];
    const { url, calls } = await serve((_req, _body, res, n) => {
      times.push(performance.now());
      if (n === 1) json(res, 500, { error: "warming up" });
      else json(res, 200, { score: 0.4 });
    });
    const r = await new HttpAssessor({ url, timeoutMs: 3000, retries: 2, backoffMs: 80 }).assess(request(new Int16Array(960), { startMs: 0, endMs: 20 }), new AbortController().signal);
    expect(r.score).toBe(0.4);
    expect(r.assessor).toBe(`http ${url}`);
    expect(calls()).toBe(2);
    expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(75); // the backoff was waited
  });

  it("gives up after the retries, naming the status", async () => {
    const s = await serve((_req, _body, res) => json(res, 503, "busy"));
    const e = await new HttpAssessor({ url: s.url, timeoutMs: 3000, retries: 2, backoffMs: 10 })
      .assess(request(new Int16Array(960), { startMs: 0, endMs: 20 }), new AbortController().signal)
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(AssessorError);
    expect((e as AssessorError).kind).toBe("http");
    expect((e as AssessorError).attempts).toBe(3);
    expect((e as Error).message).toMatch(/HTTP 503 .*no retries left \(after 3 attempts/);
    expect(s.calls()).toBe(3);
  });

  it("a 400 is not retried", async () => {
    const s = await serve((_req, _body, res) => json(res, 400, { error: "bad audio" }));
    const e = await new HttpAssessor({ url: s.url, retries: 3, backoffMs: 10 }).assess(request(new Int16Array(960), { startMs: 0, endMs: 20 }), new AbortController().signal).catch((x: unknown) => x);
    expect((e as AssessorError).kind).toBe("http");
    expect((e as Error).message).toContain("HTTP 400");
    expect(s.calls()).toBe(1);
  });

  it("a hung service → rejects with a timeout error within timeoutMs + ε", async () => {
    const { url } = await serve(() => {
      /* never answers */
    });
    const t0 = performance.now();
    const e = await new HttpAssessor({ url, timeoutMs: 300, retries: 3 }).assess(request(new Int16Array(960), { startMs: 0, endMs: 20 }), new AbortController().signal).catch((x: unknown) => x);
    const took = performance.now() - t0;
    expect(e).toBeInstanceOf(AssessorError);
    expect((e as AssessorError).kind).toBe("timeout");
    expect((e as Error).message).toMatch(/no score within the 300 ms budget/);
    expect(took).toBeGreaterThanOrEqual(295);
    expect(took).toBeLessThan(300 + 150);
  });

  it("a bad response body → error naming the field and its value (not retried)", async () => {
    const s = await serve((_req, _body, res) => json(res, 200, { score: "high", transcript: 7 }));
    const e = await new HttpAssessor({ url: s.url, retries: 2 }).assess(request(new Int16Array(960), { startMs: 0, endMs: 20 }), new AbortController().signal).catch((x: unknown) => x);
    expect((e as AssessorError).kind).toBe("bad-response");
    expect((e as Error).message).toContain('field "score": expected a number in 0..1, got "high"');
    expect((e as Error).message).toContain('field "transcript": expected a string, got 7');
    expect(s.calls()).toBe(1);
    const s2 = await serve((_req, _body, res) => json(res, 200, { score: 1.7 }));
    const e2 = await new HttpAssessor({ url: s2.url }).assess(request(new Int16Array(960), { startMs: 0, endMs: 20 }), new AbortController().signal).catch((x: unknown) => x);
    expect((e2 as Error).message).toContain('field "score": expected a number in 0..1, got 1.7');
  });

  it("non-JSON bodies and refused connections are clear errors; the caller's abort stops it", async () => {
    const s = await serve((_req, _body, res) => json(res, 200, "<html>oops</html>"));
    const e = await new HttpAssessor({ url: s.url }).assess(request(new Int16Array(960), { startMs: 0, endMs: 20 }), new AbortController().signal).catch((x: unknown) => x);
    expect((e as Error).message).toContain("response body is not JSON");
    // A closed port: connection refused, retried, then reported as a network error.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
    const closedPort = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const refused = await new HttpAssessor({ url: `http://127.0.0.1:${closedPort}/assess`, retries: 1, backoffMs: 5 }).assess(request(new Int16Array(960), { startMs: 0, endMs: 20 }), new AbortController().signal).catch((x: unknown) => x);
    expect((refused as AssessorError).kind).toBe("network");
    expect((refused as Error).message).toMatch(/network error: ECONNREFUSED/);
    // Abort while the service hangs.
    const hung = await serve(() => {});
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const t0 = performance.now();
    const ab = await new HttpAssessor({ url: hung.url, timeoutMs: 5000 }).assess(request(new Int16Array(960), { startMs: 0, endMs: 20 }), ac.signal).catch((x: unknown) => x);
    expect((ab as AssessorError).kind).toBe("aborted");
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

describe("LocalAssessor", () => {
  const instant = (clock: ManualClock) => async (ms: number): Promise<void> => {
    clock.advance(ms);
  };

  it("names itself honestly and scores clear, long-enough speech high and noise low", async () => {
    const clock = new ManualClock(0);
    const a = new LocalAssessor({ random: seededRandom(1), clock, sleep: instant(clock) });
    const signal = new AbortController().signal;
    const speech = utterance({ noise: 0.005, amp: 0.3, fromMs: 800, toMs: 2000 });
    // The window comes from the VAD, as the teacher will do it.
    const seg = detectSpeech(speech).segments[0]!;
    expect(Math.abs(seg.startMs - 800)).toBeLessThanOrEqual(30);
    const good = await a.assess(request(speech, seg), signal);
    expect(good.assessor).toBe(LOCAL_ASSESSOR_NAME);
    expect(good.transcript).toBeUndefined();
    expect(good.score).toBeGreaterThan(0.9);
    expect(good.measures!.snrDb).toBeGreaterThan(25);
    // Pure noise, same window: nothing above the floor.
    const noise = await a.assess(request(utterance({ noise: 0.05, amp: 0, fromMs: 0, toMs: 0 }), seg), signal);
    expect(noise.score).toBeLessThan(0.1);
    expect(noise.score).toBeLessThan(good.score);
    // Quieter speech (lower SNR) and shorter speech score lower than the clear one.
    const quiet = await a.assess(request(utterance({ noise: 0.02, amp: 0.05, fromMs: 800, toMs: 2000 }), seg), signal);
    expect(quiet.score).toBeLessThan(good.score);
    expect(quiet.score).toBeGreaterThan(noise.score);
    const short = await a.assess(request(utterance({ noise: 0.005, amp: 0.3, fromMs: 800, toMs: 900 }), { startMs: 800, endMs: 900 }), signal);
    expect(short.score).toBeLessThan(good.score);
    expect(short.measures!.durationMs).toBe(100);
    // A WAV-encoded request scores the same as raw PCM.
    const wav = await a.assess({ ...request(speech, seg), audio: { format: "wav", base64: encodeWav(speech, SR).toString("base64") } }, signal);
    expect(wav.score).toBe(good.score);
  });

  it("honours the latency distribution: the mean of many draws is within 10 % of the configured one", async () => {
    const models: [LatencyModel, number][] = [
      [{ distribution: "fixed", ms: 250 }, 250],
      [{ distribution: "uniform", minMs: 100, maxMs: 700 }, 400],
      [{ distribution: "lognormal", meanMs: 600, stdMs: 400 }, 600],
    ];
    const pcm = utterance({ noise: 0.005, amp: 0.3, fromMs: 800, toMs: 2000 });
    for (const [latency, mean] of models) {
      const clock = new ManualClock(0);
      const a = new LocalAssessor({ latency, random: seededRandom(42), clock, sleep: instant(clock) });
      const n = 400;
      let sum = 0;
      let sumSq = 0;
      for (let i = 0; i < n; i++) {
        const r = await a.assess(request(pcm, { startMs: 800, endMs: 2000 }), new AbortController().signal);
        sum += r.latencyMs;
        sumSq += r.latencyMs * r.latencyMs;
      }
      expect(Math.abs(sum / n - mean) / mean, latency.distribution).toBeLessThan(0.1);
      if (latency.distribution === "lognormal") {
        // Many more draws (no audio work): the standard deviation matches too.
        const rnd = seededRandom(7);
        const xs = Array.from({ length: 50_000 }, () => drawLatency(latency, rnd));
        const m = xs.reduce((s, x) => s + x, 0) / xs.length;
        const sd = Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / xs.length);
        expect(Math.abs(m - 600) / 600).toBeLessThan(0.03);
        expect(Math.abs(sd - 400) / 400).toBeLessThan(0.1);
        expect(Math.min(...xs)).toBeGreaterThan(0);
      }
      if (latency.distribution === "fixed") expect(sumSq / n - (sum / n) ** 2).toBeCloseTo(0, 6);
    }
  });

  it("waits for real with the default sleep, and an abort cuts the wait short", async () => {
    const a = new LocalAssessor({ latency: { distribution: "fixed", ms: 60 }, random: seededRandom(1) });
    const pcm = new Int16Array(SR);
    const r = await a.assess(request(pcm, { startMs: 100, endMs: 600 }), new AbortController().signal);
    expect(r.latencyMs).toBeGreaterThanOrEqual(59);
    const slow = new LocalAssessor({ latency: { distribution: "fixed", ms: 5000 }, random: seededRandom(1) });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 30);
    const t0 = performance.now();
    const e = await slow.assess(request(pcm, { startMs: 100, endMs: 600 }), ac.signal).catch((x: unknown) => x);
    expect((e as AssessorError).kind).toBe("aborted");
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it("rejects an invalid latency model, naming the field and value", () => {
    expect(() => new LocalAssessor({ latency: { distribution: "uniform", minMs: 500, maxMs: 100 }, random: seededRandom(1) })).toThrow(/latency\.maxMs = 100 is invalid/);
    expect(() => new LocalAssessor({ latency: { distribution: "lognormal", meanMs: -1, stdMs: 1 }, random: seededRandom(1) })).toThrow(/latency\.meanMs = -1/);
  });
});
