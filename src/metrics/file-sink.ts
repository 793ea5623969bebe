// The always-on sink: line protocol appended to a file in the run folder (metrics.lp).
import { createWriteStream, type WriteStream } from "node:fs";
import type { Point, Sink } from "./sample.js";
import { toLine } from "./line-protocol.js";

export class LineProtocolFileSink implements Sink {
  readonly name = "file";
  private readonly out: WriteStream;
  linesWritten = 0;

  constructor(readonly path: string) {
    this.out = createWriteStream(path, { flags: "a" });
  }

  write(points: readonly Point[]): void {
    let chunk = "";
    for (const p of points) {
      const line = toLine(p);
      if (line !== null) {
        chunk += line + "\n";
        this.linesWritten++;
      }
    }
    if (chunk) this.out.write(chunk);
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => this.out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
}
