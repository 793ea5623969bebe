// Entry of every bench child process (forked by ipc.mjs). The orchestrator turns it into either a
// teacher (proctor's streamer or the bare-werift sender, with the room server) or a group of
// students (probe, light or bare-werift receivers), then drives it by IPC: join, start, mark the
// measurement window, collect, exit. CPU is read inside the process (cpu.mjs), so each process
// accounts only for itself.
import { join } from "node:path";
import { serve } from "./ipc.mjs";
import { cpuSample } from "./cpu.mjs";
import { WindowProfiler } from "./cpu-profile.mjs";
import { createProctorTeacher } from "./teacher-proctor.mjs";
import { createBareTeacher } from "./teacher-bare.mjs";
import { ProbeReceiver } from "./receiver-probe.mjs";
import { LightReceiver } from "./receiver-light.mjs";
import { BareReceiver } from "./receiver-bare.mjs";

const RECEIVERS = { probe: ProbeReceiver, light: LightReceiver, bare: BareReceiver };

let teacher = null;
let students = [];
let profiler = null;
let window = null;

async function joinAll(list, concurrency, timeoutMs) {
  const joinMs = [];
  const failed = [];
  let next = 0;
  const worker = async () => {
    while (next < list.length) {
      const r = list[next++];
      try {
        joinMs.push(await r.join(timeoutMs));
      } catch (err) {
        failed.push({ name: r.name, error: err instanceof Error ? err.message : String(err) });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, list.length) }, worker));
  return { joinMs, failed };
}

function withTimeout(p, ms) {
  return Promise.race([p, new Promise((resolve) => setTimeout(resolve, ms).unref())]);
}

serve({
  async teacher({ variant, generated, fps, studentPage = false }) {
    teacher = variant === "proctor" ? await createProctorTeacher({ generated, fps, studentPage }) : await createBareTeacher({ generated, fps });
    return { url: teacher.url, pid: process.pid };
  },

  start({ playMs }) {
    return teacher.start({ playMs });
  },

  teacherStats() {
    return teacher.stats();
  },

  async students({ kind, names, serverUrl, room, concurrency = 16, timeoutMs = 30_000 }) {
    const Receiver = RECEIVERS[kind];
    if (!Receiver) throw new Error(`unknown receiver kind "${kind}"`);
    const list = names.map((n) => new Receiver(n, serverUrl, room));
    const { joinMs, failed } = await joinAll(list, concurrency, timeoutMs);
    const failedNames = new Set(failed.map((f) => f.name));
    students = list.filter((r) => !failedNames.has(r.name));
    return { joined: students.length, failed, joinMs, pid: process.pid };
  },

  mapping({ mapping }) {
    for (const s of students) s.mapping = mapping;
    return { ok: true };
  },

  /** Open the measurement window: CPU sample, per-student counters, e2e recording, profiler. */
  async markStart({ profileDir }) {
    if (profileDir) {
      profiler = new WindowProfiler();
      await profiler.start();
    }
    const cpu = cpuSample();
    const snaps = students.map((s) => s.snapshot());
    for (const s of students) s.startWindow();
    window = { cpu, snaps };
    return cpu;
  },

  /** Close the window: CPU sample, per-student figures over the window, e2e values, profile summary. */
  async markEnd({ profileDir, profileName }) {
    const cpu = cpuSample();
    const wallS = (cpu.monoMs - window.cpu.monoMs) / 1000;
    const perStudent = [];
    const e2e = [];
    students.forEach((s, i) => {
      const a = window.snaps[i];
      const b = s.snapshot();
      const values = s.endWindow();
      for (const v of values) e2e.push(v);
      const frames = b.frames - a.frames;
      perStudent.push({
        name: s.name,
        frames,
        fps: frames / wallS,
        videoPackets: b.vRecv - a.vRecv,
        videoLost: b.vExp - a.vExp - (b.vRecv - a.vRecv),
        audioPackets: b.aRecv - a.aRecv,
        audioLost: b.aExp - a.aExp - (b.aRecv - a.aRecv),
      });
    });
    let profile = null;
    if (profiler) {
      profile = await profiler.stop(join(profileDir, `${profileName}.cpuprofile`));
      profiler = null;
    }
    return { start: window.cpu, end: cpu, perStudent, e2e: Float64Array.from(e2e), profile };
  },

  async exit() {
    if (teacher) await withTimeout(teacher.close(), 3_000);
    if (students.length > 0) await withTimeout(Promise.allSettled(students.map((s) => s.leave())), 3_000);
    setTimeout(() => process.exit(0), 50);
    return { ok: true };
  },
});
