// tc command generation: every library profile's every step, written out by hand from tc-netem(8)
// (and tc-htb(8) for rate), plus the edge cases of each option and the change/rebuild rules.
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { netemShow, netemValidate, runNetemCommand } from "../../src/cli/netem-command.js";
import { linkDevices } from "../../src/netem/netns.js";
import type { LinkParams } from "../../src/netem/params.js";
import { listLibraryProfiles, loadProfile, profileFromObject } from "../../src/netem/profile-loader.js";
import {
  formatArgv,
  formatTcPercent,
  formatTcRate,
  formatTcTime,
  netemArgs,
  profileCommands,
  profileRequirements,
  requirementsFor,
  setupCommands,
  tcLayout,
  transitionCommands,
  type TcDevice,
} from "../../src/netem/tc-commands.js";

const DEVICES = linkDevices("7p1");
const DOWN: TcDevice = DEVICES.down;
const UP: TcDevice = DEVICES.up;

/** [step index, direction, command lines] for every (step, direction) a profile sets. */
type Expected = [number, "down" | "up", string[]][];

const EXPECTED: Record<string, Expected> = {
  "3g": [
    [0, "down", [
      "tc qdisc add dev pxh7p1 root handle 1: htb default 1",
      "tc class add dev pxh7p1 parent 1: classid 1:1 htb rate 2mbit ceil 2mbit",
      "tc qdisc add dev pxh7p1 parent 1:1 handle 10: netem limit 200 delay 100ms 25ms distribution normal loss random 1.5%",
    ]],
    [0, "up", [
      "tc -n proctor-7p1 qdisc add dev pxs7p1 root handle 1: htb default 1",
      "tc -n proctor-7p1 class add dev pxs7p1 parent 1: classid 1:1 htb rate 750kbit ceil 750kbit",
      "tc -n proctor-7p1 qdisc add dev pxs7p1 parent 1:1 handle 10: netem limit 100 delay 100ms 25ms distribution normal loss random 1.5%",
    ]],
  ],
  "4g": [
    [0, "down", [
      "tc qdisc add dev pxh7p1 root handle 1: htb default 1",
      "tc class add dev pxh7p1 parent 1: classid 1:1 htb rate 20mbit ceil 20mbit",
      "tc qdisc add dev pxh7p1 parent 1:1 handle 10: netem delay 35ms 8ms distribution normal loss random 0.5%",
    ]],
    [0, "up", [
      "tc -n proctor-7p1 qdisc add dev pxs7p1 root handle 1: htb default 1",
      "tc -n proctor-7p1 class add dev pxs7p1 parent 1: classid 1:1 htb rate 8mbit ceil 8mbit",
      "tc -n proctor-7p1 qdisc add dev pxs7p1 parent 1:1 handle 10: netem delay 35ms 8ms distribution normal loss random 0.5%",
    ]],
  ],
  "burst-30": [
    [0, "down", ["tc qdisc add dev pxh7p1 root handle 1: netem delay 40ms 10ms"]],
    [0, "up", ["tc -n proctor-7p1 qdisc add dev pxs7p1 root handle 1: netem delay 40ms 10ms"]],
    [1, "down", ["tc qdisc change dev pxh7p1 root handle 1: netem delay 40ms 10ms loss gemodel 10.714% 25% 100% 0%"]],
    [1, "up", ["tc -n proctor-7p1 qdisc change dev pxs7p1 root handle 1: netem delay 40ms 10ms loss gemodel 10.714% 25% 100% 0%"]],
  ],
  "burst-50": [
    [0, "down", ["tc qdisc add dev pxh7p1 root handle 1: netem delay 40ms 10ms"]],
    [0, "up", ["tc -n proctor-7p1 qdisc add dev pxs7p1 root handle 1: netem delay 40ms 10ms"]],
    [1, "down", ["tc qdisc change dev pxh7p1 root handle 1: netem delay 40ms 10ms loss gemodel 20% 20% 100% 0%"]],
    [1, "up", ["tc -n proctor-7p1 qdisc change dev pxs7p1 root handle 1: netem delay 40ms 10ms loss gemodel 20% 20% 100% 0%"]],
  ],
  "burst-70": [
    [0, "down", ["tc qdisc add dev pxh7p1 root handle 1: netem delay 40ms 10ms"]],
    [0, "up", ["tc -n proctor-7p1 qdisc add dev pxs7p1 root handle 1: netem delay 40ms 10ms"]],
    [1, "down", ["tc qdisc change dev pxh7p1 root handle 1: netem delay 40ms 10ms loss gemodel 46.67% 20% 100% 0%"]],
    [1, "up", ["tc -n proctor-7p1 qdisc change dev pxs7p1 root handle 1: netem delay 40ms 10ms loss gemodel 46.67% 20% 100% 0%"]],
  ],
  clean: [
    [0, "down", []],
    [0, "up", []],
  ],
  "congested-1mbps": [
    [0, "down", [
      "tc qdisc add dev pxh7p1 root handle 1: htb default 1",
      "tc class add dev pxh7p1 parent 1: classid 1:1 htb rate 1mbit ceil 1mbit",
      "tc qdisc add dev pxh7p1 parent 1:1 handle 10: netem limit 50 delay 20ms 5ms",
    ]],
    [0, "up", [
      "tc -n proctor-7p1 qdisc add dev pxs7p1 root handle 1: htb default 1",
      "tc -n proctor-7p1 class add dev pxs7p1 parent 1: classid 1:1 htb rate 1mbit ceil 1mbit",
      "tc -n proctor-7p1 qdisc add dev pxs7p1 parent 1:1 handle 10: netem limit 50 delay 20ms 5ms",
    ]],
  ],
  handover: [
    [0, "down", ["tc qdisc add dev pxh7p1 root handle 1: netem delay 30ms 5ms"]],
    [0, "up", ["tc -n proctor-7p1 qdisc add dev pxs7p1 root handle 1: netem delay 30ms 5ms"]],
    [1, "down", ["tc qdisc change dev pxh7p1 root handle 1: netem delay 30ms 5ms loss random 100%"]],
    [1, "up", ["tc -n proctor-7p1 qdisc change dev pxs7p1 root handle 1: netem delay 30ms 5ms loss random 100%"]],
    [2, "down", ["tc qdisc change dev pxh7p1 root handle 1: netem delay 30ms 5ms"]],
    [2, "up", ["tc -n proctor-7p1 qdisc change dev pxs7p1 root handle 1: netem delay 30ms 5ms"]],
  ],
  "jitter-heavy": [
    [0, "down", ["tc qdisc add dev pxh7p1 root handle 1: netem delay 60ms 40ms distribution paretonormal"]],
    [0, "up", ["tc -n proctor-7p1 qdisc add dev pxs7p1 root handle 1: netem delay 60ms 40ms distribution paretonormal"]],
  ],
  "loss-10": [
    [0, "down", ["tc qdisc add dev pxh7p1 root handle 1: netem loss random 10%"]],
    [0, "up", ["tc -n proctor-7p1 qdisc add dev pxs7p1 root handle 1: netem loss random 10%"]],
  ],
  "loss-30": [
    [0, "down", ["tc qdisc add dev pxh7p1 root handle 1: netem loss random 30%"]],
    [0, "up", ["tc -n proctor-7p1 qdisc add dev pxs7p1 root handle 1: netem loss random 30%"]],
  ],
  "loss-50": [
    [0, "down", ["tc qdisc add dev pxh7p1 root handle 1: netem loss random 50%"]],
    [0, "up", ["tc -n proctor-7p1 qdisc add dev pxs7p1 root handle 1: netem loss random 50%"]],
  ],
  "loss-70": [
    [0, "down", ["tc qdisc add dev pxh7p1 root handle 1: netem loss random 70%"]],
    [0, "up", ["tc -n proctor-7p1 qdisc add dev pxs7p1 root handle 1: netem loss random 70%"]],
  ],
  "loss-ladder": [
    [0, "down", []],
    [0, "up", []],
    [1, "down", ["tc qdisc add dev pxh7p1 root handle 1: netem loss random 10%"]],
    [1, "up", ["tc -n proctor-7p1 qdisc add dev pxs7p1 root handle 1: netem loss random 10%"]],
    [2, "down", ["tc qdisc change dev pxh7p1 root handle 1: netem loss random 20%"]],
    [2, "up", ["tc -n proctor-7p1 qdisc change dev pxs7p1 root handle 1: netem loss random 20%"]],
    [3, "down", ["tc qdisc change dev pxh7p1 root handle 1: netem loss random 30%"]],
    [3, "up", ["tc -n proctor-7p1 qdisc change dev pxs7p1 root handle 1: netem loss random 30%"]],
    [4, "down", ["tc qdisc change dev pxh7p1 root handle 1: netem loss random 40%"]],
    [4, "up", ["tc -n proctor-7p1 qdisc change dev pxs7p1 root handle 1: netem loss random 40%"]],
    [5, "down", ["tc qdisc change dev pxh7p1 root handle 1: netem loss random 50%"]],
    [5, "up", ["tc -n proctor-7p1 qdisc change dev pxs7p1 root handle 1: netem loss random 50%"]],
    [6, "down", ["tc qdisc change dev pxh7p1 root handle 1: netem loss random 60%"]],
    [6, "up", ["tc -n proctor-7p1 qdisc change dev pxs7p1 root handle 1: netem loss random 60%"]],
    [7, "down", ["tc qdisc change dev pxh7p1 root handle 1: netem loss random 70%"]],
    [7, "up", ["tc -n proctor-7p1 qdisc change dev pxs7p1 root handle 1: netem loss random 70%"]],
  ],
  "wifi-good": [
    [0, "down", ["tc qdisc add dev pxh7p1 root handle 1: netem delay 4ms 2ms loss random 0.2%"]],
    [0, "up", ["tc -n proctor-7p1 qdisc add dev pxs7p1 root handle 1: netem delay 4ms 2ms loss random 0.2%"]],
  ],
};

