// junit.xml: one <testsuite> per run, one <testcase> per budget verdict, so CI (GitHub Actions,
// GitLab, Jenkins) shows each budget as a test. A failing budget says measured vs allowed:
//   <failure message="latency_ms: p95 <= 400 — measured 612.3, allowed <= 400" type="budget"/>
// A run that broke, or had errors, gets a "run" test case with an <error>. Many reports → one file,
// so a suite combines its runs.
//
// As Playwright's junit reporter: a tiny XML tree and an escaping serializer, no dependency.
// Escaping follows XML 1.0 §2.4 (& and < always; > for "]]>"), §3.3.3 (attribute values: also
// quotes and whitespace as character references so newlines survive normalisation), and §2.2
// (characters outside the Char production are dropped: they cannot appear even escaped).
import { writeFile, mkdir } from "node:fs/promises";
import { dirname } from "node:path";
import type { RunReport } from "./run-report.js";
import type { Verdict } from "./evaluate.js";

export type XmlNode = { name: string; attrs?: Record<string, string | number | undefined>; children?: XmlNode[]; text?: string };

// XML 1.0 Char: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
const NOT_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

export function escapeXmlText(s: string): string {
  return s.replace(NOT_XML_CHAR, "").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export function escapeXmlAttr(s: string): string {
  return escapeXmlText(s).replace(/"/g, "&quot;").replace(/'/g, "&apos;").replace(/\n/g, "&#10;").replace(/\r/g, "&#13;").replace(/\t/g, "&#9;");
}

export function serializeXml(node: XmlNode, indent = ""): string {
  const attrs = Object.entries(node.attrs ?? {})
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .map(([k, v]) => ` ${k}="${escapeXmlAttr(String(v))}"`)
    .join("");
  const children = node.children ?? [];
  if (children.length === 0 && node.text === undefined) return `${indent}<${node.name}${attrs}/>`;
  if (children.length === 0) return `${indent}<${node.name}${attrs}>${escapeXmlText(node.text ?? "")}</${node.name}>`;
  const inner = children.map((c) => serializeXml(c, `${indent}  `)).join("\n");
  const text = node.text === undefined ? "" : `\n${indent}  ${escapeXmlText(node.text)}`;
  return `${indent}<${node.name}${attrs}>${text}\n${inner}\n${indent}</${node.name}>`;
}

/** A measured figure for people: integers as is, otherwise 1–4 significant decimals, no trailing zeros. */
export function formatMeasured(v: number | null | undefined): string {
  if (typeof v !== "number" || Number.isNaN(v)) return "no data";
  if (!Number.isFinite(v)) return v > 0 ? "∞" : "−∞";
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  const s = a >= 100 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toPrecision(3);
  return s.includes("e") ? s : s.replace(/\.?0+$/, "");
}

/** "latency_ms: p95 <= 400 — measured 612.3, allowed <= 400" */
export function verdictMessage(v: Verdict): string {
  const note = v.note ? ` (${v.note})` : "";
  return `${v.metric}: ${v.expression} — measured ${formatMeasured(v.measured)}, allowed ${v.op} ${formatMeasured(v.limit)}${note}`;
}

function runSuite(r: RunReport): XmlNode {
  const classname = `proctor.${r.run.scenario}`;
  const cases: XmlNode[] = r.budgets.map((v) => ({
    name: "testcase",
    attrs: { name: `${v.metric}: ${v.expression}`, classname, time: "0" },
    children: v.pass ? [] : [{ name: "failure", attrs: { message: verdictMessage(v), type: "budget" }, text: verdictMessage(v) }],
  }));
  const studentErrors = r.students.filter((s) => s.error).map((s) => `${s.room}/${s.student}: ${s.error}`);
  const errors = [...r.errors, ...studentErrors];
  const broken = r.status === "broken" || errors.length > 0;
  if (broken) {
    const message = errors[0] ?? `run status is "${r.status}"`;
    cases.unshift({
      name: "testcase",
      attrs: { name: "run", classname, time: (r.run.durationMs / 1000).toFixed(3) },
      children: [{ name: "error", attrs: { message, type: "run" }, text: errors.length ? errors.join("\n") : message }],
    });
  }
  const failures = r.budgets.filter((v) => !v.pass).length;
  const props: [string, string | number][] = [
    ["run", r.run.id],
    ["scenario", r.run.scenario],
    ["scenarioFile", r.run.scenarioFile],
    ["seed", r.run.seed],
    ["status", r.status],
    ["students", r.students.length],
    ["proctor", r.tool.version],
  ];
  return {
    name: "testsuite",
    attrs: {
      name: r.run.scenario,
      id: r.run.id,
      tests: cases.length,
      failures,
      errors: broken ? 1 : 0,
      skipped: 0,
      time: (r.run.durationMs / 1000).toFixed(3),
      timestamp: r.run.startedAt,
    },
    children: [{ name: "properties", children: props.map(([name, value]) => ({ name: "property", attrs: { name, value } })) }, ...cases],
  };
}

/** The whole junit.xml document for one or many runs. */
export function junitXml(reports: readonly RunReport[]): string {
  const suites = reports.map(runSuite);
  const sum = (k: string): number => suites.reduce((n, s) => n + Number(s.attrs?.[k] ?? 0), 0);
  const root: XmlNode = {
    name: "testsuites",
    attrs: {
      name: "proctor",
      tests: sum("tests"),
      failures: sum("failures"),
      errors: sum("errors"),
      time: (reports.reduce((n, r) => n + r.run.durationMs, 0) / 1000).toFixed(3),
    },
    children: suites,
  };
  return `<?xml version="1.0" encoding="UTF-8"?>\n${serializeXml(root)}\n`;
}

export async function writeJUnit(path: string, reports: readonly RunReport[]): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, junitXml(reports));
}
