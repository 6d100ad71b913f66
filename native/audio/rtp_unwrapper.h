// Unwraps RTP sequence numbers (16 bits) and timestamps (32 bits) into
// monotonic 64-bit counters (RFC 3550 section 5.1 and appendix A.1): each
// new value is taken as the unwrapped number closest to the highest seen.

#ifndef CLOUDLINK_AUDIO_RTP_UNWRAPPER_H_
#define CLOUDLINK_AUDIO_RTP_UNWRAPPER_H_

#include <cstdint>
#include <optional>

namespace cloudlink::audio {

// TODO(#3): rtp::SequenceUnwrapper (native/rtp) does the same from the last
// value instead of the highest; one of the two should serve both engines.
class RtpUnwrapper {
 public:
  // bits: width of the wrapped field, 16 for sequence numbers, 32 for timestamps.
  explicit RtpUnwrapper(int bits);

  // The unwrapped value of `value` without remembering it.
  int64_t Peek(uint32_t value) const;

  // Unwraps `value` and raises the reference when it is the highest so far.
  int64_t Unwrap(uint32_t value);

  // Forgets the reference, as for a new stream.
  void Reset() { highest_.reset(); }

  bool has_reference() const { return highest_.has_value(); }

 private:
  int64_t modulus_;
  std::optional<int64_t> highest_;
};

}  // namespace cloudlink::audio

#endif  // CLOUDLINK_AUDIO_RTP_UNWRAPPER_H_
