// Counter unwrapping by nearest distance (RFC 3550 appendix A.1 keeps a
// cycle count the same way; RFC 1982 defines the comparison).

#include "rtp/sequence_unwrapper.h"

namespace cloudlink::rtp {

SequenceUnwrapper::SequenceUnwrapper(int bits) : bits_(bits), modulus_(int64_t{1} << bits) {}

int64_t SequenceUnwrapper::Peek(uint32_t value) const {
  const int64_t wrapped = static_cast<int64_t>(value) & (modulus_ - 1);
  if (!last_) return wrapped;

  // Step from the reference by the shortest signed distance; exactly half
  // the range counts as forward (RFC 1982 leaves it undefined).
  int64_t distance = (wrapped - *last_) & (modulus_ - 1);
  if (distance > modulus_ / 2) distance -= modulus_;
  return *last_ + distance;
}

int64_t SequenceUnwrapper::Unwrap(uint32_t value) {
  const int64_t unwrapped = Peek(value);
  last_ = unwrapped;
  return unwrapped;
}

}  // namespace cloudlink::rtp
