// Reads what the jitter buffer needs from an Opus packet without decoding
// it (RFC 6716): whether its first frame carries in-band FEC (SILK LBRR
// data) for the frame before it.

#ifndef CLOUDLINK_AUDIO_OPUS_PACKET_INFO_H_
#define CLOUDLINK_AUDIO_OPUS_PACKET_INFO_H_

#include <cstddef>
#include <cstdint>

namespace cloudlink::audio {

class OpusPacketInfo {
 public:
  // True when the packet's first frame holds an LBRR (low bit-rate
  // redundancy) copy of the previous frame, so that decoding it with FEC
  // recovers that frame rather than concealing it.
  static bool HasInbandFec(const uint8_t* packet, size_t packet_bytes);
};

}  // namespace cloudlink::audio

#endif  // CLOUDLINK_AUDIO_OPUS_PACKET_INFO_H_
