// libFuzzer target for RtpPacket::Parse (RFC 3550 5.1, RFC 8285): any input
// either parses or is rejected with a reason; whatever parses writes back
// and reparses to the same bytes.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "rtp/rtp_packet.h"

using cloudlink::rtp::RtpPacket;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Step 1: parse; a rejection must say why.
  std::string error;
  std::optional<RtpPacket> packet = RtpPacket::Parse(data, size, &error);
  if (!packet) {
    if (error.empty()) std::abort();
    return 0;
  }

  // Step 2: write, reparse, write again: the two writes must agree.
  std::vector<uint8_t> first;
  if (!packet->Serialize(&first).empty()) std::abort();
  std::optional<RtpPacket> again = RtpPacket::Parse(first.data(), first.size(), &error);
  if (!again) std::abort();
  std::vector<uint8_t> second;
  if (!again->Serialize(&second).empty() || second != first) std::abort();
  return 0;
}
