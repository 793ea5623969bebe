// The one place werift is loaded. werift ships two bundles (CommonJS and ESM) with duplicate
// classes; mixing them breaks `instanceof`, so everything goes through this CommonJS copy
// (patched by patches/werift+0.24.4.patch: no implicit public STUN server).
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
export const werift = require("werift") as typeof import("werift");

export type RTCPeerConnection = import("werift").RTCPeerConnection;
export type RTCRtpSender = import("werift").RTCRtpSender;
export type RTCRtpTransceiver = import("werift").RTCRtpTransceiver;
export type MediaStreamTrack = import("werift").MediaStreamTrack;
export type RtpPacket = import("werift").RtpPacket;
export type RtcpPacket = import("werift").RtcpPacket;
