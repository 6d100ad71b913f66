// The RTCP packets the engine reads and writes, as plain values: sender and
// receiver reports with their report blocks (RFC 3550 section 6.4), source
// description (6.5), goodbye (6.6), generic NACK (RFC 4585 section 6.2.1),
// picture loss indication (RFC 4585 section 6.3.1), full intra request
// (RFC 5104 section 4.3.1) and receiver estimated maximum bitrate
// (draft-alvestrand-rmcat-remb-03 section 2.2) and transport-wide congestion
// control feedback (draft-holmer-rmcat-transport-wide-cc-extensions-01
// section 3.1). Any other packet is kept
// whole as RtcpUnknown. RtcpCompound parses and writes them.
//
// Narrow fields are held in wider integers so that the writer can name an
// out-of-range value instead of silently truncating it.

#ifndef CLOUDLINK_RTP_RTCP_PACKETS_H_
#define CLOUDLINK_RTP_RTCP_PACKETS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace cloudlink::rtp {

// RFC 3550 section 6.4.1: one reception report about one source.
struct ReportBlock {
  uint32_t ssrc = 0;
  int fraction_lost = 0;    // 8-bit fixed point: lost / expected * 256
  int cumulative_lost = 0;  // 24-bit signed
  uint32_t extended_highest_sequence = 0;
  uint32_t jitter = 0;               // timestamp units
  uint32_t last_sr = 0;              // middle 32 bits of the last SR's NTP time
  uint32_t delay_since_last_sr = 0;  // units of 1/65536 s
};

// RFC 3550 section 6.4.1, packet type 200.
struct SenderReport {
  uint32_t ssrc = 0;
  uint64_t ntp_timestamp = 0;  // 32.32 fixed point seconds since 1900
  uint32_t rtp_timestamp = 0;
  uint32_t packet_count = 0;
  uint32_t octet_count = 0;
  std::vector<ReportBlock> report_blocks;
};

// RFC 3550 section 6.4.2, packet type 201.
struct ReceiverReport {
  uint32_t ssrc = 0;
  std::vector<ReportBlock> report_blocks;
};

// RFC 3550 section 6.5: an item type (1 = CNAME, ...) and its text.
struct SdesItem {
  int type = 0;
  std::string value;  // raw bytes, UTF-8 by the RFC
};

struct SdesChunk {
  uint32_t ssrc = 0;
  std::vector<SdesItem> items;
};

// RFC 3550 section 6.5, packet type 202.
struct Sdes {
  std::vector<SdesChunk> chunks;
};

// RFC 3550 section 6.6, packet type 203.
struct Bye {
  std::vector<uint32_t> ssrcs;
  std::string reason;  // raw bytes, empty when absent
};

// RFC 4585 section 6.2.1: transport-layer feedback (205), FMT 1. The lost
// sequence numbers, expanded from the PID + BLP pairs in wire order.
struct Nack {
  uint32_t sender_ssrc = 0;
  uint32_t media_ssrc = 0;
  std::vector<int> sequence_numbers;
};

// RFC 4585 section 6.3.1: payload-specific feedback (206), FMT 1.
struct Pli {
  uint32_t sender_ssrc = 0;
  uint32_t media_ssrc = 0;
};

// RFC 5104 section 4.3.1: payload-specific feedback (206), FMT 4.
struct FirEntry {
  uint32_t ssrc = 0;
  int sequence_number = 0;  // 8 bits, one per new request
};

struct Fir {
  uint32_t sender_ssrc = 0;
  uint32_t media_ssrc = 0;  // 0 by RFC 5104; the targets are in the entries
  std::vector<FirEntry> entries;
};

// draft-alvestrand-rmcat-remb-03: application layer feedback (206, FMT 15)
// with the "REMB" identifier.
struct Remb {
  uint32_t sender_ssrc = 0;
  uint64_t bitrate_bps = 0;  // written as an 18-bit mantissa and a 6-bit exponent
  std::vector<uint32_t> ssrcs;
};

// draft-holmer-rmcat-transport-wide-cc-extensions-01 section 3.1: transport
// feedback (205, FMT 15) on the transport-wide sequence numbers.
struct TransportFeedback {
  uint32_t sender_ssrc = 0;
  uint32_t media_ssrc = 0;
  int base_sequence = 0;   // 16 bits: the first packet reported
  int feedback_count = 0;  // 8 bits, one more per feedback packet sent
  // One entry per sequence number from base_sequence on: the arrival time
  // in µs on the receiver's clock (its 64 ms reference time plus 250 µs
  // deltas), or nullopt when the packet was not received.
  std::vector<std::optional<int64_t>> arrival_times_us;
};

// Any other packet: its type, the 5-bit count/FMT field and the bytes after
// the 4-byte header, without padding.
struct RtcpUnknown {
  int packet_type = 0;
  int count = 0;
  std::string body;
};

using RtcpPacket = std::variant<SenderReport, ReceiverReport, Sdes, Bye, Nack, Pli, Fir, Remb,
                                TransportFeedback, RtcpUnknown>;

}  // namespace cloudlink::rtp

#endif  // CLOUDLINK_RTP_RTCP_PACKETS_H_
