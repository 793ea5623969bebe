// Where the InfluxDB sink writes: one URL (`--influx URL` or PROCTOR_INFLUX_URL) → a write request
// shape for InfluxDB 1.x, 2.x or 3.x. Parsing is strict (unknown or empty parameters are errors that
// name the parameter and its value) because a typo here silently sends a class's data nowhere.
//
// URL grammar (see docs/influxdb.md):
//   1.x  http[s]://[user:pass@]host:port[/prefix]/?db=DB[&rp=RP][&u=USER&p=PASS]
//        influx1[+https]://host[:port]/?db=DB[&rp=RP]                  (default port 8086)
//        → POST <prefix>/write?db=DB[&rp=RP]&precision=ns, Basic auth when credentials are given
//          (InfluxDB 1.x HTTP API, /write endpoint)
//   2.x  http[s]://host:port[/prefix]/?org=ORG&bucket=BUCKET[&token=TOKEN]   (org/bucket ⇒ 2.x)
//        influx2[+https]://host[:port]/?org=ORG&bucket=BUCKET[&token=TOKEN]  (default port 8086)
//        → POST <prefix>/api/v2/write?org=ORG&bucket=BUCKET&precision=ns, `Authorization: Token T`
//   3.x  influx3[+https]://host[:port]/?db=DB[&token=TOKEN]                  (default port 8181)
//        → POST <prefix>/api/v3/write_lp?db=DB&precision=nanosecond, `Authorization: Bearer T`
//   A URL whose path already ends in /write, /api/v2/write or /api/v3/write_lp picks that version.
//   db defaults to "proctor" (1.x, 3.x). The token may come from PROCTOR_INFLUX_TOKEN instead of the
//   URL, which keeps it out of shell history and process lists.

export type InfluxVersion = 1 | 2 | 3;

export type InfluxTarget = {
  version: InfluxVersion;
  /** Full URL line protocol is POSTed to, query string included. */
  writeUrl: string;
  /** Headers for every write: Content-Type, and Authorization when credentials are given. */
  headers: Readonly<Record<string, string>>;
  /** Database (1.x, 3.x) or bucket (2.x). */
  database: string;
  /** scheme://host:port plus path prefix, no credentials, no trailing slash. */
  baseUrl: string;
  /** `GET` here answers 204 when the server is up (all three versions serve /ping). */
  pingUrl: string;
  /** The input URL with password and token masked, for logs and reports. */
  display: string;
};

export class InfluxTargetError extends Error {
  readonly code = "PRX_ERR_INFLUX_URL";
  constructor(
    readonly source: string,
    readonly param: string,
    readonly value: string,
    detail: string,
  ) {
    super(`${source}: ${param}${value === "" ? "" : ` ${JSON.stringify(value)}`}: ${detail}`);
    this.name = "InfluxTargetError";
  }
}

const DEFAULT_DB = "proctor";
const PARAMS: Record<InfluxVersion, readonly string[]> = {
  1: ["db", "rp", "u", "p"],
  2: ["org", "bucket", "token"],
  3: ["db", "token"],
};
const ENDPOINT: Record<InfluxVersion, string> = { 1: "/write", 2: "/api/v2/write", 3: "/api/v3/write_lp" };

export type ParseInfluxOptions = {
  /** Named in errors: "--influx" or "PROCTOR_INFLUX_URL". */
  source?: string;
  /** Where PROCTOR_INFLUX_TOKEN is read from (default process.env). */
  env?: Readonly<Record<string, string | undefined>>;
};

