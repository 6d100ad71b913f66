// The uncompressed data chunk at the start of every VP8 frame (RFC 6386
// section 9.1): the 3-byte frame tag, and on keyframes the start code and
// the frame size. RFC 7741 section 4.3 carries the same bytes as the "VP8
// payload header" of the first packet of a frame.

#ifndef CLOUDLINK_VIDEO_VP8_FRAME_HEADER_H_
#define CLOUDLINK_VIDEO_VP8_FRAME_HEADER_H_

#include <cstddef>
#include <cstdint>

namespace cloudlink::video {

// Frame tag bytes (RFC 6386 section 9.1).
constexpr size_t kVp8FrameTagBytes = 3;
// Frame tag, start code (3 bytes) and the two 16-bit size fields.
constexpr size_t kVp8KeyframeHeaderBytes = 10;

enum class Vp8HeaderError {
  kOk,
  kEmpty,
  kTruncatedTag,       // fewer than 3 bytes
  kTruncatedKeyframe,  // keyframe shorter than its 10-byte header
  kBadStartCode,       // keyframe without 0x9d 0x01 0x2a
  kZeroSize,           // keyframe announcing a 0-pixel width or height
};

// A short lower-case reason for each error, for messages.
const char* Vp8HeaderErrorText(Vp8HeaderError error);

struct Vp8FrameHeader {
  bool keyframe = false;
  int version = 0;  // 0..3: reconstruction filter and loop filter type
  bool show_frame = true;
  // Size of the first partition, after this header, in bytes (19 bits).
  uint32_t first_partition_bytes = 0;
  // Keyframes only (0 otherwise): frame size and the 2-bit upscaling codes.
  int width_px = 0;
  int height_px = 0;
  int horizontal_scale = 0;
  int vertical_scale = 0;
  // Bytes of this header: 3, or 10 on keyframes.
  size_t header_bytes() const { return keyframe ? kVp8KeyframeHeaderBytes : kVp8FrameTagBytes; }
};

// Parses the header at the start of `data`. Does not check that the first
// partition fits in `size`: a payload packet holds only a part of it.
Vp8HeaderError ParseVp8FrameHeader(const uint8_t* data, size_t size, Vp8FrameHeader* header);

}  // namespace cloudlink::video

#endif  // CLOUDLINK_VIDEO_VP8_FRAME_HEADER_H_
