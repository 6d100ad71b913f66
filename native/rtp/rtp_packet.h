// One RTP data packet: the fixed header of RFC 3550 section 5.1 (version,
// padding, extension, CSRC count, marker, payload type, sequence number,
// timestamp, SSRC, CSRC list), its header extension in the one-byte or
// two-byte form of RFC 8285 section 4, the payload and the padding.

#ifndef CLOUDLINK_RTP_RTP_PACKET_H_
#define CLOUDLINK_RTP_RTP_PACKET_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cloudlink::rtp {

// One RFC 8285 header extension element: a local id and its data.
struct HeaderExtension {
  int id = 0;
  std::vector<uint8_t> data;
};

class RtpPacket {
 public:
  // RFC 3550 section 5.1: a 12-byte fixed header and up to 15 CSRCs.
  static constexpr size_t kFixedHeaderBytes = 12;
  static constexpr size_t kMaxCsrcs = 15;
  // RFC 8285 section 4.2: one-byte ids are 1..14 and carry 1..16 bytes; 4.3:
  // two-byte ids are 1..255 and carry 0..255 bytes.
  static constexpr int kMaxOneByteId = 14;
  static constexpr size_t kMaxOneByteDataBytes = 16;
  static constexpr int kMaxTwoByteId = 255;
  static constexpr size_t kMaxTwoByteDataBytes = 255;
  // The "defined by profile" values that announce the two forms.
  static constexpr uint16_t kOneByteProfile = 0xBEDE;
  static constexpr uint16_t kTwoByteProfile = 0x1000;  // low 4 bits: appbits

  // Parses one packet. Returns nullopt and sets `error` to the reason when
  // the packet is malformed or truncated; never reads past `size`.
  static std::optional<RtpPacket> Parse(const uint8_t* data, size_t size, std::string* error);

  // Appends the wire form to `out`. Returns an empty string on success, else
  // a message naming the field that does not fit its bits.
  std::string Serialize(std::vector<uint8_t>* out) const;

  // The data of extension `id`, or nullptr when the packet has none.
  const std::vector<uint8_t>* FindExtension(int id) const;
  // Sets (adds or replaces) extension `id`; the id and size are checked by
  // Serialize, which picks the one-byte form whenever every element fits it.
  void SetExtension(int id, std::vector<uint8_t> data);
  // Removes extension `id`; returns whether it was present.
  bool RemoveExtension(int id);

  bool marker = false;
  int payload_type = 0;  // 7 bits
  uint16_t sequence_number = 0;
  uint32_t timestamp = 0;  // media clock units
  uint32_t ssrc = 0;
  std::vector<uint32_t> csrcs;
  std::vector<HeaderExtension> extensions;
  // Written in the two-byte form even when every element fits one byte.
  // TODO(#3): the two-byte profile's 4 appbits are read but not kept, so a
  // rewritten packet sends them as zero; no user of them is known.
  bool two_byte_extensions = false;
  // A header extension whose profile is neither RFC 8285 form is kept whole
  // (profile and data words) so that it is written back unchanged.
  std::optional<uint16_t> other_extension_profile;
  std::vector<uint8_t> other_extension_data;
  std::vector<uint8_t> payload;
  size_t padding_bytes = 0;  // including the final count byte; 0..255
};

}  // namespace cloudlink::rtp

#endif  // CLOUDLINK_RTP_RTP_PACKET_H_
