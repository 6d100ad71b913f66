// Splits encoded VP8 frames into RTP payloads (RFC 7741 section 4): each
// payload is a payload descriptor and a slice of the frame, no longer than
// the configured maximum, the slices of one frame of near-equal size. The
// caller sets the RTP marker bit on the frame's last payload.

#ifndef CLOUDLINK_VIDEO_VP8_PACKETIZER_H_
#define CLOUDLINK_VIDEO_VP8_PACKETIZER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "video/vp8_frame_header.h"
#include "video/vp8_payload_descriptor.h"

namespace cloudlink::video {

// Smallest payload budget: the longest descriptor and room for twice the
// keyframe header, so that the first slice of a balanced split (over half
// the room whenever a frame takes two payloads or more) holds the whole
// header, which the receiver parses from the first payload alone.
constexpr size_t kMinVp8PayloadBytes = kMaxVp8DescriptorBytes + 2 * kVp8KeyframeHeaderBytes;

struct Vp8PacketizerConfig {
  // Largest payload in bytes, descriptor included: the path MTU less the IP,
  // UDP, SRTP and RTP headers. 1200 is WebRTC's usual budget.
  size_t max_payload_bytes = 1200;
  int picture_id_bits = 15;  // 0 (no picture id), 7 or 15
  int first_picture_id = 0;  // a random start makes streams distinguishable
  bool key_idx = false;      // carry KEYIDX, counting keyframes
};

std::string ValidateVp8PacketizerConfig(const Vp8PacketizerConfig& config);

// Per-frame facts the encoder knows.
struct Vp8FrameInfo {
  int temporal_layer_id = -1;  // -1: no temporal layers (no TID, no TL0PICIDX)
  bool layer_sync = false;     // Y bit
  bool non_reference = false;  // N bit
};

class Vp8Packetizer {
 public:
  // The config must have passed ValidateVp8PacketizerConfig.
  explicit Vp8Packetizer(const Vp8PacketizerConfig& config);

  // Appends the frame's payloads to `payloads`. Returns "" or, for a frame
  // whose VP8 header is malformed or an info field out of range, the reason
  // (nothing appended, counters untouched).
  std::string Packetize(const uint8_t* frame, size_t frame_bytes, const Vp8FrameInfo& info,
                        std::vector<std::vector<uint8_t>>* payloads);

  const Vp8PacketizerConfig& config() const { return config_; }
  // Values the next frame will carry (picture id) or the last one carried.
  int next_picture_id() const { return picture_id_; }
  int tl0_pic_idx() const { return tl0_pic_idx_; }
  int key_idx() const { return key_idx_; }

 private:
  Vp8PacketizerConfig config_;
  int picture_id_;
  int tl0_pic_idx_ = 0;
  int key_idx_ = 0;
};

}  // namespace cloudlink::video

#endif  // CLOUDLINK_VIDEO_VP8_PACKETIZER_H_
