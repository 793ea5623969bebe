// Chromium processes for a run's browser students. The choice (README "Browser students"): one
// browser process per kind of student — the fake microphone file is a process-wide flag, so
// speaking students get their own — and one window per student inside it (headless renders only a
// window's active tab; each window still gets its own renderer process). One process saves the
// browser's fixed cost (~100 MB, GPU/network service processes) per student.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer, { type Browser } from "puppeteer-core";
import { CHROMIUM, STUDENT_ARGS, chromiumUnavailable, extraChromiumArgs, fakeAudioCaptureArgs } from "./chromium-flags.js";

export class BrowserPool {
  /** Launches by microphone key; the promise is kept so students joining at once share one launch. */
  private readonly launches = new Map<string, Promise<{ browser: Browser; profileDir: string }>>();

  constructor(private readonly opts: { binary?: string; log?: (line: string) => void } = {}) {}

  /** The browser for students with this microphone file (none = no microphone). */
  async get(micWav?: string): Promise<Browser> {
    const key = micWav ?? "";
    let launch = this.launches.get(key);
    if (!launch) this.launches.set(key, (launch = this.launch(micWav)));
    return (await launch).browser;
  }

  private async launch(micWav?: string): Promise<{ browser: Browser; profileDir: string }> {
    const binary = this.opts.binary ?? CHROMIUM;
    const why = chromiumUnavailable(binary);
    if (why) throw new Error(`browser students: ${why}`);
    const profileDir = mkdtempSync(join(tmpdir(), "proctor-chromium-"));
    try {
      const browser = await puppeteer.launch({
        executablePath: binary,
        headless: true,
        userDataDir: profileDir,
        args: [...STUDENT_ARGS, ...(micWav ? fakeAudioCaptureArgs(micWav) : []), ...extraChromiumArgs()],
        defaultViewport: { width: 660, height: 420 },
        protocolTimeout: 60_000,
      });
      this.opts.log?.(`chromium ${await browser.version()} started${micWav ? " (fake microphone)" : ""}`);
      return { browser, profileDir };
    } catch (e) {
      rmSync(profileDir, { recursive: true, force: true });
      throw e;
    }
  }

  async close(): Promise<void> {
    const launches = [...this.launches.values()];
    this.launches.clear();
    for (const l of await Promise.allSettled(launches)) {
      if (l.status !== "fulfilled") continue;
      await l.value.browser.close().catch(() => undefined);
      rmSync(l.value.profileDir, { recursive: true, force: true });
    }
  }
}
