// A browser student: one Chromium window (headless renders only a window's active tab, so one
// window per student — CHROMIUM.md) on a page adapter's URL, measured by the in-page pixel probe.
// The driver polls the page once a second: it drains the probe's observations (frames, audio
// markers, getStats), converts page-clock times to this process's clock, and mirrors the page's
// student state (questions, results). Answers are decided here (the scenario's behaviour) and
// clicked through the adapter, as the light student does over its socket.
import type { Browser, Page } from "puppeteer-core";
import type { PageObservations, PresentedFrame, AudioMarker, StatsSnapshot } from "../../web/pixel-observations.js";
import type { PageAdapter } from "./page-adapter.js";
import type { AnswerObservation, ResultObservation } from "../light-student.js";
import type { AssessmentResultMessage, QuestionMessage } from "../../protocol.js";

/** A question as the page got it (the protocol's message), with when it arrived. */
export type BrowserQuestion = Omit<QuestionMessage, "type"> & { receivedAtUnixMs: number };
/** An assessment result as the page got it (page clock). */
type PageResult = Omit<AssessmentResultMessage, "type"> & { arrivedAtUnixMs: number };

export type BrowserStudentOptions = {
  adapter: PageAdapter;
  /** Room server base URL (http://127.0.0.1:PORT); pages are opened on http://localhost:PORT. */
  serverUrl: string;
  /** Scenario target.url (a third-party classroom page), for its adapter. */
  targetUrl?: string;
  room: string;
  student: string;
  /** Bound on joining (page load + signaling + ICE + DTLS). */
  joinTimeoutMs?: number;
  /** Click answers: after `afterMs`, right with probability `correct`. */
  behaviour?: { afterMs: number; correct: number; answerKey: Map<string, string>; random: () => number };
  /** Publish the fake microphone (voice answers). */
  voice?: boolean;
  /** false: open the page without the pixel probe (adapters that support it; the browsers bench). Default true. */
  probe?: boolean;
  /** false: no NACK repair (the group's `nack: false`). Default true. */
  nack?: boolean;
  /** Voice answers: speak the utterance `afterMs` after each voice question (file timing from prepareUtterance). */
  speak?: { afterMs: number; leadMs: number; speechMs: number; durationMs: number };
};

export class BrowserStudent {
  readonly name: string;
  readonly frames: PresentedFrame[] = [];
  readonly markers: AudioMarker[] = [];
  readonly stats: StatsSnapshot[] = [];
  readonly errors: string[] = [];
  readonly questions: BrowserQuestion[] = [];
  readonly results: ResultObservation[] = [];
  readonly answers: AnswerObservation[] = [];
  joinMs?: number;
  joinRetries = 0;
  /** Page clock − this process's clock (ms), measured at join by a round trip. */
  pageClockOffsetMs = 0;
  private page?: Page;
  private poller?: NodeJS.Timeout;
  private polling?: Promise<void>;
  private answered = new Set<string>();
  private timers: NodeJS.Timeout[] = [];

  constructor(private readonly opts: BrowserStudentOptions) {
    this.name = opts.student;
  }

  /** Publishes the fake microphone (its browser must be launched with one). */
  get voice(): boolean {
    return this.opts.voice === true;
  }

  /** Open this student's window in `browser` and join; resolves once media flows. */
  async join(browser: Browser): Promise<void> {
    const { adapter, room, student } = this.opts;
    const t0 = Date.now();
    const page = (this.page = await browser.newPage({ type: "window" } as never));
    page.on("pageerror", (e) => this.errors.push(`page error: ${(e as Error).message}`));
    page.on("console", (m) => {
      if (m.type() === "error") this.errors.push(`console: ${m.text()}`);
    });
    const ctx = { serverUrl: localhostUrl(this.opts.serverUrl), ...(this.opts.targetUrl ? { targetUrl: this.opts.targetUrl } : {}), room, student, voice: this.opts.voice === true, ...(this.opts.probe === false ? { probe: false } : {}), ...(this.opts.nack === false ? { nack: false } : {}) };
    await adapter.prepare?.(page, ctx);
    const url = adapter.url(ctx);
    await page.goto(url, { waitUntil: "load", timeout: this.opts.joinTimeoutMs ?? 15_000 });
    await adapter.join(page, { room, student, timeoutMs: this.opts.joinTimeoutMs ?? 15_000 });
    this.joinMs = Date.now() - t0;
    this.pageClockOffsetMs = await measureClockOffset(page);
    this.poller = setInterval(() => {
      if (!this.polling) this.polling = this.poll().finally(() => (this.polling = undefined));
    }, 1000);
  }

