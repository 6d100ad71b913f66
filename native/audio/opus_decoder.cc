#include "audio/opus_decoder.h"

#include <opus/opus.h>

namespace cloudlink::audio {

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
  return opus_packet_get_nb_samples(packet, static_cast<opus_int32>(packet_bytes), sample_rate_hz_);
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
