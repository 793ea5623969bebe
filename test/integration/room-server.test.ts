// The room server end to end: real fastify on an ephemeral loopback port, real `ws` sockets, the
// agents' SignalingClient, and a small recording TeacherPort (the port is the server's only
// dependency; a real streamer is wired in by the runner).
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { networkInterfaces } from "node:os";
import { afterEach, describe, expect, it, vi } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { SignalingClient, SignalingError } from "../../src/agents/signaling-client.js";
import { parseServerMessage, type ProtocolError, type ServerMessage } from "../../src/protocol.js";
import { createRoomServer, type RoomServer, type RoomServerOptions } from "../../src/signaling/server.js";
import type { SdpRewriter, TeacherPort } from "../../src/signaling/teacher-port.js";
import { signJoinToken } from "../../src/signaling/token.js";

type Call =
  | { op: "join"; room: string; student: string; agent: string }
  | { op: "answer"; room: string; student: string; sdp: string }
  | { op: "leave"; room: string; student: string };

/** A TeacherPort that records calls and answers with a recognisable dummy SDP. */
function recordingTeacher(behaviour: { joinDelayMs?: number; failJoin?: string; failAnswer?: string } = {}) {
  const calls: Call[] = [];
  const port: TeacherPort = {
    async join(room, student, info) {
      calls.push({ op: "join", room, student, agent: info.agent });
      if (behaviour.joinDelayMs) await new Promise((r) => setTimeout(r, behaviour.joinDelayMs));
      if (behaviour.failJoin) throw new Error(behaviour.failJoin);
      return { sdp: `v=0\r\no=teacher ${room} ${student}\r\n` };
    },
    async answer(room, student, sdp) {
      calls.push({ op: "answer", room, student, sdp });
      if (behaviour.failAnswer) throw new Error(behaviour.failAnswer);
    },
    leave(room, student) {
      calls.push({ op: "leave", room, student });
    },
  };
  return { port, calls };
}

/** A raw ws client that queues parsed server messages (asserting the server only sends valid ones). */
class RawClient {
  private readonly queue: ServerMessage[] = [];
  private readonly waiters: ((m: ServerMessage) => void)[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      const r = parseServerMessage(String(data));
      if (!r.ok) throw new Error(`server sent an invalid message: ${r.error.message}`);
      const w = this.waiters.shift();
      if (w) w(r.msg);
      else this.queue.push(r.msg);
    });
    this.closed = new Promise((resolve) =>
      ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
    );
  }
  static async open(url: string): Promise<RawClient> {
    const c = new RawClient(new WebSocket(url));
    await once(c.ws, "open");
    return c;
  }
  next(timeoutMs = 2000): Promise<ServerMessage> {
    const m = this.queue.shift();
    if (m) return Promise.resolve(m);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error("no message in time")), timeoutMs);
      this.waiters.push((msg) => {
        clearTimeout(t);
        resolve(msg);
      });
    });
  }
  async nextOf<T extends ServerMessage["type"]>(type: T): Promise<Extract<ServerMessage, { type: T }>> {
    const m = await this.next();
    expect(m.type).toBe(type);
    return m as Extract<ServerMessage, { type: T }>;
  }
  send(v: unknown): void {
    this.ws.send(typeof v === "string" ? v : JSON.stringify(v));
  }
}

const servers: RoomServer[] = [];
const sockets: WebSocket[] = [];
const extraClosers: (() => Promise<void> | void)[] = [];

afterEach(async () => {
  for (const s of sockets.splice(0)) s.terminate();
  for (const c of extraClosers.splice(0)) await c();
  for (const s of servers.splice(0)) await s.close();
});

async function start(opts: Partial<RoomServerOptions> = {}) {
  const teacher = recordingTeacher();
  const server = await createRoomServer({ teacher: teacher.port, ...opts });
  servers.push(server);
  return { server, calls: teacher.calls };
}

