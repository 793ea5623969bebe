// One sink that writes to many: each call is isolated, so a broken sink (a database gone away, a
// full disk) is reported once and never stops the others or the run (Playwright's multiplexer habit).
import type { Point, Sink, SinkStats } from "./sample.js";

export class SinkFanout implements Sink {
  readonly name = "fanout";
  readonly failures: string[] = [];

  constructor(readonly sinks: readonly Sink[], private readonly log: (line: string) => void = () => undefined) {}

  write(points: readonly Point[]): void {
    for (const s of this.sinks) {
      try {
        s.write(points);
      } catch (e) {
        this.fail(s, "write", e);
      }
    }
  }

  async close(): Promise<void> {
    await Promise.all(
      this.sinks.map(async (s) => {
        try {
          await s.close();
        } catch (e) {
          this.fail(s, "close", e);
        }
      }),
    );
  }

  /** Counters per sink that has them. */
  statsBySink(): Record<string, SinkStats> {
    const out: Record<string, SinkStats> = {};
    for (const s of this.sinks) if (s.stats) out[s.name] = s.stats();
    return out;
  }

  private fail(s: Sink, what: string, e: unknown): void {
    const msg = `sink ${s.name}: ${what} failed: ${e instanceof Error ? e.message : String(e)}`;
    if (!this.failures.includes(msg)) {
      this.failures.push(msg);
      this.log(msg);
    }
  }
}
