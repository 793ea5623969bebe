// Chromium for browser students: Debian's binary and the flags that keep it on loopback
// (../shared/CHROMIUM.md: without the last two of the first group it makes DNS and mDNS traffic).
import { existsSync } from "node:fs";

/** The browser binary: $PROCTOR_CHROMIUM, else Debian's. */
export const CHROMIUM = process.env.PROCTOR_CHROMIUM ?? "/usr/bin/chromium";

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-features=WebRtcHideLocalIpsWithMdns",
  "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost",
];

/**
 * Flags for a student browser: gather ICE candidates on loopback (Chromium skips the loopback
 * interface otherwise, and would use the machine's other addresses), play audio without a
 * gesture, keep timers and rendering running in windows that are not focused.
 */
export const STUDENT_ARGS = [
  ...CHROMIUM_ARGS,
  "--allow-loopback-in-peer-connection",
  "--autoplay-policy=no-user-gesture-required",
  "--disable-background-timer-throttling",
  "--disable-renderer-backgrounding",
  "--disable-backgrounding-occluded-windows",
];

/** Extra flags from $PROCTOR_CHROMIUM_ARGS (space-separated), appended to a student browser's. */
export function extraChromiumArgs(env: string | undefined = process.env.PROCTOR_CHROMIUM_ARGS): string[] {
  return (env ?? "").split(/\s+/).filter((a) => a.length > 0);
}

/** Fake microphone from a WAV file (voice answers), played once from its start by each capture. */
export function fakeAudioCaptureArgs(wavPath: string): string[] {
  return ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream", `--use-file-for-fake-audio-capture=${wavPath}%noloop`];
}

/** Why browser students cannot run here, or null when they can. */
export function chromiumUnavailable(binary = CHROMIUM): string | null {
  return existsSync(binary) ? null : `no Chromium at ${binary} (apt install chromium, or set PROCTOR_CHROMIUM)`;
}
