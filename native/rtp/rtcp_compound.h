// Parses and writes compound RTCP packets (RFC 3550 section 6.1): a series
// of RTCP packets, each with its own 4-byte header (version 2, padding bit,
// 5-bit count or FMT, packet type, length in 32-bit words minus one). The
// packets are the values of rtcp_packets.h.

#ifndef CLOUDLINK_RTP_RTCP_COMPOUND_H_
#define CLOUDLINK_RTP_RTCP_COMPOUND_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "rtp/rtcp_packets.h"

namespace cloudlink::rtp {

class RtcpCompound {
 public:
  // RFC 3550 section 12.1 and RFC 4585 section 6.1 packet types.
  static constexpr int kSenderReportType = 200;
  static constexpr int kReceiverReportType = 201;
  static constexpr int kSdesType = 202;
  static constexpr int kByeType = 203;
  static constexpr int kTransportFeedbackType = 205;
  static constexpr int kPayloadFeedbackType = 206;

  // TODO(#3): XR (type 207) and APP (204) come back as RtcpUnknown: RTT
  // from XR (RFC 3611 RRTR/DLRR) is not available to receive-only peers.
  // Parses every packet of a compound packet, in order. A packet type this
  // class does not know becomes RtcpUnknown; a malformed or truncated packet
  // rejects the whole compound: nullopt, with the reason in `error`.
  static std::optional<std::vector<RtcpPacket>> Parse(const uint8_t* data, size_t size,
                                                      std::string* error);

  // Appends the wire form of `packets` to `out`, in order. Returns an empty
  // string on success, else a message naming the field that does not fit
  // (`out` may then end in a partial packet). An RtcpUnknown body that is
  // not whole words is written with RFC 3550 padding.
  static std::string Serialize(const std::vector<RtcpPacket>& packets, std::vector<uint8_t>* out);
};

}  // namespace cloudlink::rtp

#endif  // CLOUDLINK_RTP_RTCP_COMPOUND_H_
