// The room server: fastify (HTTP) + @fastify/websocket. It keeps rooms, hands out join tokens,
// and on each student's WebSocket relays the offer/answer between that student and the teacher
// (reached only through the injected `TeacherPort`), plus presence and chat between students.
//
//   POST /rooms                 {id?, mode?}        → 201 {id, mode}          (409 if it exists)
//   POST /rooms/:room/join      {student, agent?}   → {token, ws}             (404 room, 409 connected)
//   GET  /rooms/:room/ws?token=  WebSocket          → welcome, offer, presence, chat, ack, pong, error
//   GET  /rooms                                     → [{id, mode, students}]
//   GET  /healthz                                   → {ok, rooms, students}
//
// Signaling is non-trickle: the teacher's offer and the student's answer carry their candidates,
// and both pass through the optional `SdpRewriter` (the netem relay's hook). Trickle `candidate`
// messages are accepted and dropped: forwarding them would bypass the rewriter and let a direct
// candidate pair win over the relay.
//
// Every WebSocket message and HTTP body is parsed with the schemas in protocol.ts; a bad one gets
// an error naming the field and value and nothing else is affected. Teacher calls for one student
// are serialised (join → answer → leave), also across a quick reconnect of the same student id.
// WebSocket close codes: 4401 bad/expired/foreign token, 4404 unknown room, 4409 student already
// connected, 1001 server closing, 1000 after `leave`.

import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import Fastify, { type FastifyInstance, type FastifyReply } from "fastify";
import websocket from "@fastify/websocket";
import type { RawData, WebSocket } from "ws";
import {
  CreateRoomRequest,
  JoinRequest,
  LIMITS,
  parseClientMessage,
  parseValue,
  type ClientMessage,
  type HttpErrorBody,
  type ProtocolError,
  type RoomMode,
  type ServerMessage,
} from "../protocol.js";
import type { SdpRewriter, TeacherPort } from "./teacher-port.js";
import { signJoinToken, verifyJoinToken } from "./token.js";

export interface RoomServerOptions {
  teacher: TeacherPort;
  /** Interface to bind; default "127.0.0.1" (loopback only). */
  host?: string;
  /** TCP port; default 0 = ephemeral. */
  port?: number;
  /**
   * Other `host:port` authorities that reach this server (TCP forwarders on a student namespace's
   * veth): a join through one gets its WebSocket URL at that authority, since the bound address is
   * not reachable from there.
   */
  isAlias?: (authority: string) => boolean;
  /** HMAC key for join tokens; random (32 bytes) if absent. */
  secret?: Buffer;
  rewriteSdp?: SdpRewriter;
  /** Lifetime of a join token; default 60 s. */
  tokenTtlMs?: number;
  log?: (line: string) => void;
  /** Extra routes registered before the server listens (e.g. the live view). */
  routes?: (app: FastifyInstance) => void;
}

export interface RoomInfo {
  id: string;
  mode: string;
  /** Students whose WebSocket is open. */
  students: string[];
}

export interface RoomServer {
  /** http://HOST:PORT */
  url: string;
  port: number;
  close(): Promise<void>;
  rooms(): RoomInfo[];
  /** Send a message to one connected student (e.g. a question, an assessment result); false if not connected. */
  sendTo(room: string, student: string, msg: ServerMessage): boolean;
}

export const CLOSE_CODES = {
  normal: 1000,
  goingAway: 1001,
  badToken: 4401,
  unknownRoom: 4404,
  alreadyConnected: 4409,
} as const;

const DEFAULT_TOKEN_TTL_MS = 60_000;
const HTTP_BODY_LIMIT = 64 * 1024;
/** How long close() waits for pending teacher calls. */
const CLOSE_WAIT_MS = 5_000;
/** ws maxPayload is bytes; a frame of LIMITS.frameChars UTF-16 units is at most 3× that in UTF-8. */
const WS_MAX_PAYLOAD = LIMITS.frameChars * 3;

interface Member {
  student: string;
  agent: string;
  socket: WebSocket;
  left: boolean;
}

interface Room {
  id: string;
  mode: RoomMode;
  members: Map<string, Member>;
  /** Agent kind announced at join time, per student (kept for reconnects with the same token). */
  agents: Map<string, string>;
  /** Last queued teacher call per student: the next one chains on it. */
  tails: Map<string, Promise<void>>;
}