export function parseInfluxTarget(raw: string, opts: ParseInfluxOptions = {}): InfluxTarget {
  const source = opts.source ?? "--influx";
  const env = opts.env ?? process.env;
  const fail = (param: string, value: string, detail: string): never => {
    throw new InfluxTargetError(source, param, value, detail);
  };

  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return fail("url", raw, "not a URL (expected e.g. http://127.0.0.1:8086/?db=proctor)");
  }
  const m = /^(?:(https?)|influx([123])(?:\+(https?))?):$/.exec(url.protocol);
  if (!m) return fail("scheme", url.protocol.replace(/:$/, ""), "unsupported; use http, https, influx1, influx2, influx3 (optionally influxN+https)");
  const transport = m[1] ?? m[3] ?? "http";
  let version: InfluxVersion | undefined = m[2] === undefined ? undefined : (Number(m[2]) as InfluxVersion);
  if (url.hostname === "") fail("host", raw, "missing");

  // Path: an explicit write endpoint picks the version; anything else is a prefix (reverse proxy).
  let prefix = url.pathname.replace(/\/+$/, "");
  for (const v of [3, 2, 1] as const) {
    if (prefix.endsWith(ENDPOINT[v])) {
      if (version !== undefined && version !== v) fail("path", url.pathname, `is the ${v}.x write endpoint but the scheme says ${version}.x`);
      version = v;
      prefix = prefix.slice(0, -ENDPOINT[v].length);
      break;
    }
  }

  const params = new Map<string, string>();
  for (const [k, v] of url.searchParams) {
    if (params.has(k)) fail(k, v, "given twice");
    if (v === "") fail(k, v, "is empty");
    params.set(k, v);
  }
  if (version === undefined) version = params.has("org") || params.has("bucket") ? 2 : 1;
  const allowed = PARAMS[version];
  for (const [k, v] of params) {
    if (!allowed.includes(k)) {
      const other = ([1, 2, 3] as const).filter((x) => x !== version && PARAMS[x].includes(k));
      const hint = other.length ? ` (it belongs to InfluxDB ${other.map((x) => `${x}.x`).join("/")})` : "";
      fail(k, v, `unknown parameter for InfluxDB ${version}.x${hint}; known: ${allowed.join(", ")}`);
    }
  }

  const port = url.port || (m[2] !== undefined ? (version === 3 ? "8181" : "8086") : "");
  const hostPort = `${url.hostname}${port ? `:${port}` : ""}`;
  const baseUrl = `${transport}://${hostPort}${prefix}`;
  const headers: Record<string, string> = { "Content-Type": "text/plain; charset=utf-8" };
  const q = new URLSearchParams();
  let database: string;

  const token = params.get("token") ?? (env.PROCTOR_INFLUX_TOKEN || undefined);
  if (version === 1) {
    database = params.get("db") ?? DEFAULT_DB;
    q.set("db", database);
    const rp = params.get("rp");
    if (rp !== undefined) q.set("rp", rp);
    q.set("precision", "ns");
    const user = params.get("u") ?? (url.username ? decodeURIComponent(url.username) : undefined);
    const pass = params.get("p") ?? (url.password ? decodeURIComponent(url.password) : undefined);
    if ((user === undefined) !== (pass === undefined)) fail(user === undefined ? "u" : "p", "", "user and password must be given together");
    if (user !== undefined && pass !== undefined) headers.Authorization = `Basic ${Buffer.from(`${user}:${pass}`).toString("base64")}`;
  } else {
    if (url.username || url.password) fail("userinfo", url.username, `InfluxDB ${version}.x authenticates with a token (token= or PROCTOR_INFLUX_TOKEN), not user:password@`);
    if (version === 2) {
      const org = params.get("org");
      const bucket = params.get("bucket");
      if (org === undefined) fail("org", "", "required for InfluxDB 2.x");
      if (bucket === undefined) fail("bucket", "", "required for InfluxDB 2.x");
      database = bucket!;
      q.set("org", org!);
      q.set("bucket", bucket!);
      q.set("precision", "ns");
      if (token !== undefined) headers.Authorization = `Token ${token}`;
    } else {
      database = params.get("db") ?? DEFAULT_DB;
      q.set("db", database);
      q.set("precision", "nanosecond");
      if (token !== undefined) headers.Authorization = `Bearer ${token}`;
    }
  }

  const shown = new URL(raw.trim());
  if (shown.password) shown.password = "***";
  if (shown.searchParams.has("p")) shown.searchParams.set("p", "***");
  if (shown.searchParams.has("token")) shown.searchParams.set("token", "***");

  return {
    version,
    writeUrl: `${baseUrl}${ENDPOINT[version]}?${q.toString()}`,
    headers,
    database,
    baseUrl,
    pingUrl: `${baseUrl}/ping`,
    display: decodeURIComponent(shown.toString()),
  };
}

/** `--influx` wins over PROCTOR_INFLUX_URL; neither given (or empty) → null (no InfluxDB sink). */
export function resolveInfluxTarget(flag: string | undefined, env: Readonly<Record<string, string | undefined>> = process.env): InfluxTarget | null {
  if (flag !== undefined && flag.trim() !== "") return parseInfluxTarget(flag, { source: "--influx", env });
  const fromEnv = env.PROCTOR_INFLUX_URL;
  if (fromEnv !== undefined && fromEnv.trim() !== "") return parseInfluxTarget(fromEnv, { source: "PROCTOR_INFLUX_URL", env });
  return null;
}
