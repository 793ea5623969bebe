// Load impairment profiles: by name from the library (netem-profiles/<name>.yaml), by path, or from
// an inline object (a scenario's `netem: { steps: … }`). Every problem is reported at once, each
// naming the file, line:column (from the YAML parser's source ranges), the step index and the field,
// e.g.  netem-profiles/bad.yaml:7:37: steps[1].both.loss: must be within 0–100 %, got "120%"
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { isNode, isScalar, LineCounter, parseDocument, type Document } from "yaml";
import type { LinkParams } from "./params.js";
import { ProfileInput } from "./profile-schema.js";
import { valueAt } from "../yaml-source.js";

/** The library folder: <repo>/netem-profiles (the same from src/netem and dist/netem). */
export const DEFAULT_PROFILE_DIR = fileURLToPath(new URL("../../netem-profiles", import.meta.url));

export interface ProfileStep {
  /** Index in the profile's `steps` list (what events and errors refer to). */
  index: number;
  /** Offset from the link's start. */
  atMs: number;
  /** New parameters for teacher→student, or null if this step leaves that direction alone. */
  down: LinkParams | null;
  /** New parameters for student→teacher, or null if this step leaves that direction alone. */
  up: LinkParams | null;
}

export interface LinkProfile {
  name: string;
  description: string;
  /** File path, or a label for inline profiles. */
  source: string;
  steps: ProfileStep[];
}

export interface ProfileIssue {
  file: string;
  line?: number;
  column?: number;
  /** Index of the offending step, when the problem is inside one. */
  stepIndex?: number;
  /** Dotted field path, e.g. `steps[1].both.loss.gemodel.p`. */
  field: string;
  message: string;
  value?: unknown;
}

export class ProfileError extends Error {
  readonly code = "PRX_ERR_NETEM_PROFILE";
  constructor(readonly issues: ProfileIssue[]) {
    super(issues.map(formatProfileIssue).join("\n"));
    this.name = "ProfileError";
  }
}

export function formatProfileIssue(i: ProfileIssue): string {
  const where = i.line !== undefined ? `${i.file}:${i.line}:${i.column}` : i.file;
  const value = i.value === undefined || (typeof i.value === "object" && i.value !== null) ? "" : ` (got ${JSON.stringify(i.value)})`;
  return `${where}: ${i.field || "(root)"}: ${i.message}${value}`;
}

/** Names of the library's profiles (file names without .yaml), sorted. */
export function listLibraryProfiles(dir = DEFAULT_PROFILE_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml") || f.endsWith(".yml"))
    .map((f) => f.replace(/\.ya?ml$/, ""))
    .sort();
}

/** A reference is a path if it has a slash or a .yaml/.yml ending; otherwise a library name. */
export function resolveProfilePath(ref: string, dir = DEFAULT_PROFILE_DIR): string {
  if (ref.includes("/") || ref.includes("\\") || /\.ya?ml$/.test(ref)) return resolve(ref);
  for (const ext of [".yaml", ".yml"]) {
    const p = join(dir, ref + ext);
    if (existsSync(p)) return p;
  }
  const known = listLibraryProfiles(dir);
  throw new ProfileError([
    { file: join(dir, `${ref}.yaml`), field: "", message: `no netem profile named "${ref}" (library: ${known.join(", ") || "empty"})` },
  ]);
}

/** Load a profile by library name or by path (synchronous: profiles are read once, at start). */
export function loadProfile(ref: string, opts: { dir?: string } = {}): LinkProfile {
  const file = resolveProfilePath(ref, opts.dir);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new ProfileError([{ file, field: "", message: `cannot read profile: ${(e as Error).message}` }]);
  }
  return parseProfile(text, file);
}

/** Parse profile YAML text; `file` names it in errors. */
export function parseProfile(text: string, file = "<profile>"): LinkProfile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ProfileError(
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { file, line: pos.line, column: pos.col, field: "", message: `YAML: ${e.message.split("\n")[0]}` };
      }),
    );
  }
  const data: unknown = doc.toJS();
  return fromData(data, file, (path) => locate(doc, path, lineCounter));
}

/** Maps a field path to its position (line, column) and the deepest path that exists there. */
export type FieldLocator = (path: readonly PropertyKey[]) => { line: number; column: number; path: readonly PropertyKey[] } | undefined;

/**
 * An inline profile (e.g. from a scenario). `locate` may map a field path to the position in the
 * enclosing file, so errors point into the scenario.
 */
export function profileFromObject(obj: unknown, source = "<inline profile>", locateField?: FieldLocator): LinkProfile {
  return fromData(obj, source, locateField);
}

function fromData(data: unknown, file: string, locateField?: FieldLocator): LinkProfile {
  const result = ProfileInput.safeParse(data);
  if (!result.success) {
    throw new ProfileError(
      result.error.issues.map((issue) => {
        const keys = issue.code === "unrecognized_keys" ? issue.keys : [];
        let path: readonly PropertyKey[] = keys.length ? [...issue.path, keys[0]!] : issue.path;
        const at = locateField?.(path);
        // Shorthand values (`loss: 120%`) are checked as `loss.random`: name the field as written.
        if (at && at.path.length < path.length && !keys.length) path = at.path;
        const stepIndex = path[0] === "steps" && typeof path[1] === "number" ? path[1] : undefined;
        return {
          file,
          ...(at ? { line: at.line, column: at.column } : {}),
          ...(stepIndex !== undefined ? { stepIndex } : {}),
          field: keys.length ? `${fieldName(issue.path)}${issue.path.length ? "." : ""}${keys.join(", ")}` : fieldName(path),
          message: keys.length ? `unknown field${keys.length > 1 ? "s" : ""} ${keys.map((k) => `"${k}"`).join(", ")}` : issue.message,
          value: keys.length ? undefined : valueAt(data, path),
        };
      }),
    );
  }
  const v = result.data;
  return {
    name: v.name,
    description: v.description ?? "",
    source: file,
    steps: v.steps.map((s, index) => ({ index, atMs: s.atMs, down: s.down, up: s.up })),
  };
}

/** `steps[1].both.loss` */
function fieldName(path: readonly PropertyKey[]): string {
  let out = "";
  for (const k of path) {
    if (typeof k === "number") out += `[${k}]`;
    else out += (out ? "." : "") + String(k);
  }
  return out;
}


/** Position of the deepest node along `path` that exists in the document. */
function locate(doc: Document, path: readonly PropertyKey[], lc: LineCounter): ReturnType<FieldLocator> {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true);
    if (!isNode(node) || !node.range) continue;
    const pos = lc.linePos(node.range[0]);
    // Stopped early at a scalar: the field was written as shorthand; report the path up to it.
    return { line: pos.line, column: pos.col, path: n < path.length && isScalar(node) ? path.slice(0, n) : path };
  }
  return undefined;
}
