#include "audio/linear_echo_canceller.h"

#include <algorithm>
#include <cmath>

namespace cloudlink::audio {
namespace {

// Partitions span two blocks: with fft_size >= 3 blocks, overlap-save still
// yields one whole block of linear convolution per call.
constexpr int kBlocksPerPartition = 2;
// A far block below -60 dBFS (mean square) drives no adaptation.
constexpr float kFarActiveMeanSquare = 1e-6f;
// Regularisation of the normalisation: the far power of white noise at
// -70 dBFS (mean square 1e-7) in every partition.
constexpr float kFarPowerFloor = 1e-7f;
// Largest per-bin step; 1 would be the NLMS stability bound.
constexpr float kMaxStep = 0.5f;
// Step used before the filter has converged enough for the leakage to be
// meaningful.
constexpr float kBootstrapStep = 0.25f;
// Leakage (residual over estimated echo power): learned at this rate per
// frame (about 200 ms), a frame counts as near speech when its ratio exceeds
// the leakage 6 dB, and during such frames the leakage rises 6 dB per second
// (10^(0.6/100) per frame) so that a changed echo path is relearned.
constexpr float kLeakageRate = 0.05f;
constexpr float kNearToLeakage = 4.0f;
constexpr float kLeakageRise = 1.0139f;
constexpr float kMinLeakage = 1e-4f;
constexpr float kMaxLeakage = 1.0f;
// Reverberant hold of the echo-estimate energy: 1 dB per 10 ms.
constexpr float kEchoHoldDecay = 0.8f;
// The filter counts as adapted once its ERLE passes 6 dB.
constexpr float kAdaptedErleDb = 6.0f;
// Two-path thresholds: the background must beat the foreground by 0.5 dB
// (3 dB while near speech is suspected) over the short and the long term to
// be copied, and be 6 dB worse over both to be reset.
constexpr float kCopyRatio = 0.89f;
constexpr float kCopyRatioNear = 0.5f;
constexpr float kResetRatio = 4.0f;
constexpr float kShortSmoothing = 0.5f;
constexpr float kLongSmoothing = 0.9f;
// Smoothing of the energies behind the ERLE statistic (about 0.5 s).
constexpr float kErleSmoothing = 0.98f;

float Energy(const float* x, int n) {
  float sum = 0.0f;
  for (int i = 0; i < n; ++i) sum += x[i] * x[i];
  return sum;
}

}  // namespace

LinearEchoCanceller::LinearEchoCanceller(int block_samples, int fft_size, int partitions,
                                         int active_bins)
    : block_samples_(block_samples),
      fft_size_(fft_size),
      bins_(fft_size / 2 + 1),
      active_bins_(active_bins),
      partitions_(partitions),
      blocks_per_partition_(kBlocksPerPartition),
      history_blocks_((partitions - 1) * kBlocksPerPartition + 1),
      fft_(fft_size),
      foreground_(partitions, kBlocksPerPartition * block_samples, fft_size / 2 + 1, active_bins),
      background_(partitions, kBlocksPerPartition * block_samples, fft_size / 2 + 1, active_bins) {
  far_re_.resize(static_cast<size_t>(history_blocks_) * bins_);
  far_im_.resize(static_cast<size_t>(history_blocks_) * bins_);
  part_re_.resize(partitions_);
  part_im_.resize(partitions_);
  for (auto* v : {&y_re_, &y_im_, &e_re_, &e_im_, &step_, &far_power_, &error_power_, &echo_power_})
    v->resize(bins_);
  time_.resize(fft_size_);
  Reset();
}

void LinearEchoCanceller::Relearn() {
  adapted_ = false;
  leakage_ = kMaxLeakage;
}

void LinearEchoCanceller::Reset() {
  foreground_.Reset();
  background_.Reset();
  std::fill(far_re_.begin(), far_re_.end(), 0.0f);
  std::fill(far_im_.begin(), far_im_.end(), 0.0f);
  newest_ = 0;
  std::fill(far_power_.begin(), far_power_.end(), 0.0f);
  echo_held_ = 0.0f;
  near_suspected_ = false;
  leakage_ = kBootstrapStep;
  fg_short_ = bg_short_ = fg_long_ = bg_long_ = 0.0f;
  mic_smooth_ = fg_smooth_ = bg_smooth_ = 0.0f;
  erle_db_ = 0.0f;
  adapted_ = false;
  far_active_ = false;
  constrain_next_ = 0;
}

int LinearEchoCanceller::Slot(int blocks_back) const {
  return (newest_ - blocks_back + history_blocks_) % history_blocks_;
}

void LinearEchoCanceller::SetFarBlock(int blocks_back, const float* block) {
  const size_t offset = static_cast<size_t>(Slot(blocks_back)) * bins_;
  fft_.Forward(block, &far_re_[offset], &far_im_[offset]);
}

void LinearEchoCanceller::Process(const float* far_block, const float* mic, float* error) {
  // The newest far spectrum joins the ring; each partition reads the
  // spectrum blocks_per_partition_ blocks older than the previous one.
  newest_ = (newest_ + 1) % history_blocks_;
  SetFarBlock(0, far_block);
  for (int p = 0; p < partitions_; ++p) {
    const size_t offset = static_cast<size_t>(Slot(p * blocks_per_partition_)) * bins_;
    part_re_[p] = &far_re_[offset];
    part_im_[p] = &far_im_[offset];
  }
  // Far power per bin over the whole span of the filter: the energy of the
  // regressor that normalises the step.
  std::fill(far_power_.begin(), far_power_.end(), 0.0f);
  for (int p = 0; p < partitions_; ++p) {
    const float* x_re = part_re_[p];
    const float* x_im = part_im_[p];
    for (int k = 0; k < active_bins_; ++k) far_power_[k] += x_re[k] * x_re[k] + x_im[k] * x_im[k];
  }
  const float far_energy = Energy(far_block + fft_size_ - block_samples_, block_samples_);
  far_active_ = far_energy > kFarActiveMeanSquare * block_samples_;

  // Foreground output: the last block of the overlap-save result.
  const int valid = fft_size_ - block_samples_;
  foreground_.Filter(part_re_.data(), part_im_.data(), y_re_.data(), y_im_.data());
  fft_.Inverse(y_re_.data(), y_im_.data(), time_.data());
  for (int n = 0; n < block_samples_; ++n) error[n] = mic[n] - time_[valid + n];

  // Background output and its error, zero-padded for the gradient.
  background_.Filter(part_re_.data(), part_im_.data(), y_re_.data(), y_im_.data());
  fft_.Inverse(y_re_.data(), y_im_.data(), time_.data());
  std::fill(time_.begin(), time_.begin() + valid, 0.0f);
  float bg_energy = 0.0f;
  for (int n = 0; n < block_samples_; ++n) {
    const float echo = time_[valid + n];
    const float e = mic[n] - echo;
    bg_energy += e * e;
    time_[valid + n] = echo;
  }
  // Spectrum of the background echo estimate block (for the step control).
  fft_.Forward(time_.data(), y_re_.data(), y_im_.data());
  for (int n = 0; n < block_samples_; ++n) time_[valid + n] = mic[n] - time_[valid + n];
  fft_.Forward(time_.data(), e_re_.data(), e_im_.data());

  // ERLE bookkeeping and the two-path decision.
  const float mic_energy = Energy(mic, block_samples_);
  const float fg_energy = Energy(error, block_samples_);
  float fg_echo_energy = 0.0f;
  for (int n = 0; n < block_samples_; ++n) {
    const float echo = mic[n] - error[n];
    fg_echo_energy += echo * echo;
  }
  CompareFilters(mic_energy, fg_energy, fg_echo_energy, bg_energy);
  if (!far_active_) return;

  // Normalised, step-controlled gradient step of the background filter.
  ComputeStep();
  background_.Adapt(part_re_.data(), part_im_.data(), e_re_.data(), e_im_.data(), step_.data());
  background_.Constrain(constrain_next_, &fft_);
  constrain_next_ = (constrain_next_ + 1) % partitions_;
}

void LinearEchoCanceller::ComputeStep() {
  // Power spectra of the background error and echo estimate.
  float error_sum = 0.0f;
  float echo_sum = 0.0f;
  for (int k = 0; k < active_bins_; ++k) {
    error_power_[k] = e_re_[k] * e_re_[k] + e_im_[k] * e_im_[k];
    echo_power_[k] = y_re_[k] * y_re_[k] + y_im_[k] * y_im_[k];
    error_sum += error_power_[k];
    echo_sum += echo_power_[k];
  }

  // Optimal step per bin: residual echo (leakage times echo estimate) over
  // error power (Valin 2007), half from the bin and half from the
  // whole band so that bins of little echo still learn. Near speech raises
  // the error power and so slows learning by itself. The step is then
  // normalised by the far power the filter spans: with S[k] = sum_p
  // |X_p[k]|^2 ~ partitions * fft_size * variance, the time-domain NLMS step
  // mu / (taps * variance) becomes mu * fft_size / (partition_taps * S[k]).
  const float band_ratio = echo_sum / (error_sum + 1e-20f);
  const float partition_taps = static_cast<float>(blocks_per_partition_ * block_samples_);
  const float floor = kFarPowerFloor * fft_size_ * fft_size_ * partitions_;
  for (int k = 0; k < active_bins_; ++k) {
    const float bin_ratio = echo_power_[k] / (error_power_[k] + 1e-20f);
    float mu = std::min(kMaxStep, leakage_ * 0.5f * (bin_ratio + band_ratio));
    if (!adapted_) mu = std::max(mu, kBootstrapStep);
    step_[k] = mu * fft_size_ / (partition_taps * (far_power_[k] + floor));
  }
  for (int k = active_bins_; k < bins_; ++k) step_[k] = 0.0f;
}

void LinearEchoCanceller::CompareFilters(float mic_energy, float fg_energy, float fg_echo_energy,
                                         float bg_energy) {
  if (!far_active_) return;

  // ERLE of the foreground, smoothed.
  mic_smooth_ = kErleSmoothing * mic_smooth_ + (1.0f - kErleSmoothing) * mic_energy;
  fg_smooth_ = kErleSmoothing * fg_smooth_ + (1.0f - kErleSmoothing) * fg_energy;
  bg_smooth_ = kErleSmoothing * bg_smooth_ + (1.0f - kErleSmoothing) * bg_energy;
  erle_db_ = 10.0f * std::log10((mic_smooth_ + 1e-12f) / (fg_smooth_ + 1e-12f));
  const float bg_erle_db = 10.0f * std::log10((mic_smooth_ + 1e-12f) / (bg_smooth_ + 1e-12f));
  if (bg_erle_db > kAdaptedErleDb || erle_db_ > kAdaptedErleDb) adapted_ = true;

  // Leakage of the foreground: its error over its reverberation-held echo
  // estimate, learned in frames that look like far-end single talk. A frame
  // far above the learned leakage is near speech or a changed echo path;
  // when the background meanwhile does better than the foreground it is the
  // path, and the leakage creeps up so that the new path is learned fast.
  echo_held_ = std::max(fg_echo_energy, kEchoHoldDecay * echo_held_);
  const float ratio = fg_energy / (echo_held_ + 1e-12f);
  near_suspected_ = ratio > kNearToLeakage * leakage_;
  if (!near_suspected_) {
    leakage_ += kLeakageRate * (ratio - leakage_);
  } else if (bg_long_ < kCopyRatio * fg_long_) {
    leakage_ *= kLeakageRise;
  }
  leakage_ = std::clamp(leakage_, kMinLeakage, kMaxLeakage);

  // Short- and long-term error energies of both filters.
  fg_short_ = kShortSmoothing * fg_short_ + (1.0f - kShortSmoothing) * fg_energy;
  bg_short_ = kShortSmoothing * bg_short_ + (1.0f - kShortSmoothing) * bg_energy;
  fg_long_ = kLongSmoothing * fg_long_ + (1.0f - kLongSmoothing) * fg_energy;
  bg_long_ = kLongSmoothing * bg_long_ + (1.0f - kLongSmoothing) * bg_energy;

  // Copy the background when it does better; restore it when it diverged.
  // TODO(#2): near speech is judged frame by frame, so in the pauses of long
  // double talk a background that fitted the near talker can still be
  // copied; the foreground then takes seconds to regain its ERLE.
  // While near speech is suspected the background must win clearly, so that
  // a background that merely fits the near talker is not taken.
  const float copy_ratio = near_suspected_ && adapted_ ? kCopyRatioNear : kCopyRatio;
  if (bg_short_ < copy_ratio * fg_short_ && bg_long_ < copy_ratio * fg_long_) {
    foreground_.CopyFrom(background_);
    fg_short_ = bg_short_;
    fg_long_ = bg_long_;
  } else if (bg_short_ > kResetRatio * fg_short_ && bg_long_ > kResetRatio * fg_long_) {
    background_.CopyFrom(foreground_);
    bg_short_ = fg_short_;
    bg_long_ = fg_long_;
  }
}

}  // namespace cloudlink::audio
