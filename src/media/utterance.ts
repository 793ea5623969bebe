// The prepared spoken answer of a voice-answering student, made at fixture-build time (nothing is
// fetched at run time). It is NOT speech: it is a deterministic synthetic speech-like signal —
// a harmonic "voice" (f0 gliding 120 → 150 → 110 Hz, harmonics at −6 dB/octave shaped by vowel
// formants a/i/u/e, one per syllable) under a four-syllable envelope, between leading and
// trailing room tone (seeded white noise at −72 dBFS). Enough for an energy VAD and the
// measuring LocalAssessor; a real ASR assessor would hear a hum, not a word.
//
// Layout (48 kHz mono): 400 ms room tone | 1200 ms "speech" | 600 ms room tone. Speech starts and
// ends on 20 ms boundaries with 10 ms attack/release, so its last loud frame is exactly the last
// Opus packet of speech (packet (lead + speech) / 20 − 1).
//
// Files, cached by content hash in <cacheDir>/utterance-<hash>/ (atomic rename, like clips):
//   utterance.ogg  Opus, 20 ms packets, encoder setting of every clip (opusEncodeArgs), fed from
//                  the encoder lookahead on with pre-skip 0 — packet i decodes to samples
//                  [960 i, 960 (i + 1)) of the PCM (see clip-generator.ts "Audio alignment")
//   utterance.wav  the PCM itself, 16-bit mono 48 kHz (for Chromium's
//                  --use-file-for-fake-audio-capture, which encodes it itself)
import { createHash } from "node:crypto";
import { readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runFfmpeg } from "./ffmpeg.js";
import { buildCacheDir, exists, pcmBytes } from "./media-cache.js";
import { opusPacketDurationSamples, parseOggOpus, setOggOpusPreSkip } from "./ogg-opus.js";
import { OPUS_ENCODER_LOOKAHEAD, OPUS_PACKET_SAMPLES, opusEncodeArgs } from "./clip-generator.js";
import { seededRandom } from "../random.js";

export const UTTERANCE_VERSION = 1;
export const UTTERANCE_SAMPLE_RATE = 48_000;
export const UTTERANCE_PACKET_MS = 20;

export type UtteranceSpec = {
  leadMs: number;
  speechMs: number;
  tailMs: number;
  /** RMS level of the speech part (dBFS). */
  speechDb: number;
  /** RMS level of the room tone (dBFS). */
  roomToneDb: number;
  audioKbps: number;
};

export const DEFAULT_UTTERANCE: UtteranceSpec = { leadMs: 400, speechMs: 1200, tailMs: 600, speechDb: -20, roomToneDb: -72, audioKbps: 32 };

export type PreparedUtterance = {
  oggPath: string;
  wavPath: string;
  /** Length of the speech part (ms). */
  speechMs: number;
  /** Room tone before the speech (ms): speech starts at this offset in both files. */
  leadMs: number;
  /** Whole file length (ms). */
  durationMs: number;
  hash: string;
  cached: boolean;
};

/** Return the prepared utterance, synthesising and encoding it on a cache miss. */
export async function prepareUtterance(cacheDir: string, spec: Partial<UtteranceSpec> = {}): Promise<PreparedUtterance> {
  const s = normaliseUtteranceSpec({ ...DEFAULT_UTTERANCE, ...spec });
  const oggArgs = opusEncodeArgs(s.audioKbps, "utterance.ogg");
  const wavArgs = wavEncodeArgs("utterance.wav");
  const hash = createHash("sha256").update(JSON.stringify({ v: UTTERANCE_VERSION, s, oggArgs, wavArgs })).digest("hex");
  const dir = join(cacheDir, `utterance-${hash.slice(0, 16)}`);
  const result = (cached: boolean): PreparedUtterance => ({
    oggPath: join(dir, "utterance.ogg"),
    wavPath: join(dir, "utterance.wav"),
    speechMs: s.speechMs,
    leadMs: s.leadMs,
    durationMs: s.leadMs + s.speechMs + s.tailMs,
    hash,
    cached,
  });
  if ((await exists(join(dir, "utterance.ogg"))) && (await exists(join(dir, "utterance.wav")))) return result(true);
  await buildCacheDir(dir, async (tmp) => {
    const pcm = synthesiseUtterance(s);
    const raw = join(tmp, "encoder.ogg");
    await runFfmpeg(opusEncodeArgs(s.audioKbps, raw), { stdin: pcmBytes(pcm.subarray(OPUS_ENCODER_LOOKAHEAD)) });
    const encoded = await readFile(raw);
    checkOgg(encoded, pcm.length);
    await writeFile(join(tmp, "utterance.ogg"), setOggOpusPreSkip(encoded, 0));
    await rm(raw);
    await runFfmpeg(wavEncodeArgs(join(tmp, "utterance.wav")), { stdin: pcmBytes(pcm) });
    await writeFile(join(tmp, "spec.json"), `${JSON.stringify({ version: UTTERANCE_VERSION, ...s }, null, 2)}\n`);
  });
  return result(false);
}

/** The Opus packets of a prepared utterance, and the index of its last packet of speech. */
export async function readUtterancePackets(u: Pick<PreparedUtterance, "oggPath" | "leadMs" | "speechMs">): Promise<{ packets: Buffer[]; lastSpeechPacket: number }> {
  const ogg = parseOggOpus(await readFile(u.oggPath));
  return { packets: ogg.packets, lastSpeechPacket: Math.round((u.leadMs + u.speechMs) / UTTERANCE_PACKET_MS) - 1 };
}

