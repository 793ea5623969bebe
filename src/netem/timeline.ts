// Applies a profile's steps over time to the two directions of one link, and reports every applied
// (step, direction) as an event so dashboards can draw it under the metrics. `LinkTimeline` is pure
// (the caller says what time it is); `driveTimeline` is the thin timer adapter, one timer at a time.
// Backend-neutral: the target is anything with setParams(direction, params) — the UDP relay, or
// the tc backend's `tc qdisc change`.
import type { Clock } from "../clock.js";
import type { Direction, LinkParams } from "./params.js";
import type { LinkProfile } from "./profile-loader.js";

export interface TimelineEvent {
  /** Clock time (monotonic ms) at which the parameters were applied. */
  atMs: number;
  /** The step's offset in the profile (ms from the link's start). */
  stepAtMs: number;
  direction: Direction;
  params: LinkParams;
  stepIndex: number;
  profile: string;
}

export interface ParamsTarget {
  setParams(direction: Direction, params: LinkParams): void;
}

/** The events a profile will produce, in order, without applying anything (for plan/show). */
export function plannedEvents(profile: LinkProfile): Omit<TimelineEvent, "atMs">[] {
  const out: Omit<TimelineEvent, "atMs">[] = [];
  for (const s of profile.steps) {
    if (s.down) out.push({ stepAtMs: s.atMs, direction: "down", params: s.down, stepIndex: s.index, profile: profile.name });
    if (s.up) out.push({ stepAtMs: s.atMs, direction: "up", params: s.up, stepIndex: s.index, profile: profile.name });
  }
  return out;
}

export class LinkTimeline {
  private next = 0;
  private originMs: number | null = null;

  constructor(
    readonly profile: LinkProfile,
    private readonly target: ParamsTarget,
    private readonly onEvent: (e: TimelineEvent) => void = () => {},
  ) {}

  /** Set the link's time origin and apply every step due at offset 0. */
  start(nowMs: number): void {
    if (this.originMs !== null) throw new Error(`timeline for profile "${this.profile.name}" already started`);
    this.originMs = nowMs;
    this.advanceTo(nowMs);
  }

  /** Apply every step whose time has come (in order); returns how many steps were applied. */
  advanceTo(nowMs: number): number {
    if (this.originMs === null) throw new Error(`timeline for profile "${this.profile.name}" not started`);
    let applied = 0;
    const steps = this.profile.steps;
    while (this.next < steps.length && this.originMs + steps[this.next]!.atMs <= nowMs) {
      const s = steps[this.next++]!;
      for (const direction of ["down", "up"] as const) {
        const params = s[direction];
        if (!params) continue;
        this.target.setParams(direction, params);
        this.onEvent({ atMs: nowMs, stepAtMs: s.atMs, direction, params, stepIndex: s.index, profile: this.profile.name });
      }
      applied++;
    }
    return applied;
  }

  /** Clock time of the next step, or null when all are applied (or before start). */
  nextAtMs(): number | null {
    const s = this.profile.steps[this.next];
    return s && this.originMs !== null ? this.originMs + s.atMs : null;
  }

  get done(): boolean {
    return this.next >= this.profile.steps.length;
  }
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const nodeTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** Start `timeline` (origin `originMs`, default now) and keep applying steps on time until done or stopped. */
export function driveTimeline(timeline: LinkTimeline, clock: Clock, timers: Timers = nodeTimers, originMs?: number): { stop(): void } {
  let handle: unknown = null;
  let stopped = false;
  const arm = (): void => {
    const at = timeline.nextAtMs();
    if (at === null || stopped) return;
    handle = timers.setTimeout(tick, Math.max(0, at - clock.nowMs()));
  };
  const tick = (): void => {
    handle = null;
    if (stopped) return;
    timeline.advanceTo(clock.nowMs());
    arm();
  };
  timeline.start(originMs ?? clock.nowMs());
  timeline.advanceTo(clock.nowMs());
  arm();
  return {
    stop(): void {
      stopped = true;
      if (handle !== null) timers.clearTimeout(handle);
      handle = null;
    },
  };
}
