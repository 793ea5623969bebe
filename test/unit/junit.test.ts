// junit.xml writer: one suite per run, one case per budget, failures quoting measured vs allowed;
// escaping survives hostile text; the document is well-formed (checked by a tiny tokenizer here).
import { describe, it, expect } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { junitXml, writeJUnit, escapeXmlAttr, escapeXmlText, serializeXml, formatMeasured, verdictMessage } from "../../src/report/junit.js";
import { fakeReport, fakeStudent, verdict } from "../helpers/report-fixture.js";

type El = { name: string; attrs: Record<string, string>; children: El[]; text: string };

function unescapeXml(s: string): string {
  return s.replace(/&(#\d+|amp|lt|gt|quot|apos);/g, (_, e: string) =>
    e.startsWith("#") ? String.fromCharCode(Number(e.slice(1))) : ({ amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" } as Record<string, string>)[e]!,
  );
}

/** A strict little XML reader: throws on unbalanced tags, raw "<" or "&" in text, bad attributes. */
function parseXml(xml: string): El {
  const body = xml.replace(/^<\?xml[^?]*\?>\s*/, "");
  const root: El = { name: "#root", attrs: {}, children: [], text: "" };
  const stack: El[] = [root];
  const re = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[\w:.-]+="[^"<]*")*)\s*(\/?)>|([^<]+)/gy;
  let m: RegExpExecArray | null;
  let pos = 0;
  while (pos < body.length && (m = re.exec(body))) {
    pos = re.lastIndex;
    const top = stack[stack.length - 1]!;
    if (m[5] !== undefined) {
      if (/&(?!(#\d+|amp|lt|gt|quot|apos);)/.test(m[5])) throw new Error(`bad entity in text: ${m[5]}`);
      top.text += unescapeXml(m[5]);
      continue;
    }
    const [, close, name, rawAttrs, selfClose] = m;
    if (close) {
      if (top.name !== name) throw new Error(`</${name}> closes <${top.name}>`);
      stack.pop();
      continue;
    }
    const attrs: Record<string, string> = {};
    for (const a of rawAttrs!.matchAll(/([\w:.-]+)="([^"]*)"/g)) {
      if (/[<]|&(?!(#\d+|amp|lt|gt|quot|apos);)/.test(a[2]!)) throw new Error(`bad attribute value ${a[2]}`);
      attrs[a[1]!] = unescapeXml(a[2]!);
    }
    const el: El = { name: name!, attrs, children: [], text: "" };
    top.children.push(el);
    if (!selfClose) stack.push(el);
  }
  if (pos !== body.length) throw new Error(`unparsable XML at ${pos}: ${body.slice(pos, pos + 40)}`);
  if (stack.length !== 1) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  expect(root.children).toHaveLength(1);
  return root.children[0]!;
}

const all = (el: El, name: string): El[] => [...(el.name === name ? [el] : []), ...el.children.flatMap((c) => all(c, name))];

describe("XML escaping", () => {
  it("escapes markup and quotes, keeps newlines in attributes as references, drops non-XML characters", () => {
    expect(escapeXmlText(`a < b && c > d`)).toBe("a &lt; b &amp;&amp; c &gt; d");
    expect(escapeXmlAttr(`say "hi" & 'bye'\nnext\tcol`)).toBe("say &quot;hi&quot; &amp; &apos;bye&apos;&#10;next&#9;col");
    expect(escapeXmlText("bell\u0007 nul\u0000 ok\uFFFE")).toBe("bell nul ok");
    expect(escapeXmlText("emoji 🎓 stays")).toBe("emoji 🎓 stays");
  });

  it("serializes a tree that reads back to the same names, attributes and text", () => {
    const hostile = `x<y & "z" 'w'\n]]>`;
    const xml = serializeXml({ name: "a", attrs: { k: hostile, n: 3, skip: undefined }, children: [{ name: "b", text: hostile }, { name: "c" }] });
    const el = parseXml(xml);
    expect(el.attrs).toEqual({ k: hostile, n: "3" });
    expect(el.children.map((c) => c.name)).toEqual(["b", "c"]);
    expect(el.children[0]!.text).toBe(hostile);
  });
});

describe("formatMeasured / verdictMessage", () => {
  it("formats for people: integers as is, decimals trimmed, no data for NaN/null", () => {
    expect(formatMeasured(400)).toBe("400");
    expect(formatMeasured(612.3456)).toBe("612.3");
    expect(formatMeasured(33.333333)).toBe("33.33");
    expect(formatMeasured(0.98765)).toBe("0.988");
    expect(formatMeasured(0.5)).toBe("0.5");
    expect(formatMeasured(-45.25)).toBe("-45.25");
    expect(formatMeasured(NaN)).toBe("no data");
    expect(formatMeasured(null)).toBe("no data");
  });

  it("says metric, expression, measured and allowed", () => {
    expect(verdictMessage(verdict("latency_ms", "p95 <= 400", 612.31, "<=", 400, false))).toBe("latency_ms: p95 <= 400 — measured 612.3, allowed <= 400");
    expect(verdictMessage(verdict("lipsync_ms", "min >= -100", NaN, ">=", -100, false, "no data: the metric had no values in this run"))).toBe(
      "lipsync_ms: min >= -100 — measured no data, allowed >= -100 (no data: the metric had no values in this run)",
    );
  });
});

describe("junitXml", () => {
  const passed = fakeReport({
    scenario: "smoke",
    budgets: [verdict("latency_ms", "p95 <= 400", 12.5, "<=", 400, true), verdict("loss", "max <= 0.01", 0, "<=", 0.01, true)],
  });
  const failed = fakeReport({
    scenario: "loss-ladder",
    status: "failed",
    budgets: [
      verdict("latency_ms", "p95 <= 400", 612.31, "<=", 400, false),
      verdict("frames_received_ratio", "min >= 0.99", 0.9123, ">=", 0.99, false),
      verdict("switch_gap_ms", "max <= 34", 2, "<=", 34, true),
    ],
  });

  it("one testsuite per run, one testcase per budget; failures carry measured vs allowed", () => {
    const doc = parseXml(junitXml([passed, failed]));
    expect(doc.name).toBe("testsuites");
    expect(doc.attrs).toMatchObject({ tests: "5", failures: "2", errors: "0" });
    const suites = all(doc, "testsuite");
    expect(suites.map((s) => s.attrs.name)).toEqual(["smoke", "loss-ladder"]);
    expect(suites[1]!.attrs).toMatchObject({ tests: "3", failures: "2", errors: "0", time: "21.500", timestamp: "2026-01-01T00:00:00.000Z" });
    const cases = all(suites[1]!, "testcase");
    expect(cases.map((c) => c.attrs.name)).toEqual(["latency_ms: p95 <= 400", "frames_received_ratio: min >= 0.99", "switch_gap_ms: max <= 34"]);
    expect(cases.every((c) => c.attrs.classname === "proctor.loss-ladder")).toBe(true);
    const f = all(cases[0]!, "failure");
    expect(f).toHaveLength(1);
    expect(f[0]!.attrs.message).toBe("latency_ms: p95 <= 400 — measured 612.3, allowed <= 400");
    expect(f[0]!.attrs.type).toBe("budget");
    expect(all(cases[1]!, "failure")[0]!.attrs.message).toBe("frames_received_ratio: min >= 0.99 — measured 0.912, allowed >= 0.99");
    expect(all(cases[2]!, "failure")).toHaveLength(0);
    const props = Object.fromEntries(all(suites[0]!, "property").map((p) => [p.attrs.name, p.attrs.value]));
    expect(props).toMatchObject({ run: passed.run.id, seed: "42", status: "passed", scenarioFile: "scenarios/smoke.yaml" });
  });

  it("a broken run gets a 'run' case with an <error> listing run and student errors", () => {
    const broken = fakeReport({
      status: "broken",
      budgets: [],
      errors: ["run broke: room server <refused> & gone"],
      students: [fakeStudent("light-1"), fakeStudent("light-2", undefined, { error: "join timed out" })],
    });
    const doc = parseXml(junitXml([broken, passed]));
    expect(doc.attrs).toMatchObject({ tests: "3", failures: "0", errors: "1" });
    const suite = all(doc, "testsuite")[0]!;
    expect(suite.attrs).toMatchObject({ tests: "1", errors: "1", failures: "0" });
    const err = all(suite, "error")[0]!;
    expect(err.attrs.message).toBe("run broke: room server <refused> & gone");
    expect(err.text).toBe("run broke: room server <refused> & gone\nclass-a/light-2: join timed out");
  });

  it("hostile scenario names and NaN measurements keep the document well-formed", () => {
    const r = fakeReport({ scenario: `a<b&"c"`, status: "failed", budgets: [verdict("lipsync_ms", "max <= 25", NaN, "<=", 25, false, "no data")] });
    const doc = parseXml(junitXml([r]));
    expect(all(doc, "testsuite")[0]!.attrs.name).toBe(`a<b&"c"`);
    expect(all(doc, "failure")[0]!.attrs.message).toBe("lipsync_ms: max <= 25 — measured no data, allowed <= 25 (no data)");
  });

  it("writeJUnit writes the document (creating the folder) for a suite of runs", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "proctor-junit-")), "nested", "junit.xml");
    await writeJUnit(path, [passed, failed]);
    const text = readFileSync(path, "utf8");
    expect(text.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites')).toBe(true);
    expect(all(parseXml(text), "testcase")).toHaveLength(5);
  });
});