export function normaliseUtteranceSpec(s: UtteranceSpec): UtteranceSpec {
  const bad = (field: keyof UtteranceSpec, want: string): never => {
    throw new Error(`utterance: ${field} = ${JSON.stringify(s[field])} is invalid (${want})`);
  };
  for (const f of ["leadMs", "speechMs", "tailMs"] as const) {
    if (!Number.isInteger(s[f]) || s[f] % UTTERANCE_PACKET_MS !== 0 || s[f] < 0) bad(f, `a multiple of ${UTTERANCE_PACKET_MS} ms, ≥ 0`);
  }
  if (s.speechMs < 200) bad("speechMs", "at least 200 ms");
  if (s.leadMs < 200) bad("leadMs", "at least 200 ms (a VAD needs some room tone first)");
  if (s.tailMs < 300) bad("tailMs", "at least 300 ms (longer than a VAD's hangover)");
  if (!(s.speechDb <= -3 && s.speechDb >= -60)) bad("speechDb", "−60..−3 dBFS");
  if (!(s.roomToneDb <= s.speechDb - 10)) bad("roomToneDb", "at least 10 dB below speechDb");
  if (!(s.audioKbps >= 6 && s.audioKbps <= 510)) bad("audioKbps", "6..510");
  return s;
}

const FORMANTS: readonly (readonly [number, number, number])[] = [
  [730, 1090, 2440], // a
  [270, 2290, 3010], // i
  [300, 870, 2240], // u
  [530, 1840, 2480], // e
];
const SYLLABLES = 4;

/** The PCM (16-bit, 48 kHz mono) of the utterance; deterministic. */
export function synthesiseUtterance(s: UtteranceSpec = DEFAULT_UTTERANCE): Int16Array {
  const fs = UTTERANCE_SAMPLE_RATE;
  const lead = (s.leadMs * fs) / 1000;
  const speech = (s.speechMs * fs) / 1000;
  const total = lead + speech + (s.tailMs * fs) / 1000;
  const voice = new Float64Array(speech);
  const ramp = (10 * fs) / 1000;
  const syl = speech / SYLLABLES;
  let phase = 0;
  let sumSq = 0;
  for (let n = 0; n < speech; n++) {
    const t = n / speech;
    // Intonation: rise to 150 Hz at 30 %, fall to 110 Hz at the end.
    const f0 = t < 0.3 ? 120 + (30 * t) / 0.3 : 150 - (40 * (t - 0.3)) / 0.7;
    phase += (2 * Math.PI * f0) / fs;
    const k = Math.min(SYLLABLES - 1, Math.floor(n / syl));
    const within = (n - k * syl) / syl;
    // Formants glide into the next vowel over the last 15 % of a syllable.
    const next = Math.min(SYLLABLES - 1, k + 1);
    const mix = within > 0.85 ? (within - 0.85) / 0.15 : 0;
    const fa = FORMANTS[k % FORMANTS.length]!;
    const fb = FORMANTS[next % FORMANTS.length]!;
    let x = 0;
    for (let h = 1; h * f0 < 4000; h++) {
      const f = h * f0;
      let g = 0.05;
      for (let i = 0; i < 3; i++) {
        const F = fa[i]! * (1 - mix) + fb[i]! * mix;
        const bw = 80 + 40 * i;
        g += Math.exp(-(((f - F) / bw) ** 2)) / (1 + i);
      }
      x += (g / h) * Math.sin(h * phase);
    }
    // Syllable envelope: a dip to −14 dB between syllables (shorter than a VAD hangover), 10 ms
    // attack/release at the ends of the speech.
    const d = Math.min(within, 1 - within) * syl;
    let env = k > 0 && within < 0.5 ? 0.2 + 0.8 * Math.min(1, d / ((40 * fs) / 1000)) : 1;
    if (k < SYLLABLES - 1 && within >= 0.5) env = 0.2 + 0.8 * Math.min(1, d / ((40 * fs) / 1000));
    env *= Math.min(1, n / ramp, (speech - 1 - n) / ramp);
    voice[n] = x * env;
    sumSq += voice[n]! * voice[n]!;
  }
  const gain = 10 ** (s.speechDb / 20) / Math.sqrt(sumSq / speech);
  const noiseAmp = 10 ** (s.roomToneDb / 20) * Math.sqrt(3); // uniform in ±a has RMS a/√3
  const random = seededRandom(0x5eec4);
  const out = new Int16Array(total);
  for (let n = 0; n < total; n++) {
    const v = n >= lead && n < lead + speech ? voice[n - lead]! * gain : 0;
    const y = v + noiseAmp * (2 * random() - 1);
    out[n] = Math.max(-32768, Math.min(32767, Math.round(y * 32767)));
  }
  return out;
}

function wavEncodeArgs(out: string): string[] {
  return ["-f", "s16le", "-ar", String(UTTERANCE_SAMPLE_RATE), "-ac", "1", "-i", "pipe:0", "-c:a", "pcm_s16le", "-fflags", "+bitexact", "-f", "wav", "-y", out];
}

function checkOgg(buf: Buffer, samples: number): void {
  const ogg = parseOggOpus(buf);
  const expected = Math.ceil(samples / OPUS_PACKET_SAMPLES);
  if (ogg.channels !== 1) throw new Error(`utterance: encoded ${ogg.channels} channels, expected 1`);
  if (ogg.packets.length !== expected) throw new Error(`utterance: ${ogg.packets.length} Opus packets, expected ${expected}`);
  for (const [i, p] of ogg.packets.entries()) {
    const n = opusPacketDurationSamples(p);
    if (n !== OPUS_PACKET_SAMPLES) throw new Error(`utterance: Opus packet ${i} lasts ${n} samples, expected ${OPUS_PACKET_SAMPLES}`);
  }
}
