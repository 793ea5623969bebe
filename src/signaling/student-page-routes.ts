// The browser student's page: GET /student serves a small HTML shell whose module script
// (src/web/page/student.ts, compiled to dist/web/page/) joins the room through the same HTTP +
// WebSocket protocol as light students. GET /static/<path> serves compiled browser modules from
// dist/, limited to the page's own folder and the pure media modules it imports, so relative
// imports (../../media/frame-code.js) resolve as they do on disk.
import type { FastifyInstance } from "fastify";
import { readFile } from "node:fs/promises";
import { dirname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The compiled browser code: <package>/dist, whether this module runs compiled
 * (dist/signaling/) or from source under vitest (src/signaling/); `npm run build` makes it.
 */
const DIST = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "dist");
const SERVED = [`web${sep}page${sep}`, `media${sep}frame-code.js`, `media${sep}crc8.js`, `media${sep}clip-pattern.js`, `web${sep}pixel-observations.js`];

function html(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function studentPageHtml(title = "proctor student"): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>${html(title)}</title>
<style>body{margin:0;background:#111;color:#ddd;font:12px sans-serif}video{display:block;width:640px;height:360px;background:#000}#status{padding:4px}</style>
</head><body>
<video id="video" autoplay playsinline muted></video>
<audio id="audio" autoplay></audio>
<div id="status">starting</div>
<script type="module">
import { startStudent } from "/static/web/page/student.js";
startStudent(new URLSearchParams(location.search));
</script>
</body></html>
`;
}

export function registerStudentPage(app: FastifyInstance): void {
  app.get("/student", async (_req, reply) => reply.type("text/html; charset=utf-8").header("cache-control", "no-store").send(studentPageHtml()));
  app.get<{ Params: { "*": string } }>("/static/*", async (req, reply) => {
    const rel = normalize(req.params["*"] ?? "");
    if (rel.startsWith("..") || !rel.endsWith(".js") || !SERVED.some((p) => (p.endsWith(sep) ? rel.startsWith(p) : rel === p))) {
      return reply.code(404).type("application/json").send({ error: { code: "not-found", message: `no static file ${req.params["*"]}` } });
    }
    try {
      const body = await readFile(join(DIST, rel));
      // CORS: a third-party classroom page (the generic adapter) imports the probe from here.
      return reply.type("text/javascript; charset=utf-8").header("cache-control", "no-store").header("access-control-allow-origin", "*").send(body);
    } catch {
      return reply.code(404).type("application/json").send({ error: { code: "not-found", message: `no static file ${req.params["*"]} (run npm run build)` } });
    }
  });
}
