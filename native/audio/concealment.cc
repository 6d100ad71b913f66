#include "audio/concealment.h"

#include <algorithm>
#include <cmath>

namespace cloudlink::audio {

namespace {

// libopus's concealment alone for the first 40 ms: a single lost 20 ms
// packet, and most pairs, sound exactly as libopus makes them.
constexpr int kPlcOnlyMs = 40;
// Then a linear crossfade into comfort noise over 60 ms: by 100 ms of gap
// only noise is left, before NetEq's 150 ms "interruption" mark.
constexpr int kFadeMs = 60;
// A resumed stream is faded in over 10 ms (one output frame).
constexpr int kMergeMs = 10;

int16_t Mix(double a, double weight_a, double b) {
  const double value = a * weight_a + b * (1.0 - weight_a);
  return static_cast<int16_t>(std::clamp(std::lround(value), -32768L, 32767L));
}

}  // namespace

Concealment::Concealment(OpusDecoder* decoder, ComfortNoise* noise)
    : decoder_(decoder), noise_(noise) {}

void Concealment::Reset() {
  active_ = false;
  event_samples_ = 0;
  last_weight_ = 1.0;
}

double Concealment::PlcWeight(int64_t samples_in) const {
  const double ms = 1000.0 * static_cast<double>(samples_in) / decoder_->sample_rate_hz();
  if (ms < kPlcOnlyMs) return 1.0;
  return std::max(0.0, 1.0 - (ms - kPlcOnlyMs) / kFadeMs);
}

// TODO(#2): concealment only extrapolates forward; when the packet after a
// single loss is already buffered (no FEC in it), interpolating toward its
// audio as NetEq's merge does would hide the loss better than libopus alone.
void Concealment::Conceal(int samples, std::vector<int16_t>* out) {
  const int channels = decoder_->channels();
  const size_t count = static_cast<size_t>(samples) * channels;

  // Step 1: libopus's concealment keeps the decoder's state in step with
  // the gap even once its output is faded out.
  plc_.assign(count, 0);
  if (decoder_->ConcealInt16(plc_.data(), samples) != samples)
    std::fill(plc_.begin(), plc_.end(), 0);
  noise_buffer_.resize(count);
  noise_->Generate(samples, noise_buffer_.data());

  // Step 2: crossfade from libopus's output into the comfort noise.
  out->resize(count);
  for (int n = 0; n < samples; ++n) {
    const double weight = PlcWeight(event_samples_ + n);
    for (int c = 0; c < channels; ++c) {
      const size_t i = static_cast<size_t>(n) * channels + c;
      (*out)[i] = Mix(plc_[i], weight, noise_buffer_[i]);
    }
    last_weight_ = weight;
  }
  event_samples_ += samples;
  active_ = true;
}

void Concealment::End() {
  active_ = false;
  event_samples_ = 0;
  last_weight_ = 1.0;
}

void Concealment::Merge(int16_t* pcm, int samples) {
  if (!active_) return;
  active_ = false;
  event_samples_ = 0;
  const double start = last_weight_;
  last_weight_ = 1.0;
  if (start >= 1.0) return;  // libopus's own concealment: its decoder merges

  // Fade the decoded audio in from the noise the gap had become.
  const int channels = decoder_->channels();
  const int merge_samples = std::min(samples, decoder_->sample_rate_hz() * kMergeMs / 1000);
  noise_buffer_.resize(static_cast<size_t>(merge_samples) * channels);
  noise_->Generate(merge_samples, noise_buffer_.data());
  for (int n = 0; n < merge_samples; ++n) {
    const double weight = start + (1.0 - start) * n / merge_samples;
    for (int c = 0; c < channels; ++c) {
      const size_t i = static_cast<size_t>(n) * channels + c;
      pcm[i] = Mix(pcm[i], weight, noise_buffer_[i]);
    }
  }
}

}  // namespace cloudlink::audio
