// Disk spool for the InfluxDB sink: while the database is away, each batch of line protocol becomes
// one file `<dir>/NNNNNN.lp`, written once (to a .tmp name, then renamed, so a crash never leaves a
// half batch under a real name) and never changed; replay reads the oldest, sends it, deletes it.
// Files are plain line protocol, so a left-over spool can also be loaded by hand
// (`influx -import`, curl --data-binary @NNNNNN.lp). A sink opened on a folder that already holds
// spool files picks them up and replays them first (numbering continues after the highest).
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { readFile, rename, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";

export type SpoolBatch = { seq: number; body: string; lines: number };

const NAME = /^(\d+)\.lp$/;

function countLines(body: string): number {
  let n = 0;
  let i = -1;
  while ((i = body.indexOf("\n", i + 1)) !== -1) n++;
  if (body.length > 0 && !body.endsWith("\n")) n++;
  return n;
}

export class InfluxSpool {
  /** Sequence numbers on disk, oldest first, with their line counts. */
  private readonly entries: { seq: number; lines: number }[] = [];
  private nextSeq = 1;
  private totalLines = 0;

  /** Opens (creating if needed) the spool folder and indexes the files already in it. */
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true });
    const seqs = readdirSync(dir)
      .map((f) => NAME.exec(f))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    for (const seq of seqs) {
      const lines = countLines(readFileSync(this.path(seq), "utf8"));
      this.entries.push({ seq, lines });
      this.totalLines += lines;
      this.nextSeq = seq + 1;
    }
  }

  get files(): number {
    return this.entries.length;
  }

  get lines(): number {
    return this.totalLines;
  }

  path(seq: number): string {
    return join(this.dir, `${String(seq).padStart(6, "0")}.lp`);
  }

  /** Appends one batch (body without trailing newline) as the newest file. Rejects on I/O errors (e.g. ENOSPC). */
  async append(body: string, lines: number): Promise<void> {
    const seq = this.nextSeq++;
    const final = this.path(seq);
    const tmp = `${final}.tmp`;
    try {
      await writeFile(tmp, body + "\n", { flag: "wx" });
      await rename(tmp, final);
    } catch (err) {
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    this.entries.push({ seq, lines });
    this.totalLines += lines;
  }

  /** The oldest batch, or undefined when the spool is empty. */
  async peek(): Promise<SpoolBatch | undefined> {
    const head = this.entries[0];
    if (!head) return undefined;
    const body = (await readFile(this.path(head.seq), "utf8")).replace(/\n+$/, "");
    return { seq: head.seq, body, lines: head.lines };
  }

  /** Deletes the oldest batch (after the database acknowledged or refused it). */
  async shift(seq: number): Promise<void> {
    const head = this.entries[0];
    if (!head || head.seq !== seq) throw new Error(`influx spool: shift(${seq}) but the oldest is ${head?.seq ?? "none"}`);
    await unlink(this.path(seq));
    this.entries.shift();
    this.totalLines -= head.lines;
  }

  /** Forgets the oldest batch without reading it (its file vanished or is unreadable); returns its line count. */
  forgetHead(): number {
    const head = this.entries.shift();
    if (!head) return 0;
    this.totalLines -= head.lines;
    return head.lines;
  }
}
