// The student side of the room server's protocol (src/signaling/server.ts), for light agents:
// POST /rooms/:room/join for a token, then the room WebSocket (`ws` package). It parses every
// server message with protocol.ts; a malformed one is reported through onError, never thrown.
//
// Events that arrive before anyone listens (the offer can come in the same TCP segment as the
// welcome) are buffered per kind and delivered to the first listener, so nothing is lost between
// `join()` resolving and the agent registering its callbacks.
//
// Chat and ping carry an id; the server's `ack`/`pong` (or an `error` carrying that id) settles
// them. Their round-trip times are read from an injected Clock (monotonic), as all measurements are.

import WebSocket from "ws";
import { systemClock, type Clock } from "../clock.js";
import {
  ClientMessage,
  HttpErrorBody,
  JoinResponse,
  parseServerMessage,
  parseValue,
  type PresenceMessage,
  type ProtocolError,
  type ServerChatMessage,
  type ServerMessage,
  type WelcomeMessage,
  type QuestionMessage,
  type AssessmentResultMessage,
} from "../protocol.js";

export interface SignalingClientOptions {
  /** Clock for ackMs / ping round trips; default the system clock. */
  clock?: Clock;
  /** Bound on the join (HTTP + WebSocket open + welcome); default 10 s. */
  joinTimeoutMs?: number;
  /** Bound on waiting for an ack or pong; default 10 s. */
  requestTimeoutMs?: number;
}

export type Presence = Omit<PresenceMessage, "type">;
export type Chat = Omit<ServerChatMessage, "type">;
export interface CloseInfo {
  code: number;
  reason: string;
}

/** An error from the server (HTTP or WebSocket) or about its messages. */
export class SignalingError extends Error {
  readonly code: string;
  readonly status: number | undefined;
  readonly field: string | undefined;
  readonly value: unknown;
  constructor(error: ProtocolError, status?: number) {
    super(error.message);
    this.name = "SignalingError";
    this.code = error.code;
    this.status = status;
    this.field = error.field;
    this.value = error.value;
  }
}

export type Question = Omit<QuestionMessage, "type">;
export type AssessmentResult = Omit<AssessmentResultMessage, "type">;

type Events = {
  offer: string;
  presence: Presence;
  chat: Chat;
  error: ProtocolError;
  close: CloseInfo;
  question: Question;
  result: AssessmentResult;
  hand: string;
};

interface Pending {
  kind: "ack" | "pong";
  sentAtMs: number;
  resolve: (ms: number) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

/** Events kept for a late first listener, per kind. */
const MAX_BUFFERED = 256;

export class SignalingClient {
  readonly room: string;
  readonly student: string;
  private readonly ws: WebSocket;
  private readonly clock: Clock;
  private readonly requestTimeoutMs: number;
  private readonly listeners: { [K in keyof Events]: ((e: Events[K]) => void)[] } = {
    offer: [],
    presence: [],
    chat: [],
    error: [],
    close: [],
    question: [],
    result: [],
    hand: [],
  };
  private readonly buffered: { [K in keyof Events]: Events[K][] } = {
    offer: [],
    presence: [],
    chat: [],
    error: [],
    close: [],
    question: [],
    result: [],
    hand: [],
  };
  private readonly pending = new Map<string, Pending>();
  private readonly offerWaiters: ((sdp: string) => void)[] = [];
  private lastOffer: string | undefined;
  private welcomeMsg: WelcomeMessage | undefined;
  private closeInfo: CloseInfo | undefined;
  private nextId = 1;
  /** Hooks of a join in progress (see ready()); not user listeners, so they never drain buffers. */
  private joining:
    | { welcome: () => void; error: (e: ProtocolError) => void; close: (c: CloseInfo) => void }
    | undefined;
  private readonly closed: Promise<CloseInfo>;

