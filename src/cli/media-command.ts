// `proctor media prepare <input> …` and `proctor media transition <a> <b> …`: the preprocess tools
// a classroom vendor ships (DESIGN.md "Media"). Thin: parse and check flags, call
// media/prepare.ts or media/transition.ts, print a summary. Returns {exitCode, stdout, stderr}
// so main.ts only writes them out. Exit codes: 0 ok, 2 bad input (unknown subcommand, bad flag
// value, missing file), 1 the conversion failed (ffmpeg error, unusable encode).
import { basename, dirname, extname, join } from "node:path";
import { parseArgs } from "node:util";
import { MediaOptionError, prepareMedia, type PrepareOptions, type PreparedMedia } from "../media/prepare.js";
import { makeTransition, TRANSITION_AUDIO, TRANSITION_MODES, type Transition, type TransitionAudio, type TransitionMode } from "../media/transition.js";

export interface CommandOutput {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export const MEDIA_HELP = `usage:
  proctor media prepare <input> [--out <dir>] [--clip-id <0..255>] [--denoise] [--gain <LUFS>]
                        [--no-markers] [--fps <n>] [--size <WxH>] [--video-kbps <n>] [--name <name>]
      convert any file ffmpeg reads into a streamable clip (VP8/IVF + Opus/Ogg 48 kHz, 20 ms,
      keyframe at 0) with the frame-code band and, unless --no-markers, a sync flash + chirp
      every second. Writes <dir>/{video.ivf,audio.ogg,spec.json}; default dir <input>.prepared
        --clip-id    id carried in every frame code (default 0)
        --denoise    ffmpeg afftdn on the audio
        --gain       integrated loudness target in LUFS, e.g. -16 (two-pass loudnorm, markers included)
        --fps, --size, --video-kbps   default 30, 640x360, 500
  proctor media transition <a> <b> --frames <n> [--mode blend|minterpolate] [--out <dir>]
                        [--clip-id <0..255>] [--audio silence|crossfade] [--name <name>]
      n frames from the last frame of <a> to the first frame of <b>, encoded as a clip.
      <a>/<b>: a clip directory (video.ivf, audio.ogg) or any media file.
      Default dir: <a>-to-<b>.transition; --clip-id draws the frame-code band on every frame
`;

class FlagError extends Error {}

/**
 * `--gain -16` is how users write a loudness target, but node:util parseArgs reads "-16" as a
 * flag; rewrite a string flag followed by a negative number to `--flag=-16` before parsing.
 */
function joinNegativeValues(argv: readonly string[], flags: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const next = argv[i + 1];
    if (flags.includes(arg) && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else {
      out.push(arg);
    }
  }
  return out;
}

function intFlag(flag: string, raw: string | undefined, min: number, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (raw.trim() === "" || !Number.isInteger(v) || v < min || v > max) {
    throw new FlagError(`${flag} ${JSON.stringify(raw)} is invalid: expected an integer ${min}..${max}`);
  }
  return v;
}

function numberFlag(flag: string, raw: string | undefined, min: number, max: number, example: string): number | undefined {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(v) || v < min || v > max) {
    throw new FlagError(`${flag} ${JSON.stringify(raw)} is invalid: expected a number ${min}..${max}, e.g. ${example}`);
  }
  return v;
}

function sizeFlag(raw: string | undefined): { width: number; height: number } | undefined {
  if (raw === undefined) return undefined;
  const m = /^(\d+)x(\d+)$/.exec(raw);
  if (!m) throw new FlagError(`--size ${JSON.stringify(raw)} is invalid: expected <width>x<height>, e.g. 640x360`);
  return { width: Number(m[1]), height: Number(m[2]) };
}

function oneOf<T extends string>(flag: string, raw: string | undefined, allowed: readonly T[]): T | undefined {
  if (raw === undefined) return undefined;
  const hit = allowed.find((a) => a === raw);
  if (hit === undefined) throw new FlagError(`${flag} ${JSON.stringify(raw)} is invalid: expected ${allowed.join(" or ")}`);
  return hit;
}

