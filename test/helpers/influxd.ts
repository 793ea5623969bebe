// Test helper: a real influxd (InfluxDB 1.x) on a free 127.0.0.1 port in a temp folder, through
// src/metrics/influxd-local.ts, with an InfluxQL query helper and kill/restart for outage tests.
// Suites use `describe.skipIf(!influxd.ok)` and print `influxd.reason` when skipping.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freeLoopbackPort, influxdAvailable, influxQuery, startLocalInfluxd, stopLocalInfluxd } from "../../src/metrics/influxd-local.js";

export const influxd = influxdAvailable();
export const influxdSkipReason: string | undefined = influxd.ok ? undefined : influxd.reason;
if (influxdSkipReason !== undefined) console.log(`influxd tests skipped: ${influxdSkipReason}`);

export type Series = { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] };

export type TestInfluxd = {
  /** `http://127.0.0.1:PORT/?db=proctor`: a valid --influx URL. */
  url: string;
  baseUrl: string;
  port: number;
  dir: string;
  database: string;
  /** InfluxQL against the test database; the first statement's series (empty when no data). */
  query(q: string): Promise<Series[]>;
  /** SIGKILL, waiting until the process is gone. */
  kill(): Promise<void>;
  /** Starts again on the same port with the same data folder. */
  restart(): Promise<void>;
  /** Stops and removes the temp folder. */
  stop(): Promise<void>;
};

export async function startTestInfluxd(database = "proctor"): Promise<TestInfluxd> {
  const dir = mkdtempSync(join(tmpdir(), "proctor-influxd-"));
  const port = await freeLoopbackPort();
  const s = await startLocalInfluxd({ dir, port, database });
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    url: s.url,
    baseUrl,
    port,
    dir,
    database,
    async query(q) {
      const j = (await influxQuery(baseUrl, q, database)) as { results?: { series?: Series[] }[] };
      return j.results?.[0]?.series ?? [];
    },
    async kill() {
      await stopLocalInfluxd(dir, { signal: "SIGKILL" });
    },
    async restart() {
      await startLocalInfluxd({ dir, port, database });
    },
    async stop() {
      await stopLocalInfluxd(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
