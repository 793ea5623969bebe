// InfluxDB sink: the run's points, as line protocol, POSTed to an InfluxDB 1.x/2.x/3.x write
// endpoint (see influx-target.ts). The contract follows k6's InfluxDB output: adding points never
// blocks (they are buffered), a background pump sends batches cut by size (batchLines) and time
// (flushIntervalMs), one request in flight at a time, and a warning when a write takes longer than
// the flush interval.
//
// Nothing is lost: a network error, timeout, 5xx, 408 or 429 is retried with exponential backoff,
// and from the first such failure on, the failed batch and everything queued behind it goes to a
// disk spool (influx-spool.ts) in order; the spool is replayed oldest first when the database
// answers again, and new batches queue behind it until it is empty. A batch the server may have
// stored before the connection died is sent again; InfluxDB keeps one value per series+timestamp,
// so the retry overwrites rather than duplicates. A 4xx other than 408/429 means bad data or bad
// configuration: the server's message is logged, the batch is appended to `influx-rejected.lp`
// (valid line protocol, with a `#` comment naming the error) and counted, never retried.
// Only a failing disk (spool write error) can drop lines; `dropped` counts them.
//
// Every line ends in exactly one counter:  accepted + resumed = written + rejected + dropped + pending
//   accepted  lines given to write()/writeLines()       resumed   lines found in the spool at open
//   written   lines the database stored                 rejected  lines the database refused (4xx)
//   dropped   lines lost to a disk error                pending   lines in memory or in the spool
// and spooled + resumed = replayed + spool lines left (+ unreadable spool lines, counted in
// dropped), where replayed counts spooled lines sent back and answered by the database.
import { appendFile } from "node:fs/promises";
import { join } from "node:path";
import type { Point, Sink } from "./sample.js";
import { toLine } from "./line-protocol.js";
import type { InfluxTarget } from "./influx-target.js";
import { InfluxSpool, type SpoolBatch } from "./influx-spool.js";

export type InfluxSinkOptions = {
  target: InfluxTarget;
  /** Run folder: the spool lives in `<dir>/influx-spool/`, refused batches in `<dir>/influx-rejected.lp`. */
  dir: string;
  /** Lines per request (default 5000). */
  batchLines?: number;
  /** A partial batch is sent after this long (default 1000 ms). */
  flushIntervalMs?: number;
  /** First retry delay (default 250 ms), doubled per failure up to backoffMaxMs (default 5000 ms). */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** One request's time limit (default 10 000 ms). */
  requestTimeoutMs?: number;
  /** How long close() keeps trying before leaving the rest in the spool (default 30 000 ms). */
  closeTimeoutMs?: number;
  /** Lines kept in memory while the database is slow; beyond this they go to the spool (default 100 000). */
  memoryLines?: number;
  /** Where diagnostics go (default: stderr). Never called per point. */
  log?: (message: string) => void;
};

export type InfluxSinkStats = {
  accepted: number;
  resumed: number;
  written: number;
  spooled: number;
  replayed: number;
  rejected: number;
  dropped: number;
  /** Lines not yet answered: in memory plus in the spool. */
  pending: number;
  spoolLines: number;
  spoolFiles: number;
  requests: number;
  retries: number;
  state: "online" | "offline" | "closed";
  lastError: string | null;
};

type Batch = { body: string; lines: number };
type SendResult =
  | { kind: "ok" }
  | { kind: "retry"; reason: string; retryAfterMs?: number }
  | { kind: "rejected"; status: number; message: string; refused: number };

/** Resolves waiters on notify(), or each on its own timeout. */
class Signal {
  private waiters: (() => void)[] = [];

  notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  wait(ms?: number, keepAlive = true): Promise<void> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        if (timer) clearTimeout(timer);
        resolve();
      };
      this.waiters.push(done);
      if (ms !== undefined) {
        timer = setTimeout(() => {
          this.waiters = this.waiters.filter((f) => f !== done);
          resolve();
        }, Math.max(0, ms));
        if (!keepAlive) timer.unref();
      }
    });
  }
}

export class InfluxSink implements Sink {
  readonly name = "influx";
  readonly spoolDir: string;
  readonly rejectedPath: string;

  private readonly batchLines: number;
  private readonly flushIntervalMs: number;
  private readonly backoffInitialMs: number;
  private readonly backoffMaxMs: number;
  private readonly requestTimeoutMs: number;
  private readonly closeTimeoutMs: number;
  private readonly memoryLines: number;
  private readonly log: (message: string) => void;

