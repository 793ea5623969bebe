// A student joining over a lossy link must still connect: werift's DTLS handshake has to
// retransmit lost flights (RFC 6347 §4.2.4) and ICE must not give up its check after one lost
// burst; both are patched in patches/werift+0.24.4.patch and explained in docs/patches/werift.md.
// Two real werift peers — a sendonly "teacher" (offerer, ICE controlling, DTLS server) and a
// recvonly "student" (answerer, DTLS client) — join through a lossy UDP relay
// (test/helpers/lossy-udp-proxy.ts) that drops datagrams from the very first packet.
//
// - targeted losses: the datagram carrying one handshake flight is lost (cases unpatched werift
//   failed, hung or took seconds on), and the join must still complete within ~1.5 s;
// - random loss: 20 joins at 30 % loss both ways, each must connect within 10 s; join time
//   p50/p95 and the DTLS retransmissions counted on the wire are printed.
// Seeds are fixed so a run replays the same drop pattern (timing can still shift it a little).
// Measured over 200 other seeds: ≈0.5 % of joins at 30 % loss both ways still exceed 10 s, from
// runs of 7+ lost round trips in one handshake step. DTLS_TRACE=1 prints a slow join's packets.
import { describe, it, expect } from "vitest";
import { performance } from "node:perf_hooks";
import { werift, type RTCPeerConnection } from "../../src/webrtc/werift.js";
import { loopbackIceConfig } from "../../src/webrtc/loopback.js";
import { LossyUdpProxy, dtlsRecords, type LossyUdpProxyOptions } from "../helpers/lossy-udp-proxy.js";

const JOIN_TIMEOUT_MS = 10_000;

type JoinResult = {
  seed: number;
  connected: boolean;
  /** From the offer until both peer connections are "connected" (or the timeout). */
  joinMs: number;
  teacherState: string;
  studentState: string;
  dtlsRetransmitsToTeacher: number;
  dtlsRetransmitsToStudent: number;
  dtlsHandshakeDatagrams: number;
  dropped: number;
};

function connected(pc: RTCPeerConnection, t0: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const done = (s: string): boolean => {
      if (s === "connected") resolve(performance.now() - t0);
      else if (s === "failed" || s === "closed") reject(new Error(s));
      else return false;
      return true;
    };
    if (done(pc.connectionState)) return;
    const { unSubscribe } = pc.connectionStateChange.subscribe((s) => {
      if (done(s)) unSubscribe();
    });
  });
}

async function join(options: Omit<LossyUdpProxyOptions, "trace">): Promise<JoinResult> {
  const trace: string[] | undefined = process.env.DTLS_TRACE ? [] : undefined;
  const proxy = await LossyUdpProxy.create({ ...options, ...(trace ? { trace } : {}) });
  const teacher = new werift.RTCPeerConnection(loopbackIceConfig());
  const student = new werift.RTCPeerConnection(loopbackIceConfig());
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    teacher.addTransceiver(new werift.MediaStreamTrack({ kind: "video" }), { direction: "sendonly" });
    const both = Promise.all([connected(teacher, t0), connected(student, t0)]);
    both.catch(() => undefined);

    await teacher.setLocalDescription(await teacher.createOffer());
    await student.setRemoteDescription({ type: "offer", sdp: proxy.rewriteOffer(teacher.localDescription!.sdp) });
    await student.setLocalDescription(await student.createAnswer());
    await teacher.setRemoteDescription({ type: "answer", sdp: proxy.rewriteAnswer(student.localDescription!.sdp) });

    const timeout = new Promise<"timeout">((r) => (timer = setTimeout(() => r("timeout"), JOIN_TIMEOUT_MS)));
    const outcome = await Promise.race([both.then((ms) => Math.max(...ms)), timeout]).catch(() => "failed" as const);
    const s = proxy.stats;
    const result: JoinResult = {
      seed: options.seed,
      connected: typeof outcome === "number",
      joinMs: typeof outcome === "number" ? outcome : performance.now() - t0,
      teacherState: teacher.connectionState,
      studentState: student.connectionState,
      dtlsRetransmitsToTeacher: s.toOfferer.dtlsRetransmits,
      dtlsRetransmitsToStudent: s.toAnswerer.dtlsRetransmits,
      dtlsHandshakeDatagrams: s.toOfferer.dtlsHandshake + s.toAnswerer.dtlsHandshake,
      dropped: s.toOfferer.dropped + s.toAnswerer.dropped,
    };
    if (trace && (!result.connected || result.joinMs > 5000)) {
      console.log(`seed ${options.seed}: ${result.teacherState}/${result.studentState} after ${result.joinMs.toFixed(0)} ms\n${trace.join("\n")}`);
    }
    return result;
  } finally {
    clearTimeout(timer);
    await Promise.allSettled([teacher.close(), student.close()]);
    proxy.close();
  }
}

/** Run `count` random-loss joins, `parallel` at a time, with seeds seedBase+i. */
async function joins(count: number, parallel: number, loss: number, seedBase: number): Promise<JoinResult[]> {
  const results: JoinResult[] = [];
  for (let i = 0; i < count; i += parallel) {
    const batch: Promise<JoinResult>[] = [];
    for (let j = i; j < Math.min(count, i + parallel); j++) {
      batch.push(join({ lossToOfferer: loss, lossToAnswerer: loss, seed: seedBase + j }));
    }
    results.push(...(await Promise.all(batch)));
  }
  return results;
}

