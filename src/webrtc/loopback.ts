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
