// Live progress of a run on the terminal. On a TTY (and not --quiet) a small block of lines is
// redrawn in place each second — an elapsed/remaining bar, then per-student key figures (frames,
// latency p95, loss) — with ordinary log lines printed above it; ANSI cursor movement only (CSI
// "F" cursor previous line, "2K" erase line, "J" erase below; ECMA-48 §8.3). Elsewhere (CI logs,
// pipes) it prints plain `[proctor] …` lines, the per-student line at most every few seconds.
//
// Feeding it: `progress.log` has the shape of the runner's `log` option (it reads the runner's
// `t=12s/20s frames received 1080` lines to drive the bar), and `progress.update(snapshot)` takes
// per-student figures when the runner provides them (RunOptions.onProgress, see the suite report).
export type StudentProgress = {
  room: string;
  student: string;
  /** Frames received so far. */
  frames: number;
  /** Wire latency p95 over the last second (ms); undefined/NaN before the first frame. */
  latencyP95Ms?: number;
  /** Video loss so far, percent (before repair). */
  lossPct?: number;
};

export type ProgressSnapshot = {
  elapsedMs: number;
  durationMs: number;
  scenario?: string;
  students?: readonly StudentProgress[];
  /** Frames received by the whole class (when per-student figures are absent). */
  framesTotal?: number;
};

/** What the display writes to: process.stdout or anything shaped like it. */
export type ProgressStream = { write(s: string): unknown; isTTY?: boolean; columns?: number; rows?: number };

export type ProgressOptions = {
  stream?: ProgressStream;
  quiet?: boolean;
  /** Force redrawn (true) or plain (false) output; default: stream.isTTY. */
  tty?: boolean;
  /** Line prefix in plain mode and for log lines. */
  prefix?: string;
  /** Most students listed in the live block (the rest are summarised); default 8. */
  maxStudents?: number;
  /** Plain mode: least time between two per-student lines (ms); default 5000. */
  plainIntervalMs?: number;
  /** Label shown before the bar (e.g. "2/6 smoke"). */
  label?: string;
};

const RUNNER_TICK = /^t=(\d+)s\/(\d+)s frames received (\d+)$/;
const ESC = "\u001b[";

export class ProgressDisplay {
  private readonly stream: ProgressStream;
  private readonly quiet: boolean;
  private readonly tty: boolean;
  private readonly prefix: string;
  private readonly maxStudents: number;
  private readonly plainIntervalMs: number;
  private label: string | undefined;
  private last: ProgressSnapshot | undefined;
  private drawn = 0;
  private lastPlainAt = -Infinity;
  private closed = false;

  constructor(opts: ProgressOptions = {}) {
    this.stream = opts.stream ?? process.stdout;
    this.quiet = opts.quiet ?? false;
    this.tty = opts.tty ?? this.stream.isTTY === true;
    this.prefix = opts.prefix ?? "[proctor]";
    this.maxStudents = opts.maxStudents ?? 8;
    this.plainIntervalMs = opts.plainIntervalMs ?? 5000;
    this.label = opts.label;
  }

  /** A runner log line. On a TTY the runner's per-second tick drives the bar instead of printing. */
  readonly log = (line: string): void => {
    if (this.quiet || this.closed) return;
    const tick = RUNNER_TICK.exec(line);
    if (tick && this.tty) {
      const prev = this.last;
      // Keep per-student figures from update() if they are fresher than this tick.
      this.last = {
        ...prev,
        elapsedMs: Number(tick[1]) * 1000,
        durationMs: Number(tick[2]) * 1000,
        framesTotal: Number(tick[3]),
      };
      this.redraw();
      return;
    }
    if (this.tty) {
      this.erase();
      this.stream.write(`${this.prefix} ${line}\n`);
      this.redraw();
    } else {
      this.stream.write(`${this.prefix} ${line}\n`);
    }
  };

  /** Per-student figures (about once a second). */
  update(snapshot: ProgressSnapshot): void {
    if (this.quiet || this.closed) return;
    this.last = snapshot;
    if (this.tty) {
      this.redraw();
      return;
    }
    const now = snapshot.elapsedMs;
    const final = snapshot.elapsedMs >= snapshot.durationMs;
    if (!final && now - this.lastPlainAt < this.plainIntervalMs) return;
    this.lastPlainAt = now;
    this.stream.write(`${this.prefix} ${plainLine(snapshot, this.maxStudents)}\n`);
  }

  /** Start a new run in the same display (a suite): clears the figures, sets the label. */
  reset(label?: string): void {
    if (this.tty) this.erase();
    this.last = undefined;
    this.label = label;
    this.lastPlainAt = -Infinity;
  }

