// Helpers shared by the YAML loaders (scenario, netem profile, lesson): reading back what a parsed
// document held at a field path, for error messages that quote the offending value.

/** The value at `path` in plain parsed data, or undefined when the path does not exist. */
export function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = data;
  for (const k of path) {
    if (cur === null || typeof cur !== "object") return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}