  private pendingLines: string[] = [];
  private readonly queue: Batch[] = [];
  private queuedLines = 0;
  private readonly spool: InfluxSpool;
  private readonly wake = new Signal();
  private readonly progress = new Signal();
  private readonly abort = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly pumpDone: Promise<void>;
  private closePromise: Promise<void> | undefined;
  private closing = false;
  private abandon = false;
  private sealed = false;
  private backoffMs: number;
  private offlineSince = 0;
  private readonly lastLogged = new Map<string, number>();
  private readonly c = { accepted: 0, resumed: 0, written: 0, spooled: 0, replayed: 0, rejected: 0, dropped: 0, requests: 0, retries: 0 };
  private state: InfluxSinkStats["state"] = "online";
  private lastError: string | null = null;

  constructor(readonly target: InfluxTarget, opts: Omit<InfluxSinkOptions, "target">) {
    this.batchLines = opts.batchLines ?? 5000;
    this.flushIntervalMs = opts.flushIntervalMs ?? 1000;
    this.backoffInitialMs = opts.backoffInitialMs ?? 250;
    this.backoffMaxMs = opts.backoffMaxMs ?? 5000;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.closeTimeoutMs = opts.closeTimeoutMs ?? 30_000;
    this.memoryLines = opts.memoryLines ?? 100_000;
    this.log = opts.log ?? ((m) => process.stderr.write(`${m}\n`));
    this.backoffMs = this.backoffInitialMs;
    this.spoolDir = join(opts.dir, "influx-spool");
    this.rejectedPath = join(opts.dir, "influx-rejected.lp");
    this.spool = new InfluxSpool(this.spoolDir);
    this.c.resumed = this.spool.lines;
    if (this.spool.files > 0) {
      this.log(`influx: ${this.spool.lines} lines (${this.spool.files} files) left in ${this.spoolDir} by an earlier run; replaying them first`);
    }
    this.timer = setInterval(() => {
      if (this.pendingLines.length > 0) this.cut();
    }, this.flushIntervalMs);
    this.timer.unref();
    this.pumpDone = this.pump().catch(async (err: unknown) => {
      this.log(`influx: sink stopped unexpectedly: ${errorText(err)}; saving what is queued to ${this.spoolDir}`);
      this.abandon = true;
      await this.spillQueue().catch(() => undefined);
      this.sealed = true;
    });
  }

  write(points: readonly Point[]): void {
    if (this.sealed) return this.refuseLate(points.length);
    for (const p of points) {
      const line = toLine(p);
      if (line !== null) this.pendingLines.push(line);
    }
    this.afterAppend();
  }

  /** Pre-formatted line protocol (e.g. a run's metrics.lp); blank lines and `#` comments are skipped. */
  writeLines(lines: readonly string[]): void {
    if (this.sealed) return this.refuseLate(lines.length);
    for (const l of lines) if (l !== "" && !l.startsWith("#")) this.pendingLines.push(l);
    this.afterAppend();
  }

  /** Sends everything buffered; true once the database has answered for all of it (spool included). */
  async flush(timeoutMs = this.closeTimeoutMs): Promise<boolean> {
    this.cut();
    const until = Date.now() + timeoutMs;
    while (!this.drained()) {
      const left = until - Date.now();
      if (left <= 0 || this.sealed) return this.drained();
      await this.progress.wait(left);
    }
    return true;
  }

  stats(): InfluxSinkStats {
    return {
      ...this.c,
      pending: this.pendingLines.length + this.queuedLines + this.spool.lines,
      spoolLines: this.spool.lines,
      spoolFiles: this.spool.files,
      state: this.state,
      lastError: this.lastError,
    };
  }

  /** Flushes (up to closeTimeoutMs), then leaves anything unsent in the spool and says so. Never rejects. */
  close(): Promise<void> {
    this.closePromise ??= this.doClose();
    return this.closePromise;
  }

  private async doClose(): Promise<void> {
    this.closing = true;
    clearInterval(this.timer);
    this.cut();
    this.wake.notify();
    let deadline: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<boolean>((resolve) => {
      deadline = setTimeout(() => resolve(true), this.closeTimeoutMs);
    });
    const timedOut = await Promise.race([this.pumpDone.then(() => false), gaveUp]);
    clearTimeout(deadline);
    if (timedOut) {
      this.abandon = true;
      this.abort.abort();
      this.wake.notify();
      await this.pumpDone;
    }
    this.sealed = true;
    this.state = "closed";
    this.progress.notify();
    if (this.spool.files > 0) {
      this.log(
        `influx: gave up after ${this.closeTimeoutMs} ms: ${this.spool.lines} lines (${this.spool.files} files) stay in ${this.spoolDir}` +
          ` (${this.target.display}: ${this.lastError ?? "no answer"}); a sink opened on this run folder replays them (replayInfluxSpool)`,
      );
    }
    if (this.c.rejected > 0) this.log(`influx: ${this.c.rejected} lines were refused by the database; they are in ${this.rejectedPath}`);
    if (this.c.dropped > 0) this.log(`influx: ${this.c.dropped} lines were LOST (spool write failed: ${this.lastError ?? "?"})`);
  }

