// A drift-free periodic ticker on the monotonic clock. Tick k is due at t0 + k·period, computed
// from k (never by adding periods to a running total), so a long run does not drift; a late timer
// fires the missed ticks at once, each still stamped with its own due time.
import type { Clock } from "../clock.js";

export type TickHandler = (tick: number, dueMs: number) => void;

/** Ticks fired back to back at most, when the pacer is behind. */
const MAX_BURST = 2;

export class Pacer {
  private timer: NodeJS.Timeout | null = null;
  private nextTick = 0;
  private stopped = true;
  /** Largest observed lateness of a tick callback behind its due time (ms). */
  maxLatenessMs = 0;

  constructor(
    private readonly clock: Clock,
    private readonly periodMs: number,
    private readonly t0Ms: number,
    private readonly onTick: TickHandler,
  ) {
    if (!(periodMs > 0)) throw new Error(`pacer: period must be > 0 ms, got ${periodMs}`);
  }

  /**
   * Start at `firstTick` (ticks already due fire at once, late), or by default at the first tick
   * whose due time is ≥ now.
   */
  start(firstTick?: number): void {
    if (!this.stopped) return;
    this.stopped = false;
    const now = this.clock.nowMs();
    this.nextTick = firstTick ?? Math.max(0, Math.ceil((now - this.t0Ms) / this.periodMs - 1e-9));
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** The next tick to fire (its due time is `dueMs(pendingTick)`). */
  get pendingTick(): number {
    return this.nextTick;
  }

  dueMs(tick: number): number {
    return this.t0Ms + tick * this.periodMs;
  }

  private schedule(): void {
    if (this.stopped) return;
    const wait = this.dueMs(this.nextTick) - this.clock.nowMs();
    this.timer = setTimeout(this.fire, Math.max(0, wait));
  }

  private readonly fire = (): void => {
    if (this.stopped) return;
    const now = this.clock.nowMs();
    // After a stall, catch up at most MAX_BURST ticks per turn of the event loop: the missed frames
    // still go out (skipping one would break the VP8 reference chain), but interleaved with socket
    // I/O instead of as one burst that overflows receivers' UDP buffers.
    let burst = 0;
    while (!this.stopped && this.dueMs(this.nextTick) <= now + 0.5 && burst++ < MAX_BURST) {
      const k = this.nextTick++;
      const due = this.dueMs(k);
      const late = now - due;
      if (late > this.maxLatenessMs) this.maxLatenessMs = late;
      this.onTick(k, due);
    }
    this.schedule();
  };
}