async function post(server: RoomServer, path: string, body?: unknown, raw?: string) {
  const res = await fetch(server.url + path, {
    method: "POST",
    headers: body === undefined && raw === undefined ? {} : { "content-type": "application/json" },
    body: raw ?? (body === undefined ? undefined : JSON.stringify(body)),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function joinRaw(server: RoomServer, room: string, student: string, agent = "werift") {
  const j = await post(server, `/rooms/${room}/join`, { student, agent });
  expect(j.status).toBe(200);
  const c = await RawClient.open(j.body["ws"] as string);
  sockets.push(c.ws);
  return c;
}

function errorBody(r: { body: Record<string, unknown> }): ProtocolError {
  return r.body["error"] as ProtocolError;
}

describe("room server: HTTP", () => {
  it("binds 127.0.0.1 by default and is not reachable on other interfaces", async () => {
    const { server } = await start();
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.port).toBeGreaterThan(0);
    const res = await fetch(`${server.url}/healthz`);
    expect(res.status).toBe(200);

    const external = Object.values(networkInterfaces())
      .flat()
      .find((a) => a && a.family === "IPv4" && !a.internal);
    if (!external) {
      console.log("skipped the non-loopback reachability check: this machine has no non-loopback IPv4 interface");
      return;
    }
    await expect(fetch(`http://${external.address}:${server.port}/healthz`)).rejects.toThrow();
  });

  it("creates rooms, refuses duplicates, generates ids", async () => {
    const { server } = await start();
    const a = await post(server, "/rooms", { id: "class-a", mode: "shared" });
    expect(a).toEqual({ status: 201, body: { id: "class-a", mode: "shared" } });
    const dup = await post(server, "/rooms", { id: "class-a" });
    expect(dup.status).toBe(409);
    expect(errorBody(dup)).toMatchObject({ code: "room-exists", field: "id", value: "class-a" });
    const gen = await post(server, "/rooms");
    expect(gen.status).toBe(201);
    expect(gen.body["mode"]).toBe("per-student");
    expect(gen.body["id"]).toMatch(/^[A-Za-z0-9_-]+$/);
    const gen2 = await post(server, "/rooms", {});
    expect(gen2.body["id"]).not.toBe(gen.body["id"]);
    expect(server.rooms().map((r) => r.id).sort()).toEqual(["class-a", gen.body["id"], gen2.body["id"]].sort());
    expect(server.rooms().find((r) => r.id === "class-a")).toEqual({ id: "class-a", mode: "shared", students: [] });
  });

  it("bad bodies get 400 naming the field and value", async () => {
    const { server } = await start();
    const badId = await post(server, "/rooms", { id: "no spaces/allowed" });
    expect(badId.status).toBe(400);
    expect(errorBody(badId)).toMatchObject({ code: "bad-field", field: "id", value: "no spaces/allowed" });

    const badMode = await post(server, "/rooms", { mode: "broadcast" });
    expect(badMode.status).toBe(400);
    expect(errorBody(badMode)).toMatchObject({ field: "mode", value: "broadcast" });
    expect(errorBody(badMode).message).toContain('"per-student" | "shared"');

    const badJson = await post(server, "/rooms", undefined, "{oops");
    expect(badJson.status).toBe(400);
    expect(errorBody(badJson).code).toBe("bad-json");

    await post(server, "/rooms", { id: "r" });
    const badStudent = await post(server, "/rooms/r/join", { student: 7 });
    expect(badStudent.status).toBe(400);
    expect(errorBody(badStudent)).toMatchObject({ field: "student", value: 7 });
    expect(errorBody(badStudent).message).toBe('field "student": expected string, got number (7)');

    const noBody = await post(server, "/rooms/r/join");
    expect(noBody.status).toBe(400);

    const unknown = await post(server, "/rooms/nope/join", { student: "s1" });
    expect(unknown.status).toBe(404);
    expect(errorBody(unknown)).toMatchObject({ code: "unknown-room", value: "nope" });
    expect(server.rooms()).toHaveLength(1);
  });

  it("join returns a token and a ws URL on the bound address", async () => {
    const { server } = await start();
    await post(server, "/rooms", { id: "r" });
    const j = await post(server, "/rooms/r/join", { student: "s1", agent: "werift" });
    expect(j.status).toBe(200);
    const token = j.body["token"] as string;
    expect(j.body["ws"]).toBe(`ws://127.0.0.1:${server.port}/rooms/r/ws?token=${encodeURIComponent(token)}`);
  });

  it("/healthz counts rooms and connected students", async () => {
    const { server } = await start();
    const health = async () => (await (await fetch(`${server.url}/healthz`)).json()) as unknown;
    expect(await health()).toEqual({ ok: true, rooms: 0, students: 0 });
    await post(server, "/rooms", { id: "a" });
    await post(server, "/rooms", { id: "b" });
    const c1 = await joinRaw(server, "a", "s1");
    await c1.nextOf("welcome");
    const c2 = await joinRaw(server, "b", "s2");
    await c2.nextOf("welcome");
    expect(await health()).toEqual({ ok: true, rooms: 2, students: 2 });
    c1.ws.close();
    await c1.closed;
    await vi.waitFor(async () => expect(await health()).toEqual({ ok: true, rooms: 2, students: 1 }));
  });
});

describe("room server: WebSocket", () => {
  it("welcome, rewritten offer, rewritten answer reaches the teacher", async () => {
    const rewrites: { direction: string; student: string }[] = [];
    const rewriteSdp: SdpRewriter = async (ctx, sdp) => {
      rewrites.push({ direction: ctx.direction, student: ctx.student });
      return `${sdp}a=rewritten-${ctx.direction}:${ctx.room}/${ctx.student}\r\n`;
    };
    const { server, calls } = await start({ rewriteSdp });
    await post(server, "/rooms", { id: "r" });
    const c = await joinRaw(server, "r", "s1", "chromium");
    expect(await c.nextOf("welcome")).toEqual({ type: "welcome", room: "r", student: "s1", peers: [] });
    const offer = await c.nextOf("offer");
    expect(offer.sdp).toBe("v=0\r\no=teacher r s1\r\na=rewritten-offer:r/s1\r\n");
    expect(calls).toEqual([{ op: "join", room: "r", student: "s1", agent: "chromium" }]);

    c.send({ type: "answer", sdp: "v=0\r\no=student\r\n" });
    await vi.waitFor(() => expect(calls).toHaveLength(2));
    expect(calls[1]).toEqual({
      op: "answer",
      room: "r",
      student: "s1",
      sdp: "v=0\r\no=student\r\na=rewritten-answer:r/s1\r\n",
    });
    expect(rewrites).toEqual([
      { direction: "offer", student: "s1" },
      { direction: "answer", student: "s1" },
    ]);
    expect(server.rooms()).toEqual([{ id: "r", mode: "per-student", students: ["s1"] }]);
  });

  it("a malformed message gets an error naming field and value, and the socket stays usable", async () => {
    const { server, calls } = await start();
    await post(server, "/rooms", { id: "r" });
    const c = await joinRaw(server, "r", "s1");
    await c.nextOf("welcome");
    await c.nextOf("offer");

    c.send("{this is not json");
    const e1 = await c.nextOf("error");
    expect(e1.code).toBe("bad-json");

    c.send({ type: "ping", id: "p1" });
    expect(await c.next()).toEqual({ type: "pong", id: "p1" });

    c.send({ type: "answer", sdp: 42 });
    const e2 = await c.nextOf("error");
    expect(e2).toMatchObject({ code: "bad-field", field: "sdp", value: 42 });
    expect(e2.message).toBe('field "sdp": expected string, got number (42)');

    c.send({ type: "chat", id: "c9", text: 3 });
    const e3 = await c.nextOf("error");
    expect(e3).toMatchObject({ field: "text", value: 3, id: "c9" });

    c.send({ type: "teleport" });
    expect(await c.nextOf("error")).toMatchObject({ code: "bad-type", field: "type", value: "teleport" });

    c.send({ type: "ping", id: "p2" });
    expect(await c.next()).toEqual({ type: "pong", id: "p2" });
    expect(c.ws.readyState).toBe(WebSocket.OPEN);
    // None of the bad messages reached the teacher.
    expect(calls.map((x) => x.op)).toEqual(["join"]);
  });

  it("refuses a token for another room with an error, then close 4401", async () => {
    const { server, calls } = await start();
    await post(server, "/rooms", { id: "a" });
    await post(server, "/rooms", { id: "b" });
    const j = await post(server, "/rooms/a/join", { student: "s1" });
    const url = (j.body["ws"] as string).replace("/rooms/a/ws", "/rooms/b/ws");
    const c = new RawClient(new WebSocket(url));
    sockets.push(c.ws);
    const e = await c.nextOf("error");
    expect(e.code).toBe("bad-token");
    expect(e.message).toContain('"a"');
    expect((await c.closed).code).toBe(4401);
    expect(calls).toEqual([]);
    expect(server.rooms().every((r) => r.students.length === 0)).toBe(true);
  });

  it("refuses an expired, a forged and a missing token", async () => {
    const secret = Buffer.from("test-secret-test-secret-test-sec");
    const { server, calls } = await start({ secret });
    await post(server, "/rooms", { id: "r" });
    const base = `ws://127.0.0.1:${server.port}/rooms/r/ws`;

    const expired = signJoinToken(secret, { room: "r", student: "s1", exp: Date.now() - 1 });
    const c1 = new RawClient(new WebSocket(`${base}?token=${expired}`));
    sockets.push(c1.ws);
    expect((await c1.nextOf("error")).message).toContain("expired");
    expect((await c1.closed).code).toBe(4401);

    const forged = signJoinToken(Buffer.from("not the server's secret"), { room: "r", student: "s1", exp: Date.now() + 60_000 });
    const c2 = new RawClient(new WebSocket(`${base}?token=${forged}`));
    sockets.push(c2.ws);
    expect((await c2.nextOf("error")).message).toContain("bad-signature");
    expect((await c2.closed).code).toBe(4401);

    const c3 = new RawClient(new WebSocket(base));
    sockets.push(c3.ws);
    expect((await c3.nextOf("error")).code).toBe("bad-token");
    expect((await c3.closed).code).toBe(4401);

    // A valid token from the same secret is accepted (the refusals above were about the token).
    const ok = signJoinToken(secret, { room: "r", student: "s1", exp: Date.now() + 60_000 });
    const c4 = new RawClient(new WebSocket(`${base}?token=${ok}`));
    sockets.push(c4.ws);
    expect((await c4.nextOf("welcome")).student).toBe("s1");
    await vi.waitFor(() => expect(calls.map((x) => x.op)).toEqual(["join"]));
  });

  it("an expired token from a short TTL is refused", async () => {
    const { server } = await start({ tokenTtlMs: 1 });
    await post(server, "/rooms", { id: "r" });
    const j = await post(server, "/rooms/r/join", { student: "s1" });
    await new Promise((r) => setTimeout(r, 10));
    const c = new RawClient(new WebSocket(j.body["ws"] as string));
    sockets.push(c.ws);
    expect((await c.nextOf("error")).message).toContain("expired");
    expect((await c.closed).code).toBe(4401);
  });

  it("presence: the second student sees the first, the first sees it join and leave", async () => {
    const { server, calls } = await start();
    await post(server, "/rooms", { id: "r" });
    const s1 = await joinRaw(server, "r", "s1");
    await s1.nextOf("welcome");
    await s1.nextOf("offer");
    const s2 = await joinRaw(server, "r", "s2");
    expect(await s2.nextOf("welcome")).toMatchObject({ peers: ["s1"] });
    expect(await s1.next()).toEqual({ type: "presence", student: "s2", state: "joined" });

    s2.send({ type: "leave" });
    expect(await s1.next()).toEqual({ type: "presence", student: "s2", state: "left" });
    expect((await s2.closed).code).toBe(1000);
    await vi.waitFor(() => expect(calls).toContainEqual({ op: "leave", room: "r", student: "s2" }));
    // s2's calls were join then leave, in that order, and nothing for s1 but its join.
    expect(calls.filter((x) => x.student === "s2").map((x) => x.op)).toEqual(["join", "leave"]);
    expect(calls.filter((x) => x.student === "s1").map((x) => x.op)).toEqual(["join"]);
    expect(server.rooms()[0]?.students).toEqual(["s1"]);
  });

  it("a socket that just drops also calls teacher.leave and tells the others", async () => {
    const { server, calls } = await start();
    await post(server, "/rooms", { id: "r" });
    const s1 = await joinRaw(server, "r", "s1");
    await s1.nextOf("welcome");
    await s1.nextOf("offer");
    const s2 = await joinRaw(server, "r", "s2");
    await s2.nextOf("welcome");
    expect(await s1.nextOf("presence")).toMatchObject({ student: "s2", state: "joined" });
    s2.ws.terminate();
    expect(await s1.next()).toEqual({ type: "presence", student: "s2", state: "left" });
    await vi.waitFor(() => expect(calls).toContainEqual({ op: "leave", room: "r", student: "s2" }));
  });

  it("a student already connected is refused on join (409) and on a second socket (4409)", async () => {
    const { server } = await start();
    await post(server, "/rooms", { id: "r" });
    const early = await post(server, "/rooms/r/join", { student: "s1" });
    const c = await joinRaw(server, "r", "s1");
    await c.nextOf("welcome");
    await c.nextOf("offer");
    const again = await post(server, "/rooms/r/join", { student: "s1" });
    expect(again.status).toBe(409);
    expect(errorBody(again)).toMatchObject({ code: "already-connected", field: "student", value: "s1" });
    const dup = new RawClient(new WebSocket(early.body["ws"] as string));
    sockets.push(dup.ws);
    expect((await dup.nextOf("error")).code).toBe("already-connected");
    expect((await dup.closed).code).toBe(4409);
    // The first connection is unaffected.
    c.send({ type: "ping", id: "p" });
    expect(await c.next()).toEqual({ type: "pong", id: "p" });
  });

  it("teacher failures become 'teacher-failed' errors, not crashes", async () => {
    const teacher = recordingTeacher({ failJoin: "no capacity" });
    const server = await createRoomServer({ teacher: teacher.port });
    servers.push(server);
    await post(server, "/rooms", { id: "r" });
    const c = await joinRaw(server, "r", "s1");
    await c.nextOf("welcome");
    const e = await c.nextOf("error");
    expect(e.code).toBe("teacher-failed");
    expect(e.message).toContain("no capacity");
    c.send({ type: "ping", id: "p" });
    expect(await c.next()).toEqual({ type: "pong", id: "p" });

    const teacher2 = recordingTeacher({ failAnswer: "bad answer sdp" });
    const server2 = await createRoomServer({ teacher: teacher2.port });
    servers.push(server2);
    await post(server2, "/rooms", { id: "r" });
    const c2 = await joinRaw(server2, "r", "s1");
    await c2.nextOf("welcome");
    await c2.nextOf("offer");
    c2.send({ type: "answer", sdp: "v=0" });
    const e2 = await c2.nextOf("error");
    expect(e2).toMatchObject({ code: "teacher-failed" });
    expect(e2.message).toContain("bad answer sdp");
    expect((await fetch(`${server2.url}/healthz`)).status).toBe(200);
  });

  it("a failing SDP rewriter is reported, not fatal", async () => {
    const { server } = await start({
      rewriteSdp: () => {
        throw new Error("relay has no free port");
      },
    });
    await post(server, "/rooms", { id: "r" });
    const c = await joinRaw(server, "r", "s1");
    await c.nextOf("welcome");
    const e = await c.nextOf("error");
    expect(e.code).toBe("sdp-rewrite-failed");
    expect(e.message).toContain("relay has no free port");
  });

  it("a leave while the teacher's join is pending is delivered after the join", async () => {
    const teacher = recordingTeacher({ joinDelayMs: 50 });
    const server = await createRoomServer({ teacher: teacher.port });
    servers.push(server);
    await post(server, "/rooms", { id: "r" });
    const c = await joinRaw(server, "r", "s1");
    await c.nextOf("welcome");
    c.ws.close();
    await c.closed;
    // Reconnect at once under the same id: its join must come after the old leave.
    const c2 = await joinRaw(server, "r", "s1");
    await c2.nextOf("welcome");
    await c2.nextOf("offer");
    expect(teacher.calls.map((x) => x.op)).toEqual(["join", "leave", "join"]);
  });

  it("close() calls teacher.leave for connected students and closes their sockets with 1001", async () => {
    const teacher = recordingTeacher();
    const server = await createRoomServer({ teacher: teacher.port });
    await post(server, "/rooms", { id: "r" });
    const c = await joinRaw(server, "r", "s1");
    await c.nextOf("welcome");
    await server.close();
    expect(teacher.calls.map((x) => x.op)).toEqual(["join", "leave"]);
    expect((await c.closed).code).toBe(1001);
  });
});

describe("SignalingClient against the room server", () => {
  it("joins, gets the offer, answers, chats with ack, sees presence and chat", async () => {
    const { server, calls } = await start();
    await post(server, "/rooms", { id: "r" });
    const a = await SignalingClient.join(server.url, "r", "alice", "werift");
    extraClosers.push(() => a.close());
    expect(a.welcome).toEqual({ type: "welcome", room: "r", student: "alice", peers: [] });
    expect(await a.waitForOffer(2000)).toBe("v=0\r\no=teacher r alice\r\n");
    a.sendAnswer("v=0\r\no=alice\r\n");
    await vi.waitFor(() => expect(calls).toContainEqual({ op: "answer", room: "r", student: "alice", sdp: "v=0\r\no=alice\r\n" }));

    const presence: unknown[] = [];
    a.onPresence((p) => presence.push(p));
    const b = await SignalingClient.join(`${server.url}/`, "r", "bob", "werift");
    extraClosers.push(() => b.close());
    expect(b.welcome.peers).toEqual(["alice"]);
    // bob registers his offer listener late: the buffered offer is still delivered.
    const bobOffer = await new Promise<string>((resolve) => b.onOffer(resolve));
    expect(bobOffer).toBe("v=0\r\no=teacher r bob\r\n");
    await vi.waitFor(() => expect(presence).toEqual([{ student: "bob", state: "joined" }]));

    const bobChats: unknown[] = [];
    const aliceChats: unknown[] = [];
    b.onChat((c) => bobChats.push(c));
    a.onChat((c) => aliceChats.push(c));
    const sent = await a.sendChat("is the audio ok?");
    expect(sent.id).toMatch(/.+/);
    expect(sent.ackMs).toBeGreaterThanOrEqual(0);
    expect(sent.ackMs).toBeLessThan(2000);
    await vi.waitFor(() => expect(bobChats).toEqual([{ id: sent.id, from: "alice", text: "is the audio ok?" }]));
    expect(aliceChats).toEqual([]); // not echoed to the sender

    const rtt = await a.ping();
    expect(rtt).toBeGreaterThanOrEqual(0);

    // A chat the server would refuse is refused locally with the same field-naming error.
    await expect(a.sendChat("x".repeat(2001))).rejects.toMatchObject({ code: "bad-field", field: "text" });

    await b.close();
    await vi.waitFor(() => expect(presence).toContainEqual({ student: "bob", state: "left" }));
    await vi.waitFor(() => expect(calls).toContainEqual({ op: "leave", room: "r", student: "bob" }));
    expect(b.isOpen).toBe(false);
  });

  it("join rejects with the server's error (unknown room, foreign token)", async () => {
    const { server } = await start();
    const err = await SignalingClient.join(server.url, "nope", "s1", "werift").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SignalingError);
    expect(err).toMatchObject({ code: "unknown-room", status: 404 });
  });

  it("a malformed server message is reported through onError, not thrown", async () => {
    // A stand-in server speaking a broken dialect: HTTP join + a ws that sends one bad offer.
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await once(wss, "listening");
    const wsPort = (wss.address() as AddressInfo).port;
    wss.on("connection", (ws) => {
      ws.send(JSON.stringify({ type: "welcome", room: "r", student: "s1", peers: [] }));
      ws.send(JSON.stringify({ type: "offer", sdp: 5 }));
      ws.send("not json at all");
      ws.send(JSON.stringify({ type: "offer", sdp: "v=0 good" }));
    });
    const http: Server = createServer((req, res) => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ token: "t", ws: `ws://127.0.0.1:${wsPort}/` }));
    });
    http.listen(0, "127.0.0.1");
    await once(http, "listening");
    extraClosers.push(
      () => new Promise<void>((r) => http.close(() => r())),
      () => new Promise<void>((r) => wss.close(() => r())),
    );
    const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
    const client = await SignalingClient.join(url, "r", "s1", "werift");
    extraClosers.unshift(() => client.close());
    const errors: ProtocolError[] = [];
    client.onError((e) => errors.push(e));
    expect(await client.waitForOffer(2000)).toBe("v=0 good");
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatchObject({ code: "bad-server-message", field: "sdp", value: 5 });
    expect(errors[1]?.code).toBe("bad-server-message");
    expect(errors[1]?.message).toContain("invalid JSON");
    expect(client.isOpen).toBe(true);
  });
});
