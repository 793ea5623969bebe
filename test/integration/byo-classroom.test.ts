// Bring your own classroom: a browser student measures a web app proctor did not write. The
// "third-party classroom" here is a page on another origin that streams its own video over its own
// RTCPeerConnection pair (a canvas drawing frame codes for clip 7 → VP8 → <video>); the scenario
// points `target` at it with the generic `media-elements` adapter, which injects the pixel probe
// before the page's scripts run. The probe must read the app's frame codes from presented frames
// and reach the app's own peer connection with getStats.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { runYaml } from "../helpers/class-run.js";
import { chromiumUnavailable } from "../helpers/chromium.js";
import type { RunResult } from "../../src/scenario/runner.js";

const why = chromiumUnavailable();
if (why) console.log(`[byo-classroom] skipped: ${why}`);

// The app imports frame-code.js from the room server only to draw its band; it never talks to proctor.
const appPage = (frameCodeUrl: string): string => `<!doctype html><html><head><link rel="icon" href="data:,"></head><body>
<canvas id="c" width="640" height="360" style="display:none"></canvas><video id="v" autoplay playsinline muted></video>
<script type="module">
const { drawFrameCode } = await import(${JSON.stringify(frameCodeUrl)});
const c = document.getElementById("c"), g = c.getContext("2d");
const band = new Uint8Array(640 * 64), img = g.createImageData(640, 64);
let i = 0;
setInterval(() => {
  g.fillStyle = "#345"; g.fillRect(0, 0, 640, 360);
  drawFrameCode(band, 640, { clipId: 7, frameIndex: i++ % 65536 });
  for (let p = 0; p < band.length; p++) { const v = Math.round((band[p] - 16) * 255 / 219); img.data.set([v, v, v, 255], p * 4); }
  g.putImageData(img, 0, 0);
}, 1000 / 30);
const a = new RTCPeerConnection(), b = new RTCPeerConnection();
// Chromium gathers on its default interface only, with the socket bound to any address: point
// each UDP IPv4 host candidate at 127.0.0.1 so the app's media stays on loopback.
const only127 = (pc, other) => pc.onicecandidate = (e) => {
  const c = e.candidate;
  if (!c || c.protocol !== "udp" || c.type !== "host" || !c.address || c.address.includes(":")) return;
  other.addIceCandidate({ ...c.toJSON(), candidate: c.candidate.replace(c.address, "127.0.0.1") });
};
only127(a, b); only127(b, a);
b.ontrack = (e) => { document.getElementById("v").srcObject = new MediaStream([e.track]); };
c.captureStream(30).getTracks().forEach((t) => a.addTrack(t));
await a.setLocalDescription(); await b.setRemoteDescription(a.localDescription);
await b.setLocalDescription(); await a.setRemoteDescription(b.localDescription);
</script></body></html>`;

let app: Server;
let appUrl = "";
let r: RunResult;
let room = "";

describe.skipIf(why !== null)("bring your own classroom (target + media-elements adapter)", () => {
  beforeAll(async () => {
    // The app needs the room server's address for frame-code.js; it learns it from the query.
    app = createServer((req, res) => {
      const u = new URL(req.url ?? "/", "http://localhost");
      if (u.pathname !== "/class") return res.writeHead(404).end();
      room = u.searchParams.get("room") ?? "";
      res.writeHead(200, { "content-type": "text/html" }).end(appPage(`${u.searchParams.get("proctor")}/static/media/frame-code.js`));
    });
    await new Promise<void>((res) => app.listen(0, "127.0.0.1", res));
    appUrl = `http://localhost:${(app.address() as AddressInfo).port}/class`;
    r = await runYaml(
      `
name: byo
seed: 3
duration: 6s
lesson: { clips: [ { name: a, duration: 6s } ] }
target: { url: "${appUrl}?room={room}&student={student}&proctor={server}", adapter: media-elements }
rooms:
  - { id: app-room, students: [ { group: viewer, count: 1, agent: chromium } ] }
`,
    );
  }, 120_000);
  afterAll(() => new Promise<void>((res) => (app ? app.close(() => res()) : res())));

  it("opens the app's URL with room and student filled in", () => {
    expect(room).toBe("app-room");
  });

  it("reads the app's own frame codes from the frames Chromium presented", () => {
    const s = r.report.students.find((x) => x.student === "viewer")!;
    if (s.error) console.log(`byo: page said: ${s.error}`);
    expect(r.report.errors).toEqual([]);
    const p = s.pixel!;
    console.log(`byo: presented ${p.framesPresented}, codes read ${(p.codeReadRatio * 100).toFixed(1)} %, fps ${p.fps.toFixed(1)}`);
    expect(p.framesPresented).toBeGreaterThan(60);
    expect(p.codeReadRatio).toBeGreaterThan(0.9);
    // The app's clip id (7), not the proctor teacher's (1): the probe measured the app's media.
    expect(p.framesJoined).toBe(0);
  });

  it("hooks the app's RTCPeerConnection: getStats snapshots with inbound video", () => {
    const p = r.report.students.find((x) => x.student === "viewer")!.pixel!;
    expect(p.video?.packetsReceived).toBeGreaterThan(100);
  });
});
