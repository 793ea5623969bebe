// The relay backend's SDP hook on real werift SDPs (captured from werift 0.24.4, max-bundle, loopback
// config): both candidates sets point at the relay, the real ports become the relay's targets.
import { afterEach, describe, expect, it } from "vitest";
import { parseCandidateLine } from "../../src/webrtc/sdp.js";
import { loopbackEndpoint, RelayBackend, rewriteCandidates } from "../../src/netem/relay-backend.js";

// The teacher's offer: one bundled port (35458) listed once per m-line, plus werift's second host
// candidate on a non-loopback interface.
const OFFER = [
  "v=0",
  "o=- 12121792 0 IN IP4 0.0.0.0",
  "s=-",
  "t=0 0",
  "a=group:BUNDLE 0 1",
  "a=extmap-allow-mixed",
  "a=msid-semantic:WMS *",
  "m=video 9 UDP/TLS/RTP/SAVPF 98",
  "c=IN IP4 0.0.0.0",
  "a=candidate:626da4e5384a0ce2d0d93678a 1 udp 2116026367 127.0.0.1 35458 typ host generation 0 ufrag 1650",
  "a=candidate:32b1715da3b0ef8ba684454eb 1 udp 2116026367 192.0.2.2 33253 typ host generation 0 ufrag 1650",
  "a=end-of-candidates",
  "a=ice-ufrag:1650",
  "a=ice-pwd:4d486ef9a3ec6d7ba03f12",
  "a=ice-options:trickle",
  "a=fingerprint:sha-256 A8:29:4A:4B:BC:6D:CA:64:C2:60:1D:B8:3E:42:F0:38:2D:AF:48:FF:5A:A8:58:E0:3B:42:22:18:93:6B:C9:5F",
  "a=setup:actpass",
  "a=sendonly",
  "a=mid:0",
  "a=rtcp:9 IN IP4 0.0.0.0",
  "a=rtcp-mux",
  "a=ssrc:2391326538 cname:a23e52c6-eae5-4b20-b134-a89f0d0f0f79",
  "a=rtpmap:98 VP8/90000",
  "a=rtcp-fb:98 nack",
  "a=rtcp-fb:98 nack pli",
  "a=rtcp-fb:98 goog-remb",
  "m=audio 9 UDP/TLS/RTP/SAVPF 96 0",
  "c=IN IP4 0.0.0.0",
  "a=candidate:626da4e5384a0ce2d0d93678a 1 udp 2116026367 127.0.0.1 35458 typ host generation 0 ufrag 1650",
  "a=candidate:32b1715da3b0ef8ba684454eb 1 udp 2116026367 192.0.2.2 33253 typ host generation 0 ufrag 1650",
  "a=end-of-candidates",
  "a=ice-ufrag:1650",
  "a=ice-pwd:4d486ef9a3ec6d7ba03f12",
  "a=ice-options:trickle",
  "a=fingerprint:sha-256 A8:29:4A:4B:BC:6D:CA:64:C2:60:1D:B8:3E:42:F0:38:2D:AF:48:FF:5A:A8:58:E0:3B:42:22:18:93:6B:C9:5F",
  "a=setup:actpass",
  "a=sendonly",
  "a=mid:1",
  "a=rtcp:9 IN IP4 0.0.0.0",
  "a=rtcp-mux",
  "a=ssrc:3398793768 cname:a23e52c6-eae5-4b20-b134-a89f0d0f0f79",
  "a=rtpmap:96 OPUS/48000/2",
  "a=rtpmap:0 PCMU/8000",
  "",
].join("\r\n");

const ANSWER = [
  "v=0",
  "o=- 12755490 0 IN IP4 0.0.0.0",
  "s=-",
  "t=0 0",
  "a=group:BUNDLE 0 1",
  "a=extmap-allow-mixed",
  "a=msid-semantic:WMS *",
  "m=video 9 UDP/TLS/RTP/SAVPF 98",
  "c=IN IP4 0.0.0.0",
  "a=candidate:626da4e5384a0ce2d0d93678a 1 udp 2116026367 127.0.0.1 33702 typ host generation 0 ufrag 7b08",
  "a=candidate:32b1715da3b0ef8ba684454eb 1 udp 2116026367 192.0.2.2 32873 typ host generation 0 ufrag 7b08",
  "a=end-of-candidates",
  "a=ice-ufrag:7b08",
  "a=ice-pwd:a30839847da2f7b77322e9",
  "a=ice-options:trickle",
  "a=fingerprint:sha-256 A8:29:4A:4B:BC:6D:CA:64:C2:60:1D:B8:3E:42:F0:38:2D:AF:48:FF:5A:A8:58:E0:3B:42:22:18:93:6B:C9:5F",
  "a=setup:active",
  "a=recvonly",
  "a=mid:0",
  "a=rtcp:9 IN IP4 0.0.0.0",
  "a=rtcp-mux",
  "a=ssrc:2476747154 cname:c592101d-8653-4cf0-a5b4-45530c47560a",
  "a=rtpmap:98 VP8/90000",
  "a=rtcp-fb:98 nack",
  "a=rtcp-fb:98 nack pli",
  "a=rtcp-fb:98 goog-remb",
  "m=audio 9 UDP/TLS/RTP/SAVPF 96 0",
  "c=IN IP4 0.0.0.0",
  "a=candidate:626da4e5384a0ce2d0d93678a 1 udp 2116026367 127.0.0.1 33702 typ host generation 0 ufrag 7b08",
  "a=candidate:32b1715da3b0ef8ba684454eb 1 udp 2116026367 192.0.2.2 32873 typ host generation 0 ufrag 7b08",
  "a=end-of-candidates",
  "a=ice-ufrag:7b08",
  "a=ice-pwd:a30839847da2f7b77322e9",
  "a=ice-options:trickle",
  "a=fingerprint:sha-256 A8:29:4A:4B:BC:6D:CA:64:C2:60:1D:B8:3E:42:F0:38:2D:AF:48:FF:5A:A8:58:E0:3B:42:22:18:93:6B:C9:5F",
  "a=setup:active",
  "a=recvonly",
  "a=mid:1",
  "a=rtcp:9 IN IP4 0.0.0.0",
  "a=rtcp-mux",
  "a=ssrc:1822245737 cname:c592101d-8653-4cf0-a5b4-45530c47560a",
  "a=rtpmap:96 OPUS/48000/2",
  "a=rtpmap:0 PCMU/8000",
  "",
].join("\r\n");

