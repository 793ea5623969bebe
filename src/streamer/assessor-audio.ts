// Audio forms of the assessor contract: 16-bit PCM ↔ a canonical WAV file (RIFF, WAVE_FORMAT_PCM,
// little-endian; the layout of the Microsoft/IBM Multimedia Programming Interface spec, 1991), so
// PCM travels over JSON as base64 WAV and any service can read it with a stock decoder.
import type { AssessAudio } from "./assessor.js";

/** A mono 16-bit PCM WAV file. */
export function encodeWav(pcm: Int16Array, sampleRate: number): Buffer {
  if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new Error(`wav: sampleRate must be a positive integer, got ${sampleRate}`);
  const dataBytes = pcm.length * 2;
  const b = Buffer.alloc(44 + dataBytes);
  b.write("RIFF", 0, "ascii");
  b.writeUInt32LE(36 + dataBytes, 4);
  b.write("WAVE", 8, "ascii");
  b.write("fmt ", 12, "ascii");
  b.writeUInt32LE(16, 16); // fmt chunk size
  b.writeUInt16LE(1, 20); // WAVE_FORMAT_PCM
  b.writeUInt16LE(1, 22); // channels
  b.writeUInt32LE(sampleRate, 24);
  b.writeUInt32LE(sampleRate * 2, 28); // byte rate
  b.writeUInt16LE(2, 32); // block align
  b.writeUInt16LE(16, 34); // bits per sample
  b.write("data", 36, "ascii");
  b.writeUInt32LE(dataBytes, 40);
  for (let i = 0; i < pcm.length; i++) b.writeInt16LE(pcm[i] as number, 44 + 2 * i);
  return b;
}

export function encodeWavBase64(pcm: Int16Array, sampleRate: number): string {
  return encodeWav(pcm, sampleRate).toString("base64");
}

/**
 * Read a 16-bit PCM WAV file (any chunk order, extra chunks skipped); multi-channel audio keeps
 * channel 0. Throws an Error naming what is wrong and the value found.
 */
export function decodeWav(buf: Buffer): { sampleRate: number; pcm: Int16Array } {
  if (buf.length < 12 || buf.toString("ascii", 0, 4) !== "RIFF" || buf.toString("ascii", 8, 12) !== "WAVE") {
    throw new Error(`wav: not a RIFF/WAVE file (starts with ${JSON.stringify(buf.toString("latin1", 0, Math.min(12, buf.length)))})`);
  }
  let fmt: { format: number; channels: number; sampleRate: number; bits: number } | null = null;
  let off = 12;
  while (off + 8 <= buf.length) {
    const id = buf.toString("ascii", off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === "fmt ") {
      if (size < 16 || body + 16 > buf.length) throw new Error(`wav: fmt chunk too short (${size} bytes)`);
      fmt = { format: buf.readUInt16LE(body), channels: buf.readUInt16LE(body + 2), sampleRate: buf.readUInt32LE(body + 4), bits: buf.readUInt16LE(body + 14) };
    } else if (id === "data") {
      if (!fmt) throw new Error("wav: data chunk before fmt chunk");
      if (fmt.format !== 1 && fmt.format !== 0xfffe) throw new Error(`wav: format must be PCM (1), got ${fmt.format}`);
      if (fmt.bits !== 16) throw new Error(`wav: bits per sample must be 16, got ${fmt.bits}`);
      if (fmt.channels < 1) throw new Error(`wav: channels must be ≥ 1, got ${fmt.channels}`);
      const end = Math.min(buf.length, body + size);
      const frames = Math.floor((end - body) / (2 * fmt.channels));
      const pcm = new Int16Array(frames);
      for (let i = 0; i < frames; i++) pcm[i] = buf.readInt16LE(body + i * 2 * fmt.channels);
      return { sampleRate: fmt.sampleRate, pcm };
    }
    off = body + size + (size & 1); // chunks are word-aligned
  }
  throw new Error("wav: no data chunk");
}

/** The PCM of an AssessAudio, whichever form it came in. */
export function assessAudioPcm(audio: AssessAudio): { sampleRate: number; pcm: Int16Array } {
  if ("pcm" in audio) return { sampleRate: audio.sampleRate, pcm: audio.pcm };
  return decodeWav(Buffer.from(audio.base64, "base64"));
}
