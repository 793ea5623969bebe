// A real class on loopback, no impairment: the walking skeleton's acceptance checks.
import { describe, it, expect, beforeAll } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runScenario, type RunResult } from "../../src/scenario/runner.js";
import { rtpToUnixMs } from "../../src/metrics/sr-mapping.js";
import { percentile } from "../../src/metrics/stats.js";
import { quickScenario } from "../helpers/scenarios.js";

const FPS = 30;
const INTERVAL = 1000 / FPS;
let result: RunResult;

beforeAll(async () => {
  const out = mkdtempSync(join(tmpdir(), "proctor-smoke-"));
  result = await runScenario(quickScenario({ name: "smoke-test", students: 3, clips: 3, clipSeconds: 3 }), {
    scenarioFile: "<test>",
    reportsDir: out,
  });
});

describe("smoke class (3 light students, 3 clips, clean loopback)", () => {
  it("every student joins and receives ≥ 99 % of the frames sent", () => {
    expect(result.report.errors).toEqual([]);
    expect(result.students).toHaveLength(3);
    for (const s of result.students) {
      console.log(`${s.student}: ${s.summary.framesReceived}/${s.summary.framesExpected} frames, join ${s.summary.joinMs?.toFixed(0)} ms`);
      expect(s.summary.framesExpected).toBeGreaterThanOrEqual(3 * 3 * FPS - 5);
      expect(s.summary.framesReceivedRatio).toBeGreaterThanOrEqual(0.99);
    }
  });

  it("clip switches are seamless: 0 ± 1 ms beyond the pacing jitter at the wire tier", () => {
    for (const s of result.students) {
      const gaps = s.summary.switchGaps;
      expect(gaps.map((g) => `${g.fromClip}->${g.toClip}`)).toEqual(["1->2", "2->3"]);
      // Pacing jitter: how far ordinary (same-clip) arrival intervals stray from the nominal one.
      // A switch lands on a keyframe, which is several times larger than a delta frame, so it is
      // compared with the in-clip keyframes (one per second) as well as with all frames.
      const frames = [...s.agent.frames].sort((a, b) => a.completeMs - b.completeMs);
      const dev: number[] = [];
      const keyDev: number[] = [];
      for (let i = 1; i < frames.length; i++) {
        if (frames[i]!.clipId !== frames[i - 1]!.clipId) continue;
        const d = Math.abs(frames[i]!.completeMs - frames[i - 1]!.completeMs - INTERVAL);
        dev.push(d);
        if (frames[i]!.keyframe) keyDev.push(d);
      }
      expect(keyDev.length).toBeGreaterThanOrEqual(3);
      // A seamless switch is no worse than the worst ordinary in-clip interval.
      const jitter = Math.max(...dev);
      console.log(`${s.student}: gaps ${gaps.map((g) => g.gapMs.toFixed(2)).join(", ")} ms; worst in-clip interval deviation ${jitter.toFixed(2)} ms (keyframes ${Math.max(...keyDev).toFixed(2)}, p95 of all ${percentile(dev.sort((a, b) => a - b), 95).toFixed(2)})`);
      for (const g of gaps) {
        expect(g.captureGapMs).toBeCloseTo(0, 2); // the streamer scheduled B's first frame one tick after A's last
        expect(Math.abs(g.gapMs)).toBeLessThanOrEqual(1 + jitter);
        expect(Math.abs(g.gapMs)).toBeLessThan(INTERVAL); // a held or dropped tick is ≥ one interval
      }
    }
  });

  it("latency p95 < 20 ms on loopback", () => {
    for (const s of result.students) {
      console.log(`${s.student}: latency p50 ${s.summary.latencyMs.p50.toFixed(2)} p95 ${s.summary.latencyMs.p95.toFixed(2)} ms`);
      expect(s.summary.latencyMs.count).toBeGreaterThan(200);
      expect(s.summary.latencyMs.p95).toBeLessThan(20);
      expect(s.summary.latencyMs.min).toBeGreaterThanOrEqual(0);
    }
  });

  it("RTP sequence numbers, timestamps and picture ids are continuous, across switches too", () => {
    for (const s of result.students) {
      const frames = [...s.agent.frames].sort((a, b) => ((a.rtpTimestamp - b.rtpTimestamp) | 0));
      let boundaries = 0;
      for (let i = 1; i < frames.length; i++) {
        const a = frames[i - 1]!;
        const b = frames[i]!;
        expect(b.firstSeq).toBe((a.lastSeq + 1) & 0xffff);
        expect((b.rtpTimestamp - a.rtpTimestamp) >>> 0).toBe(90_000 / FPS);
        expect(b.pictureId).toBe(((a.pictureId ?? 0) + 1) & 0x7fff);
        if (a.clipId !== b.clipId) {
          boundaries++;
          expect(a.lastOfClip).toBe(true);
          expect(b.frameIndex).toBe(0);
          expect(b.keyframe).toBe(true);
        }
      }
      expect(boundaries).toBe(2);
      const audio = s.agent.audio;
      for (let i = 1; i < audio.length; i++) expect(audio[i]!.extSeq - audio[i - 1]!.extSeq).toBe(1);
      expect(s.summary.audio.packetsLost).toBe(0);
    }
  });

  it("sender reports map RTP time to the streamer's capture clock within 1 ms", () => {
    let checked = 0;
    for (const s of result.students) {
      const srs = s.agent.senderReports;
      expect(srs.filter((r) => r.kind === "video").length).toBeGreaterThanOrEqual(3);
      expect(srs.filter((r) => r.kind === "audio").length).toBeGreaterThanOrEqual(3);
      for (const sr of srs) {
        const items = sr.kind === "video" ? s.agent.frames : s.agent.audio;
        const clockRate = sr.kind === "video" ? 90_000 : 48_000;
        for (const it of items) {
          if (it.captureUnixMs === undefined) continue;
          const mapped = rtpToUnixMs(sr, it.rtpTimestamp, clockRate);
          expect(Math.abs(mapped - it.captureUnixMs)).toBeLessThan(1);
          checked++;
        }
      }
    }
    console.log(`SR mapping checked on ${checked} frame/packet × report pairs`);
    expect(checked).toBeGreaterThan(1000);
  });

  it("writes a versioned report.json and line-protocol metrics", () => {
    const report = JSON.parse(readFileSync(join(result.runDir, "report.json"), "utf8"));
    expect(report.schemaVersion).toBe(1);
    expect(report.status).toBe("passed");
    expect(report.students).toHaveLength(3);
    const lines = readFileSync(join(result.runDir, "metrics.lp"), "utf8").trim().split("\n");
    const wire = lines.filter((l) => l.startsWith("wire,"));
    expect(wire.length).toBeGreaterThanOrEqual(3 * 8);
    for (const l of wire) expect(l).toMatch(/^wire,agent=werift,profile=none,room=room-1,run=[^ ]+,scenario=smoke-test,student=s-\d [a-z_0-9=.,-]+ \d{19}$/);
    expect(lines.filter((l) => l.includes("kind=clip_switch")).length).toBe(6);
  });
});
