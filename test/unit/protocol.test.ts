// protocol.ts: every parse failure names the field path and the offending value; valid messages
// round-trip through encode → parse unchanged.
import { describe, expect, it } from "vitest";
import {
  CreateRoomRequest,
  LIMITS,
  encodeMessage,
  parseClientMessage,
  parseServerMessage,
  parseValue,
  type ClientMessage,
  type ServerMessage,
} from "../../src/protocol.js";

function errorOf(raw: string) {
  const r = parseClientMessage(raw);
  if (r.ok) throw new Error(`expected a parse error for ${raw}`);
  return r.error;
}

describe("parseClientMessage", () => {
  it("accepts every client message kind and round-trips it", () => {
    const msgs: ClientMessage[] = [
      { type: "answer", sdp: "v=0\r\n" },
      { type: "candidate", candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host", sdpMid: "0" },
      { type: "candidate", candidate: null },
      { type: "chat", id: "c1", text: "hello" },
      { type: "ping", id: "p1" },
      { type: "leave" },
    ];
    for (const m of msgs) {
      const r = parseClientMessage(encodeMessage(m));
      expect(r).toEqual({ ok: true, msg: m });
    }
  });

  it("invalid JSON → bad-json", () => {
    const e = errorOf("{not json");
    expect(e.code).toBe("bad-json");
    expect(e.message).toMatch(/invalid JSON/);
  });

  it("a wrong-typed field names the field and the value", () => {
    const e = errorOf(JSON.stringify({ type: "answer", sdp: 42 }));
    expect(e).toMatchObject({ code: "bad-field", field: "sdp", value: 42 });
    expect(e.message).toBe('field "sdp": expected string, got number (42)');
  });

  it("a missing field is named", () => {
    const e = errorOf(JSON.stringify({ type: "chat", text: "hi" }));
    expect(e.field).toBe("id");
    expect(e.message).toMatch(/field "id": missing/);
  });

  it("an unknown type names the type field and value and lists the valid ones", () => {
    const e = errorOf(JSON.stringify({ type: "dance", id: "x" }));
    expect(e).toMatchObject({ code: "bad-type", field: "type", value: "dance" });
    expect(e.message).toContain('"answer"');
    expect(e.message).toContain('"leave"');
  });

  it("a missing type is reported as such", () => {
    const e = errorOf(JSON.stringify({ sdp: "x" }));
    expect(e).toMatchObject({ code: "bad-type", field: "type" });
    expect(e.message).toMatch(/missing/);
  });

  it("a non-object message is refused", () => {
    expect(errorOf("[1,2]").code).toBe("bad-message");
    expect(errorOf("7").code).toBe("bad-message");
    expect(errorOf("null").code).toBe("bad-message");
  });

  it("enforces size limits and does not echo huge values back", () => {
    const text = "x".repeat(LIMITS.chatChars + 1);
    const e = errorOf(JSON.stringify({ type: "chat", id: "c1", text }));
    expect(e.field).toBe("text");
    expect(e.message).toContain(`at most ${LIMITS.chatChars} characters, got ${LIMITS.chatChars + 1}`);
    expect(typeof e.value).toBe("string");
    expect((e.value as string).length).toBeLessThan(300);

    const okChat = parseClientMessage(JSON.stringify({ type: "chat", id: "c1", text: "x".repeat(LIMITS.chatChars) }));
    expect(okChat.ok).toBe(true);

    const sdp = "v".repeat(LIMITS.sdpChars + 1);
    expect(errorOf(JSON.stringify({ type: "answer", sdp })).field).toBe("sdp");
    expect(errorOf("x".repeat(LIMITS.frameChars + 1)).code).toBe("too-large");
  });

  it("empty strings are refused where content is required", () => {
    const e = errorOf(JSON.stringify({ type: "chat", id: "c1", text: "" }));
    expect(e.field).toBe("text");
    expect(e.message).toMatch(/must not be empty/);
  });

  it("lists every problem in the message", () => {
    const e = errorOf(JSON.stringify({ type: "chat", id: 5, text: false }));
    expect(e.field).toBe("id");
    expect(e.message).toContain('field "id"');
    expect(e.message).toContain('field "text"');
  });
});

describe("parseServerMessage", () => {
  it("accepts every server message kind", () => {
    const msgs: ServerMessage[] = [
      { type: "welcome", room: "r", student: "s", peers: ["a", "b"] },
      { type: "offer", sdp: "v=0\r\n" },
      { type: "presence", student: "a", state: "left" },
      { type: "chat", id: "c1", from: "a", text: "hi" },
      { type: "ack", id: "c1" },
      { type: "pong", id: "p1" },
      { type: "error", code: "bad-field", message: "m", field: "sdp", value: 42, id: "c1" },
    ];
    for (const m of msgs) expect(parseServerMessage(encodeMessage(m))).toEqual({ ok: true, msg: m });
  });

  it("names nested paths with indices", () => {
    const r = parseServerMessage(JSON.stringify({ type: "welcome", room: "r", student: "s", peers: ["a", 3] }));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.field).toBe("peers[1]");
      expect(r.error.value).toBe(3);
    }
  });

  it("an enum mismatch lists the allowed values", () => {
    const r = parseServerMessage(JSON.stringify({ type: "presence", student: "a", state: "gone" }));
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toMatchObject({ field: "state", value: "gone" });
      expect(r.error.message).toContain('"joined" | "left"');
    }
  });
});

describe("HTTP bodies", () => {
  it("room ids must be URL-safe", () => {
    const r = parseValue(CreateRoomRequest, { id: "a b/c" });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ field: "id", value: "a b/c" });
    expect(parseValue(CreateRoomRequest, { id: "class-A_1", mode: "shared" }).ok).toBe(true);
    expect(parseValue(CreateRoomRequest, { id: "x".repeat(65) }).ok).toBe(false);
  });
});