/** One direction's params from YAML-shaped input (through the real schema). */
function params(input: Record<string, unknown>): LinkParams {
  return profileFromObject({ name: "t", steps: [{ at: 0, down: input }] }).steps[0]!.down!;
}

/** Setup command lines for params on the host end. */
function setup(input: Record<string, unknown>): string[] {
  return setupCommands(DOWN, params(input)).map(formatArgv);
}

function transition(from: Record<string, unknown> | null, to: Record<string, unknown>, d: TcDevice = DOWN): string[] {
  return transitionCommands(d, from === null ? null : params(from), params(to)).map(formatArgv);
}

describe("tc commands for the library profiles", () => {
  it("every library profile has hand-written expectations (a new profile must add its own)", () => {
    expect(Object.keys(EXPECTED).sort()).toEqual(listLibraryProfiles());
  });

  for (const [name, expected] of Object.entries(EXPECTED)) {
    it(`${name}: every step, both directions`, () => {
      const got = profileCommands(loadProfile(name), DEVICES).map((c): [number, string, string[]] => [c.stepIndex, c.direction, c.argv.map(formatArgv)]);
      expect(got).toEqual(expected);
    });
  }

  it("down runs on the host end in the root namespace, up inside the student's namespace", () => {
    for (const c of profileCommands(loadProfile("loss-30"), DEVICES)) {
      const argv = c.argv[0]!;
      if (c.direction === "down") expect(argv.slice(0, 5)).toEqual(["tc", "qdisc", "add", "dev", "pxh7p1"]);
      else expect(argv.slice(0, 7)).toEqual(["tc", "-n", "proctor-7p1", "qdisc", "add", "dev", "pxs7p1"]);
    }
  });

  it("argv lists are clean: start with tc, no empty or undefined words, no spaces inside a word", () => {
    for (const name of listLibraryProfiles()) {
      for (const c of profileCommands(loadProfile(name), DEVICES)) {
        for (const argv of c.argv) {
          expect(argv[0]).toBe("tc");
          for (const w of argv) expect(w).toMatch(/^\S+$/);
        }
      }
    }
  });
});

