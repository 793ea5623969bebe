// The two things measurement produces: samples (a measurement at a time, with bounded tags and
// numeric fields) and events (something that happened: a clip switch, a join). Both become one
// line-protocol point each; tags are bounded (run, scenario, room, student, agent, profile, build).

export type TagKey = "run" | "scenario" | "room" | "student" | "agent" | "profile" | "build" | "kind" | "metric" | "expression" | "dir";
export type Tags = Partial<Record<TagKey, string>>;

export type Point = {
  measurement: string;
  tags: Tags;
  fields: Record<string, number | string | boolean>;
  /** Unix time in ms (fractional allowed; written with ns precision). */
  timeUnixMs: number;
};

/** A sink's own counters (e.g. InfluxSink: written, spooled, replayed, rejected, dropped). */
export type SinkStats = Readonly<Record<string, number | string | null>>;

export interface Sink {
  readonly name: string;
  /** Never blocks: a sink that does I/O buffers and sends in the background. */
  write(points: readonly Point[]): void;
  /** Sends what is buffered; resolves true once it has reached its destination, false after timeoutMs. */
  flush?(timeoutMs?: number): Promise<boolean>;
  stats?(): SinkStats;
  close(): Promise<void>;
}
