#include "video/vp8_payload_descriptor.h"

namespace cloudlink::video {
namespace {

// First octet (RFC 7741 section 4.2).
constexpr uint8_t kExtendedBit = 0x80;      // X
constexpr uint8_t kNonReferenceBit = 0x20;  // N
constexpr uint8_t kStartBit = 0x10;         // S
constexpr uint8_t kPartitionIdMask = 0x07;  // PID
// Extension octet.
constexpr uint8_t kPictureIdBit = 0x80;  // I
constexpr uint8_t kTl0PicIdxBit = 0x40;  // L
constexpr uint8_t kTidBit = 0x20;        // T
constexpr uint8_t kKeyIdxBit = 0x10;     // K
// Picture id: M marks the 15-bit form.
constexpr uint8_t kLongPictureIdBit = 0x80;
// TID/Y/KEYIDX octet.
constexpr int kTidShift = 6;
constexpr uint8_t kLayerSyncBit = 0x20;
constexpr uint8_t kKeyIdxMask = 0x1f;

bool HasExtension(const Vp8PayloadDescriptor& d) {
  return d.picture_id >= 0 || d.tl0_pic_idx >= 0 || d.temporal_layer_id >= 0 || d.key_idx >= 0;
}

}  // namespace

bool Vp8PayloadDescriptor::operator==(const Vp8PayloadDescriptor& o) const {
  return non_reference == o.non_reference && start_of_partition == o.start_of_partition &&
         partition_id == o.partition_id && picture_id == o.picture_id &&
         (picture_id < 0 || picture_id_bits == o.picture_id_bits) && tl0_pic_idx == o.tl0_pic_idx &&
         temporal_layer_id == o.temporal_layer_id &&
         (temporal_layer_id < 0 || layer_sync == o.layer_sync) && key_idx == o.key_idx;
}

std::string ValidateVp8PayloadDescriptor(const Vp8PayloadDescriptor& d) {
  if (d.partition_id < 0 || d.partition_id > kMaxVp8PartitionId)
    return "partition_id must be within 0..7, got " + std::to_string(d.partition_id);
  if (d.picture_id_bits != 7 && d.picture_id_bits != 15)
    return "picture_id_bits must be 7 or 15, got " + std::to_string(d.picture_id_bits);
  const int picture_id_limit = (1 << d.picture_id_bits) - 1;
  if (d.picture_id < -1 || d.picture_id > picture_id_limit)
    return "picture_id must be within 0.." + std::to_string(picture_id_limit) + ", got " +
           std::to_string(d.picture_id);
  if (d.tl0_pic_idx < -1 || d.tl0_pic_idx > 255)
    return "tl0_pic_idx must be within 0..255, got " + std::to_string(d.tl0_pic_idx);
  if (d.temporal_layer_id < -1 || d.temporal_layer_id > 3)
    return "temporal_layer_id must be within 0..3, got " + std::to_string(d.temporal_layer_id);
  if (d.key_idx < -1 || d.key_idx > 31)
    return "key_idx must be within 0..31, got " + std::to_string(d.key_idx);
  return "";
}

size_t Vp8PayloadDescriptorBytes(const Vp8PayloadDescriptor& d) {
  if (!HasExtension(d)) return 1;
  size_t bytes = 2;
  if (d.picture_id >= 0) bytes += d.picture_id_bits == 15 ? 2 : 1;
  if (d.tl0_pic_idx >= 0) bytes += 1;
  if (d.temporal_layer_id >= 0 || d.key_idx >= 0) bytes += 1;
  return bytes;
}

size_t WriteVp8PayloadDescriptor(const Vp8PayloadDescriptor& d, uint8_t* out) {
  // Required octet.
  const bool extended = HasExtension(d);
  out[0] = static_cast<uint8_t>(
      (extended ? kExtendedBit : 0) | (d.non_reference ? kNonReferenceBit : 0) |
      (d.start_of_partition ? kStartBit : 0) | (d.partition_id & kPartitionIdMask));
  if (!extended) return 1;

  // Extension octet, then each optional field in order.
  size_t at = 1;
  out[at++] = static_cast<uint8_t>(
      (d.picture_id >= 0 ? kPictureIdBit : 0) | (d.tl0_pic_idx >= 0 ? kTl0PicIdxBit : 0) |
      (d.temporal_layer_id >= 0 ? kTidBit : 0) | (d.key_idx >= 0 ? kKeyIdxBit : 0));
  if (d.picture_id >= 0 && d.picture_id_bits == 15) {
    out[at++] = static_cast<uint8_t>(kLongPictureIdBit | (d.picture_id >> 8));
    out[at++] = static_cast<uint8_t>(d.picture_id & 0xff);
  } else if (d.picture_id >= 0) {
    out[at++] = static_cast<uint8_t>(d.picture_id & 0x7f);
  }
  if (d.tl0_pic_idx >= 0) out[at++] = static_cast<uint8_t>(d.tl0_pic_idx);
  if (d.temporal_layer_id >= 0 || d.key_idx >= 0) {
    uint8_t octet = 0;
    if (d.temporal_layer_id >= 0)
      octet |= static_cast<uint8_t>((d.temporal_layer_id << kTidShift) |
                                    (d.layer_sync ? kLayerSyncBit : 0));
    if (d.key_idx >= 0) octet |= static_cast<uint8_t>(d.key_idx & kKeyIdxMask);
    out[at++] = octet;
  }
  return at;
}

const char* Vp8DescriptorErrorText(Vp8DescriptorError error) {
  switch (error) {
    case Vp8DescriptorError::kOk:
      return "ok";
    case Vp8DescriptorError::kEmpty:
      return "empty vp8 payload";
    case Vp8DescriptorError::kTruncatedExtension:
      return "vp8 descriptor truncated: X set but no extension octet";
    case Vp8DescriptorError::kTruncatedPictureId:
      return "vp8 descriptor truncated in the picture id";
    case Vp8DescriptorError::kTruncatedTl0PicIdx:
      return "vp8 descriptor truncated: L set but no TL0PICIDX";
    case Vp8DescriptorError::kTruncatedTidKeyIdx:
      return "vp8 descriptor truncated: T or K set but no TID/KEYIDX octet";
  }
  return "unknown vp8 descriptor error";
}

Vp8DescriptorError ParseVp8PayloadDescriptor(const uint8_t* data, size_t size,
                                             Vp8PayloadDescriptor* d, size_t* descriptor_bytes) {
  // Required octet.
  *d = Vp8PayloadDescriptor();
  *descriptor_bytes = 0;
  if (size == 0) return Vp8DescriptorError::kEmpty;
  d->non_reference = (data[0] & kNonReferenceBit) != 0;
  d->start_of_partition = (data[0] & kStartBit) != 0;
  d->partition_id = data[0] & kPartitionIdMask;
  size_t at = 1;
  if ((data[0] & kExtendedBit) == 0) {
    *descriptor_bytes = at;
    return Vp8DescriptorError::kOk;
  }

  // Extension octet.
  if (at >= size) return Vp8DescriptorError::kTruncatedExtension;
  const uint8_t extension = data[at++];

  // Picture id, 7 or 15 bits.
  if ((extension & kPictureIdBit) != 0) {
    if (at >= size) return Vp8DescriptorError::kTruncatedPictureId;
    if ((data[at] & kLongPictureIdBit) != 0) {
      if (at + 1 >= size) return Vp8DescriptorError::kTruncatedPictureId;
      d->picture_id = ((data[at] & 0x7f) << 8) | data[at + 1];
      d->picture_id_bits = 15;
      at += 2;
    } else {
      d->picture_id = data[at] & 0x7f;
      d->picture_id_bits = 7;
      at += 1;
    }
  }

  // TL0PICIDX, then the shared TID/Y/KEYIDX octet.
  if ((extension & kTl0PicIdxBit) != 0) {
    if (at >= size) return Vp8DescriptorError::kTruncatedTl0PicIdx;
    d->tl0_pic_idx = data[at++];
  }
  if ((extension & (kTidBit | kKeyIdxBit)) != 0) {
    if (at >= size) return Vp8DescriptorError::kTruncatedTidKeyIdx;
    const uint8_t octet = data[at++];
    if ((extension & kTidBit) != 0) {
      d->temporal_layer_id = octet >> kTidShift;
      d->layer_sync = (octet & kLayerSyncBit) != 0;
    }
    if ((extension & kKeyIdxBit) != 0) d->key_idx = octet & kKeyIdxMask;
  }
  *descriptor_bytes = at;
  return Vp8DescriptorError::kOk;
}

}  // namespace cloudlink::video
