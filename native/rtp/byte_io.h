// Network byte order (big-endian) reads and writes shared by the RTP and
// RTCP parsers and writers (RFC 3550 section 5: every field is big-endian).

#ifndef CLOUDLINK_RTP_BYTE_IO_H_
#define CLOUDLINK_RTP_BYTE_IO_H_

#include <cstdint>
#include <vector>

namespace cloudlink::rtp {

inline uint16_t ReadU16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }

inline uint32_t ReadU24(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 16) | (static_cast<uint32_t>(p[1]) << 8) | p[2];
}

inline uint32_t ReadU32(const uint8_t* p) {
  return (static_cast<uint32_t>(p[0]) << 24) | ReadU24(p + 1);
}

inline void AppendU16(std::vector<uint8_t>* out, uint32_t value) {
  out->push_back(static_cast<uint8_t>(value >> 8));
  out->push_back(static_cast<uint8_t>(value));
}

inline void AppendU24(std::vector<uint8_t>* out, uint32_t value) {
  out->push_back(static_cast<uint8_t>(value >> 16));
  AppendU16(out, value);
}

inline void AppendU32(std::vector<uint8_t>* out, uint32_t value) {
  AppendU16(out, value >> 16);
  AppendU16(out, value);
}

inline void WriteU16At(std::vector<uint8_t>* out, size_t pos, uint32_t value) {
  (*out)[pos] = static_cast<uint8_t>(value >> 8);
  (*out)[pos + 1] = static_cast<uint8_t>(value);
}

}  // namespace cloudlink::rtp

#endif  // CLOUDLINK_RTP_BYTE_IO_H_
