import { describe, expect, it } from "vitest";
import { ReceiveStats } from "../../src/metrics/receive-stats.js";
import { SeqUnwrapper } from "../../src/media/rtp/seq.js";

/** Feed 16-bit sequence numbers through a SeqUnwrapper into an audio-rate ReceiveStats, 20 ms apart. */
function feed(seqs: number[], size = 100): ReceiveStats {
  const s = new ReceiveStats(48_000);
  const u = new SeqUnwrapper();
  for (const [i, seq] of seqs.entries()) s.push(u.unwrap(seq), (seq * 960) >>> 0, i * 20, size);
  return s;
}

describe("ReceiveStats loss (RFC 3550 A.3)", () => {
  it("counts nothing before the first packet", () => {
    const s = new ReceiveStats(90_000);
    expect([s.packetsExpected, s.packetsReceived, s.packetsLost, s.lossFraction, s.jitterMs]).toEqual([0, 0, 0, 0, 0]);
  });

  it("in-order stream: no loss, bytes summed", () => {
    const s = feed([100, 101, 102, 103, 104], 120);
    expect([s.packetsExpected, s.packetsReceived, s.packetsLost, s.lossFraction, s.bytes]).toEqual([5, 5, 0, 0, 600]);
  });

  it("gaps: 0..9 without 3, 4 and 8 → 3 lost of 10", () => {
    const s = feed([0, 1, 2, 5, 6, 7, 9]);
    expect(s.packetsExpected).toBe(10);
    expect(s.packetsReceived).toBe(7);
    expect(s.packetsLost).toBe(3);
    expect(s.lossFraction).toBeCloseTo(0.3, 12);
  });

  it("reordering is not loss", () => {
    const s = feed([0, 2, 1, 4, 3, 5]);
    expect([s.packetsExpected, s.packetsLost, s.duplicates]).toEqual([6, 0, 0]);
  });

  it("a late packet from before the first one extends the range", () => {
    const s = feed([10, 11, 9, 12]);
    expect([s.packetsExpected, s.packetsReceived, s.packetsLost]).toEqual([4, 4, 0]);
  });

  it("duplicates are counted apart and do not hide loss", () => {
    const s = feed([0, 1, 1, 3, 3, 3, 1, 4], 50);
    expect(s.duplicates).toBe(4);
    expect(s.packetsReceived).toBe(4);
    expect(s.packetsExpected).toBe(5);
    expect(s.packetsLost).toBe(1); // seq 2
    expect(s.bytes).toBe(200);
  });

  it("wraps across 65535 → 0 with loss on both sides", () => {
    // 65532, [65533 lost], 65534, 65535, 0, [1 lost], 2, reordered 65533 arrives late → 1 lost of 7.
    const s = feed([65532, 65534, 65535, 0, 2, 65533]);
    expect(s.packetsExpected).toBe(7);
    expect(s.packetsReceived).toBe(6);
    expect(s.packetsLost).toBe(1);
    expect(s.duplicates).toBe(0);
  });

  it("detects a duplicate after the window slots were recycled past a wrap", () => {
    const seqs: number[] = [];
    for (let i = 0; i < 5000; i++) seqs.push((60_000 + i) & 0xffff);
    seqs.push((60_000 + 4990) & 0xffff, (60_000 + 4000) & 0xffff);
    const s = feed(seqs);
    expect(s.duplicates).toBe(2);
    expect(s.packetsReceived).toBe(5000);
    expect(s.packetsLost).toBe(0);
  });

  it("a packet after a long jump is new, not a stale-slot duplicate", () => {
    const s = new ReceiveStats(90_000);
    for (let i = 0; i < 10; i++) s.push(i, 0, 0, 1);
    s.push(10_000, 0, 0, 1); // jump > 4096: every slot but its own cleared
    s.push(9_995, 0, 0, 1); // slot (9995 & 4095) was last used by an old seq
    s.push(10_000 - 4096 + 5, 0, 0, 1); // same slot as 10_000+5 would have; never seen
    expect(s.duplicates).toBe(0);
    expect(s.packetsReceived).toBe(13);
    expect(s.packetsExpected).toBe(10_001);
  });
});

describe("ReceiveStats jitter (RFC 3550 §6.4.1, A.8)", () => {
  it("constant transit → 0", () => {
    const s = new ReceiveStats(90_000);
    for (let i = 0; i < 100; i++) s.push(i, (1234 + i * 9000) >>> 0, 5_000 + i * 100, 1000); // 9000 units = 100 ms
    expect(s.jitterMs).toBe(0);
  });

  it("constant transit across the 2^32 timestamp wrap → 0", () => {
    const s = new ReceiveStats(48_000);
    const base = 2 ** 32 - 960 * 5;
    for (let i = 0; i < 12; i++) s.push(i, (base + i * 960) >>> 0, 1_000 + i * 20, 100);
    expect(s.jitterMs).toBe(0);
  });

  it("alternating 0 / +5 ms delay follows J += (|D| − J)/16 by hand", () => {
    // 48 kHz, 20 ms packets (960 units). Arrival delay alternates 0, 5, 0, 5, 0 ms, so every
    // |D| = 5 ms = 240 units. J1 = 240/16 = 15; J2 = 15 + 225/16 = 29.0625;
    // J3 = 29.0625 + 210.9375/16 = 42.24609375; J4 = 42.24609375 + 197.75390625/16 = 54.6057128906...
    // = 240·(1 − (15/16)^4) units = 5·(1 − 50625/65536) ms = 1.1376190185546875 ms.
    const s = new ReceiveStats(48_000);
    const delays = [0, 5, 0, 5, 0];
    const expectedMs = [0, 0.3125, 0.60546875, 0.880126953125, 1.1376190185546875];
    for (const [i, d] of delays.entries()) {
      s.push(i, 960 * i, 100 + 20 * i + d, 100);
      expect(s.jitterMs).toBeCloseTo(expectedMs[i]!, 12);
    }
  });

  it("does not feed duplicates into the jitter estimate", () => {
    const s = new ReceiveStats(48_000);
    s.push(0, 0, 0, 1);
    s.push(1, 960, 20, 1);
    s.push(1, 960, 500, 1); // duplicate arriving very late
    s.push(2, 1920, 40, 1);
    expect(s.jitterMs).toBe(0);
  });
});
