// ffmpeg wrapper: where the binary is, and one way to run it. The binary ships inside the npm
// package @ffmpeg-installer/ffmpeg (works offline, unlike ffmpeg-static); FFMPEG_PATH overrides it
// (DESIGN.md "Media"). runFfmpeg streams stdin with backpressure, collects stdout, and turns a
// non-zero exit into an Error that carries the exit code and the tail of stderr.

import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import type { Writable } from "node:stream";

const STDERR_KEEP_BYTES = 64 * 1024;
const STDERR_TAIL_LINES = 20;

let cachedPath: string | undefined;

/** Path of the ffmpeg binary: $FFMPEG_PATH if set, else the one in @ffmpeg-installer/ffmpeg. */
export function ffmpegPath(): string {
  const fromEnv = process.env["FFMPEG_PATH"];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  if (cachedPath !== undefined) return cachedPath;
  const require = createRequire(import.meta.url);
  let mod: unknown;
  try {
    mod = require("@ffmpeg-installer/ffmpeg");
  } catch (err) {
    // The package throws plain strings for an unsupported platform or a missing binary.
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`ffmpeg: cannot load @ffmpeg-installer/ffmpeg (${why}); set FFMPEG_PATH to an ffmpeg binary`);
  }
  const path = typeof mod === "object" && mod !== null && "path" in mod ? mod.path : undefined;
  if (typeof path !== "string" || path === "") {
    throw new Error("ffmpeg: @ffmpeg-installer/ffmpeg exported no path; set FFMPEG_PATH to an ffmpeg binary");
  }
  cachedPath = path;
  return path;
}

export type FfmpegOptions = {
  /** Data for ffmpeg's stdin (use "pipe:0" as an input). Omitted: ffmpeg runs with -nostdin. */
  stdin?: Buffer | AsyncIterable<Buffer>;
};

export type FfmpegResult = { stdout: Buffer; stderr: string };

function hasFlag(args: readonly string[], ...flags: string[]): boolean {
  return args.some((a) => flags.includes(a));
}

/**
 * Run ffmpeg with `args`. Prepends -hide_banner, -nostdin (only when no stdin is given) and
 * -loglevel error (unless args already set -loglevel/-v). Resolves with all of stdout and the
 * (tail of) stderr; rejects on a non-zero exit, a signal, a spawn failure or a failing stdin source.
 */
export function runFfmpeg(args: string[], opts: FfmpegOptions = {}): Promise<FfmpegResult> {
  const full: string[] = ["-hide_banner"];
  if (opts.stdin === undefined) full.push("-nostdin");
  if (!hasFlag(args, "-loglevel", "-v")) full.push("-loglevel", "error");
  full.push(...args);

  return new Promise<FfmpegResult>((resolve, reject) => {
    const bin = ffmpegPath();
    const child = spawn(bin, full, { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    let stderr = "";
    let feedError: unknown;
    let exited = false;

    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (chunk: string) => {
      stderr += chunk;
      if (stderr.length > 2 * STDERR_KEEP_BYTES) stderr = stderr.slice(-STDERR_KEEP_BYTES);
    });

    child.on("error", (err) => {
      exited = true;
      reject(new Error(`ffmpeg: cannot run ${bin}: ${err.message}`));
    });

    child.on("close", (code, signal) => {
      if (exited) return;
      exited = true;
      if (feedError !== undefined) {
        reject(feedError instanceof Error ? feedError : new Error(String(feedError)));
        return;
      }
      if (code === 0) {
        resolve({ stdout: Buffer.concat(out), stderr });
        return;
      }
      const tail = stderr.trimEnd().split(/\r?\n/).slice(-STDERR_TAIL_LINES).join("\n");
      const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`;
      reject(new Error(`ffmpeg ${how} (args: ${full.join(" ")})${tail ? `\n${tail}` : ""}`));
    });

    const stdin = child.stdin;
    // EPIPE when ffmpeg exits early: the exit code and stderr tell the real story.
    stdin.on("error", () => undefined);
    if (opts.stdin === undefined) {
      stdin.end();
    } else {
      feed(stdin, opts.stdin, () => exited).catch((err: unknown) => {
        feedError = err;
        child.kill("SIGKILL");
      });
    }
  });
}

/** Write `source` to `stdin`, waiting for 'drain' whenever the pipe is full, then end it. */
async function feed(
  stdin: Writable,
  source: Buffer | AsyncIterable<Buffer>,
  exited: () => boolean,
): Promise<void> {
  const chunks: AsyncIterable<Buffer> | Buffer[] = Buffer.isBuffer(source) ? [source] : source;
  for await (const chunk of chunks) {
    if (exited() || stdin.destroyed) return;
    if (!stdin.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          stdin.removeListener("drain", done);
          stdin.removeListener("close", done);
          stdin.removeListener("error", done);
          resolve();
        };
        stdin.on("drain", done);
        stdin.on("close", done);
        stdin.on("error", done);
      });
    }
  }
  if (!stdin.destroyed && !stdin.writableEnded) stdin.end();
}