  /**
   * Ask the room server for a join token, open the room's WebSocket and wait for `welcome`.
   * Rejects with a SignalingError if the server refuses (unknown room, already connected, bad token).
   */
  static async join(
    serverUrl: string,
    room: string,
    student: string,
    agent: string,
    opts: SignalingClientOptions = {},
  ): Promise<SignalingClient> {
    const joinTimeoutMs = opts.joinTimeoutMs ?? 10_000;
    const base = serverUrl.replace(/\/+$/, "");
    const res = await fetch(`${base}/rooms/${encodeURIComponent(room)}/join`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ student, agent }),
      signal: AbortSignal.timeout(joinTimeoutMs),
    });
    const body: unknown = await res.json().catch(() => undefined);
    if (!res.ok) {
      const e = parseValue(HttpErrorBody, body);
      throw new SignalingError(
        e.ok ? e.msg.error : { code: "http-error", message: `POST join: HTTP ${res.status}` },
        res.status,
      );
    }
    const parsed = parseValue(JoinResponse, body);
    if (!parsed.ok) {
      throw new SignalingError({ ...parsed.error, message: `bad join response: ${parsed.error.message}` });
    }
    const client = new SignalingClient(new WebSocket(parsed.msg.ws), room, student, opts);
    await client.ready(joinTimeoutMs);
    return client;
  }

  private constructor(ws: WebSocket, room: string, student: string, opts: SignalingClientOptions) {
    this.ws = ws;
    this.room = room;
    this.student = student;
    this.clock = opts.clock ?? systemClock;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.closed = new Promise((resolve) => {
      ws.on("close", (code, reason) => {
        const info = { code, reason: reason.toString("utf8") };
        this.closeInfo = info;
        for (const [id, p] of this.pending) {
          clearTimeout(p.timer);
          p.reject(new Error(`socket closed (${code}) before ${p.kind} for ${id}`));
        }
        this.pending.clear();
        this.joining?.close(info);
        this.emit("close", info);
        resolve(info);
      });
    });
    ws.on("message", (data, isBinary) => {
      if (isBinary) {
        this.reportError({ code: "bad-server-message", message: "server sent a binary frame" });
        return;
      }
      this.onMessage(rawText(data));
    });
    // Connection-level errors also surface as 'close'; keep the listener so they never throw.
    ws.on("error", (err) => this.reportError({ code: "socket-error", message: err.message }));
  }

  /** The server's welcome: room, this student's id, students already present. */
  get welcome(): WelcomeMessage {
    if (!this.welcomeMsg) throw new Error("not joined yet");
    return this.welcomeMsg;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  onOffer(cb: (sdp: string) => void): () => void {
    return this.on("offer", cb);
  }
  onPresence(cb: (p: Presence) => void): () => void {
    return this.on("presence", cb);
  }
  onChat(cb: (c: Chat) => void): () => void {
    return this.on("chat", cb);
  }
  onError(cb: (e: ProtocolError) => void): () => void {
    return this.on("error", cb);
  }
  onQuestion(cb: (q: Question) => void): () => void {
    return this.on("question", cb);
  }
  onResult(cb: (r: AssessmentResult) => void): () => void {
    return this.on("result", cb);
  }
  onHand(cb: (from: string) => void): () => void {
    return this.on("hand", cb);
  }

  /** Answer an open question by click; resolves with the acknowledgement delay (ms). */
  sendQuizAnswer(questionId: string, choice: string, sentAtUnixMs: number): Promise<{ id: string; ackMs: number }> {
    const id = `q${this.nextId++}`;
    return this.request("ack", id, { type: "quiz-answer", id, questionId, choice, sentAtUnixMs }).then((ackMs) => ({ id, ackMs }));
  }

  /** Raise a hand; resolves on the server's acknowledgement. */
  raiseHand(): Promise<{ id: string; ackMs: number }> {
    const id = `h${this.nextId++}`;
    return this.request("ack", id, { type: "raise-hand", id }).then((ackMs) => ({ id, ackMs }));
  }

  onClose(cb: (c: CloseInfo) => void): () => void {
    return this.on("close", cb);
  }

  /** The latest offer received, or the next one to arrive. */
  waitForOffer(timeoutMs: number): Promise<string> {
    if (this.lastOffer !== undefined) return Promise.resolve(this.lastOffer);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.offerWaiters.indexOf(done);
        if (i >= 0) this.offerWaiters.splice(i, 1);
        reject(new Error(`no offer within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (sdp: string): void => {
        clearTimeout(timer);
        resolve(sdp);
      };
      this.offerWaiters.push(done);
    });
  }

  sendAnswer(sdp: string): void {
    this.sendChecked({ type: "answer", sdp });
  }

  /** Send a chat line to the room; resolves when the server acknowledges it. */
  sendChat(text: string): Promise<{ id: string; ackMs: number }> {
    const id = `c${this.nextId++}`;
    return this.request("ack", id, { type: "chat", id, text }).then((ackMs) => ({ id, ackMs }));
  }

  /** Signaling round trip in ms (ping → pong). */
  ping(): Promise<number> {
    const id = `p${this.nextId++}`;
    return this.request("pong", id, { type: "ping", id });
  }

  /** Say `leave`, close the socket and wait for it to close (bounded: 2 s, then terminate). */
  async close(): Promise<void> {
    if (this.closeInfo) return;
    if (this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify({ type: "leave" }));
      this.ws.close(1000, "leave");
    } else if (this.ws.readyState === WebSocket.CONNECTING) {
      this.ws.terminate();
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.ws.terminate();
        resolve();
      }, 2000);
    });
    await Promise.race([this.closed, late]);
    clearTimeout(timer);
    await this.closed;
  }

  /** Resolve on `welcome`; reject on close or timeout (with the server's error if it sent one). */
  private ready(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      let lastError: ProtocolError | undefined;
      const finish = (err?: Error): void => {
        clearTimeout(timer);
        this.joining = undefined;
        if (err) {
          this.ws.terminate();
          reject(err);
        } else resolve();
      };
      const timer = setTimeout(() => finish(new Error(`no welcome within ${timeoutMs} ms`)), timeoutMs);
      this.joining = {
        welcome: () => finish(),
        error: (e) => (lastError = e),
        close: (c) =>
          finish(
            new SignalingError(
              lastError ?? { code: "closed", message: `socket closed before welcome (${c.code} ${c.reason})` },
              c.code,
            ),
          ),
      };
    });
  }

  private onMessage(raw: string): void {
    const parsed = parseServerMessage(raw);
    if (!parsed.ok) {
      this.reportError({ ...parsed.error, code: "bad-server-message", message: `from server: ${parsed.error.message}` });
      return;
    }
    const msg: ServerMessage = parsed.msg;
    switch (msg.type) {
      case "welcome":
        this.welcomeMsg = msg;
        this.joining?.welcome();
        return;
      case "offer": {
        this.lastOffer = msg.sdp;
        const waiters = this.offerWaiters.splice(0);
        for (const w of waiters) w(msg.sdp);
        this.emit("offer", msg.sdp);
        return;
      }
      case "presence":
        this.emit("presence", { student: msg.student, state: msg.state });
        return;
      case "chat":
        this.emit("chat", { id: msg.id, from: msg.from, text: msg.text });
        return;
      case "ack":
      case "pong":
        this.settle(msg.id, msg.type);
        return;
      case "question": {
        const { type: _t, ...q } = msg;
        this.emit("question", q);
        return;
      }
      case "assessment-result": {
        const { type: _t, ...r } = msg;
        this.emit("result", r);
        return;
      }
      case "hand":
        this.emit("hand", msg.from);
        return;
      case "error": {
        const { type: _type, id, ...error } = msg;
        if (id !== undefined) {
          const p = this.pending.get(id);
          if (p) {
            this.pending.delete(id);
            clearTimeout(p.timer);
            p.reject(new SignalingError(error));
          }
        }
        this.reportError(error);
        return;
      }
    }
  }

  private settle(id: string, kind: "ack" | "pong"): void {
    const p = this.pending.get(id);
    if (!p || p.kind !== kind) {
      this.reportError({ code: "unexpected-reply", message: `${kind} for unknown id "${id}"`, field: "id", value: id });
      return;
    }
    this.pending.delete(id);
    clearTimeout(p.timer);
    p.resolve(this.clock.nowMs() - p.sentAtMs);
  }

  private request(kind: "ack" | "pong", id: string, msg: ClientMessage): Promise<number> {
    return new Promise((resolve, reject) => {
      try {
        this.sendChecked(msg);
      } catch (err) {
        reject(err as Error);
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no ${kind} for "${id}" within ${this.requestTimeoutMs} ms`));
      }, this.requestTimeoutMs);
      this.pending.set(id, { kind, sentAtMs: this.clock.nowMs(), resolve, reject, timer });
    });
  }

  /** Validate locally (a message the server would refuse fails here, with the same error) and send. */
  private sendChecked(msg: ClientMessage): void {
    const r = parseValue(ClientMessage, msg);
    if (!r.ok) throw new SignalingError(r.error);
    if (this.ws.readyState !== WebSocket.OPEN) {
      throw new SignalingError({ code: "not-open", message: `socket is not open (state ${this.ws.readyState})` });
    }
    this.ws.send(JSON.stringify(r.msg));
  }

  private on<K extends keyof Events>(kind: K, cb: (e: Events[K]) => void): () => void {
    const list = this.listeners[kind];
    list.push(cb);
    const queued = this.buffered[kind].splice(0);
    for (const e of queued) this.call(kind, cb, e);
    return () => {
      const i = list.indexOf(cb);
      if (i >= 0) list.splice(i, 1);
    };
  }

  private reportError(e: ProtocolError): void {
    this.joining?.error(e);
    this.emit("error", e);
  }

  private emit<K extends keyof Events>(kind: K, e: Events[K]): void {
    const list = this.listeners[kind];
    if (list.length === 0) {
      const q = this.buffered[kind];
      if (q.length < MAX_BUFFERED) q.push(e);
      return;
    }
    for (const cb of [...list]) this.call(kind, cb, e);
  }

  private call<K extends keyof Events>(kind: K, cb: (e: Events[K]) => void, e: Events[K]): void {
    try {
      cb(e);
    } catch (err) {
      if (kind !== "error") {
        this.reportError({ code: "listener-threw", message: `${kind} listener threw: ${(err as Error).message}` });
      }
    }
  }
}

function rawText(data: WebSocket.RawData): string {
  if (Buffer.isBuffer(data)) return data.toString("utf8");
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data).toString("utf8");
}
