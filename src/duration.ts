// Durations in YAML: "20s", "500ms", "1.5s", "2m", or a bare number of milliseconds.
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDurationMs(input: string | number): number | { error: string } {
  if (typeof input === "number") {
    return Number.isFinite(input) && input >= 0 ? input : { error: `expected a non-negative duration, got ${input}` };
  }
  const m = /^\s*(-?\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/.exec(input);
  if (!m) return { error: `expected a duration like "500ms", "20s" or "2m", got "${input}"` };
  const v = Number(m[1]) * UNITS[m[2]!]!;
  if (v < 0) return { error: `duration must not be negative, got "${input}"` };
  return v;
}
