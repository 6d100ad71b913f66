// Unwraps a wrapping RTP counter into a 64-bit one: 16-bit sequence numbers
// and 32-bit timestamps (RFC 3550 section 5.1 and appendix A.1). Each value
// is taken as the unwrapped number nearest to the last one seen, so packets
// reordered across a wrap land on the right side of it.

#ifndef CLOUDLINK_RTP_SEQUENCE_UNWRAPPER_H_
#define CLOUDLINK_RTP_SEQUENCE_UNWRAPPER_H_

#include <cstdint>
#include <optional>

namespace cloudlink::rtp {

class SequenceUnwrapper {
 public:
  static constexpr int kSequenceBits = 16;
  static constexpr int kTimestampBits = 32;

  // bits: the width of the wrapped counter, 1..32.
  explicit SequenceUnwrapper(int bits = kSequenceBits);

  // The unwrapped value of `value` (its low `bits` bits) without remembering it.
  int64_t Peek(uint32_t value) const;

  // Unwraps `value` and makes it the reference for the next one. The first
  // value unwraps to itself.
  int64_t Unwrap(uint32_t value);

  // Forgets the reference, as for a new stream.
  void Reset() { last_.reset(); }

  int bits() const { return bits_; }
  std::optional<int64_t> last() const { return last_; }

 private:
  int bits_;
  int64_t modulus_;
  std::optional<int64_t> last_;
};

}  // namespace cloudlink::rtp

#endif  // CLOUDLINK_RTP_SEQUENCE_UNWRAPPER_H_
