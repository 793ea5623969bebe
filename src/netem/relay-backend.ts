// The relay netem backend: one `UdpRelay` per student link, created on demand, and the SDP hook
// that puts each relay in its student's media path (both ways). The room server stays a plain room
// server: the runner passes `backend.rewriteSdp` as its SDP rewriter.
//
// Rewrite rules (ICE candidates, RFC 8839 §5.1; helpers from src/webrtc/sdp.ts):
//  - offer (teacher → student): the teacher's loopback UDP candidates are its real address: the
//    relay sends the up direction there. Every such candidate (werift repeats the one bundled port
//    once per m-line) is rewritten to the relay's student-facing port, so the student sends to the
//    relay.
//  - answer (student → teacher): the student's loopback UDP candidates give its real address (down
//    direction target) and are rewritten to the relay's teacher-facing port.
//  - Other candidates (non-loopback, TCP) are dropped: a direct pair must not win (WERIFT.md:
//    rewriting only the offer was not enough). Both rewritten sides agree on one port per peer.
import { systemClock, type Clock } from "../clock.js";
import { childRandom } from "../random.js";
import { mapCandidates, parseCandidateLine } from "../webrtc/sdp.js";
import type { LinkParams } from "./params.js";
import type { LinkProfile } from "./profile-loader.js";
import { driveTimeline, LinkTimeline, type TimelineEvent } from "./timeline.js";
import { UdpRelay, type Endpoint } from "./relay.js";

export interface SdpRewriteContext {
  room: string;
  student: string;
  /** "offer" = teacher→student SDP, "answer" = student→teacher SDP. */
  direction: "offer" | "answer";
}

export interface RelayBackendOptions {
  /** Scenario seed: each link's engines get independent streams derived from it and the link id. */
  seed: number;
  clock?: Clock;
  host?: string;
  /** Parameters a new relay starts with (default: clean both ways). */
  initialParams?: (room: string, student: string) => { down?: LinkParams; up?: LinkParams };
  /** Called once per relay, right after it is created (e.g. to start a profile on it). */
  onRelay?: (link: { room: string; student: string }, relay: UdpRelay) => void;
  /** Passed to each UdpRelay (see UdpRelayOptions.headerBytes). */
  headerBytes?: number;
}

const isLoopback = (address: string): boolean => address.startsWith("127.") || address === "::1" || address === "localhost";

/** The real endpoint (first loopback UDP candidate) of one SDP, or null. */
export function loopbackEndpoint(sdp: string): Endpoint | null {
  for (const line of sdp.split(/\r?\n/)) {
    if (!line.startsWith("a=candidate:")) continue;
    const c = parseCandidateLine(line);
    if (c && c.transport === "udp" && isLoopback(c.address)) return { address: c.address, port: c.port };
  }
  return null;
}

/** Point every loopback UDP candidate at `to`, drop every other candidate (non-loopback, TCP). */
export function rewriteCandidates(sdp: string, to: Endpoint): string {
  const eol = sdp.includes("\r\n") ? "\r\n" : "\n";
  const udpOnly = sdp
    .split(/\r?\n/)
    .filter((line) => !line.startsWith("a=candidate:") || parseCandidateLine(line)?.transport === "udp")
    .join(eol);
  return mapCandidates(udpOnly, (address) => (isLoopback(address) ? { address: to.address, port: to.port } : null));
}

export class RelayBackend {
  private readonly relays = new Map<string, Promise<UdpRelay>>();
  private readonly timelines = new Map<string, { stop(): void }>();
  private closed = false;

  constructor(private readonly opts: RelayBackendOptions) {}

  /** The relay of a link, created (sockets bound) on first use. */
  relayFor(room: string, student: string): Promise<UdpRelay> {
    if (this.closed) return Promise.reject(new Error("relay backend is closed"));
    const key = linkKey(room, student);
    let p = this.relays.get(key);
    if (!p) {
      const init = this.opts.initialParams?.(room, student) ?? {};
      p = UdpRelay.open({
        random: { down: childRandom(this.opts.seed, `${key}/down`), up: childRandom(this.opts.seed, `${key}/up`) },
        ...(this.opts.clock ? { clock: this.opts.clock } : {}),
        ...(this.opts.host ? { host: this.opts.host } : {}),
        ...(this.opts.headerBytes !== undefined ? { headerBytes: this.opts.headerBytes } : {}),
        ...(init.down ? { down: init.down } : {}),
        ...(init.up ? { up: init.up } : {}),
      }).then((relay) => {
        this.opts.onRelay?.({ room, student }, relay);
        return relay;
      });
      this.relays.set(key, p);
      p.catch(() => this.relays.delete(key));
    }
    return p;
  }

  /** An existing relay (undefined before the link's first SDP or after release). */
  async get(room: string, student: string): Promise<UdpRelay | undefined> {
    return this.relays.get(linkKey(room, student));
  }

  /**
   * The room server's SDP hook. Bound, so it can be passed as `rewriteSdp: backend.rewriteSdp`.
   * Throws (the server reports `sdp-rewrite-failed`) when the SDP has no loopback UDP candidate.
   */
  readonly rewriteSdp = async (ctx: SdpRewriteContext, sdp: string): Promise<string> => {
    const real = loopbackEndpoint(sdp);
    if (!real) throw new Error(`netem relay: ${ctx.direction} for ${ctx.room}/${ctx.student} has no loopback UDP candidate to relay`);
    const relay = await this.relayFor(ctx.room, ctx.student);
    if (ctx.direction === "offer") {
      relay.setTargets({ teacher: real });
      return rewriteCandidates(sdp, { address: relay.host, port: relay.studentFacingPort });
    }
    relay.setTargets({ student: real });
    return rewriteCandidates(sdp, { address: relay.host, port: relay.teacherFacingPort });
  };

  /**
   * Run a profile on a link's relay from now on (creating the relay if needed); every applied
   * step is reported through `onEvent`. Replaces a profile already running on that link.
   */
  async applyProfile(
    room: string,
    student: string,
    profile: LinkProfile,
    onEvent?: (e: TimelineEvent) => void,
    originMs?: number,
  ): Promise<{ stop(): void }> {
    const relay = await this.relayFor(room, student);
    const key = linkKey(room, student);
    this.timelines.get(key)?.stop();
    const clock = this.opts.clock ?? systemClock;
    const handle = driveTimeline(new LinkTimeline(profile, relay, onEvent), clock, undefined, originMs);
    this.timelines.set(key, handle);
    return handle;
  }

  /** Close one link's relay (e.g. the student left). */
  async release(room: string, student: string): Promise<void> {
    const key = linkKey(room, student);
    this.timelines.get(key)?.stop();
    this.timelines.delete(key);
    const p = this.relays.get(key);
    this.relays.delete(key);
    if (p) await (await p).close();
  }

  /** Close every relay. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timelines.values()) t.stop();
    this.timelines.clear();
    const all = [...this.relays.values()];
    this.relays.clear();
    await Promise.all(all.map(async (p) => (await p.catch(() => null))?.close()));
  }
}

function linkKey(room: string, student: string): string {
  return `${room}/${student}`;
}
