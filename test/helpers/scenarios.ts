// Small scenarios for tests: short clips so a real class fits in a few seconds of CI time.
import { parseScenario } from "../../src/scenario/loader.js";
import type { Scenario } from "../../src/scenario/schema.js";

export function quickScenario(opts: { name?: string; students?: number; clipSeconds?: number; clips?: number; durationSeconds?: number; budgets?: string } = {}): Scenario {
  const clips = opts.clips ?? 3;
  const clipS = opts.clipSeconds ?? 3;
  const clipLines = Array.from({ length: clips }, (_, i) => `    - { name: c${i + 1}, duration: ${clipS}s }`).join("\n");
  return parseScenario(
    `name: ${opts.name ?? "test"}
seed: 7
duration: ${opts.durationSeconds ?? clips * clipS + 1}s
lesson:
  clips:
${clipLines}
rooms:
  - id: room-1
    students:
      - { group: s, count: ${opts.students ?? 3}, agent: werift }
${opts.budgets ?? ""}
`,
    "<test>",
  );
}