describe("value formatting (tc units)", () => {
  it("times, percentages and rates", () => {
    expect(formatTcTime(40)).toBe("40ms");
    expect(formatTcTime(1.5)).toBe("1500us");
    expect(formatTcTime(0.0005)).toBe("500ns");
    expect(formatTcPercent(0.3)).toBe("30%");
    expect(formatTcPercent(0.4667)).toBe("46.67%");
    expect(formatTcPercent(0.10714)).toBe("10.714%");
    expect(formatTcPercent(1 / 3)).toBe("33.333333%");
    expect(formatTcPercent(0)).toBe("0%");
    expect(formatTcPercent(1)).toBe("100%");
    expect(formatTcRate(2_000_000)).toBe("2mbit");
    expect(formatTcRate(750_000)).toBe("750kbit");
    expect(formatTcRate(1_500_000)).toBe("1500kbit");
    expect(formatTcRate(1_048_576)).toBe("1048576bit");
    expect(formatTcRate(3e9)).toBe("3gbit");
    expect(formatTcRate(64)).toBe("64bit");
  });
});

describe("netem options (tc-netem(8) syntax)", () => {
  it("delay with jitter, correlation and a distribution table; uniform writes no table", () => {
    expect(netemArgs(params({ delay: "40ms", jitter: "10ms", delayCorrelation: "25%", distribution: "normal" })).join(" ")).toBe(
      "delay 40ms 10ms 25% distribution normal",
    );
    expect(netemArgs(params({ delay: "40ms", jitter: "10ms", distribution: "uniform" })).join(" ")).toBe("delay 40ms 10ms");
    expect(netemArgs(params({ delay: "100ms", jitter: "20ms", distribution: "pareto" })).join(" ")).toBe("delay 100ms 20ms distribution pareto");
    expect(netemArgs(params({ delay: "1.5ms" })).join(" ")).toBe("delay 1500us");
    expect(netemArgs(params({ jitter: "5ms" })).join(" ")).toBe("delay 0ms 5ms");
  });

  it("loss random with correlation", () => {
    expect(netemArgs(params({ loss: { random: "30%", correlation: "25%" } })).join(" ")).toBe("loss random 30% 25%");
    expect(netemArgs(params({ loss: 0.5 })).join(" ")).toBe("loss random 0.5%");
  });

  it("loss gemodel: all four of p r 1-h 1-k, tc's defaults (r = 1−p, 1-h = 100 %, 1-k = 0) written out", () => {
    expect(netemArgs(params({ loss: { gemodel: { p: "5%" } } })).join(" ")).toBe("loss gemodel 5% 95% 100% 0%");
    expect(netemArgs(params({ loss: { gemodel: { p: "1%", r: "30%", "1-h": "80%", "1-k": "0.5%" } } })).join(" ")).toBe("loss gemodel 1% 30% 80% 0.5%");
  });

  it("loss state: all five of p13 p31 p32 p23 p14, defaults (p31 = 1−p13, p32 0, p23 100 %, p14 0) written out", () => {
    expect(netemArgs(params({ loss: { state: { p13: "5%" } } })).join(" ")).toBe("loss state 5% 95% 0% 100% 0%");
    expect(netemArgs(params({ loss: { state: { p13: "2%", p31: "70%", p32: "10%", p23: "50%", p14: "1%" } } })).join(" ")).toBe(
      "loss state 2% 70% 10% 50% 1%",
    );
  });

  it("corrupt, duplicate, reorder (gap written only when > 1) in the man page's order", () => {
    expect(netemArgs(params({ delay: "10ms", reorder: { probability: "25%", correlation: "50%", gap: 5 } })).join(" ")).toBe(
      "delay 10ms reorder 25% 50% gap 5",
    );
    expect(netemArgs(params({ delay: "10ms", reorder: "25%" })).join(" ")).toBe("delay 10ms reorder 25%");
    expect(netemArgs(params({ delay: "10ms", reorder: { probability: "100%", gap: 5 } })).join(" ")).toBe("delay 10ms reorder 100% gap 5");
    expect(netemArgs(params({ duplicate: { probability: "1%", correlation: "10%" }, corrupt: "0.1%", loss: "2%" })).join(" ")).toBe(
      "loss random 2% corrupt 0.1% duplicate 1% 10%",
    );
    expect(netemArgs(params({ limit: 300, delay: "5ms", loss: "1%" })).join(" ")).toBe("limit 300 delay 5ms loss random 1%");
  });

  it("slot: range (max only when ≠ min), distribution, uniform distribution as its range; packets/bytes only when capped", () => {
    expect(netemArgs(params({ slot: { min: "10ms", max: "30ms", packets: 8, bytes: 12000 } })).join(" ")).toBe("slot 10ms 30ms packets 8 bytes 12000");
    expect(netemArgs(params({ slot: { min: "5ms" } })).join(" ")).toBe("slot 5ms");
    expect(netemArgs(params({ slot: { min: 0.8, max: "2ms", bytes: 3000 } })).join(" ")).toBe("slot 800us 2ms bytes 3000");
    expect(netemArgs(params({ slot: { distribution: "normal", delay: "20ms", jitter: "5ms", packets: 8 } })).join(" ")).toBe(
      "slot distribution normal 20ms 5ms packets 8",
    );
    expect(netemArgs(params({ slot: { distribution: "uniform", delay: "20ms", jitter: "5ms" } })).join(" ")).toBe("slot 15ms 25ms");
  });
});

