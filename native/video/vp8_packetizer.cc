#include "video/vp8_packetizer.h"

#include <algorithm>

#include "video/vp8_frame_header.h"
#include "video/vp8_payload_descriptor.h"

namespace cloudlink::video {

std::string ValidateVp8PacketizerConfig(const Vp8PacketizerConfig& config) {
  if (config.max_payload_bytes < kMinVp8PayloadBytes || config.max_payload_bytes > 65000)
    return "max_payload_bytes must be within " + std::to_string(kMinVp8PayloadBytes) +
           "..65000, got " + std::to_string(config.max_payload_bytes);
  if (config.picture_id_bits != 0 && config.picture_id_bits != 7 && config.picture_id_bits != 15)
    return "picture_id_bits must be 0, 7 or 15, got " + std::to_string(config.picture_id_bits);
  const int limit = config.picture_id_bits == 0 ? 0 : (1 << config.picture_id_bits) - 1;
  if (config.first_picture_id < 0 || config.first_picture_id > limit)
    return "first_picture_id must be within 0.." + std::to_string(limit) + ", got " +
           std::to_string(config.first_picture_id);
  return "";
}

Vp8Packetizer::Vp8Packetizer(const Vp8PacketizerConfig& config)
    : config_(config), picture_id_(config.first_picture_id) {}

std::string Vp8Packetizer::Packetize(const uint8_t* frame, size_t frame_bytes,
                                     const Vp8FrameInfo& info,
                                     std::vector<std::vector<uint8_t>>* payloads) {
  // The frame header tells where partition 0 ends (RFC 7741 section 4.3
  // counts the header as part of it).
  Vp8FrameHeader header;
  const Vp8HeaderError header_error = ParseVp8FrameHeader(frame, frame_bytes, &header);
  if (header_error != Vp8HeaderError::kOk) return Vp8HeaderErrorText(header_error);
  const size_t partition0_end = header.header_bytes() + header.first_partition_bytes;
  if (partition0_end > frame_bytes)
    return "vp8 frame truncated: first partition ends at byte " + std::to_string(partition0_end) +
           " of " + std::to_string(frame_bytes);
  if (info.temporal_layer_id < -1 || info.temporal_layer_id > 3)
    return "temporal_layer_id must be within 0..3, got " + std::to_string(info.temporal_layer_id);

  // This frame's descriptor fields; TL0PICIDX and KEYIDX step before use.
  Vp8PayloadDescriptor descriptor;
  descriptor.non_reference = info.non_reference;
  if (config_.picture_id_bits != 0) {
    descriptor.picture_id = picture_id_;
    descriptor.picture_id_bits = config_.picture_id_bits;
  }
  int tl0_pic_idx = tl0_pic_idx_;
  if (info.temporal_layer_id >= 0) {
    if (info.temporal_layer_id == 0) tl0_pic_idx = (tl0_pic_idx + 1) & 0xff;
    descriptor.tl0_pic_idx = tl0_pic_idx;
    descriptor.temporal_layer_id = info.temporal_layer_id;
    descriptor.layer_sync = info.layer_sync;
  }
  int key_idx = key_idx_;
  if (config_.key_idx) {
    if (header.keyframe) key_idx = (key_idx + 1) & 0x1f;
    descriptor.key_idx = key_idx;
  }

  // Near-equal slices: as few payloads as fit, their sizes differing by at
  // most one byte, so no tiny trailing packet.
  const size_t descriptor_bytes = Vp8PayloadDescriptorBytes(descriptor);
  const size_t capacity = config_.max_payload_bytes - descriptor_bytes;
  const size_t count = (frame_bytes + capacity - 1) / capacity;
  const size_t base = frame_bytes / count;
  const size_t longer = frame_bytes % count;
  size_t offset = 0;
  for (size_t i = 0; i < count; ++i) {
    // S and PID follow the partition the slice starts in: partition 0,
    // then the token partitions, counted here as one (PID 1).
    // TODO(#3): exact for our one-token-partition encoder; a foreign frame
    // with several token partitions gets PID 1 for all of them.
    const size_t slice = base + (i < longer ? 1 : 0);
    descriptor.start_of_partition = offset == 0 || offset == partition0_end;
    descriptor.partition_id = offset < partition0_end ? 0 : 1;
    std::vector<uint8_t> payload(descriptor_bytes + slice);
    WriteVp8PayloadDescriptor(descriptor, payload.data());
    std::copy(frame + offset, frame + offset + slice, payload.begin() + descriptor_bytes);
    payloads->push_back(std::move(payload));
    offset += slice;
  }

  // Advance the counters only for a frame that went out.
  tl0_pic_idx_ = tl0_pic_idx;
  key_idx_ = key_idx;
  if (config_.picture_id_bits != 0)
    picture_id_ = (picture_id_ + 1) & ((1 << config_.picture_id_bits) - 1);
  return "";
}

}  // namespace cloudlink::video
