// Small SDP helpers (RFC 8866 line format): what the harness needs to read or rewrite, no more.

/** Drop `a=candidate` lines whose connection address fails `keep` (e.g. non-loopback). */
export function filterCandidates(sdp: string, keep: (address: string, port: number) => boolean): string {
  const eol = sdp.includes("\r\n") ? "\r\n" : "\n";
  return sdp
    .split(/\r?\n/)
    .filter((line) => {
      if (!line.startsWith("a=candidate:")) return true;
      const c = parseCandidateLine(line);
      return c ? keep(c.address, c.port) : false;
    })
    .join(eol);
}

/** Rewrite the address/port of candidates (used by the impairment relay to put itself in the path). */
export function mapCandidates(
  sdp: string,
  map: (address: string, port: number) => { address: string; port: number } | null,
): string {
  const eol = sdp.includes("\r\n") ? "\r\n" : "\n";
  const out: string[] = [];
  for (const line of sdp.split(/\r?\n/)) {
    if (!line.startsWith("a=candidate:")) {
      out.push(line);
      continue;
    }
    const c = parseCandidateLine(line);
    if (!c) continue;
    const m = map(c.address, c.port);
    if (!m) continue;
    const parts = line.split(" ");
    parts[4] = m.address;
    parts[5] = String(m.port);
    out.push(parts.join(" "));
  }
  return out.join(eol);
}

export type CandidateLine = { foundation: string; component: number; transport: string; address: string; port: number; type: string };

/** `a=candidate:<foundation> <component> <transport> <priority> <address> <port> typ <type> …` (RFC 8839 §5.1). */
export function parseCandidateLine(line: string): CandidateLine | null {
  const body = line.startsWith("a=") ? line.slice(2) : line;
  const parts = body.replace(/^candidate:/, "").split(" ");
  if (parts.length < 8 || parts[6] !== "typ") return null;
  const port = Number(parts[5]);
  if (!Number.isInteger(port)) return null;
  return {
    foundation: parts[0]!,
    component: Number(parts[1]),
    transport: parts[2]!.toLowerCase(),
    address: parts[4]!,
    port,
    type: parts[7]!,
  };
}

/**
 * Header-extension ids per media kind, keyed by URI (`a=extmap:<id>[/dir] <uri>`, RFC 8285 §5).
 * A session-level extmap (before the first m= line) applies to every media section that does not
 * map the same URI itself.
 */
export function parseExtmap(sdp: string): { audio: Map<string, number>; video: Map<string, number> } {
  const result = { audio: new Map<string, number>(), video: new Map<string, number>() };
  const session = new Map<string, number>();
  let kind: "audio" | "video" | "session" | null = "session";
  for (const line of sdp.split(/\r?\n/)) {
    if (line.startsWith("m=")) {
      const k = line.slice(2).split(" ")[0];
      kind = k === "audio" || k === "video" ? k : null;
      continue;
    }
    if (kind && line.startsWith("a=extmap:")) {
      const m = /^a=extmap:(\d+)(?:\/\w+)?\s+(\S+)/.exec(line);
      if (m) (kind === "session" ? session : result[kind]).set(m[2]!, Number(m[1]));
    }
  }
  for (const [uri, id] of session) {
    for (const map of [result.audio, result.video]) if (!map.has(uri)) map.set(uri, id);
  }
  return result;
}
