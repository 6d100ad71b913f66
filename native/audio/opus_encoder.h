// Opus encoder over the system libopus (RFC 6716), configured for real-time
// speech: one object per outgoing stream, fed whole frames.

#ifndef CLOUDLINK_AUDIO_OPUS_ENCODER_H_
#define CLOUDLINK_AUDIO_OPUS_ENCODER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

struct OpusEncoder;

namespace cloudlink::audio {

enum class OpusApplication { kVoip, kAudio, kLowDelay };

struct OpusEncoderConfig {
  int sample_rate_hz = 48000;  // 8000, 12000, 16000, 24000 or 48000
  int channels = 1;            // 1 or 2
  OpusApplication application = OpusApplication::kVoip;
  double frame_ms = 20.0;      // 2.5, 5, 10, 20, 40 or 60
  int bitrate_bps = 32000;     // 6000 .. 510000
  int complexity = 9;          // 0 (fastest) .. 10 (best)
  bool inband_fec = true;      // LBRR copy of the previous frame in each packet
  int expected_loss_pct = 10;  // tunes how much FEC the encoder spends
  bool dtx = false;            // discontinuous transmission in silence
};

// Checks every field; returns an empty string when valid, else a message that
// names the bad value.
std::string ValidateOpusEncoderConfig(const OpusEncoderConfig& config);

class OpusEncoder {
 public:
  // The config must have passed ValidateOpusEncoderConfig.
  explicit OpusEncoder(const OpusEncoderConfig& config);
  ~OpusEncoder();
  OpusEncoder(const OpusEncoder&) = delete;
  OpusEncoder& operator=(const OpusEncoder&) = delete;

  // Encodes exactly frame_samples() samples per channel (interleaved) into
  // `packet`. Returns the packet size in bytes, or a negative libopus error.
  // A DTX frame in silence comes out as 1 or 2 bytes.
  int EncodeInt16(const int16_t* pcm, uint8_t* packet, size_t max_packet_bytes);
  int EncodeFloat(const float* pcm, uint8_t* packet, size_t max_packet_bytes);

  // Runtime controls; each returns a libopus error code (0 = OK).
  int SetBitrate(int bitrate_bps);
  int SetComplexity(int complexity);
  int SetInbandFec(bool enabled);
  int SetExpectedLossPct(int loss_pct);
  int SetDtx(bool enabled);

  // False only when libopus could not allocate the encoder.
  bool ok() const { return encoder_ != nullptr; }
  const OpusEncoderConfig& config() const { return config_; }
  int frame_samples() const { return frame_samples_; }
  // Algorithmic delay added by the encoder, in samples at sample_rate_hz.
  int lookahead_samples() const;
  // True when the last encoded packet was a DTX (no-speech) frame.
  bool in_dtx() const;

 private:
  OpusEncoderConfig config_;
  int frame_samples_ = 0;
  ::OpusEncoder* encoder_ = nullptr;
};

}  // namespace cloudlink::audio

#endif  // CLOUDLINK_AUDIO_OPUS_ENCODER_H_