describe("rate: htb class with a netem or pfifo leaf; netem's own rate only for cells or negative overhead", () => {
  it("rate alone needs no netem: htb + pfifo leaf with the queue limit", () => {
    expect(setup({ rate: "2mbit" })).toEqual([
      "tc qdisc add dev pxh7p1 root handle 1: htb default 1",
      "tc class add dev pxh7p1 parent 1: classid 1:1 htb rate 2mbit ceil 2mbit",
      "tc qdisc add dev pxh7p1 parent 1:1 handle 10: pfifo limit 1000",
    ]);
    expect(setup({ rate: "1.5mbit", limit: 50 })).toEqual([
      "tc qdisc add dev pxh7p1 root handle 1: htb default 1",
      "tc class add dev pxh7p1 parent 1: classid 1:1 htb rate 1500kbit ceil 1500kbit",
      "tc qdisc add dev pxh7p1 parent 1:1 handle 10: pfifo limit 50",
    ]);
    expect(requirementsFor([params({ rate: "2mbit" })])).toEqual({ netem: [], htb: true });
  });

  it("packet overhead ≥ 0 goes to htb's overhead; tc's bytes-per-second unit is kept (1mbps = 8 mbit/s)", () => {
    expect(setup({ rate: { bandwidth: "1mbps", packetOverhead: 28 }, delay: "10ms" })).toEqual([
      "tc qdisc add dev pxh7p1 root handle 1: htb default 1",
      "tc class add dev pxh7p1 parent 1: classid 1:1 htb rate 8mbit ceil 8mbit overhead 28",
      "tc qdisc add dev pxh7p1 parent 1:1 handle 10: netem delay 10ms",
    ]);
  });

  it("cells or a negative overhead: netem's own rate at the root (tc-netem(8)'s example)", () => {
    expect(setup({ rate: { bandwidth: "5kbit", packetOverhead: 20, cellSize: 100, cellOverhead: 5 } })).toEqual([
      "tc qdisc add dev pxh7p1 root handle 1: netem rate 5kbit 20 100 5",
    ]);
    expect(setup({ rate: { bandwidth: "10mbit", packetOverhead: -14 }, delay: "5ms" })).toEqual([
      "tc qdisc add dev pxh7p1 root handle 1: netem delay 5ms rate 10mbit -14",
    ]);
    expect(requirementsFor([params({ rate: { bandwidth: "10mbit", packetOverhead: -14 } })]).netem).toEqual(["rate with cell size/negative overhead"]);
  });

  it("layouts", () => {
    expect(tcLayout(params({}))).toEqual({ kind: "none" });
    expect(tcLayout(params({ limit: 10 }))).toEqual({ kind: "none" });
    expect(tcLayout(params({ loss: "1%" }))).toEqual({ kind: "netem" });
    expect(tcLayout(params({ rate: "1mbit" }))).toEqual({ kind: "htb", leaf: "pfifo" });
    expect(tcLayout(params({ rate: "1mbit", loss: "1%" }))).toEqual({ kind: "htb", leaf: "netem" });
  });
});

