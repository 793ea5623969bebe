// Parent ↔ child coordination for the benches over Node's IPC channel (child_process.fork).
// The parent calls named commands on a child and awaits the reply (request/response by id); a
// child serves a table of async handlers. Every bench process is a fork of child.mjs, so teacher
// and students never share an event loop or a CPU account.
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";

const CHILD_ENTRY = fileURLToPath(new URL("./child.mjs", import.meta.url));

/**
 * Fork a bench child. `label` names it in errors; `execArgv` e.g. ["--cpu-prof"].
 * Resolves once the child said it is ready.
 */
export async function spawnChild(label, { execArgv = [], readyTimeoutMs = 20_000 } = {}) {
  const child = fork(CHILD_ENTRY, [label], {
    execArgv,
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    serialization: "advanced",
  });
  const pending = new Map();
  let nextId = 1;
  let exitInfo = null;
  let onReady;
  const ready = new Promise((resolve, reject) => {
    onReady = resolve;
    setTimeout(() => reject(new Error(`${label}: not ready within ${readyTimeoutMs} ms`)), readyTimeoutMs).unref();
  });
  const exited = new Promise((resolve) => {
    child.once("exit", (code, signal) => {
      exitInfo = { code, signal };
      for (const p of pending.values()) {
        clearTimeout(p.timer);
        p.reject(new Error(`${label} exited (${code ?? signal}) while running "${p.cmd}"`));
      }
      pending.clear();
      resolve(exitInfo);
    });
  });
  child.on("message", (m) => {
    if (m && m.ready) return onReady();
    const p = pending.get(m?.id);
    if (!p) return;
    pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.ok) p.resolve(m.result);
    else p.reject(new Error(`${label} "${p.cmd}": ${m.error}`));
  });
  await Promise.race([ready, exited.then((e) => Promise.reject(new Error(`${label} exited before ready (${e.code ?? e.signal})`)))]);

  return {
    label,
    pid: child.pid,
    /** Run `cmd` in the child; rejects on the child's error, its exit, or after `timeoutMs`. */
    call(cmd, args = {}, timeoutMs = 60_000) {
      if (exitInfo) return Promise.reject(new Error(`${label} has exited`));
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${label} "${cmd}": no reply within ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, { cmd, resolve, reject, timer });
        child.send({ id, cmd, args });
      });
    },
    /** Ask the child to clean up and exit; kill it (this pid only) if it has not exited in time. */
    async stop(graceMs = 8_000) {
      if (exitInfo) return exitInfo;
      const bye = this.call("exit", {}, graceMs).catch(() => undefined);
      const timer = setTimeout(() => {
        if (!exitInfo) child.kill("SIGKILL");
      }, graceMs);
      await bye;
      const info = await exited;
      clearTimeout(timer);
      return info;
    },
  };
}

/** Child side: answer the parent's commands with `handlers[cmd](args)`; say ready. */
export function serve(handlers) {
  process.on("message", async (m) => {
    if (!m || typeof m.id !== "number") return;
    const h = handlers[m.cmd];
    try {
      if (!h) throw new Error(`unknown command "${m.cmd}"`);
      const result = await h(m.args ?? {});
      process.send?.({ id: m.id, ok: true, result });
    } catch (err) {
      process.send?.({ id: m.id, ok: false, error: err instanceof Error ? err.stack ?? err.message : String(err) });
    }
  });
  // Orphaned (the parent died): leave rather than keep streaming.
  process.on("disconnect", () => process.exit(0));
  process.send?.({ ready: true });
}