/** A drop rule that loses the first `times` datagrams in `direction` matching `match`. */
function loseFirst(direction: "toOfferer" | "toAnswerer", match: (msg: Buffer) => boolean, times = 1): LossyUdpProxyOptions["drop"] {
  let left = times;
  return (dir, msg) => {
    if (dir !== direction || left === 0 || !match(msg)) return false;
    left--;
    return true;
  };
}

const hasHandshake = (type: number) => (msg: Buffer) => dtlsRecords(msg).some((r) => r.handshakeType === type);
/** ChangeCipherSpec or the encrypted (epoch 1) Finished: the final flight's datagrams. */
const isFinalFlight = (msg: Buffer) => dtlsRecords(msg).some((r) => r.contentType === 20 || (r.contentType === 22 && r.epoch === 1));

/** Nearest-rank percentile (p in 0..100) of a non-empty list. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1]!;
}

function summary(label: string, rs: JoinResult[]): string {
  const ms = rs.filter((r) => r.connected).map((r) => r.joinMs);
  const retx = rs.reduce((a, r) => a + r.dtlsRetransmitsToTeacher + r.dtlsRetransmitsToStudent, 0);
  const datagrams = rs.reduce((a, r) => a + r.dtlsHandshakeDatagrams, 0);
  const failed = rs.filter((r) => !r.connected).map((r) => `seed ${r.seed} ${r.teacherState}/${r.studentState}`);
  return (
    `${label}: connected ${ms.length}/${rs.length}` +
    (ms.length ? `, join p50 ${percentile(ms, 50).toFixed(0)} ms p95 ${percentile(ms, 95).toFixed(0)} ms max ${Math.max(...ms).toFixed(0)} ms` : "") +
    `, DTLS handshake datagrams ${datagrams} of which retransmitted ${retx} (${(retx / rs.length).toFixed(1)}/join)` +
    (failed.length ? `; not connected (teacher/student): ${failed.join(", ")}` : "")
  );
}

describe("DTLS join over a lossy link (RFC 6347 §4.2.4 retransmission)", () => {
  it("a clean (0 % loss) join connects quickly and barely retransmits", async () => {
    const rs = await joins(10, 1, 0, 1000);
    console.log(summary("0 % loss", rs));
    expect(rs.every((r) => r.connected)).toBe(true);
    // At most a stray early ClientHello (sent before the teacher's DTLS server existed) is resent.
    expect(rs.every((r) => r.dtlsRetransmitsToTeacher + r.dtlsRetransmitsToStudent <= 2)).toBe(true);
    // Unpatched werift measured p50 ≈ 160–180 ms here (it slept a fixed 100 ms); loose bound.
    expect(percentile(rs.map((r) => r.joinMs), 50)).toBeLessThan(400);
  });

  const targeted: { what: string; drop: LossyUdpProxyOptions["drop"]; resentBy: "teacher" | "student" | "both" }[] = [
    { what: "the first ClientHello (flight 1), twice", drop: loseFirst("toOfferer", hasHandshake(1), 2), resentBy: "student" },
    { what: "the server's flight 4 (ServerHello … CertificateRequest … ServerHelloDone)", drop: loseFirst("toAnswerer", hasHandshake(13)), resentBy: "teacher" },
    { what: "the client's flight 5 (Certificate … Finished)", drop: loseFirst("toOfferer", hasHandshake(11)), resentBy: "student" },
    { what: "the server's final flight 6 (ChangeCipherSpec + Finished), twice", drop: loseFirst("toAnswerer", isFinalFlight, 2), resentBy: "both" },
  ];
  for (const t of targeted) {
    it(`recovers when ${t.what} is lost`, async () => {
      const r = await join({ lossToOfferer: 0, lossToAnswerer: 0, seed: 1, drop: t.drop });
      console.log(`lost ${t.what}: ${r.connected ? "connected" : "NOT connected"} in ${r.joinMs.toFixed(0)} ms, retransmitted by student ${r.dtlsRetransmitsToTeacher}, by teacher ${r.dtlsRetransmitsToStudent}`);
      expect(r.connected).toBe(true);
      expect(r.dropped).toBeGreaterThan(0);
      if (t.resentBy !== "teacher") expect(r.dtlsRetransmitsToTeacher).toBeGreaterThan(0);
      if (t.resentBy !== "student") expect(r.dtlsRetransmitsToStudent).toBeGreaterThan(0);
      // A lost flight costs one or two retransmission timeouts (100–300 ms), not seconds.
      expect(r.joinMs).toBeLessThan(1500);
    });
  }

  it("20 joins with 30 % loss both ways all connect within 10 s each", async () => {
    const rs = await joins(20, 4, 0.3, 2000);
    console.log(summary("30 % loss", rs));
    expect(rs.filter((r) => !r.connected).map((r) => `seed ${r.seed} ${r.teacherState}/${r.studentState}`)).toEqual([]);
    expect(Math.max(...rs.map((r) => r.joinMs))).toBeLessThan(JOIN_TIMEOUT_MS);
    // The loss really hit the handshake and was repaired by retransmission.
    expect(rs.reduce((a, r) => a + r.dropped, 0)).toBeGreaterThan(0);
    expect(rs.reduce((a, r) => a + r.dtlsRetransmitsToTeacher + r.dtlsRetransmitsToStudent, 0)).toBeGreaterThan(0);
  });
});
