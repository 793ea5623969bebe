// The Linux tc netem backend: each student gets its own network namespace joined to the root
// namespace by a veth pair (netns.ts), and its profile becomes `tc` commands on the two veth ends
// (tc-commands.ts): `down` (teacher→student) on the host end's egress, `up` (student→teacher) on
// the namespace end's egress. A `TcLink` is a `ParamsTarget`, so the same `LinkTimeline` that drives
// the userspace relay drives it: the first step is `tc qdisc add`, later steps `tc qdisc change`.
// Before a profile starts, the probe's result is checked against what the profile needs and a
// `TcUnavailableError` names what is missing (e.g. sch_netem) and points to `--netem relay`.
//
// `setParams` is synchronous (ParamsTarget); the commands run in order on one promise chain per
// link. A failed command is remembered (`settled()` rejects with it, `onError` hears it at once)
// and the direction's kernel state is then treated as unknown: the next step clears and rebuilds.
import { systemClock, type Clock } from "../clock.js";
import { createNamespaceLink, destroyNamespaceLink, execInNamespace, linkDevices, runCommand, spawnInNamespace, CommandError, type CommandResult, type NamespaceLink } from "./netns.js";
import type { Direction, LinkParams } from "./params.js";
import type { LinkProfile } from "./profile-loader.js";
import { clearCommands, profileCommands, profileRequirements, requirementsFor, transitionCommands, type LinkDevices, type ProfileCommand } from "./tc-commands.js";
import { assertTcUsable, probeTc, type TcProbeResult } from "./tc-probe.js";
import { driveTimeline, LinkTimeline, type ParamsTarget, type TimelineEvent } from "./timeline.js";
import type { ChildProcess, SpawnOptions } from "node:child_process";

export interface TcBackendOptions {
  clock?: Clock;
  /** A probe already made (tests, or a runner that probed at start); otherwise `open` probes. */
  probe?: TcProbeResult;
  /** Hears every failed tc command as it happens. */
  onError?: (error: Error, link: TcLink) => void;
}

/** Every command a link ran, in order (for reports and tests). */
export interface AppliedCommand {
  direction: Direction;
  result: CommandResult;
}

/** Kernel state of one direction: the params installed, null = nothing of ours, "unknown" after a failure. */
type DeviceState = LinkParams | null | "unknown";

export class TcLink implements ParamsTarget {
  readonly devices: LinkDevices;
  readonly history: AppliedCommand[] = [];
  private readonly state: Record<Direction, DeviceState> = { down: null, up: null };
  private chain: Promise<void> = Promise.resolve();
  private firstError: Error | null = null;
  private readonly children = new Set<ChildProcess>();

  constructor(
    readonly room: string,
    readonly student: string,
    readonly net: NamespaceLink,
    private readonly needsCheck: (params: LinkParams) => void,
    private readonly onError: (e: Error) => void,
  ) {
    this.devices = linkDevices(net.id);
  }

  get id(): string {
    return this.net.id;
  }
  get namespace(): string {
    return this.net.namespace;
  }
  /** The student end's address: where the root namespace reaches the student. */
  get studentAddress(): string {
    return this.net.studentAddress;
  }
  /** The host end's address: where the student reaches the teacher / room server. */
  get hostAddress(): string {
    return this.net.hostAddress;
  }

  /**
   * Queue the commands that move `direction` to `params`. Throws `TcUnavailableError` at once if
   * the machine lacks a qdisc these params need.
   */
  setParams(direction: Direction, params: LinkParams): void {
    this.needsCheck(params);
    const snapshot = structuredClone(params);
    this.chain = this.chain.then(() => this.apply(direction, snapshot));
  }

  private async apply(direction: Direction, params: LinkParams): Promise<void> {
    const device = this.devices[direction];
    const prev = this.state[direction];
    let cmds: string[][];
    if (prev === "unknown") {
      // After a failure: clear whatever is there (errors ignored), then install from scratch.
      for (const argv of clearCommands(device)) this.history.push({ direction, result: await runCommand(argv) });
      cmds = transitionCommands(device, null, params);
    } else {
      cmds = transitionCommands(device, prev, params);
    }
    for (const argv of cmds) {
      const result = await runCommand(argv);
      this.history.push({ direction, result });
      if (result.code !== 0) {
        this.state[direction] = "unknown";
        const err = new CommandError(result);
        this.firstError ??= err;
        this.onError(err);
        return;
      }
    }
    this.state[direction] = params;
  }