  /** Remove the live block (so a summary prints cleanly below) and stop drawing. */
  close(): void {
    if (this.tty) this.erase();
    this.closed = true;
  }

  /** The block's lines for a snapshot (exported for tests and other front ends). */
  lines(s: ProgressSnapshot, columns = 100): string[] {
    return blockLines(s, { label: this.label ?? s.scenario, maxStudents: this.maxStudents, columns });
  }

  private erase(): void {
    if (this.drawn === 0) return;
    this.stream.write(`${ESC}${this.drawn}F${ESC}J`);
    this.drawn = 0;
  }

  private redraw(): void {
    if (!this.last) return;
    const columns = Math.max(40, this.stream.columns ?? 100);
    const rows = this.stream.rows ?? 24;
    const lines = this.lines(this.last, columns).slice(0, Math.max(2, rows - 2));
    let out = this.drawn > 0 ? `${ESC}${this.drawn}F` : "";
    for (const l of lines) out += `${ESC}2K${l}\n`;
    out += `${ESC}J`;
    this.stream.write(out);
    this.drawn = lines.length;
  }
}

export function createProgress(opts: ProgressOptions = {}): ProgressDisplay {
  return new ProgressDisplay(opts);
}

const fmt = (v: number | undefined, digits: number): string => (v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(digits));

function bar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, fraction));
  const full = Math.round(f * width);
  return `${"█".repeat(full)}${"░".repeat(width - full)}`;
}

function clip(s: string, columns: number): string {
  return s.length <= columns ? s : `${s.slice(0, Math.max(0, columns - 1))}…`;
}

function blockLines(s: ProgressSnapshot, o: { label?: string; maxStudents: number; columns: number }): string[] {
  const elapsed = Math.min(s.elapsedMs, s.durationMs) / 1000;
  const total = s.durationMs / 1000;
  const left = Math.max(0, total - elapsed);
  const head = `${o.label ? `${o.label}  ` : ""}`;
  const tail = `  ${elapsed.toFixed(0)} s / ${total.toFixed(0)} s  (${left.toFixed(0)} s left)`;
  const width = Math.max(10, Math.min(40, o.columns - head.length - tail.length - 2));
  const lines = [clip(`${head}${bar(s.durationMs > 0 ? elapsed / total : 0, width)}${tail}`, o.columns)];
  const students = s.students ?? [];
  if (students.length === 0) {
    if (s.framesTotal !== undefined) lines.push(`  frames received ${s.framesTotal}`);
    return lines;
  }
  const shown = students.slice(0, o.maxStudents);
  const nameW = Math.max(...shown.map((x) => `${x.room}/${x.student}`.length));
  for (const x of shown) {
    lines.push(
      clip(
        `  ${`${x.room}/${x.student}`.padEnd(nameW)}  frames ${String(x.frames).padStart(5)}  lat p95 ${fmt(x.latencyP95Ms, 1).padStart(6)} ms  loss ${fmt(x.lossPct, 2).padStart(6)} %`,
        o.columns,
      ),
    );
  }
  const rest = students.slice(o.maxStudents);
  if (rest.length > 0) lines.push(clip(`  … ${rest.length} more: ${worst(rest)}`, o.columns));
  return lines;
}

/** "frames 12345, worst lat p95 12.3 ms, worst loss 1.20 %" */
function worst(list: readonly StudentProgress[]): string {
  const frames = list.reduce((n, x) => n + x.frames, 0);
  const lat = Math.max(...list.map((x) => (x.latencyP95Ms !== undefined && Number.isFinite(x.latencyP95Ms) ? x.latencyP95Ms : -Infinity)));
  const loss = Math.max(...list.map((x) => (x.lossPct !== undefined && Number.isFinite(x.lossPct) ? x.lossPct : -Infinity)));
  return `frames ${frames}, worst lat p95 ${fmt(Number.isFinite(lat) ? lat : undefined, 1)} ms, worst loss ${fmt(Number.isFinite(loss) ? loss : undefined, 2)} %`;
}

function plainLine(s: ProgressSnapshot, maxStudents: number): string {
  const head = `t=${(s.elapsedMs / 1000).toFixed(0)}s/${(s.durationMs / 1000).toFixed(0)}s`;
  const students = s.students ?? [];
  if (students.length === 0) return `${head} frames received ${s.framesTotal ?? 0}`;
  const shown = students.slice(0, Math.min(maxStudents, 4)).map((x) => `${x.student} ${x.frames} fr p95 ${fmt(x.latencyP95Ms, 1)} ms loss ${fmt(x.lossPct, 1)} %`);
  const rest = students.slice(shown.length);
  return `${head} ${shown.join(" | ")}${rest.length ? ` | +${rest.length} more: ${worst(rest)}` : ""}`;
}
