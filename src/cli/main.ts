#!/usr/bin/env node
// proctor command line. Thin: parse flags, call a module, print. Exit codes: 0 ok, 1 a budget
// failed, 2 the run broke (bad input, crash).
import { parseArgs } from "node:util";
import { loadScenario, ScenarioError } from "../scenario/loader.js";
import { runScenario } from "../scenario/runner.js";
import { formatSummary } from "./summary.js";

const HELP = `proctor — test harness and quality analytics for real-time (WebRTC) classrooms

usage: proctor <command> [options]

commands:
  run <scenario.yaml>      run a class: AI-teacher streamer, room server and students on loopback,
                           then write reports/<run-id>/{report.json,metrics.lp} and judge budgets
  validate <scenario.yaml> check a scenario file and print what it would run

options:
  --out <dir>              reports folder (default ./reports)
  --quiet                  only the summary, no progress lines
  -h, --help               this help

examples:
  proctor run scenarios/smoke.yaml
  proctor run scenarios/smoke.yaml --out /tmp/reports --quiet
  proctor validate scenarios/smoke.yaml

exit codes: 0 all budgets hold, 1 a budget failed, 2 the run broke (bad input or crash)
`;

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        out: { type: "string" },
        quiet: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    });
  } catch (e) {
    process.stderr.write(`proctor: ${(e as Error).message}\n\n${HELP}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, file, ...extra] = positionals;
  if (values.help || !command) {
    process.stdout.write(HELP);
    return command || values.help ? 0 : 2;
  }
  if (command !== "run" && command !== "validate") {
    process.stderr.write(`proctor: unknown command "${command}" (known: run, validate)\n`);
    return 2;
  }
  if (!file || extra.length > 0) {
    process.stderr.write(`proctor ${command}: expected exactly one scenario file, got ${positionals.length - 1}\n`);
    return 2;
  }
  let scenario;
  try {
    scenario = await loadScenario(file);
  } catch (e) {
    if (e instanceof ScenarioError) {
      process.stderr.write(`proctor: invalid scenario\n${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const students = scenario.rooms.reduce((n, r) => n + r.students.reduce((m, g) => m + g.count, 0), 0);
  if (command === "validate") {
    process.stdout.write(
      `${file}: ok — ${scenario.rooms.length} room(s), ${students} student(s), ${scenario.lesson.clips.length} clip(s), ${scenario.duration / 1000} s, ${Object.keys(scenario.budgets).length} budget metric(s)\n`,
    );
    return 0;
  }
  const log = values.quiet ? undefined : (line: string) => process.stdout.write(`[proctor] ${line}\n`);
  const result = await runScenario(scenario, { scenarioFile: file, reportsDir: values.out, log });
  process.stdout.write(`\n${formatSummary(result.report, result.runDir)}\n`);
  return result.exitCode;
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
