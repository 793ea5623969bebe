// A room's playback queue: which clip frame goes out on each video frame tick. Pure and
// synchronous; the pacer drives it. Clips play back to back with no gap (the next clip's first
// frame, a keyframe, goes out on the tick after the previous clip's last frame); `switchNow`
// interrupts on the next tick. RTP continuity is the RTP stream's job, not this queue's.
import type { LoadedClip } from "./clip-library.js";

export type QueuedFrame = {
  clip: LoadedClip;
  frameIndex: number;
  /** This is the clip's last frame (lets receivers find switch boundaries exactly). */
  lastOfClip: boolean;
  /** Monotonic time at which this clip started (tick time of its frame 0). */
  clipStartMs: number;
};

export type SwitchOptions = {
  /** Ticks to send nothing before the new clip starts (a deliberately bad switch, for calibration). */
  holdTicks?: number;
};

export class PlaybackQueue {
  private current: { clip: LoadedClip; next: number; startMs: number } | null = null;
  private readonly pending: LoadedClip[] = [];
  private holdTicks = 0;
  private idle = true;

  enqueue(clip: LoadedClip): void {
    this.pending.push(clip);
  }

  /** Drop what is playing and queued; `clip` starts on the next tick (after `holdTicks`). */
  switchNow(clip: LoadedClip, opts: SwitchOptions = {}): void {
    this.current = null;
    this.pending.length = 0;
    this.pending.push(clip);
    this.holdTicks = Math.max(0, Math.floor(opts.holdTicks ?? 0));
  }

  /** Nothing playing and nothing queued. */
  get isIdle(): boolean {
    return this.idle && this.current === null && this.pending.length === 0;
  }

  /** The clip currently playing, if any. */
  get playing(): LoadedClip | null {
    return this.current?.clip ?? null;
  }

  /** The clip whose frame 0 the next `nextFrame` call returns, or null (mid-clip, holding, or idle). */
  get startsNext(): LoadedClip | null {
    if (this.holdTicks > 0) return null;
    if (this.current && this.current.next < this.current.clip.frames.length) return null;
    return this.pending[0] ?? null;
  }

  /** Called once per video tick (tick time `tickMs`): the frame to send, or null (hold / idle). */
  nextFrame(tickMs: number): QueuedFrame | null {
    if (this.holdTicks > 0) {
      this.holdTicks--;
      return null;
    }
    if (!this.current || this.current.next >= this.current.clip.frames.length) {
      const clip = this.pending.shift();
      if (!clip) {
        this.current = null;
        this.idle = true;
        return null;
      }
      this.current = { clip, next: 0, startMs: tickMs };
    }
    this.idle = false;
    const c = this.current;
    const frameIndex = c.next++;
    return { clip: c.clip, frameIndex, lastOfClip: c.next >= c.clip.frames.length, clipStartMs: c.startMs };
  }

  /** The audio packet of the playing clip for an audio tick at `tickMs`, or null. */
  audioAt(tickMs: number, packetMs: number): { clip: LoadedClip; index: number } | null {
    const c = this.current;
    if (!c) return null;
    const index = Math.round((tickMs - c.startMs) / packetMs);
    if (index < 0 || index >= c.clip.audio.length) return null;
    return { clip: c.clip, index };
  }
}
