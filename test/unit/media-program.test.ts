import { describe, expect, it } from "vitest";
import type { Clock } from "../../src/clock.js";
import { MediaProgram, type OutPacket, type SentFrame } from "../../src/streamer/media-program.js";
import type { LoadedClip } from "../../src/streamer/clip-library.js";
import { isVp8KeyframeAt, parseVp8Descriptor } from "../../src/media/rtp/vp8-descriptor.js";
import { decodeAbsCaptureTime, decodeFrameId, FRAME_FLAG_LAST_OF_CLIP } from "../../src/media/rtp/header-extensions.js";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// Real monotonic time; a small Unix origin keeps abs-capture-time round trips precise to ~1e-9 ms.
const UNIX_ORIGIN = 1_000_000;
const clock: Clock = { nowMs: () => performance.now(), toUnixMs: (m) => UNIX_ORIGIN + m };

/** Fake clip: frame 0 is a 2500-byte keyframe (3 RTP packets), others small interframes (frame-tag P bit 1). */
function fakeClip(name: string, clipId: number, frames: number, fps = 30): LoadedClip {
  return {
    name,
    clipId,
    fps,
    width: 640,
    height: 360,
    frames: Array.from({ length: frames }, (_, i) => {
      const data = Buffer.alloc(i === 0 ? 2500 : 200 + i, clipId);
      data[0] = i === 0 ? 0x10 : 0x11;
      data[1] = i & 0xff;
      return { data, keyframe: i === 0 };
    }),
    audio: Array.from({ length: Math.ceil((frames * 1000) / fps / 20) }, (_, i) => Buffer.from([0xf8, clipId, i])),
    durationMs: (frames * 1000) / fps,
  };
}

/** A "random" source returning fixed values, so every counter starts just below its wrap. */
function fixedRandom(values: number[]): () => number {
  let i = 0;
  return () => values[i++]!;
}

const VIDEO_SEQ0 = 65_530;
const AUDIO_SEQ0 = 65_533;
const VIDEO_TS0 = 2 ** 32 - 3000 * 5;
const AUDIO_TS0 = 2 ** 32 - 960 * 3;
const PICTURE_ID0 = 0x7ffd;
const wrapNearTop = () => fixedRandom([VIDEO_SEQ0 / 65536, AUDIO_SEQ0 / 65536, VIDEO_TS0 / 2 ** 32, AUDIO_TS0 / 2 ** 32, PICTURE_ID0 / 0x8000]);

type Captured = { kind: "video" | "audio"; packets: readonly OutPacket[] };

