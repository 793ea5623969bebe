import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { filterCandidates, mapCandidates, parseCandidateLine, parseExtmap } from "../../src/webrtc/sdp.js";
import { werift } from "../../src/webrtc/werift.js";
import { isLoopbackHost, loopbackIceConfig } from "../../src/webrtc/loopback.js";
import { ABS_CAPTURE_TIME_URI, FRAME_ID_URI } from "../../src/media/rtp/header-extensions.js";

const CRLF = "\r\n";

// A hand-written offer: session-level extmap, two media sections with candidates of several kinds.
const HAND = [
  "v=0",
  "o=- 1 0 IN IP4 0.0.0.0",
  "s=-",
  "t=0 0",
  "a=extmap:9 urn:ietf:params:rtp-hdrext:sdes:mid",
  "m=video 9 UDP/TLS/RTP/SAVPF 96",
  "c=IN IP4 0.0.0.0",
  "a=candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host generation 0",
  "a=candidate:2 1 UDP 2130706175 192.168.1.20 50001 typ host",
  "a=candidate:3 1 udp 1694498815 203.0.113.7 61000 typ srflx raddr 192.168.1.20 rport 50001",
  "a=candidate:4 1 tcp 1518280447 127.0.0.1 9 typ host tcptype active",
  "a=candidate:broken line",
  "a=extmap:3/sendonly http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time",
  "a=extmap:5 urn:proctor:rtp-hdrext:frame-id",
  "a=mid:0",
  "m=audio 9 UDP/TLS/RTP/SAVPF 111",
  "a=candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host generation 0",
  "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level vad=on",
  "a=extmap:5 urn:proctor:rtp-hdrext:frame-id",
  "a=extmap:7 urn:ietf:params:rtp-hdrext:sdes:mid",
  "a=mid:1",
  "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
  "a=extmap:12 urn:not:for:media",
  "",
];

describe("parseCandidateLine (RFC 8839 §5.1)", () => {
  it("reads host, srflx and tcp candidates", () => {
    expect(parseCandidateLine("a=candidate:1 1 udp 2130706431 127.0.0.1 50000 typ host generation 0")).toEqual({
      foundation: "1",
      component: 1,
      transport: "udp",
      address: "127.0.0.1",
      port: 50000,
      type: "host",
    });
    expect(parseCandidateLine("candidate:3 2 UDP 1694498815 203.0.113.7 61000 typ srflx raddr 192.168.1.20 rport 50001")).toEqual({
      foundation: "3",
      component: 2,
      transport: "udp",
      address: "203.0.113.7",
      port: 61000,
      type: "srflx",
    });
    expect(parseCandidateLine("a=candidate:4 1 tcp 1518280447 ::1 9 typ host tcptype active")?.address).toBe("::1");
  });

  it.each([
    "a=candidate:broken line",
    "a=candidate:1 1 udp 2130706431 127.0.0.1 50000 host",
    "a=candidate:1 1 udp 2130706431 127.0.0.1 port typ host",
    "a=candidate:1 1 udp 2130706431 127.0.0.1 50000 type host",
  ])("rejects %j", (line) => {
    expect(parseCandidateLine(line)).toBeNull();
  });
});

describe("hand-written SDP", () => {
  it("filterCandidates drops non-loopback and malformed candidates, keeps every other line and CRLF", () => {
    const sdp = HAND.join(CRLF);
    const out = filterCandidates(sdp, (addr) => isLoopbackHost(addr));
    const dropped = new Set([HAND[8], HAND[9], HAND[11]]);
    expect(out).toBe(HAND.filter((l) => !dropped.has(l)).join(CRLF));
    expect(out.endsWith(CRLF)).toBe(true);
    expect(out.replace(/\r\n/g, "")).not.toMatch(/[\r\n]/);
  });

  it("filterCandidates keeps LF-only SDP on LF and passes the port to the predicate", () => {
    const sdp = HAND.join("\n");
    const seen: string[] = [];
    const out = filterCandidates(sdp, (addr, port) => {
      seen.push(`${addr}:${port}`);
      return port !== 50000;
    });
    expect(seen).toEqual(["127.0.0.1:50000", "192.168.1.20:50001", "203.0.113.7:61000", "127.0.0.1:9", "127.0.0.1:50000"]);
    expect(out).not.toContain("\r");
    expect(out.split("\n")).toHaveLength(HAND.length - 3); // two :50000 lines and the broken one
  });

  it("mapCandidates rewrites address and port only, drops unmapped ones", () => {
    const sdp = HAND.join(CRLF);
    const out = mapCandidates(sdp, (addr, port) => (addr === "127.0.0.1" ? { address: "127.0.0.2", port: port + 1 } : null));
    const lines = out.split(CRLF);
    expect(lines.filter((l) => l.startsWith("a=candidate:"))).toEqual([
      "a=candidate:1 1 udp 2130706431 127.0.0.2 50001 typ host generation 0",
      "a=candidate:4 1 tcp 1518280447 127.0.0.2 10 typ host tcptype active",
      "a=candidate:1 1 udp 2130706431 127.0.0.2 50001 typ host generation 0",
    ]);
    expect(lines.filter((l) => !l.startsWith("a=candidate:"))).toEqual(HAND.filter((l) => !l.startsWith("a=candidate:")));
    expect(out.endsWith(CRLF)).toBe(true);
  });

  it("parseExtmap keys ids by URI per kind, with directions, attributes and session-level entries", () => {
    const { audio, video } = parseExtmap(HAND.join(CRLF));
    expect(Object.fromEntries(video)).toEqual({
      [ABS_CAPTURE_TIME_URI]: 3,
      [FRAME_ID_URI]: 5,
      "urn:ietf:params:rtp-hdrext:sdes:mid": 9, // session level (RFC 8285 §5)
    });
    expect(Object.fromEntries(audio)).toEqual({
      "urn:ietf:params:rtp-hdrext:ssrc-audio-level": 1,
      [FRAME_ID_URI]: 5,
      "urn:ietf:params:rtp-hdrext:sdes:mid": 7, // media level overrides session level
    });
  });
});

