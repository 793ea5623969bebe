// Video MOS estimate: the ITU-T G.1070 (07/2012) video quality estimation function (§11.3).
//
//   Vq      = 1 + Icoding · exp(−Pplv / DPplv)
//   Icoding = Iofr · exp(−(ln Frv − ln Ofr)² / (2 · Dfrv²))
//   Ofr     = v1 + v2 · Brv                         optimal frame rate at this bit rate
//   Iofr    = v3 − v3 / (1 + (Brv / v4)^v5)         best quality at this bit rate
//   Dfrv    = v6 + v7 · Brv                         robustness to frame rate
//   DPplv   = v10 + v11 · exp(−Frv / v8) + v12 · exp(−Brv / v9)    robustness to packet loss
//
// Inputs: Brv video bit rate (kbit/s), Frv frame rate (frames/s), Pplv video packet loss (%, the
// loss the decoder sees — after retransmission when NACK is in use). Output: MOS 1..5 (clamped).
//
// Coefficients — an estimate, read with care: G.1070 gives provisional coefficient sets only for
// some codec / format / display combinations (MPEG-4 and H.264 at QQVGA/QVGA/VGA on small screens);
// VP8, proctor's codec, is not covered. We use the H.264, VGA, 9.2-inch display set (v1 … v12 below):
// H.264 is the closest covered codec to VP8 (both block-based hybrid coders of the same generation)
// and VGA at ~10" is the covered case nearest a laptop classroom window. The numbers were taken
// from two independent public implementations that agree digit for digit (one attributes them to
// Table B.2 of the Recommendation, fitted for 400 kbit/s – 2 Mbit/s); the ITU text itself was not
// available to check them here. Within that set Vq rises with bit rate at 30 fps only up to ~3
// Mbit/s (the optimal frame rate Ofr passes 30 fps there), and at low frame rates it falls again
// above a few hundred kbit/s — properties of the fitted model, not of the video. Absolute values are therefore indicative; comparisons between
// runs with the same coefficients are what this estimate is good for. Freeze ratio is kept as its
// own KPI (freezes.ts) — G.1070 does not model freezes.

export type G1070VideoCoefficients = readonly [
  v1: number,
  v2: number,
  v3: number,
  v4: number,
  v5: number,
  v6: number,
  v7: number,
  v8: number,
  v9: number,
  v10: number,
  v11: number,
  v12: number,
];

/** H.264, VGA, 9.2-inch display (see header for provenance). */
export const G1070_H264_VGA_9IN: G1070VideoCoefficients = Object.freeze([
  5.517, 0.0129, 3.459, 178.53, 1.02, 1.15, 0.000355, 0.114, 513.77, 0.736, -6.451, 13.684,
] as const);

export type VideoMosInput = {
  /** Video bit rate, kbit/s. */
  bitrateKbps: number;
  /** Frame rate, frames/s. */
  fps: number;
  /** Video packet loss, % (0..100). */
  lossPercent: number;
};

export type VideoMosResult = { vq: number; icoding: number; ofr: number; iofr: number; dfrv: number; dpplv: number };

/** G.1070 Vq (1..5) with the given coefficient set (default: H.264 VGA 9.2"). */
export function g1070VideoQuality(input: VideoMosInput, c: G1070VideoCoefficients = G1070_H264_VGA_9IN): VideoMosResult {
  const [v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12] = c;
  const br = Math.max(input.bitrateKbps, 1e-6);
  const fr = Math.max(input.fps, 1e-6);
  const ppl = Math.min(100, Math.max(0, input.lossPercent));
  const ofr = v1 + v2 * br;
  const iofr = v3 - v3 / (1 + (br / v4) ** v5);
  const dfrv = v6 + v7 * br;
  const icoding = iofr * Math.exp(-((Math.log(fr) - Math.log(ofr)) ** 2) / (2 * dfrv * dfrv));
  // v11 < 0 in this set: at frame rates below ~1 fps DPplv could reach 0; keep it positive.
  const dpplv = Math.max(1e-6, v10 + v11 * Math.exp(-fr / v8) + v12 * Math.exp(-br / v9));
  const raw = 1 + icoding * Math.exp(-ppl / dpplv);
  return { vq: Math.min(5, Math.max(1, raw)), icoding, ofr, iofr, dfrv, dpplv };
}
