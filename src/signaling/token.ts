// Join tokens: a short-lived, room- and student-bound credential handed out by `POST /rooms/:room/join`
// and presented on the WebSocket upgrade. Format (JWS-like, RFC 7515 §3.1 compact form minus the
// header): base64url(JSON claims) "." base64url(HMAC-SHA256(secret, first part)) (RFC 2104,
// base64url per RFC 4648 §5). The MAC is compared with timingSafeEqual so a forger learns nothing
// from response timing.

import { createHmac, timingSafeEqual } from "node:crypto";
import { z } from "zod";

export interface JoinClaims {
  room: string;
  student: string;
  /** Expiry, Unix milliseconds. */
  exp: number;
}

export type TokenError = "malformed" | "bad-signature" | "expired";

const Claims = z.object({
  room: z.string().min(1),
  student: z.string().min(1),
  exp: z.number().finite(),
});

const B64URL = /^[A-Za-z0-9_-]+$/;

export function signJoinToken(secret: Buffer, claims: JoinClaims): string {
  const body = { room: claims.room, student: claims.student, exp: claims.exp };
  const payload = Buffer.from(JSON.stringify(body), "utf8").toString("base64url");
  return `${payload}.${mac(secret, payload).toString("base64url")}`;
}

/** Check signature, shape and expiry (a token is valid while `now < exp`). */
export function verifyJoinToken(
  secret: Buffer,
  token: string,
  nowUnixMs: number,
): JoinClaims | { error: TokenError } {
  const parts = token.split(".");
  if (parts.length !== 2) return { error: "malformed" };
  const [payload, sig] = parts as [string, string];
  if (!B64URL.test(payload) || !B64URL.test(sig)) return { error: "malformed" };
  const given = Buffer.from(sig, "base64url");
  const expected = mac(secret, payload);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { error: "bad-signature" };
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    return { error: "malformed" };
  }
  const r = Claims.safeParse(json);
  if (!r.success) return { error: "malformed" };
  if (!(nowUnixMs < r.data.exp)) return { error: "expired" };
  return r.data;
}

function mac(secret: Buffer, payload: string): Buffer {
  return createHmac("sha256", secret).update(payload, "ascii").digest();
}
