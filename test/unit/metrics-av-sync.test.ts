import { describe, expect, it } from "vitest";
import {
  estimateAvSync,
  srMappingErrorsMs,
  type SyncAudioPacket,
  type SyncSenderReport,
  type SyncVideoFrame,
} from "../../src/metrics/av-sync.js";

const C0 = 1_700_000_000_000; // capture of the first frame / packet (Unix ms)
const V0 = 2 ** 32 - 3 * 90_000; // video RTP start: wraps 2^32 three seconds in
const A0 = 123_456;

/** 10 s of 30 fps video and 20 ms audio, 40 ms network delay, capture times from abs-capture-time. */
function media(): { video: SyncVideoFrame[]; audio: SyncAudioPacket[] } {
  const video = Array.from({ length: 300 }, (_, i) => ({
    rtpTimestamp: (V0 + i * 3000) >>> 0,
    captureUnixMs: C0 + (i * 1000) / 30,
    completeUnixMs: C0 + (i * 1000) / 30 + 40,
  }));
  const audio = Array.from({ length: 500 }, (_, j) => ({
    rtpTimestamp: (A0 + j * 960) >>> 0,
    captureUnixMs: C0 + j * 20,
    arrivalUnixMs: C0 + j * 20 + 40,
  }));
  return { video, audio };
}

/** One SR a second per stream; `audioSkewMs` is how much later than the truth the audio SRs claim. */
function reports(audioSkewMs: number, videoSkewMs = 0): SyncSenderReport[] {
  const out: SyncSenderReport[] = [];
  for (let k = 0; k < 10; k++) {
    const t = C0 + k * 1000;
    out.push({ kind: "video", ntpUnixMs: t + videoSkewMs, rtpTimestamp: (V0 + k * 90_000) >>> 0, arrivalUnixMs: t + 40 });
    out.push({ kind: "audio", ntpUnixMs: t + audioSkewMs, rtpTimestamp: (A0 + k * 48_000) >>> 0, arrivalUnixMs: t + 40 });
  }
  return out;
}

describe("estimateAvSync (positive = audio leads)", () => {
  it.each([
    // [audio SR skew, video SR skew, expected offset]
    ["honest SRs", 0, 0, 0],
    ["audio SRs claim capture 60 ms later → audio plays late → −60", 60, 0, -60],
    ["audio SRs claim capture 60 ms earlier → audio plays early → +60", -60, 0, 60],
    ["video SRs claim capture 40 ms later → video late → audio leads by 40", 0, 40, 40],
    ["both skewed by the same amount → in sync", 25, 25, 0],
  ])("%s", (_name, audioSkew, videoSkew, expected) => {
    const { video, audio } = media();
    const est = estimateAvSync(video, audio, reports(audioSkew, videoSkew));
    expect(est).toBeDefined();
    expect(est!.offsetMs).toBeCloseTo(expected, 6);
    expect(est!.audioSrErrorMs).toBeCloseTo(audioSkew, 6);
    expect(est!.videoSrErrorMs).toBeCloseTo(videoSkew, 6);
    expect(est!.videoSamples).toBe(300);
    expect(est!.audioSamples).toBe(500);
  });

  it("adds the streams' extra playout delays: offset += video delay − audio delay", () => {
    const { video, audio } = media();
    const est = estimateAvSync(video, audio, reports(60), { videoPlayoutDelayMs: 30, audioPlayoutDelayMs: 10 });
    expect(est!.offsetMs).toBeCloseTo(-60 + 30 - 10, 6);
  });

  it("is undefined without sender reports for one of the streams", () => {
    const { video, audio } = media();
    expect(estimateAvSync(video, audio, reports(0).filter((r) => r.kind === "video"))).toBeUndefined();
    const noCapture = audio.map(({ captureUnixMs: _c, ...p }) => p);
    expect(estimateAvSync(video, noCapture, reports(0))).toBeUndefined();
  });

  it("a minority of items mapped through a bad SR does not move the median", () => {
    const { video, audio } = media();
    // The audio SR of second 9 is off by 500 ms: it maps only the last ~1 s of audio (50 of 500 packets).
    const srs = reports(-60).map((r) => (r.kind === "audio" && r.arrivalUnixMs === C0 + 9000 + 40 ? { ...r, ntpUnixMs: r.ntpUnixMs + 500 } : r));
    expect(estimateAvSync(video, audio, srs)!.offsetMs).toBeCloseTo(60, 6);
  });
});

describe("srMappingErrorsMs", () => {
  const srs = [
    { ntpUnixMs: 10_000, rtpTimestamp: 0, arrivalUnixMs: 10_050 }, // honest
    { ntpUnixMs: 12_060, rtpTimestamp: 96_000, arrivalUnixMs: 12_050 }, // claims +60
  ];
  it.each([
    ["before any SR arrived: the first SR", 10_000, 0],
    ["after the first SR", 11_000, 0],
    ["exactly when the second SR arrived: the second", 12_050, 60],
    ["after the second SR", 13_000, 60],
  ])("%s", (_name, arrival, expected) => {
    // Item captured at unix ms 11 000 → RTP 48 000 at 48 kHz.
    const [e] = srMappingErrorsMs([{ rtpTimestamp: 48_000, atUnixMs: arrival, captureUnixMs: 11_000 }], srs, 48_000);
    expect(e).toBeCloseTo(expected, 9);
  });

  it("maps across the 32-bit RTP wrap", () => {
    const sr = [{ ntpUnixMs: 5_000, rtpTimestamp: 2 ** 32 - 9_000, arrivalUnixMs: 0 }];
    // 18 000 ticks later at 90 kHz (= 200 ms), wrapped to 9 000.
    expect(srMappingErrorsMs([{ rtpTimestamp: 9_000, atUnixMs: 1, captureUnixMs: 5_200 }], sr, 90_000)).toEqual([0]);
  });
});