describe("MediaProgram (real clock)", () => {
  it("keeps seq, timestamps and picture ids continuous across clips and a held switch", async () => {
    const sent: SentFrame[] = [];
    const program = new MediaProgram({ fps: 30, clock, random: wrapNearTop(), audioTimestampSkewMs: 60, onFrameSent: (f) => sent.push(f) });
    const captured: Captured[] = [];
    program.subscribe((kind, packets) => captured.push({ kind, packets }));
    const a = fakeClip("A", 11, 6);
    const b = fakeClip("B", 12, 90);
    const cc = fakeClip("C", 13, 6);
    program.enqueue(a);
    program.enqueue(b);
    program.start();
    const t0 = program.startedAtMs;
    await sleep(500);
    program.switchNow(cc, { holdTicks: 3 });
    await sleep(600);
    program.stop();
    const after = captured.length;
    await sleep(100);
    expect(captured.length).toBe(after);

    // ---- frames: A0..A5, B0..B(s-7), 3 empty ticks, C0..C5, then idle.
    const byClip = (id: number) => sent.filter((f) => f.clipId === id);
    expect(byClip(11).map((f) => [f.tick, f.frameIndex])).toEqual([0, 1, 2, 3, 4, 5].map((k) => [k, k]));
    const bFrames = byClip(12);
    expect(bFrames.length).toBeGreaterThan(5);
    bFrames.forEach((f, i) => expect([f.tick, f.frameIndex]).toEqual([6 + i, i]));
    const cFrames = byClip(13);
    expect(cFrames.map((f) => f.frameIndex)).toEqual([0, 1, 2, 3, 4, 5]);
    const lastB = bFrames[bFrames.length - 1]!;
    expect(cFrames[0]!.tick).toBe(lastB.tick + 4); // switch tick + 3 held ticks
    cFrames.forEach((f, i) => expect(f.tick).toBe(cFrames[0]!.tick + i));
    expect(sent.map((f) => f.lastOfClip)).toEqual(sent.map((f) => (f.clipId === 11 && f.frameIndex === 5) || (f.clipId === 13 && f.frameIndex === 5)));
    expect(program.framesSent).toBe(sent.length);

    // ---- RTP timestamps: base + tick·3000 (mod 2^32), crossing the wrap at tick 5; capture = due time.
    for (const f of sent) {
      expect(f.rtpTimestamp).toBe((VIDEO_TS0 + f.tick * 3000) % 2 ** 32);
      expect(f.captureMs).toBe(t0 + f.tick * (1000 / 30));
      // The sender-report mapping agrees with the packets exactly.
      expect(program.rtpTimestampAt("video", f.captureMs)).toBe(f.rtpTimestamp);
    }

    // ---- video packets: seq continuous across the wrap and both switches; marker on each frame's last.
    const video = captured.filter((c) => c.kind === "video");
    expect(video).toHaveLength(sent.length);
    const vpkts = video.flatMap((c) => c.packets);
    vpkts.forEach((p, i) => expect(p.sequenceNumber).toBe((VIDEO_SEQ0 + i) % 65536));
    expect(vpkts.length).toBeGreaterThan(65536 - VIDEO_SEQ0);
    video.forEach((c, i) => {
      const f = sent[i]!;
      expect(c.packets).toHaveLength(f.packets);
      expect(c.packets.map((p) => p.marker)).toEqual(c.packets.map((_, j) => j === c.packets.length - 1));
      for (const p of c.packets) {
        expect(p.timestamp).toBe(f.rtpTimestamp);
        expect(decodeFrameId(p.frameId)).toEqual({ clipId: f.clipId, index: f.frameIndex, flags: f.lastOfClip ? FRAME_FLAG_LAST_OF_CLIP : 0 });
        expect(decodeAbsCaptureTime(p.absCaptureTime).captureUnixMs).toBeCloseTo(UNIX_ORIGIN + f.captureMs, 6);
      }
      // Picture ids +1 per sent frame mod 2^15 (0x7ffd, 0x7ffe, 0x7fff, 0, 1, …), same on all of a frame's packets.
      const pids = c.packets.map((p) => parseVp8Descriptor(p.payload).pictureId);
      expect(pids).toEqual(c.packets.map(() => (PICTURE_ID0 + i) % 0x8000));
      // Payloads reassemble the clip frame; frame 0 of each clip is a keyframe, S=1 on the first packet only.
      const clip = [a, b, cc].find((x) => x.clipId === f.clipId)!;
      expect(Buffer.concat(c.packets.map((p) => p.payload.subarray(4)))).toEqual(clip.frames[f.frameIndex]!.data);
      expect(c.packets.map((p) => parseVp8Descriptor(p.payload).start)).toEqual(c.packets.map((_, j) => j === 0));
      expect(isVp8KeyframeAt(c.packets[0]!.payload, 4)).toBe(f.frameIndex === 0);
    });
    expect(video[0]!.packets).toHaveLength(3); // 2500 bytes / 1096 per packet

    // ---- audio: seq continuous, timestamps base + 960·tick, silent during the hold and after C.
    const apkts = captured.filter((c) => c.kind === "audio").flatMap((c) => c.packets);
    expect(apkts.length).toBe(program.audioPacketsSent);
    apkts.forEach((p, i) => expect(p.sequenceNumber).toBe((AUDIO_SEQ0 + i) % 65536));
    const audioTicks = apkts.map((p) => {
      const captureMono = decodeAbsCaptureTime(p.absCaptureTime).captureUnixMs - UNIX_ORIGIN;
      const tick = Math.round((captureMono - t0) / 20) + 0; // + 0 turns -0 into 0
      expect(captureMono).toBeCloseTo(t0 + tick * 20, 6);
      expect(p.timestamp).toBe((AUDIO_TS0 + tick * 960) % 2 ** 32);
      // +60 ms skew: sender reports claim this instant's audio RTP time is 60 ms (2880 units) earlier.
      expect(program.rtpTimestampAt("audio", t0 + tick * 20)).toBe((AUDIO_TS0 + tick * 960 - 2880 + 2 ** 32) % 2 ** 32);
      return tick;
    });
    expect(audioTicks.slice(0, 10)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]); // A: 200 ms = 10 packets
    const aIds = apkts.map((p) => decodeFrameId(p.frameId));
    expect(aIds.slice(0, 10)).toEqual(aIds.slice(0, 10).map((_, i) => ({ clipId: 11, index: i, flags: 0 })));
    expect(aIds[10]).toEqual({ clipId: 12, index: 0, flags: 0 }); // B starts at tick 6 = 200 ms
    // No audio between B's last video tick and C's first (the held ticks), none after C's 200 ms.
    const heldFrom = t0 + (lastB.tick + 1) * (1000 / 30);
    const heldTo = t0 + cFrames[0]!.tick * (1000 / 30);
    const cStart = heldTo;
    for (const tick of audioTicks) {
      const at = t0 + tick * 20;
      expect(at > heldFrom + 10 && at < heldTo - 10).toBe(false);
      expect(at > cStart + 200 + 10).toBe(false);
    }
    const cAudio = aIds.filter((x) => x.clipId === 13).map((x) => x.index);
    expect(cAudio).toEqual(cAudio.map((_, i) => i));
    expect(cAudio.length).toBeGreaterThanOrEqual(9);
  });

  it("audio has no hole at a clip boundary that falls between audio ticks", async () => {
    // A: 5 frames = 166.7 ms, so B starts on video tick 5 at 166.7 ms. Audio tick 8 (160 ms) is
    // nearest to B's start and fires 6.7 ms before that video tick: it must carry B's packet 0.
    const program = new MediaProgram({ fps: 30, clock, random: wrapNearTop() });
    const audio: OutPacket[] = [];
    program.subscribe((kind, packets) => {
      if (kind === "audio") audio.push(...packets);
    });
    program.enqueue(fakeClip("A", 11, 5));
    program.enqueue(fakeClip("B", 12, 12)); // 400 ms, 20 audio packets
    program.start();
    await sleep(700);
    program.stop();
    const ticks = audio.map((p) => ((p.timestamp - AUDIO_TS0 + 2 ** 32) % 2 ** 32) / 960);
    const ids = audio.map((p) => decodeFrameId(p.frameId));
    expect(ticks.slice(0, 28)).toEqual(Array.from({ length: 28 }, (_, j) => j)); // no tick skipped
    expect(ids.slice(0, 8)).toEqual(Array.from({ length: 8 }, (_, i) => ({ clipId: 11, index: i, flags: 0 })));
    // B's packet i on audio tick 8 + i: nearest to 166.7 + 20i ms.
    expect(ids.slice(8, 28)).toEqual(Array.from({ length: 20 }, (_, i) => ({ clipId: 12, index: i, flags: 0 })));
    expect(audio).toHaveLength(28);
  });

  it("audio skew shifts only the audio mapping; video is unaffected", async () => {
    const plain = new MediaProgram({ fps: 30, clock, random: wrapNearTop() });
    const skewed = new MediaProgram({ fps: 30, clock, random: wrapNearTop(), audioTimestampSkewMs: 60 });
    const behind = new MediaProgram({ fps: 30, clock, random: wrapNearTop(), audioTimestampSkewMs: -25 });
    plain.start();
    skewed.start();
    behind.start();
    plain.stop();
    skewed.stop();
    behind.stop();
    for (const dt of [0, 20, 1000, 12_345.6]) {
      const v = plain.rtpTimestampAt("video", plain.startedAtMs + dt);
      expect(skewed.rtpTimestampAt("video", skewed.startedAtMs + dt)).toBe(v);
      expect(v).toBe((VIDEO_TS0 + Math.round(dt * 90)) % 2 ** 32);
      const a = plain.rtpTimestampAt("audio", plain.startedAtMs + dt);
      expect(a).toBe((AUDIO_TS0 + Math.round(dt * 48)) % 2 ** 32);
      expect(skewed.rtpTimestampAt("audio", skewed.startedAtMs + dt)).toBe((a - 2880 + 2 ** 32) % 2 ** 32);
      expect(behind.rtpTimestampAt("audio", behind.startedAtMs + dt)).toBe((a + 1200) % 2 ** 32);
    }
  });

  it("rtpTimestampAt matches packet timestamps when 90000/fps is not an integer (fps 14)", async () => {
    const sent: SentFrame[] = [];
    const program = new MediaProgram({ fps: 14, clock, random: () => 0.25, onFrameSent: (f) => sent.push(f) });
    program.enqueue(fakeClip("D", 21, 30, 14));
    program.start();
    await sleep(650); // ticks 0..9
    program.stop();
    expect(sent.length).toBeGreaterThanOrEqual(7);
    for (const f of sent) {
      expect(f.rtpTimestamp).toBe((2 ** 30 + Math.round((f.tick * 90_000) / 14)) >>> 0);
      expect(program.rtpTimestampAt("video", f.captureMs)).toBe(f.rtpTimestamp);
    }
  });
});