  /** Resolves when every queued command has run; rejects with the first failure since creation. */
  async settled(): Promise<void> {
    await this.chain;
    if (this.firstError) throw this.firstError;
  }

  /** Params installed on a direction (null: none of ours; "unknown" after a failed command). */
  installed(direction: Direction): DeviceState {
    return this.state[direction];
  }

  /** Run a program inside the student's namespace and collect its output. */
  exec(argv: readonly string[], opts: { timeoutMs?: number } = {}): Promise<CommandResult> {
    return execInNamespace(this.namespace, argv, opts);
  }

  /** Start a program inside the student's namespace (ended by `close`, if still running). */
  spawn(argv: readonly string[], opts: SpawnOptions = {}): ChildProcess {
    const child = spawnInNamespace(this.namespace, argv, opts);
    this.children.add(child);
    child.once("exit", () => this.children.delete(child));
    return child;
  }

  /** End programs started here, then remove the namespace and veth pair (qdiscs go with them). */
  async close(): Promise<void> {
    await this.chain.catch(() => {});
    await Promise.all(
      [...this.children].map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            c.once("exit", () => resolve());
            c.kill("SIGKILL");
          }),
      ),
    );
    await destroyNamespaceLink(this.net);
  }
}

export class TcBackend {
  private readonly links = new Map<string, Promise<TcLink>>();
  private readonly timelines = new Set<{ stop(): void }>();
  private readonly clock: Clock;
  private closed = false;

  private constructor(
    readonly probe: TcProbeResult,
    private readonly opts: TcBackendOptions,
  ) {
    this.clock = opts.clock ?? systemClock;
  }

  /** Probe (unless given one) and fail fast if even the basics (root, ip, tc, netns, veth) are missing. */
  static async open(opts: TcBackendOptions = {}): Promise<TcBackend> {
    const probe = opts.probe ?? (await probeTc());
    assertTcUsable(probe, { netem: [], htb: false });
    return new TcBackend(probe, opts);
  }

  /** Create the student's namespace, veth pair and addresses (once per room/student). */
  async prepare(room: string, student: string): Promise<TcLink> {
    if (this.closed) throw new Error("tc backend is closed");
    const key = `${room}/${student}`;
    let p = this.links.get(key);
    if (!p) {
      p = createNamespaceLink().then((net) => {
        const link: TcLink = new TcLink(
          room,
          student,
          net,
          (params) => assertTcUsable(this.probe, requirementsFor([params]), `these parameters for ${key}`),
          (e) => this.opts.onError?.(e, link),
        );
        return link;
      });
      this.links.set(key, p);
      p.catch(() => this.links.delete(key));
    }
    return p;
  }

  /**
   * Start `profile` on `link`, its steps timed from `originMs` (clock time; default now — steps
   * already due are applied at once, the rest on time), as the relay backend does. Throws
   * `TcUnavailableError` before anything is applied if the machine lacks what the profile needs.
   */
  applyProfile(link: TcLink, profile: LinkProfile, onEvent?: (e: TimelineEvent) => void, originMs?: number): { stop(): void } {
    assertTcUsable(this.probe, profileRequirements(profile), `profile "${profile.name}"`);
    const drive = driveTimeline(new LinkTimeline(profile, link, onEvent), this.clock, undefined, originMs);
    const handle = {
      stop: (): void => {
        drive.stop();
        this.timelines.delete(handle);
      },
    };
    this.timelines.add(handle);
    return handle;
  }

  /** The commands a profile becomes on `link` (or on placeholder devices `pxh$ID` / `pxs$ID`). */
  commandsFor(profile: LinkProfile, link?: TcLink): ProfileCommand[] {
    return profileCommands(profile, link ? link.devices : linkDevices("$ID"));
  }

  /** Stop every timeline, end programs started in namespaces, remove every namespace and veth. */
  async close(): Promise<void> {
    this.closed = true;
    for (const t of [...this.timelines]) t.stop();
    const links = [...this.links.values()];
    this.links.clear();
    await Promise.all(links.map((p) => p.then((l) => l.close(), () => {})));
  }
}