/** Option field → the flag a user typed, for MediaOptionError messages. */
const FLAG_OF: Record<string, string> = {
  clipId: "--clip-id",
  loudnessLufs: "--gain",
  fps: "--fps",
  width: "--size (width)",
  height: "--size (height)",
  videoKbps: "--video-kbps",
  frames: "--frames",
  mode: "--mode",
  audio: "--audio",
  input: "<input>",
  a: "<a>",
  b: "<b>",
};

function failure(sub: string, err: unknown): CommandOutput {
  if (err instanceof FlagError) return { exitCode: 2, stdout: "", stderr: `proctor media ${sub}: ${err.message}\n` };
  if (err instanceof MediaOptionError) {
    const flag = FLAG_OF[err.option] ?? err.option;
    return { exitCode: 2, stdout: "", stderr: `proctor media ${sub}: ${flag} ${JSON.stringify(err.value)} is invalid: expected ${err.want}\n` };
  }
  const msg = err instanceof Error ? err.message : String(err);
  return { exitCode: 1, stdout: "", stderr: `proctor media ${sub}: ${msg}\n` };
}

function describePrepared(r: PreparedMedia): string {
  const lines = [
    `prepared ${r.source.path} → ${r.dir}`,
    `  video  ${r.videoPath}  ${r.clip.spec.width}x${r.clip.spec.height}@${r.clip.spec.fps}, ${r.frameCount} frames (${(r.durationMs / 1000).toFixed(2)} s), clip id ${r.clip.spec.clipId}`,
    `  audio  ${r.audioPath}  Opus 48 kHz mono, ${Math.ceil((r.durationMs * 48) / 960)} packets of 20 ms`,
    `  markers ${r.markers ? "flash + chirp every second" : "off"}; denoise ${r.denoise ? "afftdn" : "off"}`,
  ];
  if (r.loudness) {
    const l = r.loudness;
    lines.push(
      `  loudness ${l.inputLufs.toFixed(1)} → ${l.outputLufs.toFixed(1)} LUFS (target ${l.targetLufs}; loudnorm ${l.loudnormMode}, trim ${l.trimDb >= 0 ? "+" : ""}${l.trimDb.toFixed(2)} dB)`,
    );
  }
  return `${lines.join("\n")}\n`;
}

function describeTransition(t: Transition): string {
  return (
    `transition → ${t.dir}\n` +
    `  video  ${t.videoPath}  ${t.geometry.width}x${t.geometry.height}@${t.geometry.fps}, ${t.frameCount} ${t.mode} frames (${t.durationMs.toFixed(0)} ms)\n` +
    `  audio  ${t.audioPath}  ${t.audio}\n`
  );
}

async function runPrepare(argv: string[]): Promise<CommandOutput> {
  const { values, positionals } = parseArgs({
    args: joinNegativeValues(argv, ["--gain", "--clip-id", "--fps", "--video-kbps"]),
    allowPositionals: true,
    options: {
      out: { type: "string" },
      "clip-id": { type: "string" },
      denoise: { type: "boolean", default: false },
      gain: { type: "string" },
      "no-markers": { type: "boolean", default: false },
      fps: { type: "string" },
      size: { type: "string" },
      "video-kbps": { type: "string" },
      name: { type: "string" },
    },
  });
  if (positionals.length !== 1) throw new FlagError(`expected exactly one <input>, got ${positionals.length}\n${MEDIA_HELP}`);
  const input = positionals[0] ?? "";
  const size = sizeFlag(values.size);
  const fps = intFlag("--fps", values.fps, 1, 120);
  const videoKbps = numberFlag("--video-kbps", values["video-kbps"], 20, 20000, "500");
  const gain = numberFlag("--gain", values.gain, -70, -5, "-16");
  const opts: PrepareOptions = {
    clipId: intFlag("--clip-id", values["clip-id"], 0, 255) ?? 0,
    denoise: values.denoise,
    markers: !values["no-markers"],
    ...(values.out !== undefined ? { out: values.out } : {}),
    ...(values.name !== undefined ? { name: values.name } : {}),
    ...(gain !== undefined ? { loudnessLufs: gain } : {}),
    ...(fps !== undefined ? { fps } : {}),
    ...(size ? size : {}),
    ...(videoKbps !== undefined ? { videoKbps } : {}),
  };
  const r = await prepareMedia(input, opts);
  const warnings = r.warnings.map((w) => `proctor media prepare: warning: ${w}\n`).join("");
  return { exitCode: 0, stdout: describePrepared(r), stderr: warnings };
}

