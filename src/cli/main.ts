#!/usr/bin/env node
// proctor command line. Thin: parse flags, call a module, print. Exit codes: 0 ok, 1 a budget
// failed, 2 the run broke (bad input, crash).
import { parseArgs } from "node:util";
import { loadScenario, ScenarioError } from "../scenario/loader.js";
import { runScenario } from "../scenario/runner.js";
import { resolveInfluxTarget, InfluxTargetError } from "../metrics/influx-target.js";
import { influxCommand } from "../metrics/influxd-local.js";
import { formatSummary } from "./summary.js";
import { runNetemCommand } from "./netem-command.js";
import { dashboardCommand } from "../dashboards/build.js";
import { runMediaCommand } from "./media-command.js";
import { runSuite, applyBaseline, scenarioThresholds } from "./suite-command.js";
import { createProgress } from "./progress.js";
import { probeTc, assertTcUsable, TcUnavailableError } from "../netem/tc-probe.js";
import { profileRequirements } from "../netem/tc-commands.js";
import { parseThresholdFlags, formatComparison, BaselineError } from "../report/baseline.js";

const HELP = `proctor — test harness and quality analytics for real-time (WebRTC) classrooms

usage: proctor <command> [options]

commands:
  run <scenario.yaml>        run a class on loopback: AI-teacher streamer, room server, students,
                             netem relays; write reports/<run-id>/{report.json,metrics.lp}; judge budgets
  suite <dir|files…>         run many scenarios in turn; one combined junit.xml under <out>/suite-*/
  validate <scenario.yaml>   check a scenario (and the netem profiles it names) without running it
  influx up|down|status      run a local InfluxDB 1.x (Debian's influxd) on a loopback port
  netem show <profile> [--backend tc]
                             print a profile's steps (with --backend tc: the exact tc commands)
  netem validate <files…>    check netem profile files
  media prepare <input> [--denoise] [--gain <LUFS>] [--out dir] [--clip-id n]
                             convert any media into a streamable lesson clip (frame code + sync markers)
  media transition <a> <b> --frames <n> [--mode blend|minterpolate]
                             transition frames between two clips, for a smooth switch
  dashboards build [--out d] write the Grafana dashboards (in-class, post-class) and provisioning files
  help [command]             this text, or a command's

run options:
  --out <dir>                reports folder (default ./reports)
  --influx <url>             also write to InfluxDB, live (or set PROCTOR_INFLUX_URL), e.g.
                               http://127.0.0.1:8086/?db=proctor                    (1.x)
                               http://host:8086/?org=acme&bucket=proctor&token=…     (2.x)
                               influx3://host:8181/?db=proctor&token=…               (3.x)
  --quiet                    only the summary, no progress lines
  --netem relay|tc           impairment backend (default relay: userspace, unprivileged; tc: each student
                             a process in its own network namespace, profiles as tc qdiscs on its veth;
                             needs root, sch_htb for a rate, sch_netem for delay/loss/… — probed first)
  --seed <n>                 override the scenario's seed (replay a run exactly as far as seeds go)
  --baseline <path>          compare with an earlier run (report.json, run folder, or reports folder):
                             regressions beyond the thresholds fail the run (exit 1)
  --baseline-threshold <m=v> override a threshold, e.g. latency_p95="+30ms +25%" (repeatable)

influx options:
  --dir <dir>                where the local server keeps data, config, pid (default .proctor/influxdb)
  --port <n>                 HTTP port (default: a free one)

examples:
  proctor run scenarios/smoke.yaml
  proctor influx up && proctor run scenarios/smoke.yaml --influx http://127.0.0.1:8086/?db=proctor
  proctor validate scenarios/*.yaml
  proctor suite scenarios/ --baseline reports/ --out reports

exit codes: 0 all budgets hold, 1 a budget failed, 2 the run broke (bad input, crash, interrupted)
`;

const COMMANDS = ["run", "suite", "validate", "influx", "netem", "dashboards", "help"] as const;

