// Nothing in a run may leave loopback: no DNS lookup, no socket bound or sent to a non-loopback
// address. The hooks wrap Node's own networking entry points (dgram, net, dns) for the whole
// process while a real class runs, so werift, fastify, ws and fetch are all observed.
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import dgram from "node:dgram";
import net from "node:net";
import dns from "node:dns";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runScenario, type RunResult } from "../../src/scenario/runner.js";
import { quickScenario } from "../helpers/scenarios.js";

type Seen = { kind: string; address: string };
const seen: Seen[] = [];
const restore: (() => void)[] = [];

function wrap<T extends object, K extends keyof T>(obj: T, key: K, make: (orig: T[K]) => T[K]): void {
  const orig = obj[key];
  obj[key] = make(orig);
  restore.push(() => {
    obj[key] = orig;
  });
}

const isLoopback = (a: string | undefined): boolean =>
  a === undefined || a === "" || a.startsWith("127.") || a === "::1" || a === "localhost" || a === "::ffff:127.0.0.1";

let result: RunResult;

beforeAll(async () => {
  type Fn = (...args: unknown[]) => unknown;
  wrap(dgram.Socket.prototype, "send", (orig) =>
    function (this: dgram.Socket, ...args: unknown[]) {
      // send(msg, [offset, length,] port, address, cb)
      const addr = args.find((a, i) => i > 0 && typeof a === "string") as string | undefined;
      seen.push({ kind: "udp-send", address: addr ?? "(connected)" });
      return (orig as Fn).apply(this, args);
    } as never,
  );
  wrap(dgram.Socket.prototype, "bind", (orig) =>
    function (this: dgram.Socket, ...args: unknown[]) {
      const a0 = args[0];
      const addr = typeof a0 === "object" && a0 !== null ? (a0 as { address?: string }).address : (args[1] as string | undefined);
      seen.push({ kind: "udp-bind", address: typeof addr === "string" ? addr : "(any)" });
      return (orig as Fn).apply(this, args);
    } as never,
  );
  wrap(net.Socket.prototype, "connect", (orig) =>
    function (this: net.Socket, ...args: unknown[]) {
      const a0 = args[0];
      const host = typeof a0 === "object" && a0 !== null ? (a0 as { host?: string; path?: string }).host ?? (a0 as { path?: string }).path : (args[1] as string);
      seen.push({ kind: "tcp-connect", address: host ?? "localhost" });
      return (orig as Fn).apply(this, args);
    } as never,
  );
  for (const k of ["lookup", "resolve", "resolve4", "resolve6", "resolveAny"] as const) {
    wrap(dns, k, (orig) =>
      function (this: unknown, ...args: unknown[]) {
        seen.push({ kind: `dns-${k}`, address: String(args[0]) });
        return (orig as Fn).apply(this, args);
      } as never,
    );
    wrap(dns.promises, k, (orig) =>
      function (this: unknown, ...args: unknown[]) {
        seen.push({ kind: `dns-${k}`, address: String(args[0]) });
        return (orig as Fn).apply(this, args);
      } as never,
    );
  }
  result = await runScenario(quickScenario({ name: "closed-net", students: 2, clips: 2, clipSeconds: 2 }), {
    scenarioFile: "<test>",
    reportsDir: mkdtempSync(join(tmpdir(), "proctor-closed-")),
  });
});

afterAll(() => {
  for (const r of restore.reverse()) r();
});

describe("closed network", () => {
  it("the run itself worked (so the hooks saw real traffic)", () => {
    expect(result.exitCode).toBe(0);
    expect(seen.filter((s) => s.kind === "udp-send").length).toBeGreaterThan(500);
    expect(seen.some((s) => s.kind === "tcp-connect")).toBe(true);
  });

  it("makes no DNS lookup of a non-loopback name", () => {
    const dnsCalls = seen.filter((s) => s.kind.startsWith("dns-") && !isLoopback(s.address));
    expect(dnsCalls).toEqual([]);
  });

  it("sends and binds only on loopback", () => {
    const offLoopback = seen.filter((s) => !s.kind.startsWith("dns-") && !isLoopback(s.address) && s.address !== "(connected)" && s.address !== "(any)");
    const counts = new Map<string, number>();
    for (const s of seen) counts.set(s.kind, (counts.get(s.kind) ?? 0) + 1);
    console.log("network calls observed:", Object.fromEntries(counts));
    expect(offLoopback).toEqual([]);
    expect(seen.filter((s) => s.kind === "udp-bind" && s.address === "(any)")).toEqual([]);
  });
});