async function runTransition(argv: string[]): Promise<CommandOutput> {
  const { values, positionals } = parseArgs({
    args: joinNegativeValues(argv, ["--frames", "--clip-id"]),
    allowPositionals: true,
    options: {
      frames: { type: "string" },
      mode: { type: "string" },
      out: { type: "string" },
      "clip-id": { type: "string" },
      audio: { type: "string" },
      name: { type: "string" },
    },
  });
  if (positionals.length !== 2) throw new FlagError(`expected <a> and <b>, got ${positionals.length} argument(s)\n${MEDIA_HELP}`);
  const [a = "", b = ""] = positionals;
  if (values.frames === undefined) throw new FlagError("--frames <n> is required (the number of transition frames)");
  const frames = intFlag("--frames", values.frames, 1, 600) ?? 0;
  const mode: TransitionMode = oneOf("--mode", values.mode, TRANSITION_MODES) ?? "blend";
  const audio: TransitionAudio = oneOf("--audio", values.audio, TRANSITION_AUDIO) ?? "silence";
  const clipId = intFlag("--clip-id", values["clip-id"], 0, 255);
  const out = values.out ?? defaultTransitionDir(a, b);
  const t = await makeTransition(a, b, {
    frames,
    mode,
    audio,
    out,
    ...(clipId !== undefined ? { clipId } : {}),
    ...(values.name !== undefined ? { name: values.name } : {}),
  });
  return { exitCode: 0, stdout: describeTransition(t), stderr: "" };
}

/** "<dir of a>/<stem of a>-to-<stem of b>.transition". */
function defaultTransitionDir(a: string, b: string): string {
  const stem = (p: string): string => {
    const base = basename(p.replace(/\/+$/, ""));
    return basename(base, extname(base)) || base;
  };
  return join(dirname(a.replace(/\/+$/, "")), `${stem(a)}-to-${stem(b)}.transition`);
}

/** `proctor media …` with argv after "media". */
export async function runMediaCommand(argv: string[]): Promise<CommandOutput> {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === "help" || sub === "--help" || sub === "-h" || rest.includes("--help") || rest.includes("-h")) {
    return { exitCode: sub === undefined ? 2 : 0, stdout: sub === undefined ? "" : MEDIA_HELP, stderr: sub === undefined ? `proctor media: missing subcommand (known: prepare, transition)\n${MEDIA_HELP}` : "" };
  }
  if (sub !== "prepare" && sub !== "transition") {
    return { exitCode: 2, stdout: "", stderr: `proctor media: unknown subcommand "${sub}" (known: prepare, transition)\n${MEDIA_HELP}` };
  }
  try {
    return sub === "prepare" ? await runPrepare(rest) : await runTransition(rest);
  } catch (err) {
    // parseArgs throws TypeErrors with a code for unknown/malformed flags: that is bad input too.
    if (err instanceof TypeError && "code" in err && typeof err.code === "string" && err.code.startsWith("ERR_PARSE_ARGS")) {
      return { exitCode: 2, stdout: "", stderr: `proctor media ${sub}: ${err.message}\n${MEDIA_HELP}` };
    }
    return failure(sub, err);
  }
}