function fail(msg: string): number {
  process.stderr.write(`proctor: ${msg}\n`);
  return 2;
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === "media") {
    const r = await runMediaCommand(argv.slice(1));
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    return r.exitCode;
  }
  if (argv[0] === "netem") {
    const r = await runNetemCommand(argv.slice(1));
    process.stdout.write(r.stdout);
    process.stderr.write(r.stderr);
    return r.exitCode;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        out: { type: "string" },
        influx: { type: "string" },
        dir: { type: "string" },
        port: { type: "string" },
        quiet: { type: "boolean", default: false },
        seed: { type: "string" },
        netem: { type: "string", default: "relay" },
        baseline: { type: "string" },
        "baseline-threshold": { type: "string", multiple: true },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    return fail(`${(e as Error).message}\nrun "proctor --help" for usage`);
  }
  const { values, positionals } = parsed;
  const [command, ...args] = positionals;
  if (values.help || command === "help" || !command) {
    process.stdout.write(HELP);
    return command || values.help ? 0 : 2;
  }
  if (!(COMMANDS as readonly string[]).includes(command)) return fail(`unknown command "${command}" (known: ${COMMANDS.join(", ")})`);

  if (command === "influx") {
    const sub = args[0];
    if (sub !== "up" && sub !== "down" && sub !== "status") return fail(`influx: expected up, down or status, got ${sub === undefined ? "nothing" : `"${sub}"`}`);
    let port: number | undefined;
    if (values.port !== undefined) {
      port = Number(values.port);
      if (!Number.isInteger(port) || port < 1 || port > 65535) return fail(`--port: expected a TCP port 1–65535, got "${values.port}"`);
    }
    try {
      process.stdout.write(`${await influxCommand(sub, { dir: values.dir, port })}\n`);
      return 0;
    } catch (e) {
      return fail(`influx ${sub}: ${(e as Error).message}`);
    }
  }

  if (command === "dashboards") {
    if (args[0] !== "build" || args.length !== 1) return fail(`dashboards: expected "dashboards build [--out <dir>]"`);
    process.stdout.write(`${await dashboardCommand(values.out ? { outDir: values.out } : {})}\n`);
    return 0;
  }

  if (command === "validate") {
    if (args.length === 0) return fail("validate: expected one or more scenario files");
    let bad = 0;
    for (const file of args) {
      try {
        const s = await loadScenario(file);
        const students = s.rooms.reduce((n, r) => n + r.students.reduce((m, g) => m + g.count, 0), 0);
        process.stdout.write(
          `${file}: ok — ${s.rooms.length} room(s), ${students} student(s), ${typeof s.lesson === "string" ? `lesson "${s.lesson}" (${s.script?.clips.length ?? 0} clips)` : `${s.lesson.clips.length} clip(s)`}, ${s.duration / 1000} s, ${s.profiles.size} netem profile(s), ${Object.keys(s.budgets).length} budget metric(s)\n`,
        );
      } catch (e) {
        if (!(e instanceof ScenarioError)) throw e;
        process.stderr.write(`${e.message}\n`);
        bad++;
      }
    }
    return bad > 0 ? 2 : 0;
  }

  // run / suite: shared flags
  let seed: number | undefined;
  if (values.seed !== undefined) {
    seed = Number(values.seed);
    if (!Number.isInteger(seed) || seed < 0) return fail(`--seed: expected a whole number ≥ 0, got "${values.seed}"`);
  }
  let influx;
  let thresholds;
  try {
    influx = resolveInfluxTarget(values.influx) ?? undefined;
    thresholds = parseThresholdFlags(values["baseline-threshold"] ?? []);
  } catch (e) {
    if (e instanceof InfluxTargetError || e instanceof BaselineError) return fail(e.message);
    throw e;
  }
  const progress = createProgress({ quiet: values.quiet });
  const abort = new AbortController();
  const onSigint = (): void => {
    if (abort.signal.aborted) process.exit(2); // second Ctrl-C: leave now
    process.stderr.write("\nproctor: interrupted — finishing the report and flushing metrics (Ctrl-C again to quit now)\n");
    abort.abort();
  };
  process.on("SIGINT", onSigint);
  try {
    if (command === "suite") {
      if (args.length === 0) return fail("suite: expected one or more scenario folders or files");
      const r = await runSuite({
        paths: args,
        out: values.out,
        baseline: values.baseline,
        seed,
        quiet: values.quiet,
        log: progress.log,
        thresholds,
        run: { influx, signal: abort.signal, onProgress: (p) => progress.update(p) },
        onScenarioStart: (i) => progress.reset(`${i.index + 1}/${i.total} ${i.scenario}`),
      });
      progress.close();
      process.stdout.write(`\n${r.summary}\n`);
      return r.exitCode;
    }

    if (args.length !== 1) return fail(`run: expected exactly one scenario file, got ${args.length}`);
    const file = args[0]!;
    let scenario;
    try {
      scenario = await loadScenario(file);
    } catch (e) {
      if (e instanceof ScenarioError) return fail(`invalid scenario\n${e.message}`);
      throw e;
    }
    if (seed !== undefined) scenario.seed = seed;
    if (values.netem !== "relay" && values.netem !== "tc") return fail(`--netem: expected relay or tc, got "${values.netem}"`);
    if (values.netem === "tc") {
      // Fail fast, before any media or socket, with what is missing.
      const probe = await probeTc();
      try {
        for (const p of scenario.profiles.values()) assertTcUsable(probe, profileRequirements(p), `profile "${p.name}"`);
      } catch (e) {
        if (e instanceof TcUnavailableError) return fail(e.message);
        throw e;
      }
    }
    const result = await runScenario(scenario, {
      scenarioFile: file,
      reportsDir: values.out,
      log: progress.log,
      onProgress: (p) => progress.update(p),
      influx,
      signal: abort.signal,
      netem: values.netem,
    });
    progress.close();
    let { report, exitCode } = result;
    let baselineLines: string[] = [];
    if (values.baseline !== undefined) {
      const b = await applyBaseline({ report, runDir: result.runDir, exitCode, baseline: values.baseline, scenarioThresholds: scenarioThresholds(scenario), thresholds });
      report = b.report;
      exitCode = b.exitCode;
      baselineLines = b.comparison ? ["", "baseline:", ...formatComparison(b.comparison).map((l) => `  ${l}`)] : ["", `baseline: ${b.note ?? "not compared"}`];
    }
    process.stdout.write(`\n${formatSummary(report, result.runDir)}\n${baselineLines.join("\n")}${baselineLines.length ? "\n" : ""}`);
    return exitCode;
  } finally {
    process.off("SIGINT", onSigint);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // werift keeps timers/sockets alive after close in some paths; a finished command must exit.
    setTimeout(() => process.exit(code), 200).unref();
  },
  (e: unknown) => {
    process.stderr.write(`proctor: run broke: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(2);
  },
);
