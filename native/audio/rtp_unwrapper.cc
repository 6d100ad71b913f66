#include "audio/rtp_unwrapper.h"

namespace cloudlink::audio {

RtpUnwrapper::RtpUnwrapper(int bits) : modulus_(int64_t{1} << bits) {}

int64_t RtpUnwrapper::Peek(uint32_t value) const {
  const int64_t wrapped = static_cast<int64_t>(value) & (modulus_ - 1);
  if (!highest_) return wrapped;

  // Step forward from the reference by the shortest signed distance: a
  // distance of half the range or more is taken as going backwards.
  int64_t distance = (wrapped - *highest_) & (modulus_ - 1);
  if (distance >= modulus_ / 2) distance -= modulus_;
  return *highest_ + distance;
}

int64_t RtpUnwrapper::Unwrap(uint32_t value) {
  const int64_t unwrapped = Peek(value);
  if (!highest_ || unwrapped > *highest_) highest_ = unwrapped;
  return unwrapped;
}

}  // namespace cloudlink::audio
