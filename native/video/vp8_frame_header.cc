#include "video/vp8_frame_header.h"

namespace cloudlink::video {
namespace {

// Keyframe start code (RFC 6386 section 9.1).
constexpr uint8_t kStartCode[3] = {0x9d, 0x01, 0x2a};

}  // namespace

const char* Vp8HeaderErrorText(Vp8HeaderError error) {
  switch (error) {
    case Vp8HeaderError::kOk:
      return "ok";
    case Vp8HeaderError::kEmpty:
      return "empty vp8 frame";
    case Vp8HeaderError::kTruncatedTag:
      return "vp8 frame tag truncated (under 3 bytes)";
    case Vp8HeaderError::kTruncatedKeyframe:
      return "vp8 keyframe header truncated (under 10 bytes)";
    case Vp8HeaderError::kBadStartCode:
      return "vp8 keyframe without the 9d 01 2a start code";
    case Vp8HeaderError::kZeroSize:
      return "vp8 keyframe announces a zero width or height";
  }
  return "unknown vp8 header error";
}

Vp8HeaderError ParseVp8FrameHeader(const uint8_t* data, size_t size, Vp8FrameHeader* header) {
  if (size == 0) return Vp8HeaderError::kEmpty;
  if (size < kVp8FrameTagBytes) return Vp8HeaderError::kTruncatedTag;

  // Frame tag, little endian: bit 0 inverse key frame flag, bits 1-3
  // version, bit 4 show_frame, bits 5-23 first partition size.
  const uint32_t tag = data[0] | (data[1] << 8) | (data[2] << 16);
  header->keyframe = (tag & 1) == 0;
  header->version = static_cast<int>((tag >> 1) & 7);
  header->show_frame = ((tag >> 4) & 1) != 0;
  header->first_partition_bytes = tag >> 5;
  header->width_px = header->height_px = 0;
  header->horizontal_scale = header->vertical_scale = 0;
  if (!header->keyframe) return Vp8HeaderError::kOk;

  // Keyframes: start code, then 14-bit width and height each topped by a
  // 2-bit scale code, little endian.
  if (size < kVp8KeyframeHeaderBytes) return Vp8HeaderError::kTruncatedKeyframe;
  if (data[3] != kStartCode[0] || data[4] != kStartCode[1] || data[5] != kStartCode[2])
    return Vp8HeaderError::kBadStartCode;
  const int width_field = data[6] | (data[7] << 8);
  const int height_field = data[8] | (data[9] << 8);
  header->width_px = width_field & 0x3fff;
  header->horizontal_scale = width_field >> 14;
  header->height_px = height_field & 0x3fff;
  header->vertical_scale = height_field >> 14;
  if (header->width_px == 0 || header->height_px == 0) return Vp8HeaderError::kZeroSize;
  return Vp8HeaderError::kOk;
}

}  // namespace cloudlink::video
