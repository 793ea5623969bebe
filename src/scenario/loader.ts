// Load and validate a scenario file. Every error names the file, line:column (from the YAML
// parser's source positions), the field path and the offending value; all errors at once.
import { readFile } from "node:fs/promises";
import { parseDocument, LineCounter, isMap, isNode, isScalar, type Document } from "yaml";
import { Scenario } from "./schema.js";
import { loadProfile, profileFromObject, ProfileError, type LinkProfile } from "../netem/profile-loader.js";
import { loadLesson, LessonError, type Lesson as LessonScript } from "../streamer/lesson-loader.js";
import { valueAt } from "../yaml-source.js";

/** A validated scenario plus what it refers to (netem profiles resolved per student group). */
export type LoadedScenario = Scenario & { profiles: Map<string, LinkProfile>; script?: LessonScript };

export type ScenarioIssue = { file: string; line?: number; column?: number; path: string; message: string; value?: unknown };

export class ScenarioError extends Error {
  constructor(readonly issues: ScenarioIssue[]) {
    super(issues.map(formatIssue).join("\n"));
    this.name = "ScenarioError";
  }
}

export function formatIssue(i: ScenarioIssue): string {
  const where = i.line !== undefined ? `${i.file}:${i.line}:${i.column}` : i.file;
  const value = i.value === undefined ? "" : ` (got ${JSON.stringify(i.value)})`;
  return `${where}: ${i.path || "(root)"}: ${i.message}${value}`;
}

export async function loadScenario(file: string): Promise<LoadedScenario> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (e) {
    throw new ScenarioError([{ file, path: "", message: `cannot read scenario: ${(e as Error).message}` }]);
  }
  return parseScenario(text, file);
}

export function parseScenario(text: string, file = "<scenario>", opts: { profileDir?: string } = {}): LoadedScenario {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ScenarioError(
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { file, line: pos.line, column: pos.col, path: "", message: `YAML: ${e.message.split("\n")[0]}` };
      }),
    );
  }
  const data: unknown = doc.toJS();
  const result = Scenario.safeParse(data);
  if (result.success) return resolveProfiles(result.data, doc, lineCounter, file, opts.profileDir);
  throw new ScenarioError(
    result.error.issues.map((issue) => {
      const path = issue.path.map(String);
      // For unknown keys zod reports the parent; point at the key itself.
      const keys = issue.code === "unrecognized_keys" ? issue.keys : [];
      const at = keys.length ? positionOf(doc, [...issue.path, keys[0]!], lineCounter, true) : positionOf(doc, issue.path, lineCounter);
      const shownPath = keys.length ? [...path, keys.join(", ")].join(".") : path.join(".");
      return {
        file,
        ...at,
        path: shownPath,
        message: keys.length ? `unknown field${keys.length > 1 ? "s" : ""} ${keys.map((k) => `"${k}"`).join(", ")}` : issue.message,
        value: keys.length ? undefined : valueAt(data, issue.path),
      };
    }),
  );
}

function positionOf(doc: Document, path: readonly PropertyKey[], lc: LineCounter, atKey = false): { line?: number; column?: number } {
  // An unknown field points at its key, not at its value (which may sit on a later line).
  if (atKey && path.length > 0) {
    const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1) as (string | number)[], true);
    const pair = isMap(parent) ? parent.items.find((it) => isScalar(it.key) && it.key.value === path[path.length - 1]) : undefined;
    if (pair && isNode(pair.key) && pair.key.range) {
      const p = lc.linePos(pair.key.range[0]);
      return { line: p.line, column: p.col };
    }
  }
  // Walk up until a node with a source range exists (a missing field points at its parent).
  for (let n = path.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(path.slice(0, n) as (string | number)[], true);
    if (isNode(node) && node.range) {
      const p = lc.linePos(node.range[0]);
      return { line: p.line, column: p.col };
    }
    // A map key (for unknown fields) is reachable through its pair.
    if (n === path.length && n > 0) {
      const parent = doc.getIn(path.slice(0, n - 1) as (string | number)[], true) as { items?: { key?: unknown }[] } | undefined;
      const pair = parent?.items?.find((it) => isNode(it.key) && (it.key as { value?: unknown }).value === path[n - 1]);
      if (pair && isNode(pair.key) && pair.key.range) {
        const p = lc.linePos(pair.key.range[0]);
        return { line: p.line, column: p.col };
      }
    }
  }
  return {};
}


/** Key of a student group's profile in LoadedScenario.profiles. */
export function groupKey(room: string, group: string): string {
  return `${room}/${group}`;
}

function resolveProfiles(scenario: Scenario, doc: Document, lc: LineCounter, file: string, profileDir?: string): LoadedScenario {
  const profiles = new Map<string, LinkProfile>();
  const issues: ScenarioIssue[] = [];
  scenario.rooms.forEach((room, r) =>
    room.students.forEach((g, i) => {
      if (g.netem === undefined) return;
      const path = ["rooms", r, "students", i, "netem"];
      try {
        const profile =
          typeof g.netem === "string"
            ? loadProfile(g.netem, { dir: profileDir })
            : profileFromObject({ name: `${room.id}-${g.group}-inline`, ...g.netem }, `${file} ${path.join(".")}`, (p) => {
                const at = positionOf(doc, [...path, ...p], lc);
                return at.line === undefined ? undefined : { line: at.line, column: at.column!, path: p };
              });
        profiles.set(groupKey(room.id, g.group), profile);
      } catch (e) {
        if (!(e instanceof ProfileError)) throw e;
        const at = positionOf(doc, path, lc);
        for (const pi of e.issues) {
          const inline = typeof g.netem !== "string";
          issues.push({
            file,
            line: inline && pi.line !== undefined ? pi.line : at.line,
            column: inline && pi.column !== undefined ? pi.column : at.column,
            path: inline ? `${path.join(".")}.${pi.field}` : path.join("."),
            message: inline ? pi.message : `netem profile "${g.netem}": ${pi.message}${pi.field ? ` (${pi.file}: ${pi.field})` : ""}`,
            value: inline ? pi.value : g.netem,
          });
        }
      }
    }),
  );
  let script: LessonScript | undefined;
  if (typeof scenario.lesson === "string") {
    try {
      script = loadLesson(scenario.lesson);
    } catch (e) {
      if (!(e instanceof LessonError)) throw e;
      const at = positionOf(doc, ["lesson"], lc);
      for (const li of e.issues) {
        issues.push({ file, ...at, path: "lesson", message: `lesson "${scenario.lesson}": ${li.file}${li.line !== undefined ? `:${li.line}:${li.column}` : ""}: ${li.path}: ${li.message}`, value: li.value });
      }
    }
  }
  if (issues.length > 0) throw new ScenarioError(issues);
  return Object.assign(scenario, { profiles, ...(script ? { script } : {}) });
}
