// Keep every peer connection on loopback. werift gathers host candidates on every non-internal
// interface and (unpatched) asks a public STUN server; a harness run must not send a single packet
// off the machine. So: sockets bound to 127.0.0.1, only loopback pairs checked, no STUN/TURN, IPv4
// only, and non-loopback candidates stripped from every SDP that crosses the room server.
import type { PeerConfig } from "werift";

const LOOPBACK_V4 = "127.0.0.1";

type CandidateLike = { host: string };

export function isLoopbackHost(host: string): boolean {
  return host === LOOPBACK_V4 || host.startsWith("127.") || host === "::1" || host === "localhost";
}

/** werift RTCPeerConnection options that confine ICE to loopback. */
export function loopbackIceConfig(): Partial<PeerConfig> {
  return {
    iceServers: [],
    iceUseIpv4: true,
    iceUseIpv6: false,
    iceAdditionalHostAddresses: [LOOPBACK_V4],
    iceInterfaceAddresses: { udp4: LOOPBACK_V4 },
    iceFilterCandidatePair: (pair: { localCandidate: CandidateLike; remoteCandidate: CandidateLike }) =>
      isLoopbackHost(pair.localCandidate.host) && isLoopbackHost(pair.remoteCandidate.host),
    bundlePolicy: "max-bundle",
  } as Partial<PeerConfig>;
}

/**
 * The same confinement for a peer that must use one explicit interface address (a student's veth
 * end in its own network namespace, or the host end facing it): sockets bound to `local`, only
 * pairs whose both ends are in `allowed` checked. Nothing else is widened.
 */
export function interfaceIceConfig(local: string, allowed: readonly string[]): Partial<PeerConfig> {
  const keep = allowedHost(allowed);
  return {
    ...loopbackIceConfig(),
    iceAdditionalHostAddresses: [local],
    iceInterfaceAddresses: { udp4: local },
    iceFilterCandidatePair: (pair: { localCandidate: CandidateLike; remoteCandidate: CandidateLike }) => keep(pair.localCandidate.host) && keep(pair.remoteCandidate.host),
  } as Partial<PeerConfig>;
}

/** A candidate-address filter: one of `allowed`, nothing else. */
export function allowedHost(allowed: readonly string[]): (host: string) => boolean {
  const set = new Set(allowed);
  return (host) => set.has(host);
}

/** An explicit ICE address set for one peer: bind `local`, accept candidates on `allowed`. */
export type IceAddresses = { local: string; allowed: readonly string[] };