  private refuseLate(n: number): void {
    this.c.accepted += n;
    this.c.dropped += n;
    this.logLimited("late", `influx: write() after close(): ${n} points dropped`);
  }

  private afterAppend(): void {
    if (this.pendingLines.length >= this.batchLines) this.cut();
  }

  /** Moves buffered lines into batches of at most batchLines and wakes the pump. */
  private cut(): void {
    const lines = this.pendingLines;
    if (lines.length === 0) return;
    this.pendingLines = [];
    this.c.accepted += lines.length;
    for (let i = 0; i < lines.length; i += this.batchLines) {
      const part = lines.length <= this.batchLines ? lines : lines.slice(i, i + this.batchLines);
      this.queue.push({ body: part.join("\n"), lines: part.length });
      this.queuedLines += part.length;
    }
    this.wake.notify();
  }

  private drained(): boolean {
    return this.pendingLines.length === 0 && this.queue.length === 0 && this.spool.files === 0;
  }

  private async pump(): Promise<void> {
    for (;;) {
      if (this.abandon) {
        await this.spillQueue();
        return;
      }
      // Order: once anything is on disk, everything newer goes behind it.
      if (this.queue.length > 0 && (this.spool.files > 0 || this.queuedLines > this.memoryLines)) await this.spillQueue();

      let fromSpool: SpoolBatch | undefined;
      let batch: Batch | undefined;
      if (this.spool.files > 0) {
        try {
          fromSpool = await this.spool.peek();
        } catch (err) {
          const lost = this.spool.forgetHead();
          this.c.dropped += lost;
          this.lastError = errorText(err);
          this.log(`influx: spool file unreadable (${this.lastError}); ${lost} lines lost`);
          continue;
        }
        batch = fromSpool;
      } else {
        batch = this.queue[0];
      }

      if (!batch) {
        this.progress.notify();
        if (this.closing) {
          this.cut();
          if (this.queue.length > 0) continue;
          this.sealed = true;
          return;
        }
        await this.wake.wait();
        continue;
      }

      const started = Date.now();
      const r = await this.send(batch.body, batch.lines);
      const tookMs = Date.now() - started;
      if (tookMs > this.flushIntervalMs && r.kind !== "retry") {
        this.logLimited("slow", `influx: writing ${batch.lines} lines took ${tookMs} ms, longer than the ${this.flushIntervalMs} ms flush interval; the database is falling behind`);
      }

      if (r.kind === "retry") {
        this.c.retries++;
        this.lastError = r.reason;
        if (this.state === "online") {
          this.state = "offline";
          this.offlineSince = Date.now();
          this.log(`influx: ${this.target.display} unavailable (${r.reason}); spooling to ${this.spoolDir} and retrying`);
        }
        if (!fromSpool) await this.spillQueue();
        await this.backoff(r.retryAfterMs);
        continue;
      }

      if (this.state === "offline") {
        this.state = "online";
        this.log(`influx: ${this.target.display} answering again after ${((Date.now() - this.offlineSince) / 1000).toFixed(1)} s; replaying ${this.spool.lines} spooled lines`);
      }
      this.backoffMs = this.backoffInitialMs;
      const refused = r.kind === "rejected" ? r.refused : 0;
      this.c.written += batch.lines - refused;
      this.c.rejected += refused;
      if (r.kind === "rejected") await this.reject(batch, r);
      if (fromSpool) {
        this.c.replayed += fromSpool.lines;
        await this.spool.shift(fromSpool.seq);
      } else {
        this.queue.shift();
        this.queuedLines -= batch.lines;
      }
      this.progress.notify();
    }
  }

  /** Moves every queued batch (and buffered lines, when giving up) to the spool, oldest first. */
  private async spillQueue(): Promise<void> {
    if (this.abandon) this.cut();
    while (this.queue.length > 0) {
      const b = this.queue[0]!;
      try {
        await this.spool.append(b.body, b.lines);
        this.c.spooled += b.lines;
      } catch (err) {
        this.c.dropped += b.lines;
        this.lastError = `spool: ${errorText(err)}`;
        this.logLimited("spool", `influx: cannot write spool ${this.spoolDir} (${errorText(err)}); ${b.lines} lines lost`);
      }
      this.queue.shift();
      this.queuedLines -= b.lines;
    }
  }

