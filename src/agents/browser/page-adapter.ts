// Page adapters: how a browser student drives a classroom web app. proctor's own student page is
// the first adapter (`proctor`); a third-party classroom gets its own (join flow, where its media
// elements are, how a student answers) and the same pixel probe measures it: the probe is injected
// before any page script runs, hooks RTCPeerConnection, and measures the <video>/<audio> elements
// the adapter points at. Scenario: `target: { url, adapter }` (README "Browser students").
import type { Page } from "puppeteer-core";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

export type AdapterContext = {
  /** The room server (http://localhost:PORT): serves the student page and the probe modules. */
  serverUrl: string;
  /** Scenario `target.url`, for adapters of other apps. */
  targetUrl?: string;
  room: string;
  student: string;
  voice: boolean;
  /** false: the reference page plays without the pixel probe (`probe=0`; plain playback cost). Default true. */
  probe?: boolean;
  /** false: the reference page answers without NACK (`nack=0`; the group's `nack: false`). Default true. */
  nack?: boolean;
};

export interface PageAdapter {
  readonly name: string;
  /** The page to open for this student. */
  url(ctx: AdapterContext): string;
  /** Before navigation (e.g. inject scripts with page.evaluateOnNewDocument). */
  prepare?(page: Page, ctx: AdapterContext): Promise<void>;
  /** After load: do whatever joining takes, resolve once media flows (or throw, naming why). */
  join(page: Page, opts: { room: string; student: string; timeoutMs: number }): Promise<void>;
  /** Answer an open question by clicking/sending `choice`; may return the page-clock send time. */
  answer(page: Page, questionId: string, choice: string): Promise<number | void>;
  leave?(page: Page): Promise<void>;
}

/** proctor's reference student page (src/web/page/student.ts), served by the room server at /student. */
export const proctorAdapter: PageAdapter = {
  name: "proctor",
  url: ({ serverUrl, room, student, voice, probe, nack }) =>
    `${serverUrl}/student?${new URLSearchParams({ room, student, ...(voice ? { voice: "1" } : {}), ...(probe === false ? { probe: "0" } : {}), ...(nack === false ? { nack: "0" } : {}) }).toString()}`,
  async join(page, { timeoutMs }) {
    try {
      await page.waitForFunction(
        () => {
          const s = (window as unknown as { __proctorStudent?: { state: string } }).__proctorStudent;
          return s !== undefined && (s.state === "connected" || s.state === "failed");
        },
        { timeout: timeoutMs, polling: 50 },
      );
    } catch {
      const state = await page.evaluate(() => (window as unknown as { __proctorStudent?: { state: string; iceState?: string } }).__proctorStudent).catch(() => undefined);
      throw new Error(`browser join timed out after ${timeoutMs} ms (page state ${state?.state ?? "no student script"}, ICE ${state?.iceState ?? "-"})`);
    }
    const st = await page.evaluate(() => {
      const s = (window as unknown as { __proctorStudent: { state: string; errors: string[] } }).__proctorStudent;
      return { state: s.state, errors: s.errors };
    });
    if (st.state !== "connected") throw new Error(`browser join failed: ${st.errors.join("; ") || st.state}`);
  },
  async answer(page, questionId, choice) {
    return page.evaluate(
      (q, c) => {
        const s = (window as unknown as { __proctorStudent: { answer(q: string, c: string): void; answers: { sentAtUnixMs: number }[] } }).__proctorStudent;
        s.answer(q, c);
        return s.answers[s.answers.length - 1]!.sentAtUnixMs;
      },
      questionId,
      choice,
    );
  },
  async leave(page) {
    await page.evaluate(() => (window as unknown as { __proctorStudent?: { leave(): void } }).__proctorStudent?.leave());
  },
};

/**
 * Inject the pixel probe into any page before its scripts run: the script imports probe.js from
 * the room server (CORS-enabled) and watches every <video>/<audio> playing a MediaStream; the
 * RTCPeerConnection hook (so getStats reaches the app's own connections) is injected as plain
 * source first, so it is in place before the page creates any connection.
 */
export async function injectProbe(page: Page, serverUrl: string): Promise<void> {
  const probeUrl = `${serverUrl}/static/web/page/probe.js`;
  // The hook itself goes in synchronously (it is self-contained), before any page script.
  const compiled = (await import(pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "dist", "web", "page", "probe.js")).href)) as {
    hookPeerConnections: () => unknown;
  };
  await page.evaluateOnNewDocument(compiled.hookPeerConnections);
  await page.evaluateOnNewDocument(`
    import(${JSON.stringify(probeUrl)}).then((m) => {
      const pcs = m.hookPeerConnections();
      const probe = m.installProbe();
      const start = () => { probe.autoWatch(); probe.pollStats(pcs); };
      if (document.readyState === "loading") addEventListener("DOMContentLoaded", start); else start();
    }, (e) => { window.__proctorProbeError = String(e); });
  `);
}

/**
 * Any web page that plays WebRTC media in <video>/<audio> elements: opens `target.url` (with
 * {room}, {student} and {server} — the room server's URL — replaced), injects the probe, and counts the student joined once the
 * page presents video. It cannot answer questions (a classroom's own adapter knows its buttons).
 */
export const mediaElementsAdapter: PageAdapter = {
  name: "media-elements",
  url({ targetUrl, serverUrl, room, student }) {
    if (!targetUrl) throw new Error('adapter "media-elements" needs target.url in the scenario');
    return targetUrl
      .replaceAll("{room}", encodeURIComponent(room))
      .replaceAll("{student}", encodeURIComponent(student))
      .replaceAll("{server}", encodeURIComponent(serverUrl));
  },
  prepare: (page, ctx) => injectProbe(page, ctx.serverUrl),
  async join(page, { timeoutMs }) {
    try {
      await page.waitForFunction(
        () => Array.from(document.querySelectorAll("video")).some((v) => v.readyState >= 2 && !v.paused && v.videoWidth > 0),
        { timeout: timeoutMs, polling: 100 },
      );
    } catch {
      const err = await page.evaluate(() => (window as unknown as { __proctorProbeError?: string }).__proctorProbeError).catch(() => undefined);
      throw new Error(`no <video> started playing on ${page.url()} within ${timeoutMs} ms${err ? ` (probe: ${err})` : ""}`);
    }
  },
  async answer() {
    throw new Error('adapter "media-elements" cannot answer questions: write an adapter for this classroom (see README "Bring your own classroom")');
  },
};

const ADAPTERS = new Map<string, PageAdapter>([
  [proctorAdapter.name, proctorAdapter],
  [mediaElementsAdapter.name, mediaElementsAdapter],
]);

/** A registered adapter by name; the error lists the known ones. */
export function pageAdapter(name: string): PageAdapter {
  const a = ADAPTERS.get(name);
  if (!a) throw new Error(`unknown page adapter "${name}" (known: ${[...ADAPTERS.keys()].join(", ")})`);
  return a;
}

/** Register a third-party classroom's adapter (programmatic use; see README). */
export function registerPageAdapter(a: PageAdapter): void {
  ADAPTERS.set(a.name, a);
}
