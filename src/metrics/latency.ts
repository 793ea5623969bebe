// End-to-end latency at the wire tier (DESIGN.md "Metrics"):
//   video: latency = time the frame is complete at the student − the teacher's capture time of it
//   audio: latency = arrival of the packet − its capture time
// Both times on the common clock (abs-capture-time carries the teacher's capture instant). ms.

export type FrameTimes = { completeUnixMs: number; captureUnixMs?: number };
export type PacketTimes = { arrivalUnixMs: number; captureUnixMs?: number };

export function videoLatenciesMs(frames: readonly FrameTimes[]): number[] {
  const out: number[] = [];
  for (const f of frames) if (f.captureUnixMs !== undefined) out.push(f.completeUnixMs - f.captureUnixMs);
  return out;
}

export function audioLatenciesMs(packets: readonly PacketTimes[]): number[] {
  const out: number[] = [];
  for (const p of packets) if (p.captureUnixMs !== undefined) out.push(p.arrivalUnixMs - p.captureUnixMs);
  return out;
}