describe("a real werift offer", () => {
  let sdp = "";
  let pc: InstanceType<typeof werift.RTCPeerConnection>;

  beforeAll(async () => {
    const exts = [
      new werift.RTCRtpHeaderExtensionParameters({ uri: ABS_CAPTURE_TIME_URI }),
      new werift.RTCRtpHeaderExtensionParameters({ uri: FRAME_ID_URI }),
    ];
    pc = new werift.RTCPeerConnection({ ...loopbackIceConfig(), headerExtensions: { video: exts, audio: exts } });
    pc.addTransceiver("video", { direction: "sendonly" });
    pc.addTransceiver("audio", { direction: "sendonly" });
    await pc.setLocalDescription(await pc.createOffer());
    sdp = pc.localDescription?.sdp ?? "";
  });

  afterAll(async () => {
    await pc?.close();
  });

  const candidates = () => sdp.split(CRLF).filter((l) => l.startsWith("a=candidate:"));

  it("is CRLF SDP with candidates that all parse", () => {
    expect(sdp.startsWith("v=0\r\n")).toBe(true);
    expect(sdp.replace(/\r\n/g, "")).not.toMatch(/[\r\n]/);
    expect(candidates().length).toBeGreaterThan(0);
    for (const line of candidates()) {
      const c = parseCandidateLine(line);
      expect(c, line).not.toBeNull();
      const parts = line.split(" ");
      expect(c!.address).toBe(parts[4]);
      expect(c!.port).toBe(Number(parts[5]));
      expect(c!.port).toBeGreaterThan(0);
      expect(c!.transport).toBe("udp");
      expect(c!.type).toBe("host");
    }
  });

  it("filterCandidates leaves only loopback candidates and changes nothing else", () => {
    const out = filterCandidates(sdp, (addr) => isLoopbackHost(addr));
    const kept = out.split(CRLF).filter((l) => l.startsWith("a=candidate:"));
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.every((l) => isLoopbackHost(parseCandidateLine(l)!.address))).toBe(true);
    expect(kept).toEqual(candidates().filter((l) => isLoopbackHost(parseCandidateLine(l)!.address)));
    const others = (s: string) => s.split(CRLF).filter((l) => !l.startsWith("a=candidate:"));
    expect(others(out)).toEqual(others(sdp));
    expect(out.endsWith(CRLF)).toBe(sdp.endsWith(CRLF));
    // Dropping nothing is the identity.
    expect(filterCandidates(sdp, () => true)).toBe(sdp);
  });

  it("mapCandidates to a fixed relay address rewrites every candidate", () => {
    const out = mapCandidates(sdp, () => ({ address: "127.0.0.9", port: 40000 }));
    const mapped = out.split(CRLF).filter((l) => l.startsWith("a=candidate:"));
    expect(mapped).toHaveLength(candidates().length);
    for (const [i, l] of mapped.entries()) {
      const before = candidates()[i]!.split(" ");
      const after = l.split(" ");
      expect([after[4], after[5]]).toEqual(["127.0.0.9", "40000"]);
      expect([...after.slice(0, 4), ...after.slice(6)]).toEqual([...before.slice(0, 4), ...before.slice(6)]);
    }
    expect(mapCandidates(sdp, (address, port) => ({ address, port }))).toBe(sdp);
  });

  it("parseExtmap finds both extensions in both sections, matching the a=extmap lines", () => {
    const { audio, video } = parseExtmap(sdp);
    for (const [kind, map] of [
      ["video", video],
      ["audio", audio],
    ] as const) {
      const section = sdp.split(/\r\nm=/).find((s) => s.startsWith(`${kind} `))!;
      expect(section).toBeDefined();
      for (const uri of [ABS_CAPTURE_TIME_URI, FRAME_ID_URI]) {
        const id = map.get(uri);
        expect(id, `${kind} ${uri}`).toBeGreaterThanOrEqual(1);
        expect(id).toBeLessThanOrEqual(14);
        expect(section).toMatch(new RegExp(`\\r\\na=extmap:${id}(/\\w+)? ${uri.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")}(\\r\\n|$)`));
      }
      expect(map.get(ABS_CAPTURE_TIME_URI)).not.toBe(map.get(FRAME_ID_URI));
    }
  });
});
