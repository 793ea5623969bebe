// A tiny seeded lossy UDP relay for tests: it stands between one offerer and one answerer on
// loopback and drops datagrams in each direction with a fixed probability, from the very first
// packet (STUN checks included). Both SDPs are rewritten so each side only knows the relay's ports
// (rewriting only the offer is not enough: the direct pair wins, see WERIFT.md).
//
//   answerer ──▶ offererPort  ──(drop? lossToOfferer)──▶ offerer   (sent from answererPort)
//   offerer  ──▶ answererPort ──(drop? lossToAnswerer)─▶ answerer  (sent from offererPort)
//
// It also counts DTLS handshake datagrams (RFC 7983 demux: first byte 20..63; content types
// change_cipher_spec 20 / alert 21 / handshake 22) and how many of them repeat an earlier datagram
// byte for byte: werift resends a flight's exact buffers, so a repeat is a retransmission (counted
// on the wire, before the drop decision, so lost retransmissions count too).
import dgram from "node:dgram";
import type { AddressInfo } from "node:net";
import { seededRandom, type Random } from "../../src/random.js";
import { mapCandidates } from "../../src/webrtc/sdp.js";

export type LossyUdpProxyOptions = {
  /** Drop probability 0..1 for datagrams the answerer sends to the offerer. */
  lossToOfferer: number;
  /** Drop probability 0..1 for datagrams the offerer sends to the answerer. */
  lossToAnswerer: number;
  seed: number;
  /** When given, one line per DTLS handshake datagram (time, direction, record types, fate). */
  trace?: string[];
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
    private readonly name: string,
    private readonly loss: number,
    private readonly random: Random,
    private readonly out: dgram.Socket,
    private readonly trace: string[] | undefined,
    private readonly t0: number,
  ) {}

  pass(msg: Buffer, to: Endpoint | null): void {
    const first = msg[0] ?? 0;
    if (first >= 20 && first <= 22) {
      this.stats.dtlsHandshake++;
      const key = msg.toString("base64");
      if (this.seen.has(key)) this.stats.dtlsRetransmits++;
      else this.seen.add(key);
    }
    if (!to) return;
    const drop = this.loss > 0 && this.random() < this.loss;
    if (this.trace && first <= 3) this.trace.push(`${(Date.now() - this.t0).toString().padStart(5)} ms ${this.name} stun 0x${msg.readUInt16BE(0).toString(16)}${drop ? " DROPPED" : ""}`);
    if (this.trace && first >= 20 && first <= 22) this.trace.push(`${(Date.now() - this.t0).toString().padStart(5)} ms ${this.name} ${describeRecords(msg)}${drop ? " DROPPED" : ""}`);
    if (drop) {
      this.stats.dropped++;
      return;
    }
    this.stats.forwarded++;
    this.out.send(msg, to.port, to.address);
  }
}

/** "hs:1 ccs hs(e1)" — record content types, handshake msg_type when in the clear (RFC 6347 §4.1/§4.2.2). */
function describeRecords(msg: Buffer): string {
  const parts: string[] = [];
  for (let at = 0; at + 13 <= msg.length; ) {
    const type = msg[at]!;
    const epoch = msg.readUInt16BE(at + 3);
    const length = msg.readUInt16BE(at + 11);
    const name = type === 20 ? "ccs" : type === 21 ? "alert" : type === 22 ? "hs" : `t${type}`;
    parts.push(type === 22 && epoch === 0 && at + 13 < msg.length ? `${name}:${msg[at + 13]}` : `${name}(e${epoch})`);
    at += 13 + length;
  }
  return parts.join(" ");
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
    const random = seededRandom(options.seed);
    const t0 = Date.now();
    this.toOfferer = new Direction("→offerer ", options.lossToOfferer, random, answererSide, options.trace, t0);
    this.toAnswerer = new Direction("→answerer", options.lossToAnswerer, random, offererSide, options.trace, t0);
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
