// A local InfluxDB 1.x for proctor (`proctor influx up | down | status`, and the tests): runs the
// system's `influxd` (Debian/Ubuntu: apt install influxdb) with a config generated from its own
// `influxd config` defaults, changed so that everything stays in one folder and on loopback:
// meta/data/wal under <dir>, HTTP and RPC bound to 127.0.0.1, usage reporting off (no phoning
// home), access log, query log, _internal monitoring and subscriptions off. INFLUXDB_* variables
// are removed from the child's environment because influxd lets them override the config file.
// State lives in <dir>: influxd.conf, influxd.pid, influxd.json (port, url), influxd.log.
import { spawn, execFileSync } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { delimiter, join, resolve } from "node:path";

export const DEFAULT_INFLUXD_DIR = ".proctor/influxdb";
export const DEFAULT_INFLUXD_PORT = 8086;
export const DEFAULT_DATABASE = "proctor";

export type InfluxdCheck = { ok: true; path: string; version: string } | { ok: false; reason: string };

export type LocalInfluxd = {
  /** What to pass as `--influx` / PROCTOR_INFLUX_URL. */
  url: string;
  port: number;
  pid: number;
  dir: string;
  logPath: string;
  /** True when an influxd started earlier from this folder was still running and is reused. */
  reused: boolean;
  stop(): Promise<void>;
};

export type StartLocalInfluxdOptions = {
  /** Folder for config, data, pid and log (created if missing). */
  dir: string;
  /** HTTP port on 127.0.0.1 (default: 8086 when free, else any free port). */
  port?: number;
  database?: string;
  /** influxd binary (default: PROCTOR_INFLUXD or `influxd` on PATH). */
  influxdPath?: string;
  /** Time allowed until /ping answers (default 30 s). */
  startTimeoutMs?: number;
};

export type LocalInfluxdStatus = {
  running: boolean;
  dir: string;
  logPath: string;
  pid?: number;
  port?: number;
  url?: string;
  /** /ping answered 204 (only checked when running). */
  healthy?: boolean;
};

type StateFile = { pid: number; port: number; rpcPort: number; url: string; database: string; config: string; startedAt: string };

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("INFLUXDB_")) env[k] = v;
  return env;
}

function findOnPath(name: string): string | undefined {
  for (const d of (process.env.PATH ?? "").split(delimiter)) {
    if (d && existsSync(join(d, name))) return join(d, name);
  }
  return undefined;
}

/** Is a usable influxd 1.x here? The reason says what is missing (for test skips and the CLI). */
export function influxdAvailable(influxdPath?: string): InfluxdCheck {
  const path = influxdPath ?? process.env.PROCTOR_INFLUXD ?? findOnPath("influxd");
  if (!path) return { ok: false, reason: "influxd not found on PATH (install InfluxDB 1.x: apt install influxdb, or set PROCTOR_INFLUXD)" };
  let out: string;
  try {
    out = execFileSync(path, ["version"], { env: childEnv(), encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 10_000 });
  } catch (err) {
    return { ok: false, reason: `${path} version failed: ${err instanceof Error ? err.message : String(err)}` };
  }
  const m = /InfluxDB v?(\d+)\.(\d+)\.(\d+)\S*/.exec(out);
  if (!m) return { ok: false, reason: `${path} version printed no InfluxDB version: ${out.trim().slice(0, 200)}` };
  if (m[1] !== "1") return { ok: false, reason: `${path} is InfluxDB ${m[1]}.x; proctor influx up runs InfluxDB 1.x (its config format)` };
  return { ok: true, path, version: m[0].replace(/^InfluxDB v?/, "") };
}

export type InfluxdConfigParams = { dir: string; httpPort: number; rpcPort: number };

/**
 * Rewrites `influxd config` output (TOML) for a private loopback instance. Throws if a key that
 * must change is missing, or if any bind-address would still listen beyond 127.0.0.1.
 */
