// RTCP sender reports with a correct NTP↔RTP pair (RFC 3550 §6.4.1), replacing werift's.
//
// werift 0.24's SR is wrong twice (WERIFT.md): its NTP fraction holds decimal digits, and it
// carries the pair of the last packet sent rather than of the report's own send instant. Receivers
// map RTP time to capture time through this pair (latency, lip-sync), so proctor stops werift's SR
// loop and sends its own: NTP = the wall clock at send, RTP = the stream's timestamp at that same
// instant (MediaProgram.rtpTimestampAt). Packet/octet counts still come from werift's sender.
import type { Clock } from "../clock.js";
import { unixMsToNtp, ntpMiddle32 } from "../clock.js";
import { werift, type RTCRtpSender } from "../webrtc/werift.js";

/** The private fields of werift's RTCRtpSender this module reads or sets (runtime override, see header). */
type WeriftSenderInternals = {
  rtcpRunning: boolean;
  packetCount: number;
  octetCount: number;
  lastSRtimestamp?: number;
  lastSentSRTimestamp?: number;
  ssrc: number;
  cname?: string;
};

function internals(sender: RTCRtpSender): WeriftSenderInternals {
  return sender as unknown as WeriftSenderInternals;
}

/** Stop werift's own SR loop for this sender; must run before the first RTP packet is sent. */
export function disableWeriftSenderReports(sender: RTCRtpSender): void {
  internals(sender).rtcpRunning = true;
}

/** Where an SR's RTP timestamp comes from; `ready()` false = no media timeline yet (send nothing). */
export type SenderReportSource = { rtpTimestampAt(monoMs: number): number; ready(): boolean };

/** Build and send one SR (+ SDES CNAME) for `sender`; returns the NTP/RTP pair it carried. */
export async function sendSenderReport(
  sender: RTCRtpSender,
  source: SenderReportSource,
  clock: Clock,
): Promise<{ ntp: bigint; rtpTimestamp: number; monoMs: number }> {
  const s = internals(sender);
  const monoMs = clock.nowMs();
  const ntp = unixMsToNtp(clock.toUnixMs(monoMs));
  const rtpTimestamp = source.rtpTimestampAt(monoMs);
  const packets: InstanceType<typeof werift.RtcpSrPacket | typeof werift.RtcpSourceDescriptionPacket>[] = [
    new werift.RtcpSrPacket({
      ssrc: s.ssrc,
      senderInfo: new werift.RtcpSenderInfo({
        ntpTimestamp: ntp,
        rtpTimestamp,
        packetCount: s.packetCount >>> 0,
        octetCount: s.octetCount >>> 0,
      }),
    }),
  ];
  if (s.cname) {
    packets.push(
      new werift.RtcpSourceDescriptionPacket({
        chunks: [
          new werift.SourceDescriptionChunk({
            source: s.ssrc,
            items: [new werift.SourceDescriptionItem({ type: 1, text: s.cname })],
          }),
        ],
      }),
    );
  }
  // werift computes RTT from receiver reports against these two (its own units: LSR middle-32, seconds).
  s.lastSRtimestamp = ntpMiddle32(ntp);
  s.lastSentSRTimestamp = clock.toUnixMs(monoMs) / 1000;
  await sender.dtlsTransport.sendRtcp(packets);
  return { ntp, rtpTimestamp, monoMs };
}

/** Send SRs every ~1 s (RFC 3550 §6.2: randomised in [0.5, 1.5] × interval) until stopped. */
export class SenderReportLoop {
  private timer: NodeJS.Timeout | null = null;
  reportsSent = 0;

  constructor(
    private readonly sender: RTCRtpSender,
    private readonly source: SenderReportSource,
    private readonly clock: Clock,
    private readonly random: () => number,
    private readonly intervalMs = 1000,
  ) {}

  start(firstDelayMs = 100): void {
    this.schedule(firstDelayMs);
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private schedule(delayMs: number): void {
    this.timer = setTimeout(() => {
      // RFC 3550 §6.4: only a participant that has sent data sends SRs.
      if (!this.source.ready()) {
        this.schedule(100);
        return;
      }
      sendSenderReport(this.sender, this.source, this.clock)
        .then(() => this.reportsSent++)
        .catch(() => undefined) // transport closing: the next tick or stop() decides
        .finally(() => {
          if (this.timer) this.schedule(this.intervalMs * (0.5 + this.random()));
        });
    }, delayMs);
  }
}