  /** Waits out one backoff step; moves new batches to disk meanwhile. */
  private async backoff(retryAfterMs: number | undefined): Promise<void> {
    const waitMs = retryAfterMs !== undefined ? Math.min(retryAfterMs, 60_000) : this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.backoffMaxMs);
    const until = Date.now() + waitMs;
    while (!this.abandon) {
      const left = until - Date.now();
      if (left <= 0) return;
      await this.wake.wait(left, this.closing);
      if (this.queue.length > 0) await this.spillQueue();
    }
  }

  private async send(body: string, lines: number): Promise<SendResult> {
    this.c.requests++;
    let status: number;
    let text: string;
    let retryAfter: string | null;
    try {
      const res = await fetch(this.target.writeUrl, {
        method: "POST",
        headers: this.target.headers,
        body,
        signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.requestTimeoutMs)]),
      });
      status = res.status;
      retryAfter = res.headers.get("retry-after");
      text = await res.text();
    } catch (err) {
      return { kind: "retry", reason: errorText(err) };
    }
    if (status >= 200 && status < 300) return { kind: "ok" };
    const message = serverMessage(text);
    if (status >= 500 || status === 408 || status === 429) {
      return { kind: "retry", reason: `HTTP ${status}: ${message}`, retryAfterMs: parseRetryAfter(retryAfter) };
    }
    return { kind: "rejected", status, message, refused: refusedLines(text, message, lines) };
  }

  private async reject(batch: Batch, r: { status: number; message: string; refused: number }): Promise<void> {
    this.lastError = `HTTP ${r.status}: ${r.message}`;
    this.logLimited(`rejected:${r.status}:${r.message.slice(0, 80)}`, `influx: ${this.target.display} refused ${r.refused} of ${batch.lines} lines (HTTP ${r.status}: ${r.message}); batch saved to ${this.rejectedPath}`);
    const header = `# ${new Date().toISOString()} HTTP ${r.status} from ${this.target.display}: ${r.message.replace(/\s*\n\s*/g, " | ")}; the server kept ${batch.lines - r.refused} of these ${batch.lines} lines\n`;
    try {
      await appendFile(this.rejectedPath, header + batch.body + "\n");
    } catch (err) {
      this.log(`influx: cannot write ${this.rejectedPath}: ${errorText(err)}`);
    }
  }

  /** Logs a message at most once per 10 s per key. */
  private logLimited(key: string, message: string): void {
    const now = Date.now();
    const last = this.lastLogged.get(key);
    if (last !== undefined && now - last < 10_000) return;
    this.lastLogged.set(key, now);
    this.log(message);
  }
}

/** Replays a run folder's left-over spool (e.g. after `close()` gave up) into the target. */
export async function replayInfluxSpool(target: InfluxTarget, dir: string, opts: Omit<InfluxSinkOptions, "target" | "dir"> = {}): Promise<InfluxSinkStats> {
  const sink = new InfluxSink(target, { ...opts, dir });
  await sink.close();
  return sink.stats();
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    if (cause instanceof Error) {
      const code = (cause as Error & { code?: unknown }).code;
      return typeof code === "string" ? `${code}: ${cause.message}` : cause.message;
    }
    return err.name === "TimeoutError" ? "request timed out" : err.message;
  }
  return String(err);
}

/** The server's own words: 1.x `{"error"}`, 2.x `{"message"}`, 3.x `{"error","data"}`, or raw text. */
function serverMessage(text: string): string {
  try {
    const j: unknown = JSON.parse(text);
    if (j && typeof j === "object") {
      const o = j as { error?: unknown; message?: unknown };
      if (typeof o.error === "string") return o.error;
      if (typeof o.message === "string") return o.message;
    }
  } catch {
    // not JSON
  }
  const t = text.trim();
  return t.length > 500 ? `${t.slice(0, 500)}…` : t || "(empty body)";
}

/**
 * How many lines of a refused batch the server did not store. A partial write keeps the rest:
 * 1.x says `partial write: … dropped=N` plus one `unable to parse '…'` per unparsable line;
 * 2.x says `partial write error (N written)`; 3.x lists the failed lines in `data`.
 */
export function refusedLines(body: string, message: string, lines: number): number {
  try {
    const j: unknown = JSON.parse(body);
    if (j && typeof j === "object" && Array.isArray((j as { data?: unknown }).data)) {
      return Math.min(lines, (j as { data: unknown[] }).data.length);
    }
  } catch {
    // not JSON
  }
  const written = /\((\d+) written\)/.exec(message);
  if (written) return Math.max(0, lines - Number(written[1]));
  if (message.startsWith("partial write")) {
    const dropped = /dropped=(\d+)/.exec(message);
    const unparsable = message.split("unable to parse '").length - 1;
    return Math.min(lines, (dropped ? Number(dropped[1]) : 0) + unparsable);
  }
  return lines;
}

function parseRetryAfter(v: string | null): number | undefined {
  if (v === null) return undefined;
  const s = Number(v);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
