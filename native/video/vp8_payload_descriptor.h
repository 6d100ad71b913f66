// The VP8 payload descriptor of RFC 7741 section 4.2, written and parsed:
//
//   X R N S R PID(3)          always
//   I L T K RSV(4)            when X
//   M PictureID(7) [8 more]   when I (M set: 15-bit picture id)
//   TL0PICIDX(8)              when L
//   TID(2) Y KEYIDX(5)        when T or K

#ifndef CLOUDLINK_VIDEO_VP8_PAYLOAD_DESCRIPTOR_H_
#define CLOUDLINK_VIDEO_VP8_PAYLOAD_DESCRIPTOR_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace cloudlink::video {

// Longest descriptor: 1 + 1 + 2 + 1 + 1 bytes.
constexpr size_t kMaxVp8DescriptorBytes = 6;
constexpr int kMaxVp8PartitionId = 7;  // 3-bit PID

struct Vp8PayloadDescriptor {
  bool non_reference = false;       // N: no other frame predicts from this one
  bool start_of_partition = false;  // S: the first byte starts a partition
  int partition_id = 0;             // PID: 0..7
  int picture_id = -1;              // -1 absent, else 0..127 or 0..32767
  int picture_id_bits = 15;         // 7 or 15 (M bit), when present
  int tl0_pic_idx = -1;             // -1 absent, else 0..255
  int temporal_layer_id = -1;       // -1 absent, else 0..3 (TID)
  bool layer_sync = false;          // Y, carried with TID
  int key_idx = -1;                 // -1 absent, else 0..31

  bool operator==(const Vp8PayloadDescriptor& other) const;
};

// Returns "" when every present field is within its range, else a message
// naming the bad value.
std::string ValidateVp8PayloadDescriptor(const Vp8PayloadDescriptor& descriptor);

// Bytes WriteVp8PayloadDescriptor writes for this descriptor.
size_t Vp8PayloadDescriptorBytes(const Vp8PayloadDescriptor& descriptor);

// Writes a valid descriptor to `out` (room for kMaxVp8DescriptorBytes) and
// returns the bytes written.
size_t WriteVp8PayloadDescriptor(const Vp8PayloadDescriptor& descriptor, uint8_t* out);

enum class Vp8DescriptorError {
  kOk,
  kEmpty,
  kTruncatedExtension,  // X set, the I/L/T/K octet missing
  kTruncatedPictureId,  // I set, picture id missing or cut after its first byte
  kTruncatedTl0PicIdx,  // L set, TL0PICIDX missing
  kTruncatedTidKeyIdx,  // T or K set, the TID/Y/KEYIDX octet missing
};

const char* Vp8DescriptorErrorText(Vp8DescriptorError error);

// Parses the descriptor at the start of `data`; `*descriptor_bytes` gets its
// length. Reserved bits are ignored, as RFC 7741 asks of receivers.
Vp8DescriptorError ParseVp8PayloadDescriptor(const uint8_t* data, size_t size,
                                             Vp8PayloadDescriptor* descriptor,
                                             size_t* descriptor_bytes);

}  // namespace cloudlink::video

#endif  // CLOUDLINK_VIDEO_VP8_PAYLOAD_DESCRIPTOR_H_
