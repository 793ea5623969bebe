// The Chromium pool: students joining at once share one launch per microphone setting, and close()
// leaves no browser process and no profile folder behind.
import { describe, it, expect } from "vitest";
import { existsSync } from "node:fs";
import { BrowserPool } from "../../src/agents/browser/browser-pool.js";
import { chromiumUnavailable } from "../helpers/chromium.js";

const why = chromiumUnavailable();
if (why) console.log(`[browser-pool] skipped: ${why}`);

describe.skipIf(why !== null)("BrowserPool", () => {
  it("concurrent get() calls share one browser; close() ends its processes and removes its profile", async () => {
    const pool = new BrowserPool();
    const [a, b, c] = await Promise.all([pool.get(), pool.get(), pool.get()]);
    expect(b).toBe(a);
    expect(c).toBe(a);
    const proc = a.process()!;
    const profile = proc.spawnargs.find((x) => x.startsWith("--user-data-dir="))!.slice("--user-data-dir=".length);
    expect(existsSync(profile)).toBe(true);
    await pool.close();
    expect(proc.exitCode !== null || proc.signalCode !== null).toBe(true);
    expect(existsSync(profile)).toBe(false);
  });

  it("a missing binary is refused naming it, and nothing is left open", async () => {
    const pool = new BrowserPool({ binary: "/nonexistent/chromium" });
    await expect(pool.get()).rejects.toThrow(/no Chromium at \/nonexistent\/chromium/);
    await pool.close();
  });
});
