// An assessor behind HTTP: POSTs the JSON contract of docs/assessor.md to `url` and validates the
// reply. `timeoutMs` bounds the whole call (every attempt and every backoff), so the teacher knows
// an answer is scored or failed by then. Retried (exponential backoff, base `backoffMs`, doubling):
// network errors, 408, 429 and 5xx. Not retried: other 4xx, a 2xx with a bad body (a contract bug
// does not heal), and the caller's abort.
import { systemClock, type Clock } from "../clock.js";
import { AssessorError, parseWireResponse, toWireRequest, type AssessRequest, type AssessResult, type Assessor } from "./assessor.js";

export type HttpAssessorOptions = {
  url: string;
  /** Budget for the whole call, retries included (default 5000 ms). */
  timeoutMs?: number;
  /** Extra attempts after the first (default 2). */
  retries?: number;
  /** First backoff (default 100 ms); doubles per retry, capped by the time left. */
  backoffMs?: number;
  headers?: Record<string, string>;
  clock?: Clock;
};

const RETRYABLE_STATUS = (s: number): boolean => s === 408 || s === 429 || s >= 500;

export class HttpAssessor implements Assessor {
  private readonly timeoutMs: number;
  private readonly retries: number;
  private readonly backoffMs: number;
  private readonly clock: Clock;

  constructor(private readonly opts: HttpAssessorOptions) {
    let parsed: URL;
    try {
      parsed = new URL(opts.url);
    } catch {
      throw new AssessorError("bad-request", `http assessor: url ${JSON.stringify(opts.url)} is not a URL`);
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") throw new AssessorError("bad-request", `http assessor: url must be http(s), got ${JSON.stringify(opts.url)}`);
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.retries = opts.retries ?? 2;
    this.backoffMs = opts.backoffMs ?? 100;
    this.clock = opts.clock ?? systemClock;
    if (!(this.timeoutMs > 0)) throw new AssessorError("bad-request", `http assessor: timeoutMs must be > 0, got ${this.timeoutMs}`);
    if (!Number.isInteger(this.retries) || this.retries < 0) throw new AssessorError("bad-request", `http assessor: retries must be an integer ≥ 0, got ${this.retries}`);
  }

  async assess(req: AssessRequest, signal: AbortSignal): Promise<AssessResult> {
    const url = this.opts.url;
    const t0 = this.clock.nowMs();
    const deadline = t0 + this.timeoutMs;
    const body = JSON.stringify(toWireRequest(req));
    const headers = { "content-type": "application/json", accept: "application/json", ...this.opts.headers };
    const fail = (kind: ConstructorParameters<typeof AssessorError>[0], msg: string, attempts: number): AssessorError =>
      new AssessorError(kind, `assessor ${url}: ${msg} (after ${attempts} attempt${attempts === 1 ? "" : "s"}, ${Math.round(this.clock.nowMs() - t0)} ms)`, attempts);
    let last = "";
    for (let attempt = 1; ; attempt++) {
      if (signal.aborted) throw fail("aborted", "aborted by the caller", attempt - 1);
      const left = deadline - this.clock.nowMs();
      if (left <= 0) throw fail("timeout", `no score within the ${this.timeoutMs} ms budget${last ? `; last error: ${last}` : ""}`, attempt - 1);
      const outcome = await this.attempt(url, headers, body, left, signal);
      if (outcome.kind === "ok") {
        const checked = parseWireResponse(outcome.json);
        if (!checked.ok) throw fail("bad-response", `bad response body: ${checked.problems.join("; ")}`, attempt);
        const v = checked.value;
        return {
          score: v.score,
          ...(v.transcript !== undefined ? { transcript: v.transcript } : {}),
          latencyMs: this.clock.nowMs() - t0,
          assessor: v.assessor ?? `http ${url}`,
        };
      }
      if (outcome.kind === "aborted") throw fail("aborted", "aborted by the caller", attempt);
      if (outcome.kind === "timeout") throw fail("timeout", `no score within the ${this.timeoutMs} ms budget (attempt ${attempt} had no reply yet)`, attempt);
      if (outcome.kind === "fatal") throw fail(outcome.error, outcome.message, attempt);
      last = outcome.message;
      if (attempt > this.retries) throw fail(outcome.error, `${last}; no retries left`, attempt);
      const wait = Math.min(this.backoffMs * 2 ** (attempt - 1), Math.max(0, deadline - this.clock.nowMs()));
      if (!(await sleep(wait, signal))) throw fail("aborted", "aborted by the caller", attempt);
    }
  }

  private async attempt(
    url: string,
    headers: Record<string, string>,
    body: string,
    budgetMs: number,
    signal: AbortSignal,
  ): Promise<
    | { kind: "ok"; json: unknown }
    | { kind: "retry"; error: "http" | "network"; message: string }
    | { kind: "fatal"; error: "http" | "bad-response"; message: string }
    | { kind: "timeout" }
    | { kind: "aborted" }
  > {
    const ac = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort();
    }, budgetMs);
    const onAbort = (): void => ac.abort();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      const res = await fetch(url, { method: "POST", headers, body, signal: ac.signal });
      const text = await res.text();
      if (!res.ok) {
        const msg = `HTTP ${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ""}`;
        return RETRYABLE_STATUS(res.status) ? { kind: "retry", error: "http", message: msg } : { kind: "fatal", error: "http", message: msg };
      }
      try {
        return { kind: "ok", json: JSON.parse(text) as unknown };
      } catch {
        return { kind: "fatal", error: "bad-response", message: `response body is not JSON: ${JSON.stringify(text.slice(0, 120))}` };
      }
    } catch (e) {
      if (signal.aborted) return { kind: "aborted" };
      if (timedOut) return { kind: "timeout" };
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      return { kind: "retry", error: "network", message: `network error: ${cause?.code ?? cause?.message ?? (e as Error).message}` };
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    }
  }
}

/** Wait `ms`; false if `signal` aborted first. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const t = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      resolve(false);
    };
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
