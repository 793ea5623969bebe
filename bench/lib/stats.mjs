// Small statistics for bench figures: percentiles (linear interpolation between closest ranks,
// the "R-7" / numpy default), min/max/mean. Bench code only; nothing here is on a media path.

/** p-th percentile (0..100) of `values` (unsorted), or null when empty. */
export function percentile(values, p) {
  if (values.length === 0) return null;
  const s = Float64Array.from(values).sort();
  return percentileSorted(s, p);
}

/** p-th percentile of an ascending array. */
export function percentileSorted(sorted, p) {
  const n = sorted.length;
  if (n === 0) return null;
  const rank = (Math.min(100, Math.max(0, p)) / 100) * (n - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(n - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
}

/** count, min, p50, p95, p99, max, mean of `values`. */
export function summarize(values) {
  const s = Float64Array.from(values).sort();
  const n = s.length;
  if (n === 0) return { count: 0, min: null, p50: null, p95: null, p99: null, max: null, mean: null };
  let sum = 0;
  for (const v of s) sum += v;
  return {
    count: n,
    min: s[0],
    p50: percentileSorted(s, 50),
    p95: percentileSorted(s, 95),
    p99: percentileSorted(s, 99),
    max: s[n - 1],
    mean: sum / n,
  };
}

/** Round to `digits` decimals, keeping null/undefined as null (JSON-friendly). */
export function round(v, digits = 2) {
  if (v === null || v === undefined || !Number.isFinite(v)) return null;
  const k = 10 ** digits;
  return Math.round(v * k) / k;
}
