import { describe, expect, it } from "vitest";
import { PlaybackQueue } from "../../src/streamer/playback-queue.js";
import type { LoadedClip } from "../../src/streamer/clip-library.js";

const TICK = 1000 / 30;

function fakeClip(name: string, clipId: number, frames: number, audioPackets = Math.ceil((frames * TICK) / 20)): LoadedClip {
  return {
    name,
    clipId,
    fps: 30,
    width: 640,
    height: 360,
    frames: Array.from({ length: frames }, (_, i) => ({ data: Buffer.from([i === 0 ? 0x10 : 0x11, clipId, i]), keyframe: i === 0 })),
    audio: Array.from({ length: audioPackets }, (_, i) => Buffer.from([0xf8, clipId, i])),
    durationMs: frames * TICK,
  };
}

/** Run `n` ticks from tick `from`, returning "<clip>:<index>[*]" per tick (* = lastOfClip) or "-". */
function play(q: PlaybackQueue, from: number, n: number): string[] {
  const out: string[] = [];
  for (let k = from; k < from + n; k++) {
    const f = q.nextFrame(k * TICK);
    out.push(f ? `${f.clip.name}:${f.frameIndex}${f.lastOfClip ? "*" : ""}` : "-");
  }
  return out;
}

describe("PlaybackQueue", () => {
  it("is idle when empty and returns null frames", () => {
    const q = new PlaybackQueue();
    expect(q.isIdle).toBe(true);
    expect(q.playing).toBeNull();
    expect(play(q, 0, 3)).toEqual(["-", "-", "-"]);
    expect(q.isIdle).toBe(true);
  });

  it("plays clips back to back with no gap and flags each clip's last frame", () => {
    const q = new PlaybackQueue();
    const a = fakeClip("A", 1, 3);
    const b = fakeClip("B", 2, 2);
    q.enqueue(a);
    q.enqueue(b);
    expect(q.isIdle).toBe(false);
    expect(play(q, 0, 7)).toEqual(["A:0", "A:1", "A:2*", "B:0", "B:1*", "-", "-"]);
    expect(q.isIdle).toBe(true);
    expect(q.playing).toBeNull();
  });

  it("stamps clipStartMs with the tick time of the clip's frame 0", () => {
    const q = new PlaybackQueue();
    q.enqueue(fakeClip("A", 1, 2));
    q.enqueue(fakeClip("B", 2, 2));
    const starts = [0, 1, 2, 3].map((k) => q.nextFrame(1000 + k * TICK)!.clipStartMs);
    expect(starts).toEqual([1000, 1000, 1000 + 2 * TICK, 1000 + 2 * TICK]);
  });

  it("a one-frame clip is first and last at once", () => {
    const q = new PlaybackQueue();
    q.enqueue(fakeClip("A", 1, 1));
    q.enqueue(fakeClip("B", 2, 1));
    expect(play(q, 0, 3)).toEqual(["A:0*", "B:0*", "-"]);
  });

  it("resumes after idling when a clip is enqueued later", () => {
    const q = new PlaybackQueue();
    expect(play(q, 0, 2)).toEqual(["-", "-"]);
    q.enqueue(fakeClip("A", 1, 2));
    expect(play(q, 2, 3)).toEqual(["A:0", "A:1*", "-"]);
  });

  it("switchNow interrupts on the next tick and drops the queue", () => {
    const q = new PlaybackQueue();
    q.enqueue(fakeClip("A", 1, 10));
    q.enqueue(fakeClip("C", 3, 2));
    expect(play(q, 0, 3)).toEqual(["A:0", "A:1", "A:2"]);
    const b = fakeClip("B", 2, 3);
    q.switchNow(b);
    expect(play(q, 3, 5)).toEqual(["B:0", "B:1", "B:2*", "-", "-"]);
  });

  it("switchNow with holdTicks sends exactly that many empty ticks, then frame 0", () => {
    const q = new PlaybackQueue();
    q.enqueue(fakeClip("A", 1, 10));
    expect(play(q, 0, 2)).toEqual(["A:0", "A:1"]);
    q.switchNow(fakeClip("B", 2, 2), { holdTicks: 4 });
    expect(q.playing).toBeNull();
    expect(q.isIdle).toBe(false);
    expect(play(q, 2, 4)).toEqual(["-", "-", "-", "-"]);
    const first = q.nextFrame(6 * TICK)!;
    expect([first.clip.name, first.frameIndex, first.clipStartMs]).toEqual(["B", 0, 6 * TICK]);
    expect(play(q, 7, 2)).toEqual(["B:1*", "-"]);
  });

  it("holdTicks is floored and negative values mean none", () => {
    const q = new PlaybackQueue();
    q.switchNow(fakeClip("B", 2, 1), { holdTicks: 2.9 });
    expect(play(q, 0, 4)).toEqual(["-", "-", "B:0*", "-"]);
    q.switchNow(fakeClip("C", 3, 1), { holdTicks: -5 });
    expect(play(q, 4, 2)).toEqual(["C:0*", "-"]);
  });

  it("startsNext names the clip the next tick starts, and only then", () => {
    const q = new PlaybackQueue();
    expect(q.startsNext).toBeNull();
    const a = fakeClip("A", 1, 2);
    const b = fakeClip("B", 2, 2);
    q.enqueue(a);
    q.enqueue(b);
    expect(q.startsNext).toBe(a);
    q.nextFrame(0);
    expect(q.startsNext).toBeNull(); // mid-clip
    q.nextFrame(TICK);
    expect(q.startsNext).toBe(b); // A's last frame went out
    q.nextFrame(2 * TICK);
    expect(q.startsNext).toBeNull();
    const c = fakeClip("C", 3, 1);
    q.switchNow(c, { holdTicks: 2 });
    expect(q.startsNext).toBeNull(); // holding
    q.nextFrame(3 * TICK);
    expect(q.startsNext).toBeNull();
    q.nextFrame(4 * TICK);
    expect(q.startsNext).toBe(c);
    expect(q.nextFrame(5 * TICK)?.clip).toBe(c);
    expect(q.startsNext).toBeNull();
  });

  it("audioAt indexes the playing clip's packets from its start time", () => {
    const q = new PlaybackQueue();
    const a = fakeClip("A", 1, 3, 4); // 4 audio packets: 0..80 ms
    expect(q.audioAt(0, 20)).toBeNull(); // nothing playing yet
    q.enqueue(a);
    const f = q.nextFrame(100)!;
    expect(f.clipStartMs).toBe(100);
    expect(q.audioAt(100, 20)).toEqual({ clip: a, index: 0 });
    expect(q.audioAt(140, 20)).toEqual({ clip: a, index: 2 });
    expect(q.audioAt(149, 20)?.index).toBe(2); // rounds to the nearest packet
    expect(q.audioAt(151, 20)?.index).toBe(3);
    expect(q.audioAt(160, 20)?.index).toBe(3);
    expect(q.audioAt(180, 20)).toBeNull(); // past the last packet
    expect(q.audioAt(60, 20)).toBeNull(); // before the clip
  });

  it("audioAt follows the switch to the next clip", () => {
    const q = new PlaybackQueue();
    const a = fakeClip("A", 1, 1);
    const b = fakeClip("B", 2, 2);
    q.enqueue(a);
    q.enqueue(b);
    q.nextFrame(0);
    expect(q.audioAt(20, 20)?.clip).toBe(a);
    q.nextFrame(TICK);
    expect(q.audioAt(40, 20)).toEqual({ clip: b, index: Math.round((40 - TICK) / 20) });
    expect(q.playing).toBe(b);
  });
});
