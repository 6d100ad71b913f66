#include "audio/opus_decoder.h"

#include <opus/opus.h>

namespace cloudlink::audio {
namespace {

// Most frames one packet may carry: 120 ms of 2.5 ms frames (RFC 6716
// section 3.2.5).
constexpr int kMaxFramesPerPacket = 48;

}  // namespace

std::string OpusDecoder::ValidateConfig(int sample_rate_hz, int channels) {
  if (sample_rate_hz != 8000 && sample_rate_hz != 12000 && sample_rate_hz != 16000 &&
      sample_rate_hz != 24000 && sample_rate_hz != 48000)
    return "sample_rate_hz must be 8000, 12000, 16000, 24000 or 48000, got " +
           std::to_string(sample_rate_hz);
  if (channels != 1 && channels != 2)
    return "channels must be 1 or 2, got " + std::to_string(channels);
  return "";
}

OpusDecoder::OpusDecoder(int sample_rate_hz, int channels)
    : sample_rate_hz_(sample_rate_hz), channels_(channels) {
  int error = OPUS_OK;
  decoder_ = opus_decoder_create(sample_rate_hz, channels, &error);
  if (error != OPUS_OK) decoder_ = nullptr;
}

OpusDecoder::~OpusDecoder() {
  if (decoder_ != nullptr) opus_decoder_destroy(decoder_);
}

int OpusDecoder::PacketSamples(const uint8_t* packet, size_t packet_bytes) const {
  if (packet_bytes == 0) return OPUS_INVALID_PACKET;
  // Parse the frame lengths too (RFC 6716 section 3.2), so that a truncated
  // multi-frame packet is caught here and not only when decoding it.
  const auto bytes = static_cast<opus_int32>(packet_bytes);
  const unsigned char* frames[kMaxFramesPerPacket];
  opus_int16 frame_bytes[kMaxFramesPerPacket];
  const int frame_count = opus_packet_parse(packet, bytes, nullptr, frames, frame_bytes, nullptr);
  if (frame_count < 0) return frame_count;
  return opus_packet_get_nb_samples(packet, bytes, sample_rate_hz_);
}

int OpusDecoder::DecodeInt16(const uint8_t* packet, size_t packet_bytes, int16_t* pcm,
                             int max_samples) {
  if (decoder_ == nullptr) return OPUS_INVALID_STATE;
  // An empty packet would mean "conceal" to libopus; callers ask for that
  // explicitly, so here it is a malformed packet.
  if (packet_bytes == 0) return OPUS_INVALID_PACKET;
  return opus_decode(decoder_, packet, static_cast<opus_int32>(packet_bytes), pcm, max_samples, 0);
}

int OpusDecoder::DecodeFloat(const uint8_t* packet, size_t packet_bytes, float* pcm,
                             int max_samples) {
  if (decoder_ == nullptr) return OPUS_INVALID_STATE;
  if (packet_bytes == 0) return OPUS_INVALID_PACKET;
  return opus_decode_float(decoder_, packet, static_cast<opus_int32>(packet_bytes), pcm,
                           max_samples, 0);
}

int OpusDecoder::DecodeFecInt16(const uint8_t* next_packet, size_t packet_bytes, int16_t* pcm,
                                int samples) {
  if (decoder_ == nullptr) return OPUS_INVALID_STATE;
  if (packet_bytes == 0) return OPUS_INVALID_PACKET;
  return opus_decode(decoder_, next_packet, static_cast<opus_int32>(packet_bytes), pcm, samples, 1);
}

int OpusDecoder::DecodeFecFloat(const uint8_t* next_packet, size_t packet_bytes, float* pcm,
                                int samples) {
  if (decoder_ == nullptr) return OPUS_INVALID_STATE;
  if (packet_bytes == 0) return OPUS_INVALID_PACKET;
  return opus_decode_float(decoder_, next_packet, static_cast<opus_int32>(packet_bytes), pcm,
                           samples, 1);
}

int OpusDecoder::ConcealInt16(int16_t* pcm, int samples) {
  if (decoder_ == nullptr) return OPUS_INVALID_STATE;
  return opus_decode(decoder_, nullptr, 0, pcm, samples, 0);
}

int OpusDecoder::ConcealFloat(float* pcm, int samples) {
  if (decoder_ == nullptr) return OPUS_INVALID_STATE;
  return opus_decode_float(decoder_, nullptr, 0, pcm, samples, 0);
}

void OpusDecoder::Reset() {
  if (decoder_ != nullptr) opus_decoder_ctl(decoder_, OPUS_RESET_STATE);
}

int OpusDecoder::last_frame_samples() const {
  opus_int32 samples = 0;
  if (decoder_ != nullptr) opus_decoder_ctl(decoder_, OPUS_GET_LAST_PACKET_DURATION(&samples));
  return samples;
}

}  // namespace cloudlink::audio
