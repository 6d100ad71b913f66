// libFuzzer target for RtcpCompound::Parse (RFC 3550 6, RFC 4585, RFC 5104,
// REMB): any input either parses or is rejected with a reason; whatever
// parses writes back and reparses to the same bytes.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "rtp/rtcp_compound.h"

using cloudlink::rtp::RtcpCompound;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // Step 1: parse; a rejection must say why.
  std::string error;
  auto packets = RtcpCompound::Parse(data, size, &error);
  if (!packets) {
    if (error.empty()) std::abort();
    return 0;
  }

  // Step 2: write, reparse, write again: the two writes must agree.
  std::vector<uint8_t> first;
  if (!RtcpCompound::Serialize(*packets, &first).empty()) std::abort();
  auto again = RtcpCompound::Parse(first.data(), first.size(), &error);
  if (!again || again->size() != packets->size()) std::abort();
  std::vector<uint8_t> second;
  if (!RtcpCompound::Serialize(*again, &second).empty() || second != first) std::abort();
  return 0;
}
