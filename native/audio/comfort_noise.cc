#include "audio/comfort_noise.h"

#include <algorithm>
#include <cmath>

namespace cloudlink::audio {

namespace {

// How fast the background estimate may rise when the floor goes up: 6 dB
// per second, slow enough that speech does not count as background.
constexpr double kRiseDbPerSecond = 6.0;
// Power never modelled below one LSB rms, so that a rise can start from it.
constexpr double kFloorPower = 1.0;
// Blocks within 3 dB of the background teach the spectral envelope.
constexpr double kEnvelopeBlockRatio = 2.0;
// Smoothing of the envelope's autocorrelation across such blocks.
constexpr double kEnvelopeSmoothing = 0.9;
// "Quiet" for time-scale fallbacks: within 6 dB of the background, or
// below -50 dBov (int16 full scale 32768).
constexpr double kQuietBlockRatio = 4.0;
const double kQuietFloorPower = std::pow(32768.0 * std::pow(10.0, -50.0 / 20.0), 2.0);
// White-noise correction of -40 dB keeps the recursion well conditioned.
constexpr double kWhiteNoiseCorrection = 1.0001;

// Mean power of every `stride`-th sample of pcm, `count` of them.
double BlockPower(const int16_t* pcm, size_t count, int stride) {
  if (count == 0) return 0.0;
  double sum = 0.0;
  for (size_t i = 0; i < count; ++i) {
    const double value = pcm[i * static_cast<size_t>(stride)];
    sum += value * value;
  }
  return sum / static_cast<double>(count);
}

}  // namespace

ComfortNoise::ComfortNoise(int sample_rate_hz, int channels)
    : sample_rate_hz_(sample_rate_hz), channels_(channels), state_(channels) {
  Reset();
}

void ComfortNoise::Reset() {
  has_level_ = false;
  analyzed_samples_ = 0;
  for (Channel& channel : state_) {
    channel = Channel();
    channel.autocorrelation[0] = 1.0;
    channel.lpc[0] = 1.0;
  }
}

double ComfortNoise::background_power() const {
  double sum = 0.0;
  for (const Channel& channel : state_) sum += channel.power;
  return state_.empty() ? 0.0 : sum / static_cast<double>(state_.size());
}

void ComfortNoise::Analyze(const int16_t* pcm, int samples) {
  if (samples <= 0) return;
  analyzed_samples_ += samples;
  const double block_s = static_cast<double>(samples) / sample_rate_hz_;
  const double rise = std::pow(10.0, kRiseDbPerSecond * block_s / 10.0);
  for (int c = 0; c < channels_; ++c) AnalyzeChannel(pcm + c, samples, rise, &state_[c]);
  has_level_ = true;
}

void ComfortNoise::AnalyzeChannel(const int16_t* pcm, int samples, double rise,
                                  Channel* channel) const {
  // Step 1: follow the minimum down at once, up at a bounded rate.
  const double power = BlockPower(pcm, static_cast<size_t>(samples), channels_);
  if (!has_level_) {
    channel->power = std::max(power, kFloorPower);
  } else {
    channel->power = std::max(kFloorPower, std::min(power, channel->power * rise));
  }

  // Step 2: blocks near the background teach the envelope.
  if (power > kEnvelopeBlockRatio * channel->power || power <= kFloorPower) return;
  std::array<double, kLpcOrder + 1> block{};
  for (int lag = 0; lag <= kLpcOrder; ++lag) {
    double sum = 0.0;
    for (int n = lag; n < samples; ++n)
      sum += static_cast<double>(pcm[n * channels_]) * pcm[(n - lag) * channels_];
    block[lag] = sum;
  }
  if (block[0] <= 0.0) return;
  for (int lag = 0; lag <= kLpcOrder; ++lag)
    channel->autocorrelation[lag] = kEnvelopeSmoothing * channel->autocorrelation[lag] +
                                    (1.0 - kEnvelopeSmoothing) * block[lag] / block[0];
  UpdateFilter(channel);
}

void ComfortNoise::UpdateFilter(Channel* channel) {
  // Levinson-Durbin recursion on the smoothed, normalised autocorrelation.
  const auto& r = channel->autocorrelation;
  std::array<double, kLpcOrder + 1> a{};
  a[0] = 1.0;
  double error = r[0] * kWhiteNoiseCorrection;
  for (int i = 1; i <= kLpcOrder; ++i) {
    double acc = r[i];
    for (int j = 1; j < i; ++j) acc += a[j] * r[i - j];
    const double k = -acc / error;
    if (!(std::fabs(k) < 1.0)) return;  // unstable: keep the previous filter
    std::array<double, kLpcOrder + 1> next = a;
    for (int j = 1; j < i; ++j) next[j] = a[j] + k * a[i - j];
    next[i] = k;
    a = next;
    error *= 1.0 - k * k;
  }
  channel->lpc = a;
  channel->residual_ratio = std::max(error / (r[0] * kWhiteNoiseCorrection), 1e-6);
}

void ComfortNoise::Generate(int samples, int16_t* out) {
  // White noise of unit power (uniform on [-sqrt 3, sqrt 3]) through each
  // channel's all-pole envelope, scaled to that channel's background power.
  for (int n = 0; n < samples; ++n) {
    for (int c = 0; c < channels_; ++c) {
      random_state_ ^= random_state_ << 13;  // xorshift32 (Marsaglia 2003)
      random_state_ ^= random_state_ >> 17;
      random_state_ ^= random_state_ << 5;
      const double white = (random_state_ / 4294967296.0 * 2.0 - 1.0) * std::sqrt(3.0);
      Channel& channel = state_[c];
      double value = std::sqrt(channel.power * channel.residual_ratio) * white;
      for (int k = 1; k <= kLpcOrder; ++k) value -= channel.lpc[k] * channel.history[k - 1];
      for (int k = kLpcOrder - 1; k > 0; --k) channel.history[k] = channel.history[k - 1];
      channel.history[0] = value;
      out[n * channels_ + c] =
          static_cast<int16_t>(std::clamp(std::lround(value), -32768L, 32767L));
    }
  }
}

bool ComfortNoise::IsQuiet(const int16_t* pcm, int samples) const {
  const double power = BlockPower(pcm, static_cast<size_t>(samples) * channels_, 1);
  return power <= std::max(kQuietBlockRatio * background_power(), kQuietFloorPower);
}

}  // namespace cloudlink::audio
