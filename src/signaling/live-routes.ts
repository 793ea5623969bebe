// The room server's live view: GET /live serves the in-class page (src/web/live-view.ts), GET
// /live/data?since=<unix ms> the recent per-student per-second samples and events as JSON. The
// data comes from a `LiveSource`; `LiveBuffer` is one fed as a metrics Sink (it keeps the `wire`
// points and the marker events of the last few minutes in memory), so the runner adds it to its
// sinks and hands it to the room server — the server itself stays ignorant of metrics.
//
//   GET /live                 text/html, CSP default-src 'none' (inline script/style, same-origin fetch)
//   GET /live/data?since=MS   {"now": MS, "windowMs": N, "samples": LiveSample[], "events": LiveEvent[]}
//                             since defaults to now − window and is clamped to the window; 400 if not a number
import type { FastifyInstance } from "fastify";
import type { Point, Sink } from "../metrics/sample.js";
import { liveViewHtml } from "../web/live-view.js";

/** One student's second: the fields of a `wire` point (absent when not measured that second). */
export type LiveSample = {
  /** Start of the second (unix ms). */
  unixMs: number;
  room: string;
  student: string;
  latencyP50Ms?: number;
  latencyP95Ms?: number;
  latencyMaxMs?: number;
  fps?: number;
  bitrateKbps?: number;
  lossPct?: number;
  audioLossPct?: number;
  jitterMs?: number;
};

/** A marker under the charts: a netem step, a clip switch, a freeze (student absent: whole room). */
export type LiveEvent = { unixMs: number; kind: string; room: string; student?: string; value?: number };

export interface LiveSource {
  /** Samples whose second starts at or after `sinceUnixMs`, any order. Called once a second per open page. */
  recent(sinceUnixMs: number): LiveSample[];
  /** Marker events at or after `sinceUnixMs` (optional). */
  events?(sinceUnixMs: number): LiveEvent[];
}

export type LiveViewOptions = {
  /** Seconds of history the page draws and /live/data serves (default 60). */
  windowSeconds?: number;
  /** Clock for `now` (default Date.now); tests inject theirs. */
  nowUnixMs?: () => number;
  title?: string;
};

const LIVE_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'";

export function registerLiveView(app: FastifyInstance, source: LiveSource, opts: LiveViewOptions = {}): void {
  const windowMs = (opts.windowSeconds ?? 60) * 1000;
  const now = opts.nowUnixMs ?? Date.now;
  const page = liveViewHtml({ dataPath: "/live/data", windowSeconds: windowMs / 1000, title: opts.title });

  app.get("/live", async (_req, reply) => {
    reply.header("content-type", "text/html; charset=utf-8").header("content-security-policy", LIVE_CSP).header("cache-control", "no-store");
    return page;
  });

  app.get<{ Querystring: { since?: string } }>("/live/data", async (req, reply) => {
    const t = now();
    const raw = req.query.since;
    let since = t - windowMs;
    if (raw !== undefined && raw !== "") {
      const n = Number(raw);
      if (!Number.isFinite(n)) {
        reply.code(400);
        return { error: `since: expected unix milliseconds, got ${JSON.stringify(raw)}` };
      }
      since = Math.max(since, n);
    }
    reply.header("cache-control", "no-store");
    return { now: t, windowMs, samples: source.recent(since), events: source.events?.(since) ?? [] };
  });
}

const EVENT_KINDS = new Set(["netem_step", "clip_switch", "freeze", "clip_start"]);

function num(v: Point["fields"][string] | undefined): number | undefined {
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/**
 * A LiveSource fed as a Sink: keeps `wire` points (as LiveSamples) and marker events for
 * `keepSeconds` (default 300). write() is called about once a second per student; no I/O.
 */
export class LiveBuffer implements Sink, LiveSource {
  readonly name = "live";
  private samples: LiveSample[] = [];
  private marks: LiveEvent[] = [];
  private readonly keepMs: number;
  private prunedAt = -Infinity;

  constructor(opts: { keepSeconds?: number } = {}) {
    this.keepMs = (opts.keepSeconds ?? 300) * 1000;
  }

  write(points: readonly Point[]): void {
    let newest = -Infinity;
    for (const p of points) {
      const room = p.tags.room;
      if (room === undefined) continue;
      if (p.measurement === "wire" && p.tags.student !== undefined) {
        const f = p.fields;
        this.samples.push({
          unixMs: p.timeUnixMs,
          room,
          student: p.tags.student,
          latencyP50Ms: num(f.latency_p50_ms),
          latencyP95Ms: num(f.latency_p95_ms),
          latencyMaxMs: num(f.latency_max_ms),
          fps: num(f.fps),
          bitrateKbps: num(f.bitrate_kbps),
          lossPct: num(f.loss_pct),
          audioLossPct: num(f.audio_loss_pct),
          jitterMs: num(f.jitter_ms),
        });
      } else if (p.measurement === "event" && p.tags.kind !== undefined && EVENT_KINDS.has(p.tags.kind)) {
        const value = p.tags.kind === "freeze" ? num(p.fields.duration_ms) : p.tags.kind === "clip_switch" ? num(p.fields.gap_ms) : p.tags.kind === "netem_step" ? num(p.fields.step) : num(p.fields.clip_id);
        this.marks.push({ unixMs: p.timeUnixMs, kind: p.tags.kind, room, student: p.tags.student, value });
      } else {
        continue;
      }
      if (p.timeUnixMs > newest) newest = p.timeUnixMs;
    }
    if (newest > -Infinity) this.prune(newest - this.keepMs);
  }

  /** At most once per second of data time: points arrive in any order, so filter, don't shift. */
  private prune(cutUnixMs: number): void {
    if (cutUnixMs - this.prunedAt < 1000) return;
    this.prunedAt = cutUnixMs;
    this.samples = this.samples.filter((s) => s.unixMs >= cutUnixMs);
    this.marks = this.marks.filter((e) => e.unixMs >= cutUnixMs);
  }

  recent(sinceUnixMs: number): LiveSample[] {
    return this.samples.filter((s) => s.unixMs >= sinceUnixMs);
  }

  events(sinceUnixMs: number): LiveEvent[] {
    return this.marks.filter((e) => e.unixMs >= sinceUnixMs);
  }

  async close(): Promise<void> {
    // Nothing to flush; the page keeps showing the last samples until the server closes.
  }
}
