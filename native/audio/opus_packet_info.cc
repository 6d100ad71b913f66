#include "audio/opus_packet_info.h"

#include <opus/opus.h>

namespace cloudlink::audio {

namespace {

// TOC configurations 0..11 are SILK-only, 12..15 hybrid, 16..31 CELT-only
// (RFC 6716 section 3.1); only SILK carries LBRR.
constexpr int kFirstCeltOnlyConfig = 16;
constexpr int kFirstHybridConfig = 12;
// Most frames a code-3 packet may hold (RFC 6716 section 3.2.5).
constexpr int kMaxFramesPerPacket = 48;

// Bit `index` of the range-coded frame, most significant bit first. SILK
// codes its header flags with probability 1/2 each, and such symbols from a
// fresh range decoder are exactly the leading bits of the frame (RFC 6716
// section 4.1).
bool LeadingBit(const uint8_t* frame, int frame_bytes, int index) {
  if (index / 8 >= frame_bytes) return false;
  return (frame[index / 8] >> (7 - index % 8)) & 1;
}

}  // namespace

bool OpusPacketInfo::HasInbandFec(const uint8_t* packet, size_t packet_bytes) {
  // Step 1: only SILK and hybrid frames carry LBRR.
  if (packet_bytes < 2) return false;
  const int config = packet[0] >> 3;
  if (config >= kFirstCeltOnlyConfig) return false;
  const unsigned char* frames[kMaxFramesPerPacket];
  opus_int16 frame_bytes[kMaxFramesPerPacket];
  unsigned char toc = 0;
  const int frame_count = opus_packet_parse(packet, static_cast<opus_int32>(packet_bytes), &toc,
                                            frames, frame_bytes, nullptr);
  if (frame_count <= 0 || frame_bytes[0] <= 0) return false;

  // Step 2: the first frame opens, per coded channel, with one VAD flag per
  // 20 ms SILK frame and then the LBRR flag (RFC 6716 section 4.2.3). A
  // 40 or 60 ms SILK frame holds 2 or 3 of them; hybrid frames hold one.
  const int silk_frames = config < kFirstHybridConfig ? (config % 4 == 3   ? 3
                                                         : config % 4 == 2 ? 2
                                                                           : 1)
                                                      : 1;
  const bool stereo = (toc & 0x04) != 0;
  const uint8_t* frame = frames[0];
  if (LeadingBit(frame, frame_bytes[0], silk_frames)) return true;
  return stereo && LeadingBit(frame, frame_bytes[0], 2 * silk_frames + 1);
}

}  // namespace cloudlink::audio
