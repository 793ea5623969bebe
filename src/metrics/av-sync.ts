// A/V sync (lip-sync) estimate at the wire tier. Sign (DESIGN.md "Metrics", ITU-R BT.1359):
// offset = presentation time of an instant's video − presentation time of the same instant's
// audio; positive = audio leads (audio heard before the picture).
//
// A receiver that synchronises by RTCP sender reports (RFC 3550 §6.4.1; libwebrtc's
// RtpStreamsSynchronizer) maps each stream's RTP time to the sender's wall clock through the SRs
// and presents audio and video whose SR-mapped capture times are equal at the same moment. If a
// stream's SRs misstate its capture time by e (SR-mapped − true capture time, the true one from
// abs-capture-time), its media is presented e later than the other stream's media of the same true
// instant. Hence, for one sync marker captured at c and presented D after its SR-mapped time:
//
//   T_video = c + e_video + D (+ d_video),   T_audio = c + e_audio + D (+ d_audio)
//   offset  = median(e_video) − median(e_audio) + (d_video − d_audio)           ms
//
// where d_video, d_audio are optional extra presentation delays beyond the synchronised point
// (default 0: a synchronised receiver). Example: audio SRs claim audio was captured 60 ms later than
// it was → e_audio = +60 → offset = −60 (audio lags).
//
// Each packet/frame is mapped through the latest SR of its stream that arrived before it (the one a
// live receiver would have used); an item that arrived before any SR uses the first SR. Medians
// make one bad SR or a clock step count little. O((n + m) log m).

import { rtpToUnixMs } from "./sr-mapping.js";
import { percentile } from "./stats.js";

export type SyncSenderReport = { kind: "audio" | "video"; ntpUnixMs: number; rtpTimestamp: number; arrivalUnixMs: number };
export type SyncVideoFrame = { rtpTimestamp: number; completeUnixMs: number; captureUnixMs?: number };
export type SyncAudioPacket = { rtpTimestamp: number; arrivalUnixMs: number; captureUnixMs?: number };

export type AvSyncOptions = {
  videoClockRate?: number;
  audioClockRate?: number;
  /** Extra video presentation delay beyond the synchronised point (ms). Default 0. */
  videoPlayoutDelayMs?: number;
  /** Extra audio presentation delay beyond the synchronised point (ms). Default 0. */
  audioPlayoutDelayMs?: number;
};

export type AvSyncEstimate = {
  /** video − audio presentation of the same instant (ms); positive = audio leads. */
  offsetMs: number;
  /** Median SR-mapping error of each stream (ms): SR-mapped − true capture time. */
  videoSrErrorMs: number;
  audioSrErrorMs: number;
  videoSamples: number;
  audioSamples: number;
};

type MappedItem = { rtpTimestamp: number; atUnixMs: number; captureUnixMs?: number };

/**
 * SR-mapping errors (ms) of items of one stream: rtpToUnixMs(SR, rtpTimestamp) − captureUnixMs, using
 * the latest SR that arrived at or before the item (first SR when none had). Items without a capture
 * time give no sample; no SRs → empty.
 */
export function srMappingErrorsMs(
  items: readonly MappedItem[],
  reports: readonly { ntpUnixMs: number; rtpTimestamp: number; arrivalUnixMs: number }[],
  clockRate: number,
): number[] {
  if (reports.length === 0) return [];
  const srs = reports.slice().sort((a, b) => a.arrivalUnixMs - b.arrivalUnixMs);
  const out: number[] = [];
  for (const it of items) {
    if (it.captureUnixMs === undefined) continue;
    // Binary search: last SR with arrivalUnixMs <= it.atUnixMs.
    let lo = 0;
    let hi = srs.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (srs[mid]!.arrivalUnixMs <= it.atUnixMs) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    out.push(rtpToUnixMs(srs[found]!, it.rtpTimestamp, clockRate) - it.captureUnixMs);
  }
  return out;
}

/** The wire-tier A/V sync estimate; undefined when either stream has no sample (no SR or no capture times). */
export function estimateAvSync(
  video: readonly SyncVideoFrame[],
  audio: readonly SyncAudioPacket[],
  senderReports: readonly SyncSenderReport[],
  opts: AvSyncOptions = {},
): AvSyncEstimate | undefined {
  const videoErrors = srMappingErrorsMs(
    video.map((f) => ({ rtpTimestamp: f.rtpTimestamp, atUnixMs: f.completeUnixMs, captureUnixMs: f.captureUnixMs })),
    senderReports.filter((r) => r.kind === "video"),
    opts.videoClockRate ?? 90_000,
  );
  const audioErrors = srMappingErrorsMs(
    audio.map((p) => ({ rtpTimestamp: p.rtpTimestamp, atUnixMs: p.arrivalUnixMs, captureUnixMs: p.captureUnixMs })),
    senderReports.filter((r) => r.kind === "audio"),
    opts.audioClockRate ?? 48_000,
  );
  if (videoErrors.length === 0 || audioErrors.length === 0) return undefined;
  const ev = median(videoErrors);
  const ea = median(audioErrors);
  return {
    offsetMs: ev - ea + (opts.videoPlayoutDelayMs ?? 0) - (opts.audioPlayoutDelayMs ?? 0),
    videoSrErrorMs: ev,
    audioSrErrorMs: ea,
    videoSamples: videoErrors.length,
    audioSamples: audioErrors.length,
  };
}

/** Median (sorts `values` in place; they are this module's own arrays). */
function median(values: number[]): number {
  return percentile(values.sort((a, b) => a - b), 50);
}