export function generateInfluxdConfig(defaults: string, p: InfluxdConfigParams): string {
  const dir = resolve(p.dir);
  const set: Record<string, string> = {
    ".reporting-enabled": "false",
    ".reporting-disabled": "true",
    ".bind-address": JSON.stringify(`127.0.0.1:${p.rpcPort}`),
    "meta.dir": JSON.stringify(join(dir, "meta")),
    "data.dir": JSON.stringify(join(dir, "data")),
    "data.wal-dir": JSON.stringify(join(dir, "wal")),
    "data.query-log-enabled": "false",
    "http.bind-address": JSON.stringify(`127.0.0.1:${p.httpPort}`),
    "http.log-enabled": "false",
    "http.pprof-enabled": "false",
    "http.unix-socket-enabled": "false",
    "monitor.store-enabled": "false",
    "subscriber.enabled": "false",
    "logging.suppress-logo": "true",
  };
  const required = [".bind-address", "meta.dir", "data.dir", "data.wal-dir", "http.bind-address"];
  const seen = new Set<string>();
  let section = "";
  const out: string[] = [];
  for (const line of defaults.split("\n")) {
    const sec = /^\s*\[\[?\s*([\w.-]+)\s*\]\]?\s*$/.exec(line);
    if (sec) {
      section = sec[1]!;
      out.push(line);
      continue;
    }
    const kv = /^(\s*)([\w-]+)(\s*=\s*)(.*)$/.exec(line);
    if (!kv) {
      out.push(line);
      continue;
    }
    const key = `${section}.${kv[2]}`;
    const value = set[key];
    if (value !== undefined) {
      seen.add(key);
      out.push(`${kv[1]}${kv[2]}${kv[3]}${value}`);
    } else if (kv[2] === "bind-address") {
      // Services that are disabled anyway (graphite, udp, …): still pin them to loopback.
      out.push(`${kv[1]}${kv[2]}${kv[3]}${kv[4]!.replace(/^"(?:[^":]*)?:(\d+)"$/, '"127.0.0.1:$1"')}`);
    } else {
      out.push(line);
    }
  }
  for (const k of required) if (!seen.has(k)) throw new Error(`influxd config: key ${k} not found in \`influxd config\` output; cannot make a private loopback config`);
  if (!seen.has(".reporting-disabled")) out.unshift("reporting-disabled = true");
  if (!seen.has(".reporting-enabled")) out.unshift("reporting-enabled = false");
  const text = out.join("\n");
  for (const m of text.matchAll(/^\s*bind-address\s*=\s*"([^"]*)"/gm)) {
    if (!m[1]!.startsWith("127.0.0.1:")) throw new Error(`influxd config: bind-address ${JSON.stringify(m[1])} is not loopback`);
  }
  return text;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const a = s.address();
      const port = typeof a === "object" && a ? a.port : 0;
      s.close(() => res(port));
    });
  });
}

function portFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once("error", () => res(false));
    s.listen(port, "127.0.0.1", () => s.close(() => res(true)));
  });
}

function paths(dir: string): { conf: string; pid: string; state: string; log: string } {
  const d = resolve(dir);
  return { conf: join(d, "influxd.conf"), pid: join(d, "influxd.pid"), state: join(d, "influxd.json"), log: join(d, "influxd.log") };
}

function readState(dir: string): StateFile | undefined {
  const p = paths(dir);
  try {
    const s = JSON.parse(readFileSync(p.state, "utf8")) as Partial<StateFile>;
    const pid = Number(readFileSync(p.pid, "utf8").trim());
    if (typeof s.port !== "number" || typeof s.url !== "string" || !Number.isInteger(pid)) return undefined;
    return { ...(s as StateFile), pid };
  } catch {
    return undefined;
  }
}

/** Alive, not a zombie, and (where /proc exists) really the influxd started with this config. */
function isOurInfluxd(pid: number, configPath: string): boolean {
  if (existsSync("/proc/self/cmdline")) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      if (/\)\s+[ZX]\s/.test(stat)) return false;
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes(configPath);
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function ping(port: number, timeoutMs = 1000): Promise<boolean> {
  try {
    const r = await fetch(`http://127.0.0.1:${port}/ping`, { signal: AbortSignal.timeout(timeoutMs) });
    await r.arrayBuffer();
    return r.status === 204;
  } catch {
    return false;
  }
}

