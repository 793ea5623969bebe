// Opus RTP packetization (RFC 7587 §4): one Opus packet is one RTP payload, verbatim. The RTP clock
// is 48 kHz whatever the encoder's internal sample rate (§4.1), so a packet advances the RTP
// timestamp by its duration in 48 kHz samples: 960 for 20 ms.
//
// The duration comes from the TOC byte (RFC 6716 §3.1):
//      0 1 2 3 4 5 6 7
//     +-+-+-+-+-+-+-+-+
//     | config  |s| c |   config → mode, bandwidth, frame size (table below); c → frame count:
//     +-+-+-+-+-+-+-+-+   0: 1 frame, 1: 2 equal frames, 2: 2 frames, 3: M frames (§3.2.5, byte 1 = |v|p| M |)
//   config  0..11  SILK   NB/MB/WB          10, 20, 40, 60 ms
//   config 12..15  Hybrid SWB/FB            10, 20 ms
//   config 16..31  CELT   NB/WB/SWB/FB      2.5, 5, 10, 20 ms
// A packet holds at most 120 ms (§3.2.5); code 3 with M = 0 is invalid.

export const OPUS_RTP_CLOCK_HZ = 48_000;

/** Frame size in 48 kHz samples for each TOC config (RFC 6716 §3.1, Table 2). */
const FRAME_SAMPLES_48K: readonly number[] = [
  480, 960, 1920, 2880, // SILK NB
  480, 960, 1920, 2880, // SILK MB
  480, 960, 1920, 2880, // SILK WB
  480, 960, // Hybrid SWB
  480, 960, // Hybrid FB
  120, 240, 480, 960, // CELT NB
  120, 240, 480, 960, // CELT WB
  120, 240, 480, 960, // CELT SWB
  120, 240, 480, 960, // CELT FB
];

const MAX_PACKET_SAMPLES_48K = 5760; // 120 ms

/** RTP timestamp increment (48 kHz samples) for one Opus packet. Throws on an empty or invalid packet. */
export function opusRtpTimestampIncrement(packet: Buffer): number {
  const toc = packet[0];
  if (toc === undefined) throw new RangeError("Opus packet is empty (no TOC byte)");
  const frameSamples = FRAME_SAMPLES_48K[toc >> 3] ?? 0; // toc >> 3 is always 0..31
  let frames: number;
  switch (toc & 0x03) {
    case 0:
      frames = 1;
      break;
    case 1:
    case 2:
      frames = 2;
      break;
    default: {
      const b1 = packet[1];
      if (b1 === undefined) throw new RangeError("Opus code-3 packet truncated: frame count byte missing");
      frames = b1 & 0x3f;
      if (frames === 0) throw new RangeError("Opus code-3 packet has a frame count of 0");
    }
  }
  const samples = frames * frameSamples;
  if (samples > MAX_PACKET_SAMPLES_48K) {
    throw new RangeError(`Opus packet lasts ${samples / 48} ms, more than the 120 ms allowed`);
  }
  return samples;
}

/** The RTP payload for an Opus packet (the packet itself, not copied) and its timestamp increment. */
export function packetizeOpus(packet: Buffer): { payload: Buffer; timestampIncrement: number } {
  return { payload: packet, timestampIncrement: opusRtpTimestampIncrement(packet) };
}