describe("step transitions: change where exact, rebuild where the kernel would keep stale state", () => {
  it("identical params: nothing; clean after netem: delete the root qdisc", () => {
    expect(transition({ loss: "10%" }, { loss: "10%" })).toEqual([]);
    expect(transition({ loss: "10%" }, {})).toEqual(["tc qdisc del dev pxh7p1 root"]);
    expect(transition({ rate: "1mbit" }, {})).toEqual(["tc qdisc del dev pxh7p1 root"]);
    expect(transition({}, {})).toEqual([]);
  });

  it("adding sticky attributes is a change; dropping one rebuilds (netem_change keeps omitted attributes)", () => {
    expect(transition({ delay: "10ms" }, { delay: "10ms", corrupt: "1%" })).toEqual(["tc qdisc change dev pxh7p1 root handle 1: netem delay 10ms corrupt 1%"]);
    expect(transition({ delay: "10ms", corrupt: "1%" }, { delay: "10ms" })).toEqual([
      "tc qdisc del dev pxh7p1 root",
      "tc qdisc add dev pxh7p1 root handle 1: netem delay 10ms",
    ]);
    expect(transition({ delay: "40ms", jitter: "10ms", distribution: "normal" }, { delay: "40ms", jitter: "10ms" })).toEqual([
      "tc qdisc del dev pxh7p1 root",
      "tc qdisc add dev pxh7p1 root handle 1: netem delay 40ms 10ms",
    ]);
    expect(transition({ delay: "40ms", jitter: "10ms", distribution: "normal" }, { delay: "40ms", jitter: "10ms", distribution: "pareto" })).toEqual([
      "tc qdisc change dev pxh7p1 root handle 1: netem delay 40ms 10ms distribution pareto",
    ]);
    expect(transition({ loss: { random: "10%", correlation: "25%" } }, { loss: "10%" })).toEqual([
      "tc qdisc del dev pxh7p1 root",
      "tc qdisc add dev pxh7p1 root handle 1: netem loss random 10%",
    ]);
    expect(transition({ slot: { min: "5ms" } }, { loss: "1%" })).toEqual(["tc qdisc del dev pxh7p1 root", "tc qdisc add dev pxh7p1 root handle 1: netem loss random 1%"]);
    // loss model changes are exact: without TCA_NETEM_LOSS the kernel falls back to random loss.
    expect(transition({ loss: { gemodel: { p: "5%" } } }, { loss: "3%" })).toEqual(["tc qdisc change dev pxh7p1 root handle 1: netem loss random 3%"]);
  });

  it("inside htb: a rate change is `tc class change`; leaf changes in place or is replaced when its kind changes", () => {
    expect(transition({ rate: "2mbit" }, { rate: "1mbit" })).toEqual(["tc class change dev pxh7p1 parent 1: classid 1:1 htb rate 1mbit ceil 1mbit"]);
    expect(transition({ rate: "2mbit", limit: 100 }, { rate: "2mbit", limit: 20 })).toEqual(["tc qdisc change dev pxh7p1 parent 1:1 handle 10: pfifo limit 20"]);
    expect(transition({ rate: "2mbit", delay: "20ms" }, { rate: "1mbit", delay: "30ms" })).toEqual([
      "tc class change dev pxh7p1 parent 1: classid 1:1 htb rate 1mbit ceil 1mbit",
      "tc qdisc change dev pxh7p1 parent 1:1 handle 10: netem delay 30ms",
    ]);
    expect(transition({ rate: "2mbit" }, { rate: "2mbit", loss: "5%" })).toEqual([
      "tc qdisc del dev pxh7p1 parent 1:1 handle 10:",
      "tc qdisc add dev pxh7p1 parent 1:1 handle 10: netem loss random 5%",
    ]);
    expect(transition({ rate: "2mbit", delay: "9ms", jitter: "3ms", distribution: "normal" }, { rate: "2mbit", delay: "9ms", jitter: "3ms" })).toEqual([
      "tc qdisc del dev pxh7p1 parent 1:1 handle 10:",
      "tc qdisc add dev pxh7p1 parent 1:1 handle 10: netem delay 9ms 3ms",
    ]);
  });

  it("a layout change (netem ⇄ htb) rebuilds from the root", () => {
    expect(transition({ loss: "5%" }, { loss: "5%", rate: "4mbit" }, UP)).toEqual([
      "tc -n proctor-7p1 qdisc del dev pxs7p1 root",
      "tc -n proctor-7p1 qdisc add dev pxs7p1 root handle 1: htb default 1",
      "tc -n proctor-7p1 class add dev pxs7p1 parent 1: classid 1:1 htb rate 4mbit ceil 4mbit",
      "tc -n proctor-7p1 qdisc add dev pxs7p1 parent 1:1 handle 10: netem loss random 5%",
    ]);
    expect(transition({ rate: "4mbit" }, { delay: "5ms" })).toEqual(["tc qdisc del dev pxh7p1 root", "tc qdisc add dev pxh7p1 root handle 1: netem delay 5ms"]);
  });
});

