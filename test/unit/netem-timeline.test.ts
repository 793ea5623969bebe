import { describe, expect, it } from "vitest";
import { ManualClock } from "../../src/clock.js";
import { seededRandom } from "../../src/random.js";
import { LinkEngine } from "../../src/netem/engine.js";
import type { Direction, LinkParams } from "../../src/netem/params.js";
import { loadProfile, parseProfile } from "../../src/netem/profile-loader.js";
import { driveTimeline, LinkTimeline, plannedEvents, type TimelineEvent, type Timers } from "../../src/netem/timeline.js";

/** Two real engines as the target. */
function engines() {
  const e = { down: new LinkEngine(seededRandom(1)), up: new LinkEngine(seededRandom(2)) };
  return { ...e, setParams: (d: Direction, p: LinkParams) => e[d].setParams(p) };
}

const PROFILE = parseProfile(
  [
    "name: steps",
    "steps:",
    "  - at: 0s",
    "    both: { delay: 10ms }",
    "  - at: 2s",
    "    down: { delay: 50ms, loss: 100% }",
    "  - at: 2s",
    "    up: { delay: 20ms }",
    "  - at: 5s",
    "    both: {}",
  ].join("\n"),
  "steps.yaml",
);

describe("LinkTimeline", () => {
  it("applies steps at their time, one event per applied (step, direction), directions a step omits untouched", () => {
    const t = engines();
    const events: TimelineEvent[] = [];
    const tl = new LinkTimeline(PROFILE, t, (e) => events.push(e));
    tl.start(1000);
    expect(events.map((e) => [e.stepIndex, e.direction, e.atMs])).toEqual([
      [0, "down", 1000],
      [0, "up", 1000],
    ]);
    expect(t.down.params.delayMs).toBe(10);
    expect(tl.nextAtMs()).toBe(3000);
    expect(tl.advanceTo(2999)).toBe(0);
    expect(tl.advanceTo(3000)).toBe(2);
    expect(events.slice(2).map((e) => [e.stepIndex, e.direction, e.stepAtMs])).toEqual([
      [1, "down", 2000],
      [2, "up", 2000],
    ]);
    expect(t.down.params.delayMs).toBe(50);
    expect(t.down.submit(100, 3000).count).toBe(0); // loss 100 % is live
    expect(t.up.params.delayMs).toBe(20);
    expect(t.up.submit(100, 3000).deliveries[0].atMs).toBe(3020);
    expect(tl.advanceTo(10_000)).toBe(1);
    expect(tl.done).toBe(true);
    expect(tl.nextAtMs()).toBeNull();
    expect(events).toHaveLength(6);
    expect(events[5]!.params).toBe(PROFILE.steps[3]!.up);
    expect(t.down.submit(100, 10_000).deliveries[0].atMs).toBe(10_000);
    expect(events.every((e) => e.profile === "steps")).toBe(true);
  });

  it("plannedEvents lists what will be applied, without applying", () => {
    const plan = plannedEvents(loadProfile("handover"));
    expect(plan.map((e) => [e.stepAtMs, e.direction])).toEqual([
      [0, "down"], [0, "up"], [10_000, "down"], [10_000, "up"], [12_000, "down"], [12_000, "up"],
    ]);
  });

  it("driveTimeline fires one timer at a time at the next step's time, and stop() cancels", () => {
    const clock = new ManualClock(500);
    const pending: { fn: () => void; at: number }[] = [];
    const timers: Timers = {
      setTimeout: (fn, ms) => {
        const h = { fn, at: clock.nowMs() + ms };
        pending.push(h);
        return h;
      },
      clearTimeout: (h) => pending.splice(pending.indexOf(h as (typeof pending)[number]), 1),
    };
    const events: TimelineEvent[] = [];
    const t = engines();
    const handle = driveTimeline(new LinkTimeline(PROFILE, t, (e) => events.push(e)), clock, timers);
    expect(events).toHaveLength(2);
    expect(pending.map((p) => p.at)).toEqual([2500]);
    clock.set(2500);
    pending.shift()!.fn();
    expect(events).toHaveLength(4);
    expect(pending.map((p) => p.at)).toEqual([5500]);
    handle.stop();
    expect(pending).toHaveLength(0);
  });
});
