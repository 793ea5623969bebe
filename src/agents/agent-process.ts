#!/usr/bin/env node
// One light student in its own process: `node dist/agents/agent-process.js '<AgentConfig JSON>'`.
// The tc backend starts it inside the student's network namespace (`ip netns exec`), so its media
// and signaling cross the shaped veth. It streams its observations as JSON lines on stdout
// (agent-wire.ts) and leaves cleanly on {cmd:"leave"}, SIGTERM, or its stdin closing (the run died).
import { createInterface } from "node:readline";
import { systemClock } from "../clock.js";
import { receiveCounters } from "../metrics/receive-stats.js";
import { childRandom } from "../random.js";
import { LightStudent } from "./light-student.js";
import { AgentConfig, type AgentCommand, type AgentLine } from "./agent-wire.js";

/** How often new observations are written out (ms); their times are stamped when they happen. */
const FLUSH_MS = 50;

function main(): void {
  const raw = process.argv[2];
  let cfg: ReturnType<typeof AgentConfig.parse>;
  try {
    cfg = AgentConfig.parse(JSON.parse(raw ?? ""));
  } catch (e) {
    process.stderr.write(`agent-process: bad config (argv[2]): ${(e as Error).message}\n`);
    process.exit(2);
  }
  const clock = systemClock;
  const b = cfg.behaviour;
  const student = new LightStudent({
    serverUrl: cfg.serverUrl,
    room: cfg.room,
    student: cfg.student,
    clock,
    joinTimeoutMs: cfg.joinTimeoutMs,
    nack: cfg.nack,
    ice: cfg.ice,
    behaviour: b ? { afterMs: b.afterMs, correct: b.correct, answerKey: new Map(b.answerKey), random: childRandom(b.seed, b.label) } : undefined,
  });

  let out: string[] = [];
  const send = (l: AgentLine): void => {
    out.push(JSON.stringify(l));
  };
  const writeOut = (): void => {
    if (out.length === 0) return;
    process.stdout.write(`${out.join("\n")}\n`);
    out = [];
  };
  const cursor = { frames: 0, audio: 0, sr: 0, results: 0 };
  const answerSeen: string[] = [];
  const flush = (): void => {
    for (; cursor.frames < student.frames.length; cursor.frames++) send({ t: "frame", f: student.frames[cursor.frames]! });
    for (; cursor.audio < student.audio.length; cursor.audio++) send({ t: "audio", a: student.audio[cursor.audio]! });
    for (; cursor.sr < student.senderReports.length; cursor.sr++) send({ t: "sr", sr: student.senderReports[cursor.sr]! });
    for (; cursor.results < student.results.length; cursor.results++) send({ t: "result", r: student.results[cursor.results]! });
    // Answers change after they are sent (ack time, error): resend one whenever it changed.
    student.answers.forEach((a, i) => {
      const s = JSON.stringify(a);
      if (answerSeen[i] !== s) send({ t: "answer", i, a: JSON.parse((answerSeen[i] = s)) as typeof a });
    });
    writeOut();
  };
  const stats = (): void => {
    const n = student.nack;
    send({
      t: "stats",
      s: {
        video: receiveCounters(student.videoStats),
        audio: receiveCounters(student.audioStats),
        nack: n ? { missing: n.missing, recovered: n.recovered, unrecovered: n.unrecovered, nacksSent: n.nacksSent, repairRttMs: n.repairRttMs } : null,
        framesDropped: student.framesDropped,
      },
    });
  };
  const flushTimer = setInterval(flush, FLUSH_MS);
  const statsTimer = setInterval(stats, cfg.statsEveryMs);

  let leaving: Promise<void> | null = null;
  const leave = (): Promise<void> =>
    (leaving ??= (async () => {
      clearInterval(flushTimer);
      clearInterval(statsTimer);
      await student.leave().catch((e: Error) => send({ t: "error", message: `leave: ${e.message}` }));
      flush();
      stats();
      send({ t: "left" });
      writeOut();
      // werift keeps sockets/timers alive after close in some paths: exit once the lines are out.
      process.stdout.write("", () => process.exit(0));
    })());

  createInterface({ input: process.stdin })
    .on("line", (line) => {
      let c: AgentCommand;
      try {
        c = JSON.parse(line) as AgentCommand;
      } catch {
        send({ t: "error", message: `not a command: ${line.slice(0, 80)}` });
        return;
      }
      if (c.cmd === "clock") {
        // Answered at once (not batched): the parent times the round trip.
        process.stdout.write(`${JSON.stringify({ t: "clock", id: c.id, unixMs: clock.toUnixMs(clock.nowMs()) } satisfies AgentLine)}\n`);
      } else if (c.cmd === "join") {
        student.joinWithRetry(cfg.joinRetries).then(
          () => send({ t: "joined", joinMs: student.joinMs, joinRetries: student.joinRetries }),
          (e: Error) => send({ t: "join-failed", message: e.message, joinRetries: student.joinRetries }),
        );
      } else if (c.cmd === "leave") void leave();
    })
    .on("close", () => void leave());
  process.once("SIGTERM", () => void leave());
  process.stdout.write(`${JSON.stringify({ t: "ready", pid: process.pid } satisfies AgentLine)}\n`);
}

main();
