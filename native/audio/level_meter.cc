// RMS level in dBov (RFC 6464 section 3) and the W3C webrtc-stats energy
// totals (RTCAudioSourceStats / RTCInboundRtpStreamStats totalAudioEnergy).

#include "audio/level_meter.h"

#include <algorithm>
#include <cmath>

namespace cloudlink::audio {
namespace {

// Sample rates a meter accepts: every rate the engine or a file source uses.
constexpr int kMinRateHz = 8000;
constexpr int kMaxRateHz = 192000;

// int16 full scale: the overload point of 16-bit PCM.
constexpr double kInt16FullScale = 32768.0;

}  // namespace

std::string LevelMeter::ValidateConfig(int sample_rate_hz) {
  if (sample_rate_hz < kMinRateHz || sample_rate_hz > kMaxRateHz)
    return "sample_rate_hz must be 8000..192000, got " + std::to_string(sample_rate_hz);
  return "";
}

LevelMeter::LevelMeter(int sample_rate_hz) : sample_rate_hz_(sample_rate_hz) {}

int LevelMeter::audio_level() const {
  const long level = std::lround(-level_dbov_);
  return static_cast<int>(std::clamp(level, 0L, static_cast<long>(kSilentAudioLevel)));
}

double LevelMeter::ProcessInt16(const int16_t* pcm, size_t frames, int channels) {
  double sum = 0.0;
  const size_t values = frames * static_cast<size_t>(channels);
  for (size_t i = 0; i < values; ++i) {
    const double value = pcm[i] / kInt16FullScale;
    sum += value * value;
  }
  return Update(sum, frames, channels);
}

double LevelMeter::ProcessFloat(const float* pcm, size_t frames, int channels) {
  double sum = 0.0;
  const size_t values = frames * static_cast<size_t>(channels);
  for (size_t i = 0; i < values; ++i) {
    const double value = std::isnan(pcm[i]) ? 0.0 : std::clamp<double>(pcm[i], -1.0, 1.0);
    sum += value * value;
  }
  return Update(sum, frames, channels);
}

double LevelMeter::Update(double sum_of_squares, size_t frames, int channels) {
  if (frames == 0 || channels <= 0) return level_dbov_;

  // W3C: each sample adds (value / full scale)^2 times its duration; the
  // channels of one instant share that duration, so their squares average.
  const double mean_square = sum_of_squares / (static_cast<double>(frames) * channels);
  const double duration_s = static_cast<double>(frames) / sample_rate_hz_;
  total_audio_energy_ += mean_square * duration_s;
  total_samples_duration_s_ += duration_s;

  // RFC 6464: the RMS level relative to the overload point, floored at
  // -127 dBov, which digital silence reads as.
  level_dbov_ = mean_square > 0.0 ? std::clamp(10.0 * std::log10(mean_square), kMinLevelDbov, 0.0)
                                  : kMinLevelDbov;
  return level_dbov_;
}

void LevelMeter::Reset() {
  level_dbov_ = kMinLevelDbov;
  total_audio_energy_ = 0.0;
  total_samples_duration_s_ = 0.0;
}

}  // namespace cloudlink::audio