function candidates(sdp: string) {
  return sdp
    .split("\r\n")
    .filter((l) => l.startsWith("a=candidate:"))
    .map((l) => parseCandidateLine(l)!);
}

describe("SDP candidate rewriting", () => {
  it("finds the real loopback endpoint of each side", () => {
    expect(loopbackEndpoint(OFFER)).toEqual({ address: "127.0.0.1", port: 35458 });
    expect(loopbackEndpoint(ANSWER)).toEqual({ address: "127.0.0.1", port: 33702 });
    expect(loopbackEndpoint("v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 98\r\n")).toBeNull();
  });

  it("maps every loopback candidate (one per m-line) to the relay and drops the others; nothing else changes", () => {
    const out = rewriteCandidates(OFFER, { address: "127.0.0.1", port: 40000 });
    const c = candidates(out);
    expect(c).toHaveLength(2);
    for (const x of c) expect(x).toMatchObject({ address: "127.0.0.1", port: 40000, transport: "udp", type: "host", foundation: "626da4e5384a0ce2d0d93678a" });
    expect(out).toContain("a=candidate:626da4e5384a0ce2d0d93678a 1 udp 2116026367 127.0.0.1 40000 typ host generation 0 ufrag 1650\r\n");
    expect(out).not.toContain("192.0.2.2");
    expect(out).not.toContain("35458");
    // every non-candidate line survives, in order, with CRLF endings
    const keep = (s: string) => s.split("\r\n").filter((l) => !l.startsWith("a=candidate:"));
    expect(keep(out)).toEqual(keep(OFFER));
  });

  it("drops TCP candidates even on loopback", () => {
    const sdp = OFFER.replace("a=end-of-candidates", "a=candidate:9 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active\r\na=end-of-candidates");
    expect(candidates(rewriteCandidates(sdp, { address: "127.0.0.1", port: 1 })).every((c) => c.transport === "udp")).toBe(true);
  });
});

describe("RelayBackend.rewriteSdp", () => {
  let backend: RelayBackend | null = null;
  afterEach(async () => {
    await backend?.close();
    backend = null;
  });

  it("offer → student-facing port, answer → teacher-facing port, targets = the real ports; one relay per link", async () => {
    backend = new RelayBackend({ seed: 1 });
    const ctx = { room: "class-a", student: "s1" };
    const offer = await backend.rewriteSdp({ ...ctx, direction: "offer" }, OFFER);
    const answer = await backend.rewriteSdp({ ...ctx, direction: "answer" }, ANSWER);
    const relay = (await backend.get("class-a", "s1"))!;
    expect(relay).toBeDefined();
    expect(candidates(offer).map((c) => c.port)).toEqual([relay.studentFacingPort, relay.studentFacingPort]);
    expect(candidates(answer).map((c) => c.port)).toEqual([relay.teacherFacingPort, relay.teacherFacingPort]);
    expect(relay.teacherFacingPort).not.toBe(relay.studentFacingPort);
    expect(relay.targets()).toEqual({ teacher: { address: "127.0.0.1", port: 35458 }, student: { address: "127.0.0.1", port: 33702 } });
    // another student gets its own relay
    await backend.rewriteSdp({ room: "class-a", student: "s2", direction: "offer" }, OFFER);
    const other = (await backend.get("class-a", "s2"))!;
    expect(other).not.toBe(relay);
    expect(other.studentFacingPort).not.toBe(relay.studentFacingPort);
  });

  it("rejects an SDP without a loopback UDP candidate", async () => {
    backend = new RelayBackend({ seed: 1 });
    const noLoopback = OFFER.split("\r\n").filter((l) => !l.includes("127.0.0.1")).join("\r\n");
    await expect(backend.rewriteSdp({ room: "r", student: "s", direction: "offer" }, noLoopback)).rejects.toThrow(/no loopback UDP candidate/);
  });
});
