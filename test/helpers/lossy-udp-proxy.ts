// A tiny seeded lossy UDP relay for tests: it stands between one offerer and one answerer on
// loopback and drops datagrams in each direction with a fixed probability, from the very first
// packet (STUN checks included). Both SDPs are rewritten so each side only knows the relay's ports
// (rewriting only the offer is not enough: the direct pair wins, see WERIFT.md).
//
//   answerer ──▶ offererPort  ──(drop? lossToOfferer)──▶ offerer   (sent from answererPort)
//   offerer  ──▶ answererPort ──(drop? lossToAnswerer)─▶ answerer  (sent from offererPort)
//
// A `drop` rule can replace the random loss (e.g. "lose the first server Finished"), and `trace`
// records each STUN / DTLS handshake datagram with its fate, for diagnosing a slow join.
//
// It also counts DTLS handshake datagrams (RFC 7983 demux: first byte 20..63; content types
// change_cipher_spec 20 / alert 21 / handshake 22) and how many of them repeat an earlier datagram
// byte for byte: werift resends a flight's exact buffers, so a repeat is a retransmission (counted
// on the wire, before the drop decision, so lost retransmissions count too).
import dgram from "node:dgram";
import type { AddressInfo } from "node:net";
import { childRandom, type Random } from "../../src/random.js";
import { mapCandidates } from "../../src/webrtc/sdp.js";

export type LossyUdpProxyOptions = {
  /** Drop probability 0..1 for datagrams the answerer sends to the offerer. */
  lossToOfferer: number;
  /** Drop probability 0..1 for datagrams the offerer sends to the answerer. */
  lossToAnswerer: number;
  seed: number;
  /** When given, one line per STUN / DTLS handshake datagram (time, direction, types, fate). */
  trace?: string[];
  /** When given, decides for each datagram instead of the random loss (true = drop). */
  drop?: (direction: "toOfferer" | "toAnswerer", msg: Buffer) => boolean;
};

export type DirectionStats = {
  forwarded: number;
  dropped: number;
  /** DTLS handshake-phase datagrams seen (sent by the peer, before the drop decision). */
  dtlsHandshake: number;
  /** Of those, byte-identical repeats of an earlier one: retransmissions. */
  dtlsRetransmits: number;
};

type Endpoint = { address: string; port: number };

const LOOPBACK = "127.0.0.1";

class Direction {
  readonly stats: DirectionStats = { forwarded: 0, dropped: 0, dtlsHandshake: 0, dtlsRetransmits: 0 };
  private readonly seen = new Set<string>();
  constructor(
    private readonly name: "toOfferer" | "toAnswerer",
    private readonly loss: number,
    private readonly rule: LossyUdpProxyOptions["drop"],
    private readonly random: Random,
    private readonly out: dgram.Socket,
    private readonly trace: string[] | undefined,
    private readonly t0: number,
  ) {}

  pass(msg: Buffer, to: Endpoint | null): void {
    const first = msg[0] ?? 0;
    const dtlsHandshake = first >= 20 && first <= 22;
    if (dtlsHandshake) {
      this.stats.dtlsHandshake++;
      const key = msg.toString("base64");
      if (this.seen.has(key)) this.stats.dtlsRetransmits++;
      else this.seen.add(key);
    }
    if (!to) return;
    const drop = this.rule ? this.rule(this.name, msg) : this.loss > 0 && this.random() < this.loss;
    if (this.trace && (first <= 3 || dtlsHandshake)) {
      const what = first <= 3 ? `stun 0x${msg.readUInt16BE(0).toString(16)}` : `${describeRecords(msg)} (${msg.length} B)`;
      this.trace.push(`${String(Date.now() - this.t0).padStart(5)} ms ${this.name.padEnd(10)} ${what}${drop ? " DROPPED" : ""}`);
    }
    if (drop) {
      this.stats.dropped++;
      return;
    }
    this.stats.forwarded++;
    this.out.send(msg, to.port, to.address);
  }
}

export type DtlsRecordInfo = {
  /** 20 change_cipher_spec, 21 alert, 22 handshake, 23 application_data. */
  contentType: number;
  epoch: number;
  /** Handshake msg_type (1 ClientHello, 3 HelloVerifyRequest, 2 ServerHello, 11 Certificate,
   * 12 ServerKeyExchange, 13 CertificateRequest, 14 ServerHelloDone, 15 CertificateVerify,
   * 16 ClientKeyExchange) when the record is a plaintext handshake; null otherwise (e.g. Finished
   * is encrypted under epoch 1). */
  handshakeType: number | null;
};

