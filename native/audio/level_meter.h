// Audio level of a block in dBov, as RFC 6464 section 3 defines it for the
// client-to-mixer audio level header extension, and the energy totals of
// W3C webrtc-stats (totalAudioEnergy, totalSamplesDuration).

#ifndef CLOUDLINK_AUDIO_LEVEL_METER_H_
#define CLOUDLINK_AUDIO_LEVEL_METER_H_

#include <cstddef>
#include <cstdint>
#include <string>

namespace cloudlink::audio {

// RFC 6464 section 3: levels span 0 to -127 dBov; -127 also stands for
// digital silence.
constexpr double kMinLevelDbov = -127.0;
constexpr int kSilentAudioLevel = 127;

class LevelMeter {
 public:
  // Returns an empty string when valid, else a message naming the bad value.
  static std::string ValidateConfig(int sample_rate_hz);

  // The argument must have passed ValidateConfig.
  explicit LevelMeter(int sample_rate_hz);

  // Measures one block of `frames` samples per channel, `channels`
  // interleaved, and returns its RMS level in dBov (-127..0). int16 is full
  // scale at 32768, float at 1.0 (a full-scale sine reads -3 dBov); float
  // beyond full scale counts as full scale and NaN as silence. An empty block
  // leaves everything as it was and returns the last level.
  double ProcessInt16(const int16_t* pcm, size_t frames, int channels);
  double ProcessFloat(const float* pcm, size_t frames, int channels);

  // The last block's level in dBov, -127 before any block.
  double level_dbov() const { return level_dbov_; }
  // RFC 6464 audio level: -dBov rounded to an integer in 0..127.
  int audio_level() const;
  // W3C webrtc-stats: the sum over samples of (value / full scale)^2 times
  // the sample's duration in seconds (channels averaged), and the seconds of
  // audio measured.
  double total_audio_energy() const { return total_audio_energy_; }
  double total_samples_duration_s() const { return total_samples_duration_s_; }

  int sample_rate_hz() const { return sample_rate_hz_; }
  void Reset();

 private:
  // Turns a block's sum of squares (relative to full scale) into its level
  // and adds it to the totals.
  double Update(double sum_of_squares, size_t frames, int channels);

  int sample_rate_hz_;
  double level_dbov_ = kMinLevelDbov;
  double total_audio_energy_ = 0.0;
  double total_samples_duration_s_ = 0.0;
};

}  // namespace cloudlink::audio

#endif  // CLOUDLINK_AUDIO_LEVEL_METER_H_
