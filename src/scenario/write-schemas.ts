// Writes the published JSON Schemas (schemas/*.json) from their generators. Run after changing a
// zod schema or RunReport, and commit the result (test/unit/json-schema.test.ts fails when stale):
//   npx vite-node src/scenario/write-schemas.ts [dir]     or, built:  node dist/scenario/write-schemas.js [dir]
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { scenarioJsonSchema, profileJsonSchema } from "./json-schema.js";
import { reportJsonSchema } from "../report/report-schema.js";

/** File name → exact file text (2-space JSON, trailing newline). */
export function renderSchemas(): Record<string, string> {
  const text = (v: unknown): string => `${JSON.stringify(v, null, 2)}\n`;
  return {
    "scenario.schema.json": text(scenarioJsonSchema()),
    "profile.schema.json": text(profileJsonSchema()),
    "report.schema.json": text(reportJsonSchema()),
  };
}

/** Writes every schema into `dir`; returns the paths written. */
export async function writeSchemas(dir: string): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const [name, text] of Object.entries(renderSchemas())) {
    const path = join(dir, name);
    await writeFile(path, text);
    written.push(path);
  }
  return written;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const dir = resolve(process.argv[2] ?? "schemas");
  writeSchemas(dir).then(
    (paths) => process.stdout.write(paths.map((p) => `wrote ${p}\n`).join("")),
    (e: unknown) => {
      process.stderr.write(`write-schemas: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 2;
    },
  );
}