export async function createRoomServer(opts: RoomServerOptions): Promise<RoomServer> {
  const teacher = opts.teacher;
  const host = opts.host ?? "127.0.0.1";
  const secret = opts.secret ?? randomBytes(32);
  const tokenTtlMs = opts.tokenTtlMs ?? DEFAULT_TOKEN_TTL_MS;
  const log = opts.log ?? (() => {});
  const rewriteSdp = opts.rewriteSdp;
  const rooms = new Map<string, Room>();
  let nextRoomNo = 1;
  let closing = false;

  const app = Fastify({ logger: false, bodyLimit: HTTP_BODY_LIMIT });

  // Our own JSON parser: an empty body means "no fields" (POST /rooms with defaults), and a bad
  // body gets the same error shape as everything else.
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "string" }, (_req, body, done) => {
    const text = typeof body === "string" ? body : body.toString("utf8");
    if (text.trim() === "") return done(null, undefined);
    try {
      done(null, JSON.parse(text) as unknown);
    } catch (err) {
      done(new HttpError(400, "bad-json", `invalid JSON body: ${(err as Error).message}`), undefined);
    }
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    if (err instanceof HttpError) return sendError(reply, err.status, { code: err.code, message: err.message });
    const status = typeof err.statusCode === "number" && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) log(`http ${req.method} ${req.url}: ${err.stack ?? err.message}`);
    const code =
      status === 413 ? "too-large" : status === 415 ? "bad-media-type" : status >= 500 ? "internal" : "bad-request";
    return sendError(reply, status, { code, message: err.message });
  });

  app.setNotFoundHandler((req, reply) =>
    sendError(reply, 404, { code: "not-found", message: `no route ${req.method} ${req.url.split("?")[0] ?? ""}` }),
  );

  await app.register(websocket, { options: { maxPayload: WS_MAX_PAYLOAD } });

  app.get("/healthz", async () => {
    let students = 0;
    for (const r of rooms.values()) students += r.members.size;
    return { ok: true, rooms: rooms.size, students };
  });

  app.get("/rooms", async () => listRooms());

  app.post("/rooms", async (req, reply) => {
    const parsed = parseValue(CreateRoomRequest, req.body ?? {});
    if (!parsed.ok) return sendError(reply, 400, parsed.error);
    let id = parsed.msg.id;
    if (id === undefined) {
      do id = `room-${nextRoomNo++}`;
      while (rooms.has(id));
    } else if (rooms.has(id)) {
      return sendError(reply, 409, { code: "room-exists", message: `room "${id}" already exists`, field: "id", value: id });
    }
    const mode = parsed.msg.mode ?? "per-student";
    rooms.set(id, { id, mode, members: new Map(), agents: new Map(), tails: new Map() });
    log(`room ${id} created (${mode})`);
    return reply.code(201).send({ id, mode });
  });

  app.post<{ Params: { room: string } }>("/rooms/:room/join", async (req, reply) => {
    const room = rooms.get(req.params.room);
    if (!room) return sendError(reply, 404, unknownRoom(req.params.room));
    const parsed = parseValue(JoinRequest, req.body);
    if (!parsed.ok) return sendError(reply, 400, parsed.error);
    const { student } = parsed.msg;
    if (room.members.has(student)) {
      return sendError(reply, 409, {
        code: "already-connected",
        message: `student "${student}" is already connected to room "${room.id}"`,
        field: "student",
        value: student,
      });
    }
    room.agents.set(student, parsed.msg.agent ?? "unknown");
    const token = signJoinToken(secret, { room: room.id, student, exp: Date.now() + tokenTtlMs });
    const authority = wsAuthority(req.headers.host);
    const ws = `ws://${authority}/rooms/${encodeURIComponent(room.id)}/ws?token=${encodeURIComponent(token)}`;
    return { token, ws };
  });

  app.get<{ Params: { room: string }; Querystring: { token?: unknown } }>(
    "/rooms/:room/ws",
    { websocket: true },
    (socket, req) => {
      onSocket(socket, req.params.room, req.query.token);
    },
  );

  opts.routes?.(app);
  await app.listen({ host, port: opts.port ?? 0 });
  const address = app.server.address() as AddressInfo;
  const boundHost = address.family === "IPv6" ? `[${address.address}]` : address.address;
  const port = address.port;
  log(`room server listening on http://${boundHost}:${port}`);

  /** host:port for the ws URL: the bound address, unless it is a wildcard (then the Host header). */
  function wsAuthority(hostHeader: string | undefined): string {
    const wildcard = address.address === "0.0.0.0" || address.address === "::";
    if (wildcard && hostHeader) return hostHeader;
    if (hostHeader && opts.isAlias?.(hostHeader)) return hostHeader;
    return `${boundHost}:${port}`;
  }

  function listRooms(): RoomInfo[] {
    return [...rooms.values()].map((r) => ({ id: r.id, mode: r.mode, students: [...r.members.keys()] }));
  }

  function onSocket(socket: WebSocket, roomId: string, token: unknown): void {
    const refuse = (closeCode: number, error: ProtocolError): void => {
      send(socket, { type: "error", ...error });
      socket.close(closeCode, error.code);
      log(`ws refused (${roomId}): ${error.message}`);
    };
    if (closing) return refuse(CLOSE_CODES.goingAway, { code: "closing", message: "server is closing" });
    if (typeof token !== "string" || token === "") {
      return refuse(CLOSE_CODES.badToken, { code: "bad-token", message: "missing ?token= (get one from POST /rooms/:room/join)" });
    }
    const claims = verifyJoinToken(secret, token, Date.now());
    if ("error" in claims) {
      return refuse(CLOSE_CODES.badToken, { code: "bad-token", message: `join token refused: ${claims.error}` });
    }
    if (claims.room !== roomId) {
      return refuse(CLOSE_CODES.badToken, {
        code: "bad-token",
        message: `join token is for room "${claims.room}", not "${roomId}"`,
      });
    }
    const room = rooms.get(roomId);
    if (!room) return refuse(CLOSE_CODES.unknownRoom, unknownRoom(roomId));
    const student = claims.student;
    if (room.members.has(student)) {
      return refuse(CLOSE_CODES.alreadyConnected, {
        code: "already-connected",
        message: `student "${student}" is already connected to room "${roomId}"`,
      });
    }

    const member: Member = { student, agent: room.agents.get(student) ?? "unknown", socket, left: false };
    const peers = [...room.members.keys()];
    room.members.set(student, member);
    log(`${roomId}/${student} connected (${member.agent})`);

    socket.on("message", (data, isBinary) => onMessage(room, member, data, isBinary));
    socket.on("close", () => depart(room, member));
    socket.on("error", (err) => log(`${roomId}/${student} socket error: ${err.message}`));

    send(socket, { type: "welcome", room: roomId, student, peers });
    broadcast(room, student, { type: "presence", student, state: "joined" });

    enqueue(room, student, async () => {
      let sdp: string;
      try {
        const offer = await teacher.join(roomId, student, { agent: member.agent });
        if (typeof offer?.sdp !== "string" || offer.sdp === "") throw new Error("teacher returned no SDP offer");
        sdp = offer.sdp;
      } catch (err) {
        return teacherFailed(member, "join", err);
      }
      if (rewriteSdp) {
        try {
          sdp = await rewriteSdp({ room: roomId, student, direction: "offer" }, sdp);
        } catch (err) {
          return rewriteFailed(member, "offer", err);
        }
      }
      if (!member.left) send(socket, { type: "offer", sdp });
    });
  }

  function onMessage(room: Room, member: Member, data: RawData, isBinary: boolean): void {
    if (member.left) return;
    const socket = member.socket;
    if (isBinary) {
      send(socket, { type: "error", code: "bad-message", message: "binary frames are not supported: send JSON text" });
      return;
    }
    const raw = rawText(data);
    const parsed = parseClientMessage(raw);
    if (!parsed.ok) {
      const id = idOf(raw);
      send(socket, { type: "error", ...parsed.error, ...(id !== undefined ? { id } : {}) });
      return;
    }
    handle(room, member, parsed.msg);
  }

  function handle(room: Room, member: Member, msg: ClientMessage): void {
    const { socket, student } = member;
    switch (msg.type) {
      case "answer":
        enqueue(room, student, async () => {
          let sdp = msg.sdp;
          if (rewriteSdp) {
            try {
              sdp = await rewriteSdp({ room: room.id, student, direction: "answer" }, sdp);
            } catch (err) {
              return rewriteFailed(member, "answer", err);
            }
          }
          try {
            await teacher.answer(room.id, student, sdp);
          } catch (err) {
            teacherFailed(member, "answer", err);
          }
        });
        return;
      case "candidate":
        // Non-trickle signaling: see the header for why trickle candidates are dropped.
        return;
      case "chat":
        broadcast(room, student, { type: "chat", id: msg.id, from: student, text: msg.text });
        send(socket, { type: "ack", id: msg.id });
        return;
      case "ping":
        send(socket, { type: "pong", id: msg.id });
        return;
      case "quiz-answer":
        send(socket, { type: "ack", id: msg.id });
        try {
          teacher.quizAnswer?.(room.id, student, {
            questionId: msg.questionId,
            choice: msg.choice,
            sentAtUnixMs: msg.sentAtUnixMs,
            receivedAtUnixMs: performance.timeOrigin + performance.now(),
          });
        } catch (err) {
          teacherFailed(member, "quiz-answer", err);
        }
        return;
      case "raise-hand":
        broadcast(room, student, { type: "hand", from: student });
        send(socket, { type: "ack", id: msg.id });
        return;
      case "leave":
        depart(room, member);
        socket.close(CLOSE_CODES.normal, "left");
        return;
    }
  }

  /** The student is gone (leave message, socket closed, or server closing). Idempotent. */
  function depart(room: Room, member: Member): void {
    if (member.left) return;
    member.left = true;
    if (room.members.get(member.student) === member) room.members.delete(member.student);
    broadcast(room, member.student, { type: "presence", student: member.student, state: "left" });
    enqueue(room, member.student, () => teacher.leave(room.id, member.student));
    log(`${room.id}/${member.student} left`);
  }

  /** Run a teacher call after the previous one for the same student has settled. */
  function enqueue(room: Room, student: string, op: () => void | Promise<void>): void {
    const prev = room.tails.get(student) ?? Promise.resolve();
    const next = prev.then(op).catch((err: unknown) => log(`${room.id}/${student} teacher call threw: ${errText(err)}`));
    room.tails.set(student, next);
    void next.then(() => {
      if (room.tails.get(student) === next) room.tails.delete(student);
    });
  }

  function teacherFailed(member: Member, call: "join" | "answer" | "quiz-answer", err: unknown): void {
    log(`teacher ${call} failed for ${member.student}: ${errText(err)}`);
    if (!member.left) send(member.socket, { type: "error", code: "teacher-failed", message: `teacher ${call} failed: ${errText(err)}` });
  }

  function rewriteFailed(member: Member, direction: "offer" | "answer", err: unknown): void {
    log(`sdp rewrite (${direction}) failed for ${member.student}: ${errText(err)}`);
    if (!member.left) {
      send(member.socket, { type: "error", code: "sdp-rewrite-failed", message: `SDP ${direction} rewrite failed: ${errText(err)}` });
    }
  }

  function broadcast(room: Room, except: string, msg: ServerMessage): void {
    const text = JSON.stringify(msg);
    for (const m of room.members.values()) {
      if (m.student !== except && !m.left) sendText(m.socket, text);
    }
  }

  return {
    url: `http://${boundHost}:${port}`,
    port,
    rooms: listRooms,
    sendTo(roomId: string, student: string, msg: ServerMessage): boolean {
      const m = rooms.get(roomId)?.members.get(student);
      if (!m || m.left) return false;
      send(m.socket, msg);
      return true;
    },
    async close(): Promise<void> {
      if (closing) return;
      closing = true;
      for (const room of rooms.values()) {
        for (const m of [...room.members.values()]) {
          depart(room, m);
          m.socket.close(CLOSE_CODES.goingAway, "server closing");
        }
      }
      // Wait for queued teacher calls (the leaves just queued), bounded: a teacher that never
      // settles a join must not hang shutdown.
      const tails = [...rooms.values()].flatMap((r) => [...r.tails.values()]);
      let timer: NodeJS.Timeout | undefined;
      const bound = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          log(`room server close: teacher calls still pending after ${CLOSE_WAIT_MS} ms`);
          resolve();
        }, CLOSE_WAIT_MS);
      });
      await Promise.race([Promise.all(tails), bound]);
      clearTimeout(timer);
      await app.close();
      log("room server closed");
    },
  };
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function unknownRoom(id: string): ProtocolError {
  return { code: "unknown-room", message: `no room "${id}" (create it with POST /rooms)`, field: "room", value: id };
}

function sendError(reply: FastifyReply, status: number, error: ProtocolError): FastifyReply {
  const body: HttpErrorBody = { error };
  return reply.code(status).send(body);
}

function send(socket: WebSocket, msg: ServerMessage): void {
  sendText(socket, JSON.stringify(msg));
}

function sendText(socket: WebSocket, text: string): void {
  if (socket.readyState === socket.OPEN) socket.send(text);
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString("utf8");
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data).toString("utf8");
}

/** The `id` of a message that failed validation, so the client can match the error to its request. */
function idOf(raw: string): string | undefined {
  try {
    const v: unknown = JSON.parse(raw);
    if (typeof v === "object" && v !== null && "id" in v) {
      const id = (v as { id: unknown }).id;
      if (typeof id === "string" && id.length > 0 && id.length <= LIMITS.idChars) return id;
    }
  } catch {
    // bad JSON: no id to report
  }
  return undefined;
}

function errText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
