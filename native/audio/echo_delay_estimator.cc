#include "audio/echo_delay_estimator.h"

#include <algorithm>
#include <cmath>

namespace cloudlink::audio {
namespace {

// Bands of 250 Hz from 250 Hz to 4250 Hz: where speech carries most of its
// energy and loudspeakers still reproduce it.
constexpr float kLowestBandHz = 250.0f;
constexpr float kBandWidthHz = 250.0f;
constexpr int kBands = 16;
// A band whose level is below -80 dBFS counts as -80 dBFS, so that digital
// silence does not dominate the log envelope.
constexpr float kFloorDbfs = -80.0f;
// A far-end frame below -60 dBFS (mean square) carries no usable envelope.
constexpr float kFarActiveMeanSquare = 1e-6f;
// Smoothing per frame of the envelope means (1 s) and of the correlations
// (about 1.5 s of active far end).
constexpr float kMeanSmoothing = 0.99f;
constexpr float kCorrelationSmoothing = 0.993f;
// A lag is adopted when its normalised correlation exceeds this value and it
// stays the best lag for kStableFrames frames (250 ms), after at least
// kWarmupFrames frames of active far end.
constexpr float kMinConfidence = 0.2f;
constexpr int kStableFrames = 25;
constexpr int kWarmupFrames = 50;

int NextPowerOfTwo(int value) {
  int result = 1;
  while (result < value) result *= 2;
  return result;
}

}  // namespace

EchoDelayEstimator::EchoDelayEstimator(int sample_rate_hz, int frame_samples, int max_delay_frames)
    : frame_samples_(frame_samples),
      max_delay_frames_(max_delay_frames),
      bands_(kBands),
      fft_(NextPowerOfTwo(frame_samples)) {
  // Band edges as FFT bins.
  const float bin_hz = static_cast<float>(sample_rate_hz) / fft_.size_samples();
  for (int b = 0; b <= bands_; ++b) {
    const float edge_hz = kLowestBandHz + b * kBandWidthHz;
    band_edges_.push_back(std::max(1, static_cast<int>(std::lround(edge_hz / bin_hz))));
  }
  block_.assign(fft_.size_samples(), 0.0f);
  re_.resize(fft_.bins());
  im_.resize(fft_.bins());
  far_history_.resize(static_cast<size_t>(max_delay_frames_ + 1) * bands_);
  far_active_history_.resize(max_delay_frames_ + 1);
  mic_features_.resize(bands_);
  Reset();
}

void EchoDelayEstimator::Reset() {
  far_means_.assign(bands_, 0.0f);
  mic_means_.assign(bands_, 0.0f);
  std::fill(far_history_.begin(), far_history_.end(), 0.0f);
  std::fill(far_active_history_.begin(), far_active_history_.end(), 0);
  cross_.assign(max_delay_frames_ + 1, 0.0f);
  far_power_.assign(max_delay_frames_ + 1, 0.0f);
  mic_power_lag_.assign(max_delay_frames_ + 1, 0.0f);
  newest_ = 0;
  delay_frames_.reset();
  candidate_ = -1;
  candidate_frames_ = 0;
  confidence_ = 0.0f;
  frames_ = 0;
}

void EchoDelayEstimator::Features(const float* frame, std::vector<float>* means, float* features,
                                  float* energy) {
  // Power spectrum of the zero-padded frame.
  std::copy(frame, frame + frame_samples_, block_.begin());
  fft_.Forward(block_.data(), re_.data(), im_.data());
  float sum = 0.0f;
  for (int n = 0; n < frame_samples_; ++n) sum += frame[n] * frame[n];
  *energy = sum / frame_samples_;

  // Log band energies, floored, minus their slow running means. A bin of
  // white noise at mean square s holds frame_samples * s on average.
  const float floor_per_bin = frame_samples_ * std::pow(10.0f, kFloorDbfs / 10.0f);
  for (int b = 0; b < bands_; ++b) {
    float band = 0.0f;
    for (int k = band_edges_[b]; k < band_edges_[b + 1]; ++k)
      band += re_[k] * re_[k] + im_[k] * im_[k];
    const float level = std::log10(band + floor_per_bin * (band_edges_[b + 1] - band_edges_[b]));
    float& mean = (*means)[b];
    mean = kMeanSmoothing * mean + (1.0f - kMeanSmoothing) * level;
    features[b] = level - mean;
  }
}

void EchoDelayEstimator::Update(const float* far, const float* mic) {
  // Envelope features of this frame; the far ones join the history ring.
  newest_ = (newest_ + 1) % (max_delay_frames_ + 1);
  float far_energy = 0.0f;
  float mic_energy = 0.0f;
  Features(far, &far_means_, &far_history_[static_cast<size_t>(newest_) * bands_], &far_energy);
  Features(mic, &mic_means_, mic_features_.data(), &mic_energy);
  far_active_history_[newest_] = far_energy > kFarActiveMeanSquare;

  // Correlate the microphone envelope with the far envelope of every lag
  // whose far frame was active.
  const float a = kCorrelationSmoothing;
  float mic_power = 0.0f;
  for (int b = 0; b < bands_; ++b) mic_power += mic_features_[b] * mic_features_[b];
  bool any_active = false;
  for (int lag = 0; lag <= max_delay_frames_; ++lag) {
    const int slot = (newest_ - lag + max_delay_frames_ + 1) % (max_delay_frames_ + 1);
    if (!far_active_history_[slot]) continue;
    any_active = true;
    const float* f = &far_history_[static_cast<size_t>(slot) * bands_];
    float cross = 0.0f;
    float power = 0.0f;
    for (int b = 0; b < bands_; ++b) {
      cross += mic_features_[b] * f[b];
      power += f[b] * f[b];
    }
    cross_[lag] = a * cross_[lag] + (1.0f - a) * cross;
    far_power_[lag] = a * far_power_[lag] + (1.0f - a) * power;
    mic_power_lag_[lag] = a * mic_power_lag_[lag] + (1.0f - a) * mic_power;
  }
  if (!any_active) return;
  ++frames_;

  // The best lag, adopted once it has led for a while.
  int best = 0;
  float best_corr = -1.0f;
  for (int lag = 0; lag <= max_delay_frames_; ++lag) {
    const float corr = cross_[lag] / std::sqrt(far_power_[lag] * mic_power_lag_[lag] + 1e-12f);
    if (corr > best_corr) {
      best_corr = corr;
      best = lag;
    }
  }
  if (best == candidate_) {
    ++candidate_frames_;
  } else {
    candidate_ = best;
    candidate_frames_ = 0;
  }
  if (frames_ >= kWarmupFrames && best_corr > kMinConfidence &&
      candidate_frames_ >= kStableFrames) {
    delay_frames_ = best;
    confidence_ = best_corr;
  }
}

}  // namespace cloudlink::audio
