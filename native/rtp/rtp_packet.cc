// RTP fixed header: RFC 3550 section 5.1. Header extensions: RFC 8285
// sections 4.2 (one-byte form) and 4.3 (two-byte form).

#include "rtp/rtp_packet.h"

#include <algorithm>

#include "rtp/byte_io.h"

namespace cloudlink::rtp {

namespace {

constexpr int kRtpVersion = 2;                 // RFC 3550 section 5.1
constexpr int kOneByteReservedId = 15;         // RFC 8285 section 4.2: stop parsing here
constexpr size_t kWordBytes = 4;               // lengths count 32-bit words
constexpr size_t kMaxPaddingBytes = 255;       // the count is one byte
constexpr size_t kMaxExtensionWords = 0xffff;  // the 16-bit length field

bool Fail(std::string* error, std::string reason) {
  *error = std::move(reason);
  return false;
}

// Splits an RFC 8285 extension block into its elements; `two_byte` chooses
// the form. Padding bytes (id 0) between elements are skipped.
bool ParseExtensions(const uint8_t* data, size_t size, bool two_byte,
                     std::vector<HeaderExtension>* out, std::string* error) {
  size_t pos = 0;
  while (pos < size) {
    // Step 1: the element header (id and length).
    int id;
    size_t length;
    if (two_byte) {
      id = data[pos];
      if (id == 0) {
        ++pos;
        continue;
      }
      if (pos + 2 > size) return Fail(error, "two-byte header extension header is truncated");
      length = data[pos + 1];
      pos += 2;
    } else {
      id = data[pos] >> 4;
      if (id == 0) {
        ++pos;
        continue;
      }
      if (id == kOneByteReservedId) break;
      length = (data[pos] & 0x0f) + 1u;  // the field holds length - 1
      pos += 1;
    }

    // Step 2: the element data must lie inside the block.
    if (length > size - pos)
      return Fail(error, "header extension id " + std::to_string(id) + " needs " +
                             std::to_string(length) + " bytes, " + std::to_string(size - pos) +
                             " remain in the extension block");
    out->push_back({id, std::vector<uint8_t>(data + pos, data + pos + length)});
    pos += length;
  }
  return true;
}

// Checks that every element fits the chosen form; returns the reason if not.
std::string CheckExtensions(const std::vector<HeaderExtension>& extensions, bool two_byte) {
  const int max_id = two_byte ? RtpPacket::kMaxTwoByteId : RtpPacket::kMaxOneByteId;
  const size_t min_bytes = two_byte ? 0 : 1;
  const size_t max_bytes =
      two_byte ? RtpPacket::kMaxTwoByteDataBytes : RtpPacket::kMaxOneByteDataBytes;
  for (const HeaderExtension& extension : extensions) {
    if (extension.id < 1 || extension.id > max_id)
      return "header extension id must be within 1.." + std::to_string(max_id) + ", got " +
             std::to_string(extension.id);
    if (extension.data.size() < min_bytes || extension.data.size() > max_bytes)
      return "header extension id " + std::to_string(extension.id) + " must carry " +
             std::to_string(min_bytes) + ".." + std::to_string(max_bytes) + " bytes, got " +
             std::to_string(extension.data.size());
  }
  return "";
}

bool FitsOneByte(const std::vector<HeaderExtension>& extensions) {
  return CheckExtensions(extensions, /*two_byte=*/false).empty();
}

}  // namespace

std::optional<RtpPacket> RtpPacket::Parse(const uint8_t* data, size_t size, std::string* error) {
  // Step 1: the fixed header (RFC 3550 section 5.1).
  RtpPacket packet;
  if (size < kFixedHeaderBytes) {
    Fail(error,
         "truncated RTP packet: " + std::to_string(size) + " bytes, the fixed header needs 12");
    return std::nullopt;
  }
  const int version = data[0] >> 6;
  if (version != kRtpVersion) {
    Fail(error, "RTP version must be 2, got " + std::to_string(version));
    return std::nullopt;
  }
  const bool has_padding = (data[0] & 0x20) != 0;
  const bool has_extension = (data[0] & 0x10) != 0;
  const size_t csrc_count = data[0] & 0x0f;
  packet.marker = (data[1] & 0x80) != 0;
  packet.payload_type = data[1] & 0x7f;
  packet.sequence_number = ReadU16(data + 2);
  packet.timestamp = ReadU32(data + 4);
  packet.ssrc = ReadU32(data + 8);

  // Step 2: the CSRC list.
  size_t pos = kFixedHeaderBytes;
  if (csrc_count * kWordBytes > size - pos) {
    Fail(error, "truncated RTP packet: " + std::to_string(csrc_count) + " CSRCs announced, " +
                    std::to_string(size - pos) + " bytes follow the fixed header");
    return std::nullopt;
  }
  for (size_t i = 0; i < csrc_count; ++i, pos += kWordBytes)
    packet.csrcs.push_back(ReadU32(data + pos));

  // Step 3: the header extension: a profile word, a length in words, data.
  if (has_extension) {
    if (size - pos < kWordBytes) {
      Fail(error, "truncated RTP packet: the header extension's first word is missing");
      return std::nullopt;
    }
    const uint16_t profile = ReadU16(data + pos);
    const size_t extension_bytes = ReadU16(data + pos + 2) * kWordBytes;
    pos += kWordBytes;
    if (extension_bytes > size - pos) {
      Fail(error, "truncated RTP packet: header extension of " + std::to_string(extension_bytes) +
                      " bytes, " + std::to_string(size - pos) + " remain");
      return std::nullopt;
    }
    if (profile == kOneByteProfile || (profile & 0xfff0) == kTwoByteProfile) {
      packet.two_byte_extensions = profile != kOneByteProfile;
      if (!ParseExtensions(data + pos, extension_bytes, packet.two_byte_extensions,
                           &packet.extensions, error))
        return std::nullopt;
    } else {
      packet.other_extension_profile = profile;
      packet.other_extension_data.assign(data + pos, data + pos + extension_bytes);
    }
    pos += extension_bytes;
  }

  // Step 4: padding; its last byte counts the padding bytes, itself included.
  size_t end = size;
  if (has_padding) {
    if (end == pos) {
      Fail(error, "RTP padding bit set but no byte follows the header");
      return std::nullopt;
    }
    packet.padding_bytes = data[end - 1];
    if (packet.padding_bytes == 0 || packet.padding_bytes > end - pos) {
      Fail(error, "RTP padding count " + std::to_string(packet.padding_bytes) +
                      " does not fit the " + std::to_string(end - pos) + " bytes after the header");
      return std::nullopt;
    }
    end -= packet.padding_bytes;
  }
  packet.payload.assign(data + pos, data + end);
  return packet;
}

std::string RtpPacket::Serialize(std::vector<uint8_t>* out) const {
  // Step 1: every field must fit its bits.
  if (payload_type < 0 || payload_type > 127)
    return "payload_type must be within 0..127, got " + std::to_string(payload_type);
  if (csrcs.size() > kMaxCsrcs)
    return "an RTP packet carries at most 15 CSRCs, got " + std::to_string(csrcs.size());
  if (padding_bytes > kMaxPaddingBytes)
    return "padding_bytes must be within 0..255, got " + std::to_string(padding_bytes);
  const bool two_byte = two_byte_extensions || !FitsOneByte(extensions);
  if (std::string reason = CheckExtensions(extensions, two_byte); !reason.empty()) return reason;
  if (extensions.empty() && other_extension_profile &&
      (other_extension_data.size() % kWordBytes != 0 ||
       other_extension_data.size() > kMaxExtensionWords * kWordBytes))
    return "a header extension of another profile must be 0..65535 whole 32-bit words, got " +
           std::to_string(other_extension_data.size()) + " bytes";

  // Step 2: the fixed header and the CSRCs.
  const bool has_extension = !extensions.empty() || other_extension_profile.has_value();
  const size_t start = out->size();
  out->push_back(static_cast<uint8_t>((kRtpVersion << 6) | (padding_bytes ? 0x20 : 0) |
                                      (has_extension ? 0x10 : 0) | csrcs.size()));
  out->push_back(static_cast<uint8_t>((marker ? 0x80 : 0) | payload_type));
  AppendU16(out, sequence_number);
  AppendU32(out, timestamp);
  AppendU32(out, ssrc);
  for (uint32_t csrc : csrcs) AppendU32(out, csrc);

  // Step 3: the extension block, zero-padded to whole words.
  if (!extensions.empty()) {
    AppendU16(out, two_byte ? kTwoByteProfile : kOneByteProfile);
    const size_t length_pos = out->size();
    AppendU16(out, 0);
    const size_t block_start = out->size();
    for (const HeaderExtension& extension : extensions) {
      if (two_byte) {
        out->push_back(static_cast<uint8_t>(extension.id));
        out->push_back(static_cast<uint8_t>(extension.data.size()));
      } else {
        out->push_back(static_cast<uint8_t>((extension.id << 4) | (extension.data.size() - 1)));
      }
      out->insert(out->end(), extension.data.begin(), extension.data.end());
    }
    while ((out->size() - block_start) % kWordBytes != 0) out->push_back(0);
    const size_t block_words = (out->size() - block_start) / kWordBytes;
    if (block_words > kMaxExtensionWords) {
      out->resize(start);
      return "header extensions of " + std::to_string(block_words) +
             " words exceed the 16-bit length field";
    }
    WriteU16At(out, length_pos, block_words);
  } else if (other_extension_profile) {
    AppendU16(out, *other_extension_profile);
    AppendU16(out, other_extension_data.size() / kWordBytes);
    out->insert(out->end(), other_extension_data.begin(), other_extension_data.end());
  }

  // Step 4: payload, then padding ending in its own count.
  out->insert(out->end(), payload.begin(), payload.end());
  if (padding_bytes) {
    out->insert(out->end(), padding_bytes - 1, 0);
    out->push_back(static_cast<uint8_t>(padding_bytes));
  }
  return "";
}

const std::vector<uint8_t>* RtpPacket::FindExtension(int id) const {
  for (const HeaderExtension& extension : extensions)
    if (extension.id == id) return &extension.data;
  return nullptr;
}

void RtpPacket::SetExtension(int id, std::vector<uint8_t> data) {
  for (HeaderExtension& extension : extensions) {
    if (extension.id == id) {
      extension.data = std::move(data);
      return;
    }
  }
  extensions.push_back({id, std::move(data)});
}

bool RtpPacket::RemoveExtension(int id) {
  auto it = std::find_if(extensions.begin(), extensions.end(),
                         [id](const HeaderExtension& e) { return e.id == id; });
  if (it == extensions.end()) return false;
  extensions.erase(it);
  return true;
}

}  // namespace cloudlink::rtp