/** Runs an InfluxQL statement through the 1.x /query endpoint; throws on an error in the answer. */
export async function influxQuery(baseUrl: string, q: string, db?: string): Promise<unknown> {
  const body = new URLSearchParams({ q });
  if (db !== undefined) body.set("db", db);
  const r = await fetch(`${baseUrl.replace(/\/+$/, "")}/query`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: body.toString(),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await r.text();
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    throw new Error(`influx query ${JSON.stringify(q)}: HTTP ${r.status}: ${text.slice(0, 300)}`);
  }
  const err = (j as { error?: unknown; results?: { error?: unknown }[] }).error ?? (j as { results?: { error?: unknown }[] }).results?.find((x) => x.error)?.error;
  if (!r.ok || err !== undefined) throw new Error(`influx query ${JSON.stringify(q)}: HTTP ${r.status}: ${String(err ?? text.slice(0, 300))}`);
  return j;
}

function logTail(logPath: string, lines = 15): string {
  try {
    return readFileSync(logPath, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}

function handle(dir: string, st: StateFile, reused: boolean): LocalInfluxd {
  return { url: st.url, port: st.port, pid: st.pid, dir: resolve(dir), logPath: paths(dir).log, reused, stop: async () => void (await stopLocalInfluxd(dir)) };
}

/** Starts influxd in `dir` (or reuses the one already running there), waits for /ping, creates the database. */
export async function startLocalInfluxd(opts: StartLocalInfluxdOptions): Promise<LocalInfluxd> {
  const dir = resolve(opts.dir);
  const p = paths(dir);
  const database = opts.database ?? DEFAULT_DATABASE;
  const existing = readState(dir);
  if (existing && isOurInfluxd(existing.pid, existing.config)) {
    if (opts.port !== undefined && opts.port !== existing.port) {
      throw new Error(`influxd from ${dir} is already running on port ${existing.port} (pid ${existing.pid}); stop it first (proctor influx down)`);
    }
    if (database !== existing.database) await influxQuery(`http://127.0.0.1:${existing.port}`, `CREATE DATABASE ${quoteIdent(database)}`);
    return handle(dir, existing, true);
  }

  const check = influxdAvailable(opts.influxdPath);
  if (!check.ok) throw new Error(check.reason);
  let port = opts.port;
  if (port === undefined) port = (await portFree(DEFAULT_INFLUXD_PORT)) ? DEFAULT_INFLUXD_PORT : await freeLoopbackPort();
  else if (!(await portFree(port))) throw new Error(`influxd: port ${port} on 127.0.0.1 is already in use`);
  let rpcPort = await freeLoopbackPort();
  while (rpcPort === port) rpcPort = await freeLoopbackPort();

  mkdirSync(dir, { recursive: true });
  const defaults = execFileSync(check.path, ["config", "-config", "/dev/null"], { env: childEnv(), encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  writeFileSync(p.conf, generateInfluxdConfig(defaults, { dir, httpPort: port, rpcPort }));

  const logFd = openSync(p.log, "a");
  const child = spawn(check.path, ["-config", p.conf], { detached: true, stdio: ["ignore", logFd, logFd], env: childEnv() });
  closeSync(logFd);
  const pid = child.pid;
  if (pid === undefined) throw new Error(`influxd: could not start ${check.path}`);
  let exited: string | undefined;
  child.once("exit", (code, sig) => {
    exited = sig ?? `exit code ${code}`;
  });
  child.unref();

  const url = `http://127.0.0.1:${port}/?db=${encodeURIComponent(database)}`;
  const st: StateFile = { pid, port, rpcPort, url, database, config: p.conf, startedAt: new Date().toISOString() };
  writeFileSync(p.pid, `${pid}\n`);
  writeFileSync(p.state, JSON.stringify(st, null, 2) + "\n");

  const until = Date.now() + (opts.startTimeoutMs ?? 30_000);
  while (!(await ping(port))) {
    if (exited !== undefined || Date.now() > until) {
      if (exited === undefined) process.kill(pid, "SIGKILL");
      throw new Error(`influxd did not come up on 127.0.0.1:${port} (${exited ?? "no /ping answer in time"}); log ${p.log}:\n${logTail(p.log)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  await influxQuery(`http://127.0.0.1:${port}`, `CREATE DATABASE ${quoteIdent(database)}`);
  return handle(dir, st, false);
}

function quoteIdent(name: string): string {
  return `"${name.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

function waitExit(pid: number, configPath: string, timeoutMs: number): Promise<boolean> {
  return new Promise((res) => {
    const until = Date.now() + timeoutMs;
    const poll = (): void => {
      if (!isOurInfluxd(pid, configPath)) return res(true);
      if (Date.now() > until) return res(false);
      setTimeout(poll, 25);
    };
    poll();
  });
}

/** Sends `signal` to the influxd of `dir` and waits until it is gone (SIGKILL after timeoutMs). */
export async function stopLocalInfluxd(dir: string, opts: { signal?: NodeJS.Signals; timeoutMs?: number } = {}): Promise<{ stopped: boolean; pid?: number }> {
  const p = paths(dir);
  const st = readState(dir);
  if (!st || !isOurInfluxd(st.pid, st.config)) {
    rmSync(p.pid, { force: true });
    return { stopped: false, ...(st ? { pid: st.pid } : {}) };
  }
  process.kill(st.pid, opts.signal ?? "SIGTERM");
  if (!(await waitExit(st.pid, st.config, opts.timeoutMs ?? 15_000))) {
    process.kill(st.pid, "SIGKILL");
    await waitExit(st.pid, st.config, 5_000);
  }
  rmSync(p.pid, { force: true });
  return { stopped: true, pid: st.pid };
}

export async function statusLocalInfluxd(dir: string): Promise<LocalInfluxdStatus> {
  const p = paths(dir);
  const st = readState(dir);
  const base = { dir: resolve(dir), logPath: p.log };
  if (!st || !isOurInfluxd(st.pid, st.config)) return { running: false, ...base };
  return { running: true, ...base, pid: st.pid, port: st.port, url: st.url, healthy: await ping(st.port) };
}

export type InfluxCommandOptions = { dir?: string; port?: number; database?: string };

/** `proctor influx up | down | status`: does the work and returns the text to print. Throws when it cannot. */
export async function influxCommand(sub: "up" | "down" | "status", opts: InfluxCommandOptions = {}): Promise<string> {
  const dir = resolve(opts.dir ?? DEFAULT_INFLUXD_DIR);
  if (sub === "up") {
    const s = await startLocalInfluxd({ dir, ...(opts.port !== undefined ? { port: opts.port } : {}), ...(opts.database !== undefined ? { database: opts.database } : {}) });
    return [
      `influxd ${s.reused ? "already running" : "started"} (pid ${s.pid}), data in ${s.dir}`,
      `  URL:  ${s.url}`,
      `  use:  proctor run <scenario> --influx '${s.url}'`,
      `   or:  export PROCTOR_INFLUX_URL='${s.url}'`,
      `  log:  ${s.logPath}`,
      `  stop: proctor influx down`,
    ].join("\n");
  }
  if (sub === "down") {
    const r = await stopLocalInfluxd(dir);
    return r.stopped ? `influxd stopped (pid ${r.pid}); data kept in ${dir}` : `influxd was not running (${dir})`;
  }
  const s = await statusLocalInfluxd(dir);
  if (!s.running) return `influxd not running (${s.dir}); start it with: proctor influx up`;
  return [`influxd running (pid ${s.pid})${s.healthy ? "" : " but NOT answering /ping"}, data in ${s.dir}`, `  URL:  ${s.url}`, `  log:  ${s.logPath}`].join("\n");
}
