// A real Opus decoder (libopus 1.4 compiled to WebAssembly: the npm package `opusscript`, no native
// build), mono 48 kHz out. Used by the teacher to hear students' voice answers. A lost packet is
// not concealed here: the caller inserts silence for it (see voice-listener.ts), which is what an
// energy VAD should see for audio that never arrived.
import { createRequire } from "node:module";
import { endianness } from "node:os";

type OpusScriptCtor = new (rate: 48000, channels: number, application?: number) => {
  decode(packet: Buffer): Buffer;
  delete(): void;
};

let ctor: OpusScriptCtor | undefined;
const LITTLE_ENDIAN = endianness() === "LE";

/**
 * Compile the WebAssembly module and let the JIT see the decoder once, before media flows: the
 * first decoder costs ~40–110 ms and the first hundred decodes ~2 ms each (measured, 2 cores),
 * ~0.1 ms afterwards — a stall a run must not take in the middle of a lesson.
 */
export function warmUpOpusDecoder(packets: readonly Buffer[]): void {
  const d = new OpusDecoder();
  for (let k = 0; k < 2; k++) for (const p of packets) d.decode(p);
  d.close();
}

export class OpusDecoder {
  private readonly dec: InstanceType<OpusScriptCtor>;
  private closed = false;

  constructor() {
    ctor ??= createRequire(import.meta.url)("opusscript") as OpusScriptCtor;
    this.dec = new ctor(48000, 1);
  }

  /** Decode one Opus packet into 16-bit mono PCM at 48 kHz (a copy). Throws on an invalid packet. */
  decode(packet: Buffer): Int16Array {
    if (this.closed) throw new Error("opus decoder: decode() after close()");
    const out = this.dec.decode(packet);
    if (LITTLE_ENDIAN && out.byteOffset % 2 === 0) return new Int16Array(out.buffer, out.byteOffset, out.length >> 1).slice();
    const pcm = new Int16Array(out.length >> 1);
    for (let i = 0; i < pcm.length; i++) pcm[i] = out.readInt16LE(2 * i);
    return pcm;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.dec.delete();
  }
}