describe("requirements", () => {
  it("names the netem features each profile uses and whether it needs htb", () => {
    expect(profileRequirements(loadProfile("loss-30"))).toEqual({ netem: ["loss"], htb: false });
    expect(profileRequirements(loadProfile("burst-70"))).toEqual({ netem: ["delay", "loss gemodel"], htb: false });
    expect(profileRequirements(loadProfile("3g"))).toEqual({ netem: ["delay", "loss"], htb: true });
    expect(profileRequirements(loadProfile("clean"))).toEqual({ netem: [], htb: false });
  });
});

describe("proctor netem show / validate", () => {
  it("show: a table row per step and direction, and with --backend tc the exact commands", () => {
    const r = netemShow("burst-30", { backend: "tc" });
    expect(r.exitCode).toBe(0);
    const lines = r.stdout.split("\n");
    const header = lines.find((l) => l.startsWith("at "))!;
    for (const col of ["dir", "delay", "jitter", "loss", "rate", "limit", "slot"]) expect(header).toContain(col);
    const rows = lines.filter((l) => /^\d+s\s+(down|up)\s/.test(l));
    expect(rows.map((l) => l.split(/\s+/).slice(0, 4).join(" "))).toEqual(["0s down 40ms 10ms", "0s up 40ms 10ms", "5s down 40ms 10ms", "5s up 40ms 10ms"]);
    expect(rows[2]).toContain("gemodel p 10.714% r 25%");
    expect(lines).toContain("tc qdisc change dev pxh$ID root handle 1: netem delay 40ms 10ms loss gemodel 10.714% 25% 100% 0%");
    expect(lines).toContain("tc -n proctor-$ID qdisc add dev pxs$ID root handle 1: netem delay 40ms 10ms");
    expect(r.stdout).toContain("kernel qdiscs needed: sch_netem (delay, loss gemodel)");
    // Without --backend tc: no commands.
    expect(netemShow("burst-30").stdout).not.toContain("tc qdisc");
  });

  it("show: unknown profile or backend is bad input (exit 2) with the reason", () => {
    const r = runNetemCommand(["show", "no-such-profile"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('no netem profile named "no-such-profile"');
    expect(runNetemCommand(["show", "clean", "--backend", "ns3"]).stderr).toContain('unknown backend "ns3"');
    expect(runNetemCommand(["frobnicate"]).exitCode).toBe(2);
  });

  it("validate: every file checked; an invalid one is named with line, step and field", () => {
    const dir = mkdtempSync(join(tmpdir(), "proctor-netem-validate-"));
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "name: bad\nsteps:\n  - at: 0s\n    both: { delay: 10ms }\n  - at: 1s\n    down: { loss: 120% }\n");
    const good = join(dir, "good.yaml");
    writeFileSync(good, "name: good\nsteps:\n  - at: 0s\n    both: { loss: 5% }\n");
    const r = netemValidate([good, bad]);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toContain(`${good}: ok — good, 1 step(s)`);
    expect(r.stdout).toContain("1 valid, 1 invalid");
    expect(r.stderr).toMatch(new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}:6:\\d+: steps\\[1\\]\\.down\\.loss: must be within 0–100 %`));
    const ok = runNetemCommand(["validate", ...listLibraryProfiles().map((n) => `netem-profiles/${n}.yaml`)]);
    expect(ok.exitCode).toBe(0);
    expect(ok.stdout).toContain(`${listLibraryProfiles().length} valid, 0 invalid`);
  });
});
