"""The real-time layer: a WebRTC transport (ICE, DTLS, SRTP from aiortc and
aioice) and, above it, RTP sessions on the native engine: RTCP reports,
NACK and retransmission, keyframe requests, a bandwidth estimate, header
extensions and per-stream statistics. See docs/rtc.md."""
