#include "audio/opus_encoder.h"

#include <opus/opus.h>

#include <cmath>

namespace cloudlink::audio {
namespace {

bool IsOpusRate(int sample_rate_hz) {
  return sample_rate_hz == 8000 || sample_rate_hz == 12000 || sample_rate_hz == 16000 ||
         sample_rate_hz == 24000 || sample_rate_hz == 48000;
}

// Opus frames are 2.5, 5, 10, 20, 40 or 60 ms (RFC 6716 section 2.1.4).
bool IsOpusFrameMs(double frame_ms) {
  for (double allowed : {2.5, 5.0, 10.0, 20.0, 40.0, 60.0}) {
    if (frame_ms == allowed) return true;
  }
  return false;
}

int ToOpusApplication(OpusApplication application) {
  switch (application) {
    case OpusApplication::kAudio:
      return OPUS_APPLICATION_AUDIO;
    case OpusApplication::kLowDelay:
      return OPUS_APPLICATION_RESTRICTED_LOWDELAY;
    case OpusApplication::kVoip:
    default:
      return OPUS_APPLICATION_VOIP;
  }
}

}  // namespace

std::string ValidateOpusEncoderConfig(const OpusEncoderConfig& config) {
  if (!IsOpusRate(config.sample_rate_hz))
    return "sample_rate_hz must be 8000, 12000, 16000, 24000 or 48000, got " +
           std::to_string(config.sample_rate_hz);
  if (config.channels != 1 && config.channels != 2)
    return "channels must be 1 or 2, got " + std::to_string(config.channels);
  if (!IsOpusFrameMs(config.frame_ms))
    return "frame_ms must be 2.5, 5, 10, 20, 40 or 60, got " + std::to_string(config.frame_ms);
  if (config.bitrate_bps < 6000 || config.bitrate_bps > 510000)
    return "bitrate_bps must be within 6000..510000, got " + std::to_string(config.bitrate_bps);
  if (config.complexity < 0 || config.complexity > 10)
    return "complexity must be within 0..10, got " + std::to_string(config.complexity);
  if (config.expected_loss_pct < 0 || config.expected_loss_pct > 100)
    return "expected_loss_pct must be within 0..100, got " +
           std::to_string(config.expected_loss_pct);
  return "";
}

OpusEncoder::OpusEncoder(const OpusEncoderConfig& config) : config_(config) {
  frame_samples_ = static_cast<int>(std::lround(config.frame_ms * config.sample_rate_hz / 1000.0));
  int error = OPUS_OK;
  encoder_ = opus_encoder_create(config.sample_rate_hz, config.channels,
                                 ToOpusApplication(config.application), &error);
  // Creation only fails on arguments that validation already rejected, or
  // when memory runs out; the bindings check encoder_ before use.
  if (error != OPUS_OK) encoder_ = nullptr;
  if (encoder_ == nullptr) return;
  SetBitrate(config.bitrate_bps);
  SetComplexity(config.complexity);
  SetInbandFec(config.inband_fec);
  SetExpectedLossPct(config.expected_loss_pct);
  SetDtx(config.dtx);
  opus_encoder_ctl(encoder_, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
}

OpusEncoder::~OpusEncoder() {
  if (encoder_ != nullptr) opus_encoder_destroy(encoder_);
}

int OpusEncoder::EncodeInt16(const int16_t* pcm, uint8_t* packet, size_t max_packet_bytes) {
  if (encoder_ == nullptr) return OPUS_INVALID_STATE;
  return opus_encode(encoder_, pcm, frame_samples_, packet,
                     static_cast<opus_int32>(max_packet_bytes));
}

int OpusEncoder::EncodeFloat(const float* pcm, uint8_t* packet, size_t max_packet_bytes) {
  if (encoder_ == nullptr) return OPUS_INVALID_STATE;
  return opus_encode_float(encoder_, pcm, frame_samples_, packet,
                           static_cast<opus_int32>(max_packet_bytes));
}

int OpusEncoder::SetBitrate(int bitrate_bps) {
  if (encoder_ == nullptr) return OPUS_INVALID_STATE;
  int error = opus_encoder_ctl(encoder_, OPUS_SET_BITRATE(bitrate_bps));
  if (error == OPUS_OK) config_.bitrate_bps = bitrate_bps;
  return error;
}

int OpusEncoder::SetComplexity(int complexity) {
  if (encoder_ == nullptr) return OPUS_INVALID_STATE;
  int error = opus_encoder_ctl(encoder_, OPUS_SET_COMPLEXITY(complexity));
  if (error == OPUS_OK) config_.complexity = complexity;
  return error;
}

int OpusEncoder::SetInbandFec(bool enabled) {
  if (encoder_ == nullptr) return OPUS_INVALID_STATE;
  int error = opus_encoder_ctl(encoder_, OPUS_SET_INBAND_FEC(enabled ? 1 : 0));
  if (error == OPUS_OK) config_.inband_fec = enabled;
  return error;
}

int OpusEncoder::SetExpectedLossPct(int loss_pct) {
  if (encoder_ == nullptr) return OPUS_INVALID_STATE;
  int error = opus_encoder_ctl(encoder_, OPUS_SET_PACKET_LOSS_PERC(loss_pct));
  if (error == OPUS_OK) config_.expected_loss_pct = loss_pct;
  return error;
}

int OpusEncoder::SetDtx(bool enabled) {
  if (encoder_ == nullptr) return OPUS_INVALID_STATE;
  int error = opus_encoder_ctl(encoder_, OPUS_SET_DTX(enabled ? 1 : 0));
  if (error == OPUS_OK) config_.dtx = enabled;
  return error;
}

int OpusEncoder::lookahead_samples() const {
  opus_int32 lookahead = 0;
  if (encoder_ != nullptr) opus_encoder_ctl(encoder_, OPUS_GET_LOOKAHEAD(&lookahead));
  return lookahead;
}

bool OpusEncoder::in_dtx() const {
  opus_int32 in_dtx = 0;
  if (encoder_ != nullptr) opus_encoder_ctl(encoder_, OPUS_GET_IN_DTX(&in_dtx));
  return in_dtx != 0;
}

}  // namespace cloudlink::audio
