// RTP payload for redundant audio data, RFC 2198: a chain of block headers
// (F bit, payload type, 14-bit timestamp offset, 10-bit length), a final
// one-byte header for the primary block, then the blocks in header order.

#ifndef CLOUDLINK_AUDIO_RED_PAYLOAD_H_
#define CLOUDLINK_AUDIO_RED_PAYLOAD_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cloudlink::audio {

// One block of a RED payload. `data` points into the parsed payload.
struct RedBlock {
  int payload_type = 0;
  int timestamp_offset = 0;  // RTP timestamp units before the packet's timestamp
  const uint8_t* data = nullptr;
  size_t size = 0;
};

class RedPayload {
 public:
  // Field limits of RFC 2198 section 3: 7-bit payload type, 14-bit offset,
  // 10-bit block length.
  static constexpr int kMaxPayloadType = 127;
  static constexpr int kMaxTimestampOffset = (1 << 14) - 1;
  static constexpr size_t kMaxBlockBytes = (1 << 10) - 1;

  // Splits a RED payload into its blocks, oldest first, the primary last
  // (offset 0). Returns nullopt when the headers or lengths run past the end.
  static std::optional<std::vector<RedBlock>> Parse(const uint8_t* payload, size_t size);

  // Builds a RED payload from redundant blocks (oldest first) and the
  // primary. Returns an empty string on success, else a message naming the
  // bad field; `out` is then left unspecified.
  static std::string Pack(const std::vector<RedBlock>& redundant, const RedBlock& primary,
                          std::vector<uint8_t>* out);
};

}  // namespace cloudlink::audio

#endif  // CLOUDLINK_AUDIO_RED_PAYLOAD_H_
