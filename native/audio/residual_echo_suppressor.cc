#include "audio/residual_echo_suppressor.h"

#include <algorithm>
#include <cmath>

namespace cloudlink::audio {
namespace {

constexpr double kPi = 3.14159265358979323846;
// Window overlap: 4 ms, the output delay.
constexpr int kOverlapMs = 4;
// Echo is estimated up to 8 kHz (the band the linear filter adapts); the
// octave below it sets the gain of higher bins.
constexpr float kEchoBandHz = 8000.0f;
constexpr float kHighOctaveHz = 4000.0f;
// Reverberant hold of the echo-estimate power: about 1.7 dB per 10 ms, the
// decay of a room with RT60 = 0.35 s (60 dB / 350 ms).
constexpr float kEchoHoldDecay = 0.67f;
// Overestimation of the residual echo (3 dB) and the gain floor (-40 dB).
constexpr float kOverestimation = 2.0f;
constexpr float kMinGain = 0.01f;
// Tracking of the residual-to-echo ratio in far-end single talk: rises
// within a few frames, falls over about 2 s; and its bounds.
constexpr float kRatioRise = 0.3f;
constexpr float kRatioFall = 0.005f;
constexpr float kMinRatio = 1e-4f;
constexpr float kMaxRatio = 1.0f;
// Noise floor tracking: a lightly smoothed power falls at once toward a
// lower value and rises by 1 dB per second (10^(0.1/100) per frame); the
// tracked minimum settles 4.1 dB below the mean (measured on 30 s of white
// noise at -70 dBFS: with this factor the estimate reads -70.1 dBFS).
constexpr float kErrorSmoothing = 0.5f;
constexpr float kNoiseFall = 0.1f;
constexpr float kNoiseRise = 1.0023f;
constexpr float kNoiseBias = 2.6f;
constexpr float kMinNoiseMeanSquare = 1e-12f;

}  // namespace

ResidualEchoSuppressor::ResidualEchoSuppressor(int sample_rate_hz, int frame_samples)
    : frame_samples_(frame_samples),
      overlap_samples_(sample_rate_hz * kOverlapMs / 1000),
      fft_size_(1),
      fft_([&] {
        int size = 1;
        while (size < frame_samples + sample_rate_hz * kOverlapMs / 1000) size *= 2;
        return size;
      }()) {
  fft_size_ = fft_.size_samples();
  bins_ = fft_.bins();
  const float bin_hz = static_cast<float>(sample_rate_hz) / fft_size_;
  active_bins_ = std::min(bins_, static_cast<int>(kEchoBandHz / bin_hz) + 1);
  high_octave_bin_ = static_cast<int>(kHighOctaveHz / bin_hz);

  // Square-root trapezoid: sine rise over the overlap, flat, cosine fall.
  const int length = frame_samples_ + overlap_samples_;
  window_.assign(length, 1.0f);
  for (int n = 0; n < overlap_samples_; ++n) {
    const double phase = kPi * (n + 0.5) / (2.0 * overlap_samples_);
    window_[n] = static_cast<float>(std::sin(phase));
    window_[frame_samples_ + n] = static_cast<float>(std::cos(phase));
  }
  for (float w : window_) window_energy_ += w * w;

  mic_history_.resize(length);
  error_history_.resize(length);
  block_.resize(fft_size_);
  tail_.resize(overlap_samples_);
  for (auto* v : {&d_re_, &d_im_, &e_re_, &e_im_, &noise_, &error_smooth_, &echo_held_,
                  &residual_ratio_, &gain_})
    v->resize(bins_);
  Reset();
}

void ResidualEchoSuppressor::Reset() {
  for (auto* v : {&mic_history_, &error_history_, &tail_, &noise_, &error_smooth_, &echo_held_,
                  &residual_ratio_})
    std::fill(v->begin(), v->end(), 0.0f);
  std::fill(gain_.begin(), gain_.end(), 1.0f);
  double_talk_ = false;
  mean_gain_ = 1.0f;
  frames_ = 0;
  random_state_ = 1;
}

float ResidualEchoSuppressor::NextUniform() {
  // xorshift32 (G. Marsaglia, "Xorshift RNGs", J. Stat. Softw. 8(14), 2003),
  // mapped to [-1, 1).
  random_state_ ^= random_state_ << 13;
  random_state_ ^= random_state_ >> 17;
  random_state_ ^= random_state_ << 5;
  return static_cast<float>(random_state_) * (2.0f / 4294967296.0f) - 1.0f;
}

void ResidualEchoSuppressor::ComputeGains(bool far_active, bool near_active) {
  // The echo estimate (mic minus error), held with the decay of the room.
  for (int k = 0; k < active_bins_; ++k) {
    const float y_re = d_re_[k] - e_re_[k];
    const float y_im = d_im_[k] - e_im_[k];
    echo_held_[k] = std::max(y_re * y_re + y_im * y_im, kEchoHoldDecay * echo_held_[k]);
  }

  // Noise floor of the error in every bin, never below -120 dBFS so that it
  // can rise again after digital silence. It falls at once and rises only
  // where it cannot be creeping up on echo or speech: not in double talk,
  // and not in a bin whose expected residual echo exceeds the floor.
  // TODO(#2): frozen under echo, the floor keeps the lowest values it met
  // and reads about 1 dB low during long far-end talk, so the comfort noise
  // is that much quieter than the room.
  const float min_noise = kMinNoiseMeanSquare * window_energy_;
  const bool frozen = far_active && near_active;
  for (int k = 0; k < bins_; ++k) {
    const float error_power = e_re_[k] * e_re_[k] + e_im_[k] * e_im_[k];
    error_smooth_[k] += (1.0f - kErrorSmoothing) * (error_power - error_smooth_[k]);
    const bool echo_masks = k < active_bins_ && residual_ratio_[k] * echo_held_[k] > noise_[k];
    if (frames_ == 0) {
      noise_[k] = error_smooth_[k];
    } else if (frozen || echo_masks) {
      continue;
    } else if (error_smooth_[k] < noise_[k]) {
      noise_[k] += kNoiseFall * (error_smooth_[k] - noise_[k]);
    } else {
      noise_[k] = std::max(noise_[k] * kNoiseRise, min_noise);
    }
  }
  ++frames_;

  // Double talk: far end active and the linear stage sees near speech.
  double_talk_ = far_active && near_active;

  // Learn the residual-to-echo ratio while the far end talks alone.
  if (far_active && !double_talk_) {
    for (int k = 0; k < active_bins_; ++k) {
      const float error_power = e_re_[k] * e_re_[k] + e_im_[k] * e_im_[k];
      const float residual = std::max(0.0f, error_power - kNoiseBias * noise_[k]);
      // Peak tracker: up quickly, down slowly, so that the ratio covers
      // the frames where the residual is at its highest.
      const float observed = std::min(kMaxRatio, residual / (echo_held_[k] + 1e-20f));
      float& ratio = residual_ratio_[k];
      ratio += (observed > ratio ? kRatioRise : kRatioFall) * (observed - ratio);
    }
  }

  // Power subtraction of the overestimated residual echo, floored.
  float gain_sum = 0.0f;
  for (int k = 0; k < active_bins_; ++k) {
    const float error_power = e_re_[k] * e_re_[k] + e_im_[k] * e_im_[k];
    const float ratio = std::clamp(residual_ratio_[k], kMinRatio, kMaxRatio);
    const float residual = kOverestimation * ratio * echo_held_[k];
    // Where the linear stage made a bin louder than the microphone its
    // estimate was wrong there: the output never exceeds the microphone.
    const float mic_power = d_re_[k] * d_re_[k] + d_im_[k] * d_im_[k];
    const float cap = std::sqrt(mic_power / (error_power + 1e-20f));
    gain_[k] = std::clamp(std::min(cap, 1.0f - residual / (error_power + 1e-20f)), kMinGain, 1.0f);
    gain_sum += gain_[k];
  }
  mean_gain_ = gain_sum / active_bins_;

  // Bins above the echo band follow the most suppressed bin of the octave
  // below it.
  if (active_bins_ < bins_) {
    float high_gain = 1.0f;
    for (int k = high_octave_bin_; k < active_bins_; ++k) high_gain = std::min(high_gain, gain_[k]);
    for (int k = active_bins_; k < bins_; ++k) gain_[k] = high_gain;
  }
}

void ResidualEchoSuppressor::Process(const float* mic, const float* error, bool far_active,
                                     bool near_active, float* out) {
  // Slide the analysis segments: the last overlap samples of the previous
  // frame, then this frame.
  const int length = frame_samples_ + overlap_samples_;
  std::copy(mic_history_.begin() + frame_samples_, mic_history_.end(), mic_history_.begin());
  std::copy(mic, mic + frame_samples_, mic_history_.begin() + overlap_samples_);
  std::copy(error_history_.begin() + frame_samples_, error_history_.end(), error_history_.begin());
  std::copy(error, error + frame_samples_, error_history_.begin() + overlap_samples_);

  // Windowed spectra of microphone and error.
  std::fill(block_.begin(), block_.end(), 0.0f);
  for (int n = 0; n < length; ++n) block_[n] = window_[n] * mic_history_[n];
  fft_.Forward(block_.data(), d_re_.data(), d_im_.data());
  for (int n = 0; n < length; ++n) block_[n] = window_[n] * error_history_[n];
  fft_.Forward(block_.data(), e_re_.data(), e_im_.data());

  ComputeGains(far_active, near_active);

  // Gain, plus comfort noise filling the power the gain removed. A uniform
  // variable on [-1, 1) has variance 1/3; the 3/2 factor makes each complex
  // bin's expected power the noise power scaled to the synthesis.
  const float noise_scale = 1.5f * kNoiseBias * fft_size_ / window_energy_;
  for (int k = 0; k < bins_; ++k) {
    const float g = gain_[k];
    const float noise = noise_[k];
    const float amplitude = std::sqrt(noise_scale * noise * (1.0f - g * g));
    e_re_[k] = g * e_re_[k] + amplitude * NextUniform();
    e_im_[k] = g * e_im_[k] + amplitude * NextUniform();
  }
  e_im_[0] = 0.0f;
  e_im_[bins_ - 1] = 0.0f;

  // Synthesis window and overlap-add: the first frame_samples samples are
  // complete.
  fft_.Inverse(e_re_.data(), e_im_.data(), block_.data());
  for (int n = 0; n < length; ++n) block_[n] *= window_[n];
  for (int n = 0; n < overlap_samples_; ++n) block_[n] += tail_[n];
  std::copy(block_.begin(), block_.begin() + frame_samples_, out);
  std::copy(block_.begin() + frame_samples_, block_.begin() + length, tail_.begin());
}

}  // namespace cloudlink::audio
