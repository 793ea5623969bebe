// A drift-free periodic ticker for the bare-werift baseline sender: tick k is due at t0 + k·period
// (computed from k, never accumulated), and a late timer fires the missed ticks at once. Without it
// a plain setInterval slips by each callback's lateness and the baseline would fall below 30 fps
// for reasons unrelated to werift.

/** Start ticking; returns stop(). `onTick(k)` runs for k = 0, 1, 2, … */
export function startTicker(periodMs, t0Ms, onTick) {
  let k = 0;
  let timer = null;
  let stopped = false;
  const fire = () => {
    if (stopped) return;
    const now = performance.now();
    while (!stopped && t0Ms + k * periodMs <= now + 0.5) onTick(k++);
    if (!stopped) timer = setTimeout(fire, Math.max(0, t0Ms + k * periodMs - performance.now()));
  };
  fire();
  return () => {
    stopped = true;
    if (timer) clearTimeout(timer);
  };
}