/** The DTLS records in one datagram (RFC 6347 §4.1 record header: 13 bytes). */
export function dtlsRecords(msg: Buffer): DtlsRecordInfo[] {
  const out: DtlsRecordInfo[] = [];
  for (let at = 0; at + 13 <= msg.length; ) {
    const contentType = msg[at]!;
    const epoch = msg.readUInt16BE(at + 3);
    const length = msg.readUInt16BE(at + 11);
    const plainHandshake = contentType === 22 && epoch === 0 && at + 13 < msg.length;
    out.push({ contentType, epoch, handshakeType: plainHandshake ? msg[at + 13]! : null });
    at += 13 + length;
  }
  return out;
}

/** "hs:1", "ccs(e0)", "hs(e1)" per record, for traces. */
function describeRecords(msg: Buffer): string {
  return dtlsRecords(msg)
    .map((r) => {
      const name = r.contentType === 20 ? "ccs" : r.contentType === 21 ? "alert" : r.contentType === 22 ? "hs" : `t${r.contentType}`;
      return r.handshakeType !== null ? `${name}:${r.handshakeType}` : `${name}(e${r.epoch})`;
    })
    .join(" ");
}

export class LossyUdpProxy {
  private offerer: Endpoint | null = null;
  private answerer: Endpoint | null = null;
  private readonly toOfferer: Direction;
  private readonly toAnswerer: Direction;

  private constructor(
    private readonly offererSide: dgram.Socket,
    private readonly answererSide: dgram.Socket,
    options: LossyUdpProxyOptions,
  ) {
    const random = childRandom(options.seed, "lossy-udp-proxy");
    const t0 = Date.now();
    this.toOfferer = new Direction("toOfferer", options.lossToOfferer, options.drop, random, answererSide, options.trace, t0);
    this.toAnswerer = new Direction("toAnswerer", options.lossToAnswerer, options.drop, random, offererSide, options.trace, t0);
    offererSide.on("message", (msg, rinfo) => {
      this.answerer ??= { address: rinfo.address, port: rinfo.port };
      this.toOfferer.pass(msg, this.offerer);
    });
    answererSide.on("message", (msg) => this.toAnswerer.pass(msg, this.answerer));
  }

  static async create(options: LossyUdpProxyOptions): Promise<LossyUdpProxy> {
    const bind = (): Promise<dgram.Socket> =>
      new Promise((resolve, reject) => {
        const s = dgram.createSocket("udp4");
        s.once("error", reject);
        s.bind(0, LOOPBACK, () => resolve(s));
      });
    return new LossyUdpProxy(await bind(), await bind(), options);
  }

  /** Port that stands in for the offerer (advertised to the answerer). */
  get offererPort(): number {
    return (this.offererSide.address() as AddressInfo).port;
  }

  /** Port that stands in for the answerer (advertised to the offerer). */
  get answererPort(): number {
    return (this.answererSide.address() as AddressInfo).port;
  }

  /** Keep the offer's first loopback UDP candidate, pointed at the relay; drop the rest. */
  rewriteOffer(sdp: string): string {
    return this.rewrite(sdp, this.offererPort, (e) => (this.offerer = e));
  }

  /** Keep the answer's first loopback UDP candidate, pointed at the relay; drop the rest. */
  rewriteAnswer(sdp: string): string {
    return this.rewrite(sdp, this.answererPort, (e) => (this.answerer = e));
  }

  get stats(): { toOfferer: DirectionStats; toAnswerer: DirectionStats } {
    return { toOfferer: { ...this.toOfferer.stats }, toAnswerer: { ...this.toAnswerer.stats } };
  }

  close(): void {
    this.offererSide.close();
    this.answererSide.close();
  }

  private rewrite(sdp: string, port: number, learn: (e: Endpoint) => void): string {
    let taken = false;
    const out = mapCandidates(sdp, (address, realPort) => {
      if (taken || !address.startsWith("127.")) return null;
      taken = true;
      learn({ address, port: realPort });
      return { address: LOOPBACK, port };
    });
    if (!taken) throw new Error("lossy-udp-proxy: no loopback candidate in SDP");
    return out;
  }
}
