// Students of a `--netem tc` run: each one a light student in a child process inside its own network
// namespace (TcBackend: veth pair, private /30), its profile applied as `tc qdisc` commands on the
// veth ends from the same timeline as the relay backend. What stays in this process reaches the
// namespace only on the link's host-end address: the room server through a TCP forwarder bound to
// it, the teacher's peer for that student through ICE bound to it. Nothing listens anywhere else.
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Clock } from "../clock.js";
import type { AgentConfig } from "../agents/agent-wire.js";
import type { IceAddresses } from "../webrtc/loopback.js";
import { cleanupLeftovers } from "../netem/netns.js";
import type { LinkProfile } from "../netem/profile-loader.js";
import { TcBackend, type TcLink } from "../netem/tc-backend.js";
import { profileRequirements } from "../netem/tc-commands.js";
import { assertTcUsable, type TcProbeResult } from "../netem/tc-probe.js";
import type { TimelineEvent } from "../netem/timeline.js";
import { forwardTcp, type TcpForwarder } from "../netem/tcp-forward.js";
import { RemoteStudent } from "./remote-student.js";

/** The agent entry point: next to this module when built, else the build output (tests run src). */
export function agentEntry(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, "../agents/agent-process.js"), join(here, "../../dist/agents/agent-process.js")];
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`--netem tc: the student agent entry point is not built (looked for ${candidates.join(", ")}); run \`npm run build\``);
  return found;
}

export type TcStudentSpec = {
  room: string;
  student: string;
  nack?: boolean;
  joinTimeoutMs: number;
  behaviour?: AgentConfig["behaviour"];
  /** Steps at 0 s are in force before the student joins (it joins through them). */
  profile?: LinkProfile;
  /** Voice answers are not carried to agent processes yet: refused, naming the student. */
  voice?: boolean;
};

export class TcStudents {
  private target: { host: string; port: number } | null = null;
  private readonly ice = new Map<string, IceAddresses>();
  private readonly aliases = new Set<string>();
  private readonly forwarders: TcpForwarder[] = [];
  private readonly links = new Map<string, TcLink>();
  readonly agents = new Map<string, RemoteStudent>();

  private constructor(
    readonly backend: TcBackend,
    private readonly clock: Clock,
    private readonly log: (line: string) => void,
  ) {}

  /**
   * Probe (or use `probe`), remove leftovers of dead runs, and check every profile against the kernel
   * before anything starts: a profile needing sch_netem on a kernel without it fails here.
   */
  static async open(opts: { clock: Clock; profiles: Iterable<LinkProfile>; log?: (line: string) => void; probe?: TcProbeResult }): Promise<TcStudents> {
    const log = opts.log ?? (() => undefined);
    const backend = await TcBackend.open({ clock: opts.clock, probe: opts.probe, onError: (e, link) => log(`tc ${link.room}/${link.student}: ${e.message}`) });
    for (const p of opts.profiles) assertTcUsable(backend.probe, profileRequirements(p), `profile "${p.name}"`);
    const removed = await cleanupLeftovers();
    if (removed.length) log(`tc: removed ${removed.length} namespace link(s) left by dead runs: ${removed.join(", ")}`);
    agentEntry();
    return new TcStudents(backend, opts.clock, log);
  }

  /** The room server to forward to (its loopback URL). */
  attach(serverUrl: string): void {
    const u = new URL(serverUrl);
    this.target = { host: u.hostname, port: Number(u.port) };
  }

  /** For the teacher: the addresses of a tc student's peer (host end), else undefined (loopback). */
  readonly iceFor = (room: string, student: string): IceAddresses | undefined => this.ice.get(`${room}/${student}`);

  /** For the room server: authorities of our forwarders. */
  readonly isAlias = (authority: string): boolean => this.aliases.has(authority);

  /** The namespace link of a student (after it started). */
  link(room: string, student: string): TcLink | undefined {
    return this.links.get(`${room}/${student}`);
  }

  /** A student whose join creates its namespace, forwarder and child process. */
  student(spec: TcStudentSpec): RemoteStudent {
    const key = `${spec.room}/${spec.student}`;
    if (spec.voice) throw new Error(`${key}: voice answers run with --netem relay only (tc students answer by click)`);
    const agent = new RemoteStudent(spec.student, {
      clock: this.clock,
      nack: spec.nack,
      joinTimeoutMs: spec.joinTimeoutMs * 3,
      log: this.log,
      start: async () => {
        if (!this.target) throw new Error("tc students: no room server attached");
        const link = await this.backend.prepare(spec.room, spec.student);
        this.links.set(key, link);
        const fwd = await forwardTcp(link.hostAddress, this.target);
        this.forwarders.push(fwd);
        this.aliases.add(fwd.authority);
        const allowed = [link.hostAddress, link.studentAddress];
        this.ice.set(key, { local: link.hostAddress, allowed });
        for (const step of spec.profile?.steps ?? []) {
          if (step.atMs > 0) break;
          if (step.down) link.setParams("down", step.down);
          if (step.up) link.setParams("up", step.up);
        }
        await link.settled();
        const cfg: AgentConfig = {
          serverUrl: `http://${fwd.authority}`,
          room: spec.room,
          student: spec.student,
          joinTimeoutMs: spec.joinTimeoutMs,
          nack: spec.nack,
          ice: { local: link.studentAddress, allowed },
          behaviour: spec.behaviour,
        };
        this.log(`tc: ${key} in namespace ${link.namespace} (${link.studentAddress} ⇄ ${link.hostAddress})`);
        return link.spawn([process.execPath, agentEntry(), JSON.stringify(cfg)]);
      },
    });
    this.agents.set(key, agent);
    return agent;
  }

  /** Drive `profile` on a started student's link (steps from `originMs`), as the relay backend does. */
  applyProfile(room: string, student: string, profile: LinkProfile, onEvent: (e: TimelineEvent) => void, originMs?: number): { stop(): void } {
    const link = this.link(room, student);
    if (!link) return { stop: () => undefined }; // never joined: nothing to shape
    return this.backend.applyProfile(link, profile, onEvent, originMs);
  }

  /** End the children, forwarders, namespaces and veths (every path of a run comes here). */
  async close(): Promise<void> {
    await Promise.allSettled([...this.agents.values()].map((a) => a.leave()));
    await Promise.allSettled(this.forwarders.map((f) => f.close()));
    await this.backend.close();
  }
}
