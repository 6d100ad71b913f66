// Reads VP8 RTP payloads (RFC 7741 section 4): the payload descriptor, and
// on the first payload of a frame the VP8 payload header (section 4.3: key
// frame bit, version, show frame, first partition size, and on keyframes the
// frame size). Malformed payloads get a reason, never a crash; one fuzz test
// drives this parser with arbitrary bytes.

#ifndef CLOUDLINK_VIDEO_VP8_DEPACKETIZER_H_
#define CLOUDLINK_VIDEO_VP8_DEPACKETIZER_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "video/vp8_frame_header.h"
#include "video/vp8_payload_descriptor.h"

namespace cloudlink::video {

struct Vp8Payload {
  Vp8PayloadDescriptor descriptor;
  size_t descriptor_bytes = 0;
  // True on the first payload of a frame (S set and PID 0); only then is
  // `header` filled.
  bool frame_start = false;
  Vp8FrameHeader header;
  // The VP8 bytes after the descriptor.
  const uint8_t* data = nullptr;
  size_t data_bytes = 0;
};

// Parses one payload; returns "" or the reason it is malformed. `payload`
// points into `data`, which must outlive it.
std::string ParseVp8Payload(const uint8_t* data, size_t size, Vp8Payload* payload);

// Joins the payloads of one frame, given in RTP sequence order, into the
// encoded frame. Returns "" or why they do not form a frame: the first is not
// a frame start, a later one is, or their picture ids differ.
std::string AssembleVp8Frame(const std::vector<Vp8Payload>& payloads, std::vector<uint8_t>* frame);

}  // namespace cloudlink::video

#endif  // CLOUDLINK_VIDEO_VP8_DEPACKETIZER_H_