  /** Drain the page now (also called once a second). */
  async poll(): Promise<void> {
    const page = this.page;
    if (!page || page.isClosed()) return;
    let got: { obs: PageObservations | null; questions: BrowserQuestion[]; results: PageResult[] };
    try {
      got = await page.evaluate(() => {
        const w = window as unknown as { __proctorProbe?: { drain(): unknown }; __proctorStudent?: { questions: unknown[]; results: unknown[] } };
        return {
          obs: (w.__proctorProbe?.drain() ?? null) as never,
          questions: (w.__proctorStudent?.questions ?? []) as never,
          results: (w.__proctorStudent?.results ?? []) as never,
        };
      });
    } catch (e) {
      if (!page.isClosed()) this.errors.push(`poll: ${(e as Error).message}`);
      return;
    }
    const off = this.pageClockOffsetMs;
    if (got.obs) {
      for (const f of got.obs.frames) {
        this.frames.push({
          ...f,
          presentedUnixMs: f.presentedUnixMs - off,
          expectedDisplayUnixMs: f.expectedDisplayUnixMs - off,
          ...(f.receiveUnixMs !== undefined ? { receiveUnixMs: f.receiveUnixMs - off } : {}),
          ...(f.captureUnixMs !== undefined ? { captureUnixMs: f.captureUnixMs - off } : {}),
        });
      }
      for (const m of got.obs.markers) this.markers.push({ ...m, playedUnixMs: m.playedUnixMs - off });
      for (const s of got.obs.stats) {
        this.stats.push({
          ...s,
          atUnixMs: s.atUnixMs - off,
          // estimatedPlayoutTimestamp is on the sender's NTP clock as the browser estimates it (same
          // machine here), so it is not shifted by the page offset.
        });
      }
      this.errors.push(...got.obs.errors);
    }
    for (const q of got.questions.slice(this.questions.length)) {
      const local = { ...q, receivedAtUnixMs: q.receivedAtUnixMs - off };
      this.questions.push(local);
      this.scheduleAnswer(local);
    }
    for (const { arrivedAtUnixMs, type: _type, ...r } of got.results.slice(this.results.length) as (PageResult & { type?: string })[]) {
      this.results.push({ ...r, arrivedUnixMs: arrivedAtUnixMs - off });
    }
  }

  private scheduleAnswer(q: BrowserQuestion): void {
    if (this.opts.speak && q.voice && !this.answered.has(q.questionId)) return this.scheduleSpeech(q, this.opts.speak);
    const b = this.opts.behaviour;
    if (!b || this.answered.has(q.questionId)) return;
    this.answered.add(q.questionId);
    const right = b.answerKey.get(q.questionId);
    const wrong = q.choices.filter((c) => c !== right);
    const choice = right !== undefined && (b.random() < b.correct || wrong.length === 0) ? right : (wrong[Math.floor(b.random() * wrong.length)] ?? q.choices[0]);
    if (choice === undefined) return;
    this.timers.push(
      setTimeout(() => {
        const page = this.page;
        if (!page || page.isClosed()) return;
        const before = performance.timeOrigin + performance.now();
        this.opts.adapter
          .answer(page, q.questionId, choice)
          .then((pageSentAt) => {
            // The page's own send stamp when the adapter reports one, else ours (before the click).
            this.answers.push({ questionId: q.questionId, kind: "click", choice, sentAtUnixMs: typeof pageSentAt === "number" ? pageSentAt - this.pageClockOffsetMs : before });
          })
          .catch((e: Error) => this.errors.push(`answer ${q.questionId}: ${e.message}`));
      }, b.afterMs),
    );
  }

  /**
   * Speak the utterance: the page opens a fresh capture of the fake microphone (the file plays once
   * from its start) on the voice line. Sent = end of speech = capture start + lead + speech.
   */
  private scheduleSpeech(q: BrowserQuestion, sp: NonNullable<BrowserStudentOptions["speak"]>): void {
    this.answered.add(q.questionId);
    this.timers.push(
      setTimeout(() => {
        const page = this.page;
        if (!page || page.isClosed()) return;
        page
          .evaluate((ms) => (window as unknown as { __proctorStudent: { speak(ms: number): Promise<number> } }).__proctorStudent.speak(ms), sp.durationMs)
          .then((startedAt) => {
            const start = startedAt - this.pageClockOffsetMs;
            this.answers.push({ questionId: q.questionId, kind: "voice", sentAtUnixMs: start + sp.leadMs + sp.speechMs, speechStartedAtUnixMs: start + sp.leadMs });
          })
          .catch((e: Error) => this.errors.push(`speak ${q.questionId}: ${e.message}`));
      }, sp.afterMs),
    );
  }

  async leave(): Promise<void> {
    if (this.poller) clearInterval(this.poller);
    for (const t of this.timers) clearTimeout(t);
    await this.polling;
    await this.poll().catch(() => undefined);
    const page = this.page;
    this.page = undefined;
    if (!page || page.isClosed()) return;
    await this.opts.adapter.leave?.(page).catch(() => undefined);
    await page.close().catch(() => undefined);
  }
}

/** Pages must come from http://localhost (a secure context for getUserMedia etc.). */
export function localhostUrl(serverUrl: string): string {
  const u = new URL(serverUrl);
  if (u.hostname === "127.0.0.1") u.hostname = "localhost";
  return u.origin;
}

/**
 * Page clock − Node clock, by the midpoint of a round trip (ms). Both are the same machine's wall
 * clock, but a page's performance.timeOrigin + now() is fixed at navigation and drifts from
 * Date.now() by NTP slews; the best of 5 round trips keeps the error under half the shortest one.
 */
export async function measureClockOffset(page: Page): Promise<number> {
  let best = { rtt: Infinity, offset: 0 };
  for (let i = 0; i < 5; i++) {
    const t0 = performance.timeOrigin + performance.now();
    const pageNow = await page.evaluate(() => performance.timeOrigin + performance.now());
    const t1 = performance.timeOrigin + performance.now();
    if (t1 - t0 < best.rtt) best = { rtt: t1 - t0, offset: pageNow - (t0 + t1) / 2 };
  }
  return best.offset;
}
