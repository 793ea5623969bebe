// Join tokens: valid until exp, bound to their claims, refused when tampered, expired or malformed.
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { signJoinToken, verifyJoinToken } from "../../src/signaling/token.js";

const secret = Buffer.from("0123456789abcdef0123456789abcdef");
const now = 1_700_000_000_000;
const claims = { room: "class-a", student: "s1", exp: now + 60_000 };

/** Flip one character of a base64url string to another valid base64url character. */
function flip(s: string, i: number): string {
  const c = s[i] === "A" ? "B" : "A";
  return s.slice(0, i) + c + s.slice(i + 1);
}

describe("join token", () => {
  it("round-trips its claims", () => {
    const t = signJoinToken(secret, claims);
    expect(t).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    expect(verifyJoinToken(secret, t, now)).toEqual(claims);
  });

  it("differs per claim", () => {
    const a = signJoinToken(secret, claims);
    const b = signJoinToken(secret, { ...claims, student: "s2" });
    expect(a).not.toBe(b);
  });

  it("is refused once expired (exp is exclusive)", () => {
    const t = signJoinToken(secret, claims);
    expect(verifyJoinToken(secret, t, claims.exp - 1)).toEqual(claims);
    expect(verifyJoinToken(secret, t, claims.exp)).toEqual({ error: "expired" });
    expect(verifyJoinToken(secret, t, claims.exp + 1)).toEqual({ error: "expired" });
  });

  it("is refused with another secret", () => {
    const t = signJoinToken(secret, claims);
    expect(verifyJoinToken(Buffer.from("another secret"), t, now)).toEqual({ error: "bad-signature" });
  });

  it("is refused when the payload is tampered (e.g. another room)", () => {
    const t = signJoinToken(secret, claims);
    const [, sig] = t.split(".");
    const forged = Buffer.from(JSON.stringify({ ...claims, room: "class-b" })).toString("base64url");
    expect(verifyJoinToken(secret, `${forged}.${sig}`, now)).toEqual({ error: "bad-signature" });
    expect(verifyJoinToken(secret, flip(t, 3), now)).toEqual({ error: "bad-signature" });
  });

  it("is refused when the signature is tampered or truncated", () => {
    const t = signJoinToken(secret, claims);
    expect(verifyJoinToken(secret, flip(t, t.length - 2), now)).toEqual({ error: "bad-signature" });
    expect(verifyJoinToken(secret, t.slice(0, -4), now)).toEqual({ error: "bad-signature" });
  });

  it("is refused when malformed", () => {
    const t = signJoinToken(secret, claims);
    for (const bad of ["", "abc", `${t}.x`, t.replace(".", "!"), "a b.c", ".", `${t.split(".")[0]}.`]) {
      expect(verifyJoinToken(secret, bad, now)).toEqual({ error: "malformed" });
    }
  });

  it("a correctly signed payload with the wrong shape is malformed", () => {
    // Sign by hand: same MAC construction, payload lacking exp.
    const t = signJoinToken(secret, claims);
    expect(verifyJoinToken(secret, t, now)).not.toHaveProperty("error");
    const payload = Buffer.from(JSON.stringify({ room: "r", student: "s" })).toString("base64url");
    const sig = createHmac("sha256", secret).update(payload).digest("base64url");
    expect(verifyJoinToken(secret, `${payload}.${sig}`, now)).toEqual({ error: "malformed" });
  });
});
