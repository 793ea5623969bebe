// The system under test for streamer fan-out: proctor's AI teacher exactly as the runner wires it
// (src/scenario/runner.ts): loadClip → ClipLibrary → Teacher + MediaProgram (pacers, playback
// queue, RTP continuity, abs-capture-time + frame-id extensions, our own sender reports) →
// createRoomServer({ teacher }) → POST /rooms. Students join through the room server.
import { systemClock } from "../../dist/clock.js";
import { childRandom } from "../../dist/random.js";
import { ClipLibrary, loadClip } from "../../dist/streamer/clip-library.js";
import { MediaProgram } from "../../dist/streamer/media-program.js";
import { Teacher } from "../../dist/streamer/teacher.js";
import { createRoomServer } from "../../dist/signaling/server.js";
import { registerStudentPage } from "../../dist/signaling/student-page-routes.js";

export const BENCH_ROOM = "bench";
const SEED = 7;

/** `studentPage`: also serve the browser student's page (/student), as the runner does. */
export async function createProctorTeacher({ generated, fps, studentPage = false }) {
  const clock = systemClock;
  const library = new ClipLibrary();
  library.add(await loadClip(generated));
  const clip = library.get(generated.spec.name);
  const teacher = new Teacher({ clock, random: childRandom(SEED, "teacher") });
  const server = await createRoomServer({ teacher, ...(studentPage ? { routes: registerStudentPage } : {}) });
  const res = await fetch(`${server.url}/rooms`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ id: BENCH_ROOM, mode: "shared" }),
  });
  if (!res.ok) throw new Error(`creating room: HTTP ${res.status} ${await res.text()}`);
  const program = new MediaProgram({ fps, clock, random: childRandom(SEED, `program:${BENCH_ROOM}`) });
  teacher.setProgram(BENCH_ROOM, program);

  return {
    url: server.url,
    /** Start the lesson (the clip looped for `playMs`); returns the RTP↔capture mapping of video. */
    start({ playMs }) {
      const loops = Math.ceil(playMs / clip.durationMs) + 1;
      for (let i = 0; i < loops; i++) program.enqueue(clip);
      program.start();
      return {
        t0UnixMs: clock.toUnixMs(program.startedAtMs),
        videoTsBase: program.rtpTimestampAt("video", program.startedAtMs),
      };
    },
    stats() {
      const peers = teacher.peerStats();
      return {
        peers: peers.length,
        connected: peers.filter((p) => p.connectMs !== undefined).length,
        framesSent: program.framesSent,
        audioPacketsSent: program.audioPacketsSent,
        packetsSent: peers.reduce((s, p) => s + p.packetsSent, 0),
        maxPacingLatenessMs: program.maxPacingLatenessMs,
      };
    },
    async close() {
      program.stop();
      await teacher.close();
      await server.close();
    },
  };
}
